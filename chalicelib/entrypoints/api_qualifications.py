"""资质电子化网上申报: enterprises apply and follow; authorities accept, ask for 补正, pass up, publish and decide."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import Role
from chalicelib.domain.qualification_applications import AppEvent, ApplicationKind
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_qualification_application_service

bp = Blueprint(__name__)
DECIDERS = [Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL]
OFFICIAL_EVENTS = [e for e in AppEvent if e not in (AppEvent.ANSWER, AppEvent.WITHDRAW)]


class ApplyIn(BaseModel):
    """资质申请"""

    kind: ApplicationKind = Field(
        description="NEW 首次申请 / UPGRADE 升级 / ADD 增项 / RENEWAL 延续 / REASSESSMENT 重新核定 / CHANGE 变更 / "
        "REPLACEMENT 遗失补办 / CANCELLATION 注销；注册人员：REG_INITIAL 初始注册 / REG_TRANSFER 变更注册 / "
        "REG_RENEWAL 延续注册 / REG_CANCELLATION 注销注册"
    )
    target: str = Field(
        pattern=r"^[A-Z][A-Z0-9]{1,9}$", description="申请的资质代码（如 D110B），人员注册时为注册类别（如 JZS2）"
    )
    person_key: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$", description="人员注册申请：人员标识")
    specialties: list[str] = Field(default_factory=list, max_length=10, description="人员注册申请：注册专业代码")
    certificate_no: str | None = Field(
        default=None, max_length=20, description="涉及的资质证书编号（可不填，按资质自动确定）"
    )
    changes: dict[str, str] = Field(
        default_factory=dict, description="变更事项（仅变更申请）：name/address/legal_rep/registered_capital"
    )
    statement: str | None = Field(default=None, max_length=1000, description="申请说明")


class ActIn(BaseModel):
    version: int = Field(ge=1)
    event: AppEvent = Field(
        description="ACCEPT 受理 / REFUSE 不予受理 / REQUEST_SUPPLEMENT 要求补正 / REFER_UP 转报上级 / "
        "START_NOTICE 开始公示 / APPROVE 准予许可 / REJECT 不予许可 / FORWARD 报住房和城乡建设部"
    )
    note: str = Field(default="", max_length=1000, description="意见或理由（不予受理、不予许可、要求补正时必填）")
    items: list[str] = Field(default_factory=list, max_length=30, description="需要补正的材料或事项")


class AnswerIn(BaseModel):
    version: int = Field(ge=1)
    answer: str = Field(min_length=2, max_length=2000, description="补正说明")


class WithdrawIn(BaseModel):
    version: int = Field(ge=1)
    reason: str = Field(min_length=2, max_length=500)


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class ApplicationView(BaseModel):
    """资质申请（含办理进度与可办理事项）"""

    application: dict[str, Any]
    kind_label: str
    state_label: str
    accept_label: str
    decide_label: str
    current_label: str | None
    region_name: str
    decision_due: str | None
    decision_due_label: str | None
    working_days_left: int | None
    clock_paused: bool
    notice_until_label: str | None
    changes_labels: dict[str, str]
    steps: list[dict[str, Any]]
    actions: list[dict[str, str]]


class ApplicationList(BaseModel):
    items: list[ApplicationView]
    cursor: str | None = None


def _page(ctx: Ctx, page) -> ApplicationList:
    svc = get_qualification_application_service()
    return ApplicationList(items=[svc.view(ctx.user, a) for a in page.items], cursor=encode_cursor(page.cursor))


@api_route(
    bp,
    "/qualification-applications",
    "POST",
    summary="提交资质申请（平台数据审查不通过的不予受理，列明全部理由）",
    tags=["资质申报"],
    roles=[Role.ENTERPRISE],
    body=ApplyIn,
    response=ApplicationView,
    status=201,
)
def apply(ctx: Ctx, req: ApplyIn):
    svc = get_qualification_application_service()
    app = svc.apply(
        ctx.user,
        ctx.meta,
        kind=req.kind,
        target=req.target,
        certificate_no=req.certificate_no or None,
        changes=req.changes,
        statement=req.statement,
        person_key=req.person_key,
        specialties=req.specialties,
    )
    return svc.view(ctx.user, app)


@api_route(
    bp,
    "/me/qualification-applications",
    summary="本企业的资质申请",
    tags=["资质申报", "企业门户"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=ApplicationList,
)
def mine(ctx: Ctx, q: PageQuery):
    return _page(
        ctx, get_qualification_application_service().mine(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    )


@api_route(
    bp,
    "/qualification-queue",
    summary="待本机关办理的资质申请（按等待时间）",
    tags=["资质申报"],
    roles=DECIDERS,
    query=PageQuery,
    response=ApplicationList,
)
def queue(ctx: Ctx, q: PageQuery):
    return _page(
        ctx, get_qualification_application_service().queue(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    )


@api_route(
    bp,
    "/qualification-applications/{application_id}",
    summary="资质申请详情",
    tags=["资质申报"],
    roles=[Role.ENTERPRISE, *DECIDERS],
    response=ApplicationView,
)
def get_one(ctx: Ctx, application_id: str):
    svc = get_qualification_application_service()
    return svc.view(ctx.user, svc.get(ctx.user, application_id))


@api_route(
    bp,
    "/qualification-applications/{application_id}/actions",
    "POST",
    summary="办理资质申请（受理、补正、转报、公示、决定）",
    tags=["资质申报"],
    roles=DECIDERS,
    body=ActIn,
    response=ApplicationView,
)
def act(ctx: Ctx, req: ActIn, application_id: str):
    svc = get_qualification_application_service()
    app = svc.act(
        ctx.user, ctx.meta, application_id, version=req.version, event=req.event, note=req.note, items=req.items
    )
    return svc.view(ctx.user, app)


@api_route(
    bp,
    "/qualification-applications/{application_id}/answer",
    "POST",
    summary="提交补正",
    tags=["资质申报", "企业门户"],
    roles=[Role.ENTERPRISE],
    body=AnswerIn,
    response=ApplicationView,
)
def answer(ctx: Ctx, req: AnswerIn, application_id: str):
    svc = get_qualification_application_service()
    return svc.view(ctx.user, svc.answer(ctx.user, ctx.meta, application_id, version=req.version, answer=req.answer))


@api_route(
    bp,
    "/qualification-applications/{application_id}/withdraw",
    "POST",
    summary="撤回资质申请",
    tags=["资质申报", "企业门户"],
    roles=[Role.ENTERPRISE],
    body=WithdrawIn,
    response=ApplicationView,
)
def withdraw(ctx: Ctx, req: WithdrawIn, application_id: str):
    svc = get_qualification_application_service()
    return svc.view(ctx.user, svc.withdraw(ctx.user, ctx.meta, application_id, version=req.version, reason=req.reason))


class CertificateLink(BaseModel):
    url: str = Field(description="资质证书PDF的下载地址（15分钟内有效）")
    cert_no: str


@api_route(
    bp,
    "/qualification-applications/{application_id}/certificate",
    summary="打印许可决定后的资质证书（副本，PDF）",
    tags=["资质申报"],
    roles=[Role.ENTERPRISE, *DECIDERS],
    response=CertificateLink,
)
def certificate(ctx: Ctx, application_id: str):
    return get_qualification_application_service().certificate(ctx.user, ctx.meta, application_id)
