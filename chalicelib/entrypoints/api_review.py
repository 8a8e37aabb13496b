"""Official review API: queues, claim/assign/release, decisions, reopen, escalate, supplement requests, diffs."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.review import Decision, FieldChange, Outcome, RequestItem, SupplementRequest
from chalicelib.entrypoints.api_registry import EnterpriseList, PersonList, ProjectList, page_of, view
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_review_service

bp = Blueprint(__name__)

REVIEWERS = [Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL]
TYPES = {"enterprises": RecordType.ENTERPRISE, "persons": RecordType.PERSON, "projects": RecordType.PROJECT}


class QueueQueryIn(BaseModel):
    record_type: Literal["enterprise", "person", "project"] = Field(description="记录类型")
    state: Literal["SUBMITTED", "IN_DOUBT", "SUPPLEMENT_REQUESTED"] = Field(
        default="SUBMITTED", description="SUBMITTED 待确认；IN_DOUBT 存疑库；SUPPLEMENT_REQUESTED 补正中"
    )
    city: str | None = Field(default=None, pattern=r"^33\d{2}00$")
    county: str | None = Field(default=None, pattern=r"^33\d{4}$")
    older_than_days: int | None = Field(default=None, ge=1, le=3650, description="只看等待超过N天的")
    assignee: str | None = Field(default=None, description="按认领人筛选（用户标识）")
    escalated_only: bool = Field(default=False, description="只看下级提交上来的")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class QueuePage(BaseModel):
    """审核队列（按等待时间排序）"""

    enterprises: EnterpriseList | None = None
    persons: PersonList | None = None
    projects: ProjectList | None = None


class VersionIn(BaseModel):
    version: int = Field(ge=1, description="读取记录时的版本号（乐观锁）")


class DecisionIn(VersionIn):
    """确认决定：CONFIRMED 真实（进入基础库）、FALSE 虚假（生成不良行为记录并公示）、IN_DOUBT 暂时无法确认（存疑库）"""

    outcome: Outcome
    reason: str = Field(min_length=2, max_length=1000, description="理由")
    evidence_upload_id: str | None = Field(default=None, description="证据附件的上传编号")


class ReasonIn(VersionIn):
    reason: str = Field(min_length=2, max_length=1000)


class AssignIn(VersionIn):
    assignee: str = Field(min_length=1, max_length=128, description="被分派人的用户标识")
    assignee_name: str | None = Field(default=None, max_length=64)


class DecisionOut(BaseModel):
    decision: Decision
    record: dict[str, Any]


class RequestIn(BaseModel):
    """补正通知（草稿）：列出需补充或说明的字段、材料"""

    items: list[RequestItem] = Field(min_length=1, max_length=50)
    due_on: date | None = None


class RequestVersionIn(BaseModel):
    version: int = Field(ge=1)


class AnswerIn(BaseModel):
    """企业答复补正通知：先用 PATCH 补充记录，再用读取到的记录版本号答复"""

    record_version: int = Field(ge=1)
    note: str = Field(min_length=1, max_length=2000)
    attachments: list[str] = Field(default_factory=list, description="附件上传编号")


class RequestList(BaseModel):
    items: list[SupplementRequest]
    cursor: str | None = None


class DiffOut(BaseModel):
    """与最近一次确认版本（无确认版本时与首次提交）的逐字段差异"""

    against: dict[str, Any] | None
    changes: list[FieldChange]
    snapshots: list[dict[str, Any]]


def _key(kind: str, params: dict[str, str]) -> tuple[RecordType, tuple[str, ...]]:
    rt = TYPES.get(kind)
    if rt is None:
        from chalicelib.domain.errors import NotFound

        raise NotFound("记录类型不存在")
    if rt == RecordType.PERSON:
        return rt, (params["id"], params.get("employer", ""))
    return rt, (params["id"],)


@api_route(
    bp,
    "/reviews/queue",
    summary="审核队列（待确认、存疑库、补正中）",
    tags=["审核"],
    roles=OFFICIAL_ROLES,
    query=QueueQueryIn,
    response=QueuePage,
)
def review_queue(ctx: Ctx, q: QueueQueryIn):
    rt = RecordType(q.record_type)
    page = get_review_service().queue(
        ctx.user,
        state=RecordState(q.state),
        county=q.county,
        city=q.city,
        record_type=rt,
        older_than_days=q.older_than_days,
        assignee=q.assignee,
        escalated_only=q.escalated_only,
        limit=q.limit,
        cursor=decode_cursor(q.cursor),
    )
    field = {RecordType.ENTERPRISE: "enterprises", RecordType.PERSON: "persons", RecordType.PROJECT: "projects"}[rt]
    return QueuePage(**{field: page_of(rt, page)})


@api_route(
    bp, "/reviews/assigned", summary="分派给我的记录（任何状态）", tags=["审核"], roles=OFFICIAL_ROLES, query=PageQuery
)
def assigned_to_me(ctx: Ctx, q: PageQuery):
    page = get_review_service().assigned_to_me(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return {"items": [view(r).model_dump(mode="json") for r in page.items], "cursor": encode_cursor(page.cursor)}


def _register(kind_path: str, with_employer: bool) -> None:
    base = f"/reviews/{kind_path}/{{id}}" + ("/{employer}" if with_employer else "")
    suffix = "_person" if with_employer else ""

    def decide(ctx: Ctx, req: DecisionIn, kind: str = kind_path, **params: str):
        rt, key = _key(kind, params)
        record, decision = get_review_service().decide(
            ctx.user,
            ctx.meta,
            rt,
            key,
            version=req.version,
            outcome=req.outcome,
            reason=req.reason,
            evidence_upload_id=req.evidence_upload_id,
        )
        return DecisionOut(decision=decision, record=view(record).model_dump(mode="json"))

    def action(name: str, fn_name: str, summary: str, body_model: type[BaseModel], call):
        def handler(ctx: Ctx, req, kind: str = kind_path, **params: str):
            rt, key = _key(kind, params)
            return view(call(ctx, req, rt, key)).model_dump(mode="json")

        handler.__name__ = f"{fn_name}_{kind_path}{suffix}"
        api_route(bp, f"{base}/{name}", "POST", summary=summary, tags=["审核"], roles=REVIEWERS, body=body_model)(
            handler
        )

    decide.__name__ = f"decide_{kind_path}{suffix}"
    api_route(
        bp,
        f"{base}/decision",
        "POST",
        summary="作出确认决定（真实/虚假/存疑）",
        tags=["审核"],
        roles=REVIEWERS,
        body=DecisionIn,
        response=DecisionOut,
    )(decide)
    svc = get_review_service
    action(
        "claim",
        "claim",
        "认领",
        VersionIn,
        lambda ctx, req, rt, key: svc().claim(ctx.user, ctx.meta, rt, key, version=req.version),
    )
    action(
        "release",
        "release",
        "释放认领",
        VersionIn,
        lambda ctx, req, rt, key: svc().release(ctx.user, ctx.meta, rt, key, version=req.version),
    )
    action(
        "assign",
        "assign",
        "分派给审核人员（市级及以上）",
        AssignIn,
        lambda ctx, req, rt, key: svc().assign(
            ctx.user, ctx.meta, rt, key, version=req.version, assignee=req.assignee, assignee_name=req.assignee_name
        ),
    )
    action(
        "reopen",
        "reopen",
        "上级重新审核已作出的决定",
        ReasonIn,
        lambda ctx, req, rt, key: svc().reopen(ctx.user, ctx.meta, rt, key, version=req.version, reason=req.reason),
    )
    action(
        "escalate",
        "escalate",
        "提交上级主管部门审核",
        ReasonIn,
        lambda ctx, req, rt, key: svc().escalate(ctx.user, ctx.meta, rt, key, version=req.version, reason=req.reason),
    )

    def create_request(ctx: Ctx, req: RequestIn, kind: str = kind_path, **params: str):
        rt, key = _key(kind, params)
        return get_review_service().create_request(ctx.user, ctx.meta, rt, key, items=req.items, due_on=req.due_on)

    create_request.__name__ = f"draft_request_{kind_path}{suffix}"
    api_route(
        bp,
        f"{base}/supplement-requests",
        "POST",
        summary="起草补正通知",
        tags=["补正"],
        roles=REVIEWERS,
        body=RequestIn,
        response=SupplementRequest,
        status=201,
    )(create_request)

    def list_requests(ctx: Ctx, kind: str = kind_path, **params: str):
        rt, key = _key(kind, params)
        return RequestList(items=get_review_service().requests_of_record(ctx.user, rt, key))

    list_requests.__name__ = f"list_requests_{kind_path}{suffix}"
    api_route(
        bp,
        f"{base}/supplement-requests",
        summary="记录的补正通知",
        tags=["补正"],
        roles=OFFICIAL_ROLES,
        response=RequestList,
    )(list_requests)

    def get_diff(ctx: Ctx, kind: str = kind_path, **params: str):
        rt, key = _key(kind, params)
        return DiffOut(**get_review_service().diff_against_confirmed(ctx.user, rt, key))

    get_diff.__name__ = f"diff_{kind_path}{suffix}"
    api_route(
        bp, f"{base}/diff", summary="与上次确认版本的逐字段差异", tags=["审核"], roles=OFFICIAL_ROLES, response=DiffOut
    )(get_diff)


_register("enterprises", False)
_register("projects", False)
_register("persons", True)


@api_route(
    bp,
    "/supplement-requests/{request_id}/send",
    "POST",
    summary="发送补正通知（企业可见）",
    tags=["补正"],
    roles=REVIEWERS,
    body=RequestVersionIn,
    response=SupplementRequest,
)
def send_request(ctx: Ctx, req: RequestVersionIn, request_id: str):
    return get_review_service().send_request(ctx.user, ctx.meta, request_id, version=req.version)


@api_route(
    bp,
    "/supplement-requests/{request_id}/withdraw",
    "POST",
    summary="撤回补正通知草稿",
    tags=["补正"],
    roles=REVIEWERS,
    body=RequestVersionIn,
    response=SupplementRequest,
)
def withdraw_request(ctx: Ctx, req: RequestVersionIn, request_id: str):
    return get_review_service().withdraw_request(ctx.user, ctx.meta, request_id, version=req.version)


@api_route(
    bp,
    "/me/supplement-requests",
    summary="发给本企业的补正通知",
    tags=["企业门户", "补正"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=RequestList,
)
def my_requests(ctx: Ctx, q: PageQuery):
    page = get_review_service().my_requests(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return RequestList(items=page.items, cursor=encode_cursor(page.cursor))


@api_route(
    bp,
    "/me/supplement-requests/{request_id}/answer",
    "POST",
    summary="答复补正通知（重新提交记录）",
    tags=["企业门户", "补正"],
    roles=[Role.ENTERPRISE],
    body=AnswerIn,
    response=SupplementRequest,
)
def answer_request(ctx: Ctx, req: AnswerIn, request_id: str):
    return get_review_service().answer_request(
        ctx.user, ctx.meta, request_id, record_version=req.record_version, note=req.note, attachments=req.attachments
    )
