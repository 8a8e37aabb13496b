"""Data use: qualification application data review, award eligibility and grants, tender-supervision verification."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.credit import CreditRecord
from chalicelib.domain.fields import RequiredIdDocumentNo, RequiredProjectNumber, RequiredUscc
from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.entrypoints.http import Ctx, api_route
from chalicelib.wiring import get_data_use_service

bp = Blueprint(__name__)
VERIFIERS = [Role.TENDER_SUPERVISION, *OFFICIAL_ROLES]


class QualificationReviewIn(BaseModel):
    """资质申请平台数据审查"""

    uscc: RequiredUscc = Field(description="申请企业统一社会信用代码（企业用户只能是本企业）")
    kind: str = Field(
        description="NEW 首次申请 / UPGRADE 升级 / ADD 增项 / RENEWAL 延续 / REASSESSMENT 重新核定 / CHANGE 变更"
    )
    target: str = Field(pattern=r"^[A-Z]\d{3}[A-Z0-9]*$", description="申请的资质代码，如 D101A")


class RequirementOut(BaseModel):
    key: str
    label: str
    required: Any
    actual: Any
    met: bool
    evidence: list[dict[str, Any]]


class QualificationReport(BaseModel):
    uscc: RequiredUscc
    enterprise_name: str | None
    kind: str
    kind_label: str
    target: str
    target_label: str
    reviewed_on: str
    standard: str
    met: bool = Field(description="全部要求是否满足")
    requirements: list[RequirementOut]


class AwardQuery(BaseModel):
    award: str = Field(description="G-1-01 省标化工地 / G-1-02 钱江杯")


class AwardCheck(BaseModel):
    prj_num: RequiredProjectNumber
    award: str
    award_label: str | None
    eligible: bool
    missing: list[str] = Field(description="不符合申报条件的原因")


class AwardIn(BaseModel):
    award: str
    uscc: RequiredUscc = Field(description="获奖施工企业")
    granted_on: date
    document_no: str = Field(min_length=2, max_length=100, description="表彰文件文号")


class EnterpriseQuery(BaseModel):
    qualification: str | None = Field(default=None, pattern=r"^[A-Z]\d{3}[A-Z0-9]*$", description="如 D101 或 D101B")


class PersonIn(BaseModel):
    id_type: str = Field(default="1", pattern=r"^\d$")
    id_no: RequiredIdDocumentNo = Field(max_length=30, description="证件号码（只在请求体中传递，不进地址栏与日志）")


@api_route(
    bp,
    "/qualification-reviews",
    "POST",
    summary="资质申请平台数据审查报告",
    tags=["数据应用"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    body=QualificationReviewIn,
    response=QualificationReport,
)
def qualification_review(ctx: Ctx, req: QualificationReviewIn):
    return get_data_use_service().qualification_review(ctx.user, ctx.meta, req.uscc, req.kind, req.target)


@api_route(
    bp,
    "/projects/{prj_num}/award-eligibility",
    summary="评优申报条件检查",
    tags=["数据应用"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    query=AwardQuery,
    response=AwardCheck,
)
def award_eligibility(ctx: Ctx, q: AwardQuery, prj_num: str):
    return get_data_use_service().award_eligibility(ctx.user, prj_num, q.award)


@api_route(
    bp,
    "/projects/{prj_num}/awards",
    "POST",
    summary="认定奖项（记入良好行为记录）",
    tags=["数据应用", "诚信网"],
    roles=[Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL],
    body=AwardIn,
    response=CreditRecord,
    status=201,
)
def grant_award(ctx: Ctx, req: AwardIn, prj_num: str):
    return get_data_use_service().grant_award(
        ctx.user, ctx.meta, prj_num, req.award, req.uscc, req.granted_on, req.document_no
    )


@api_route(
    bp,
    "/verify/enterprises/{uscc}",
    summary="招投标核验：企业（以平台确认信息为准）",
    tags=["招投标监管核验"],
    roles=VERIFIERS,
    query=EnterpriseQuery,
)
def verify_enterprise(ctx: Ctx, q: EnterpriseQuery, uscc: str):
    return get_data_use_service().verify_enterprise(ctx.user, ctx.meta, uscc, q.qualification)


@api_route(
    bp,
    "/verify/persons",
    "POST",
    summary="招投标核验：人员（注册单位、是否在建项目锁定）",
    tags=["招投标监管核验"],
    roles=VERIFIERS,
    body=PersonIn,
)
def verify_person(ctx: Ctx, req: PersonIn):
    return get_data_use_service().verify_person(ctx.user, ctx.meta, req.id_type, req.id_no)


@api_route(
    bp,
    "/verify/projects/{prj_num}",
    summary="招投标核验：项目",
    tags=["招投标监管核验"],
    roles=VERIFIERS,
)
def verify_project(ctx: Ctx, prj_num: str):
    return get_data_use_service().verify_project(ctx.user, ctx.meta, prj_num)
