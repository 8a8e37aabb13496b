"""Audit trail queries for officials (谁录入、谁负责)."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.audit import ACTION_LABELS, AuditEntry, ChainReport
from chalicelib.domain.identity import OFFICIAL_ROLES
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_audit_query_service

bp = Blueprint(__name__)


class AuditEntryView(BaseModel):
    """操作留痕记录（时间以北京时间显示，UTC存储）"""

    target_type: str
    target_id: str
    seq: int
    action: str
    action_label: str
    actor_subject: str
    actor_username: str
    actor_role: str
    actor_org: str
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
    def of(cls, e: AuditEntry) -> AuditEntryView:
        data = e.model_dump(mode="json")
        data.update(at=e.at_shanghai(), at_utc=e.at, action_label=ACTION_LABELS.get(e.action, e.action))
        return cls.model_validate(data)


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
    roles=OFFICIAL_ROLES,
    response=AuditTrail,
)
def target_trail(ctx: Ctx, target_type: str, target_id: str) -> AuditTrail:
    entries = get_audit_query_service().target_trail(ctx.user, target_type, target_id)
    return AuditTrail(items=[AuditEntryView.of(e) for e in entries])


@api_route(
    bp,
    "/audit/targets/{target_type}/{target_id}/verify",
    summary="校验对象留痕的哈希链",
    tags=["操作留痕"],
    roles=OFFICIAL_ROLES,
    response=ChainReport,
)
def verify_target(ctx: Ctx, target_type: str, target_id: str) -> ChainReport:
    return get_audit_query_service().verify_target(ctx.user, target_type, target_id)


@api_route(
    bp,
    "/audit/actors/{subject}",
    summary="人员的操作留痕",
    tags=["操作留痕"],
    roles=OFFICIAL_ROLES,
    query=ActorQuery,
    response=AuditTrail,
)
def actor_trail(ctx: Ctx, q: ActorQuery, subject: str) -> AuditTrail:
    page = get_audit_query_service().actor_trail(ctx.user, subject, limit=q.limit, cursor=decode_cursor(q.cursor))
    return AuditTrail(items=[AuditEntryView.of(e) for e in page.items], cursor=encode_cursor(page.cursor))
