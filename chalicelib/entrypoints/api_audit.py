"""Audit trail queries for officials (谁录入、谁负责)."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib.domain.audit import ACTION_LABELS, TARGET_TYPE_LABELS, AuditEntry, ChainReport
from chalicelib.domain.clock import cn_datetime
from chalicelib.domain.identity import OFFICIAL_ROLES, PROVINCE_ROLES, ROLE_LABELS, Role
from chalicelib.domain.labels import region_name
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_audit_query_service

bp = Blueprint(__name__)

AUDIT_READERS = OFFICIAL_ROLES | {Role.AUDIT_ADMIN}


class AuditEntryView(BaseModel):
    """操作留痕记录（时间以北京时间显示，UTC存储）"""

    target_type: str
    target_id: str
    seq: int
    action: str
    action_label: str
    actor_subject: str
    actor_username: str
    actor_name: str = Field(default="", description="操作人姓名（账号的姓名；平台自身的操作为“平台系统”）")
    actor_role: str
    actor_org: str
    actor_org_name: str = Field(default="", description="操作人所在单位名称（企业名称或主管部门所在地区）")
    actor_region: str | None = None
    at: str = Field(description="北京时间 (Asia/Shanghai)")
    at_utc: str
    request_id: str
    source_ip: str
    before_digest: str | None = None
    after_digest: str | None = None
    note: str | None = None
    prev_hash: str
    hash: str

    @classmethod
    def of(
        cls, e: AuditEntry, names: dict[str, str] | None = None, orgs: dict[tuple[str, str], str] | None = None
    ) -> AuditEntryView:
        data = e.model_dump(mode="json")
        data.update(at=e.at_shanghai(), at_utc=e.at, action_label=ACTION_LABELS.get(e.action, e.action))
        data["actor_name"] = (names or {}).get(e.actor_username) or _actor_name(e)
        data["actor_org_name"] = (orgs or {}).get((e.actor_username, e.actor_org)) or _org_name(e.actor_org)
        return cls.model_validate(data)


def _role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def _org_name(org: str) -> str:
    """A region code by its name (330782 → 义乌市); anything else as it was recorded."""
    if org.isdigit() and len(org) == 6:
        return region_name(org) or org
    return org


def _actor_name(e: AuditEntry) -> str:
    if e.actor_subject.startswith("system:"):
        return "平台系统"
    if e.actor_subject.startswith(("anonymous:", "activation:")):
        return f"未登录用户（{e.actor_username}）"
    return e.actor_username


def _views(entries: list[AuditEntry]) -> list[AuditEntryView]:
    svc = get_audit_query_service()
    names, orgs = svc.actor_names(entries), svc.actor_orgs(entries)
    return [AuditEntryView.of(e, names, orgs) for e in entries]


class AuditTrail(BaseModel):
    items: list[AuditEntryView]
    cursor: str | None = None


class ActorQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


@api_route(
    bp,
    "/audit/targets/{target_type}/{target_id}",
    summary="对象的操作留痕",
    tags=["操作留痕"],
    roles=AUDIT_READERS,
    response=AuditTrail,
)
def target_trail(ctx: Ctx, target_type: str, target_id: str) -> AuditTrail:
    entries = get_audit_query_service().target_trail(ctx.user, target_type, target_id)
    return AuditTrail(items=_views(entries))


@api_route(
    bp,
    "/audit/targets/{target_type}/{target_id}/{target_part}",
    summary="对象的操作留痕（两段标识，如注册人员：人员标识/注册单位代码）",
    tags=["操作留痕"],
    roles=AUDIT_READERS,
    response=AuditTrail,
)
def target_trail_two_part(ctx: Ctx, target_type: str, target_id: str, target_part: str) -> AuditTrail:
    entries = get_audit_query_service().target_trail(ctx.user, target_type, f"{target_id}/{target_part}")
    return AuditTrail(items=_views(entries))


@api_route(
    bp,
    "/audit/targets/{target_type}/{target_id}/verify",
    summary="校验对象留痕的哈希链",
    tags=["操作留痕"],
    roles=AUDIT_READERS,
    response=ChainReport,
)
def verify_target(ctx: Ctx, target_type: str, target_id: str) -> ChainReport:
    return get_audit_query_service().verify_target(ctx.user, target_type, target_id)


@api_route(
    bp,
    "/audit/targets/{target_type}/{target_id}/{target_part}/verify",
    summary="校验对象留痕的哈希链（两段标识）",
    tags=["操作留痕"],
    roles=AUDIT_READERS,
    response=ChainReport,
)
def verify_target_two_part(ctx: Ctx, target_type: str, target_id: str, target_part: str) -> ChainReport:
    return get_audit_query_service().verify_target(ctx.user, target_type, f"{target_id}/{target_part}")


@api_route(
    bp,
    "/audit/actors/{subject}",
    summary="人员的操作留痕",
    tags=["操作留痕"],
    roles=AUDIT_READERS,
    query=ActorQuery,
    response=AuditTrail,
)
def actor_trail(ctx: Ctx, q: ActorQuery, subject: str) -> AuditTrail:
    page = get_audit_query_service().actor_trail(ctx.user, subject, limit=q.limit, cursor=decode_cursor(q.cursor))
    return AuditTrail(items=_views(page.items), cursor=encode_cursor(page.cursor))


class DayQuery(BaseModel):
    action: str | None = Field(default=None, description="只看某一操作（操作代码）")
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = None


_DAY = r"^\d{4}-\d{2}-\d{2}$"


def _check_day(day: str) -> None:
    import re

    from chalicelib.domain.errors import InvalidInput

    if not re.match(_DAY, day):
        raise InvalidInput("日期格式不正确，应写作年-月-日（如2026-03-20）", details=[{"field": "day"}])


@api_route(
    bp,
    "/audit/days/{day}",
    summary="按日期检索全部操作留痕（审计管理员）",
    tags=["操作留痕"],
    roles=PROVINCE_ROLES | {Role.AUDIT_ADMIN},
    query=DayQuery,
    response=AuditTrail,
)
def day_trail(ctx: Ctx, q: DayQuery, day: str) -> AuditTrail:
    _check_day(day)
    page = get_audit_query_service().day_trail(
        ctx.user, day, action=q.action, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return AuditTrail(items=_views(page.items), cursor=encode_cursor(page.cursor))


class ExportQuery(BaseModel):
    action: str | None = None


@api_route(
    bp,
    "/audit/days/{day}/export",
    summary="导出某日全部操作留痕（CSV，导出本身留痕）",
    tags=["操作留痕"],
    roles=PROVINCE_ROLES | {Role.AUDIT_ADMIN},
    query=ExportQuery,
)
def export_day(ctx: Ctx, q: ExportQuery, day: str) -> Response:
    import csv
    import io

    _check_day(day)
    entries = get_audit_query_service().export_day(ctx.user, day, q.action, ctx.meta)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "时间（北京时间）",
            "操作",
            "对象类型",
            "对象",
            "序号",
            "操作人",
            "操作人账号",
            "角色",
            "单位",
            "网络地址",
            "说明",
            "本条哈希",
            "上一条哈希",
        ]
    )
    for v in _views(entries):  # people, units, roles and objects by name; Beijing time as people write it
        w.writerow(
            [
                cn_datetime(v.at_utc, seconds=True),
                v.action_label,
                TARGET_TYPE_LABELS.get(v.target_type, v.target_type),
                v.target_id,
                v.seq,
                v.actor_name,
                v.actor_username,
                _role_label(v.actor_role),
                v.actor_org_name or v.actor_org,
                v.source_ip,
                v.note or "",
                v.hash,
                v.prev_hash,
            ]
        )
    return Response(
        body="\ufeff" + buf.getvalue(),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="audit-{day}.csv"',
        },
    )
