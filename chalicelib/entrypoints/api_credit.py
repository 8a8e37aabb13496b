"""Credit network for officials and enterprises: enter records, rectification (信用修复), extension, blacklist."""

from __future__ import annotations

from datetime import date

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.credit import BlacklistEntry, CreditRecord
from chalicelib.domain.fields import ProjectNumber, RequiredUscc
from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_credit_service

bp = Blueprint(__name__)
OFFICIALS = [Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL]


class CreditIn(BaseModel):
    """录入诚信记录：不良行为（行政处罚）或良好行为（获奖、表彰）"""

    uscc: RequiredUscc = Field(description="企业统一社会信用代码")
    behaviour_code: str = Field(description="认定标准行为代码，如 C1-2-05 转包或违法分包、G-1-02 钱江杯")
    content: str = Field(min_length=4, max_length=2000, description="事由")
    happened_on: date
    publish_months: int | None = Field(default=None, ge=6, le=36, description="不良行为公开期限（6～36个月）")
    penalty_number: str | None = Field(default=None, max_length=100, description="处罚决定文号")
    penalty_department: str | None = Field(default=None, max_length=100)
    penalty_date: date | None = None
    penalty_end: date | None = Field(default=None, description="处罚期限截止日期")
    penalty_amount: str | None = Field(default=None, max_length=20, description="罚款金额（万元）")
    penalty_content: str | None = Field(default=None, max_length=2000, description="处罚决定内容")
    basis: str | None = Field(default=None, max_length=500, description="处罚依据")
    project_num: ProjectNumber = Field(default=None, description="项目编号")
    person_key: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{24}$", description="记录对象为该企业的注册人员时填写"
    )


class RectificationIn(BaseModel):
    """信用修复申请：说明整改情况并申请提前结束公开"""

    version: int = Field(ge=1)
    reason: str = Field(min_length=4, max_length=2000)
    requested_end: date
    evidence_upload_id: str | None = None


class RectificationDecisionIn(BaseModel):
    version: int = Field(ge=1)
    approve: bool
    reason: str = Field(min_length=2, max_length=1000)


class ExtendIn(BaseModel):
    """拒不整改：延长公开期限"""

    version: int = Field(ge=1)
    months: int = Field(ge=1, le=30)
    reason: str = Field(min_length=2, max_length=1000)


class BlacklistIn(BaseModel):
    uscc: RequiredUscc
    criterion: str = Field(description="BL-1 ～ BL-4（建市〔2017〕241号 黑名单认定条件）")
    basis: str = Field(min_length=4, max_length=1000, description="认定依据（处罚决定文号等）")
    listed_on: date


class CreditPage(BaseModel):
    items: list[CreditRecord]
    cursor: str | None = None


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


@api_route(
    bp,
    "/credit/records",
    "POST",
    summary="录入诚信记录（主管部门）",
    tags=["诚信网"],
    roles=OFFICIALS,
    body=CreditIn,
    response=CreditRecord,
    status=201,
)
def enter_credit(ctx: Ctx, req: CreditIn):
    return get_credit_service().enter(ctx.user, ctx.meta, **req.model_dump())


@api_route(
    bp,
    "/credit/records/{credit_id}",
    summary="诚信记录详情",
    tags=["诚信网"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    response=CreditRecord,
)
def get_credit(ctx: Ctx, credit_id: str):
    return get_credit_service().get_for(ctx.user, credit_id)


@api_route(
    bp,
    "/me/credit-records",
    summary="本企业在公开期限内的诚信记录",
    tags=["企业门户", "诚信网"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=CreditPage,
)
def my_credit(ctx: Ctx, q: PageQuery):
    page = get_credit_service().mine(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return CreditPage(items=page.items, cursor=encode_cursor(page.cursor))


@api_route(
    bp,
    "/me/credit-records/{credit_id}/rectification",
    "POST",
    summary="申请信用修复",
    tags=["企业门户", "诚信网"],
    roles=[Role.ENTERPRISE],
    body=RectificationIn,
    response=CreditRecord,
)
def request_rectification(ctx: Ctx, req: RectificationIn, credit_id: str):
    return get_credit_service().request_rectification(
        ctx.user,
        ctx.meta,
        credit_id,
        version=req.version,
        reason=req.reason,
        requested_end=req.requested_end,
        evidence_upload_id=req.evidence_upload_id,
    )


class RectificationQueue(BaseModel):
    items: list[CreditRecord]


@api_route(
    bp,
    "/credit/rectifications",
    summary="待审核的信用修复申请（本辖区）",
    tags=["诚信网"],
    roles=OFFICIALS,
    response=RectificationQueue,
)
def rectification_queue(ctx: Ctx):
    return RectificationQueue(items=get_credit_service().rectification_queue(ctx.user))


@api_route(
    bp,
    "/credit/records/{credit_id}/rectification/decision",
    "POST",
    summary="审核信用修复申请",
    tags=["诚信网"],
    roles=OFFICIALS,
    body=RectificationDecisionIn,
    response=CreditRecord,
)
def decide_rectification(ctx: Ctx, req: RectificationDecisionIn, credit_id: str):
    return get_credit_service().decide_rectification(
        ctx.user, ctx.meta, credit_id, version=req.version, approve=req.approve, reason=req.reason
    )


@api_route(
    bp,
    "/credit/records/{credit_id}/extend",
    "POST",
    summary="延长不良行为公开期限（拒不整改）",
    tags=["诚信网"],
    roles=OFFICIALS,
    body=ExtendIn,
    response=CreditRecord,
)
def extend_credit(ctx: Ctx, req: ExtendIn, credit_id: str):
    return get_credit_service().extend(
        ctx.user, ctx.meta, credit_id, version=req.version, months=req.months, reason=req.reason
    )


@api_route(
    bp,
    "/credit/blacklist",
    "POST",
    summary="列入黑名单（谁处罚、谁列入）",
    tags=["诚信网"],
    roles=OFFICIALS,
    body=BlacklistIn,
    response=BlacklistEntry,
    status=201,
)
def add_blacklist(ctx: Ctx, req: BlacklistIn):
    return get_credit_service().add_to_blacklist(ctx.user, ctx.meta, **req.model_dump())
