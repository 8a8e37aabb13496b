"""Construction permit applications (施工许可): apply, follow the workflow, complete, decide."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from chalice import Blueprint
from pydantic import BaseModel, Field, model_validator

from chalicelib.domain.fields import RequiredUscc, Uscc
from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.permits import STATE_LABELS, CompletionDetails
from chalicelib.entrypoints.http import Ctx, api_route
from chalicelib.wiring import get_permit_after_issue, get_permit_documents, get_permit_service

bp = Blueprint(__name__)


class PermitApplyIn(BaseModel):
    """施工许可申请"""

    construction_uscc: RequiredUscc = Field(description="施工单位统一社会信用代码")
    supervision_uscc: Uscc = Field(default=None, description="监理单位统一社会信用代码")
    project_manager: str = Field(pattern=r"^[0-9a-f]{24}$", description="项目经理（人员标识）")
    chief_engineer: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$")
    safety_persons: list[Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]] = Field(
        default_factory=list, max_length=20, description="安全生产管理人员（A/B/C证持有人，人员标识）"
    )
    contract_price: Decimal = Field(ge=0, description="合同价格（万元）")
    area: Decimal = Field(ge=0, description="建筑面积（平方米）")
    exempt_reason: str | None = Field(default=None, max_length=500, description="未达限额仍申请的理由")
    contract_start: date | None = Field(default=None, description="合同开工日期")
    contract_end: date | None = Field(default=None, description="合同竣工日期")
    land_use_exempt_reason: str | None = Field(
        default=None, max_length=500, description="依法无需办理用地批准手续的理由（项目未登记建设用地规划许可证号时）"
    )
    planning_exempt_reason: str | None = Field(
        default=None, max_length=500, description="无需取得建设工程规划许可证的理由（如不在城市、镇规划区内）"
    )
    site_ready: bool = Field(default=False, description="承诺：施工场地已经基本具备施工条件（第四条（三））")
    funds_committed: bool = Field(default=False, description="承诺：建设资金已经落实（第四条（八），承诺书）")
    funds_in_place: Decimal | None = Field(default=None, ge=0, description="到位资金（万元；2018年9月28日前的规则）")
    remarks: str | None = Field(default=None, max_length=500, description="备注（印于证书）")

    @model_validator(mode="after")
    def _dates(self) -> PermitApplyIn:
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValueError("合同竣工日期不能早于合同开工日期")
        return self


class ResubmitIn(BaseModel):
    version: int = Field(ge=1)
    changes: dict[str, Any] = Field(default_factory=dict)


class PermitDecisionIn(BaseModel):
    version: int = Field(ge=1)
    approved: bool
    reason: str = Field(min_length=2, max_length=1000)


class PermitView(BaseModel):
    """施工许可申请（含流程进度）"""

    application: dict[str, Any]
    state_label: str
    workflow: dict[str, Any] = Field(default_factory=dict, description="流程进度：当前步骤与历史")
    progress: dict[str, Any] = Field(
        default_factory=dict, description="办理进度：业务环节、法定期限与剩余工作日、当事单位名称"
    )


def _view(app, history=None, progress=None) -> PermitView:
    return PermitView(
        application=app.public_view(),
        state_label=STATE_LABELS[app.state],
        workflow=history or {},
        progress=progress or {},
    )


@api_route(
    bp,
    "/projects/{prj_num}/permit-applications",
    "POST",
    summary="申请施工许可",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=PermitApplyIn,
    response=PermitView,
    status=201,
)
def apply_permit(ctx: Ctx, req: PermitApplyIn, prj_num: str):
    return _view(get_permit_service().apply(ctx.user, ctx.meta, prj_num, req.model_dump()))


@api_route(
    bp,
    "/permit-applications/{application_id}",
    summary="施工许可申请与流程进度",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    response=PermitView,
)
def get_permit(ctx: Ctx, application_id: str):
    app, history, progress = get_permit_service().get(ctx.user, application_id)
    return _view(app, history, progress)


@api_route(
    bp,
    "/permit-applications/{application_id}/resubmit",
    "POST",
    summary="补正后重新提交",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=ResubmitIn,
    response=PermitView,
)
def resubmit_permit(ctx: Ctx, req: ResubmitIn, application_id: str):
    return _view(
        get_permit_service().resubmit(ctx.user, ctx.meta, application_id, version=req.version, changes=req.changes)
    )


@api_route(
    bp,
    "/permit-applications/{application_id}/decision",
    "POST",
    summary="作出许可决定",
    tags=["施工许可"],
    roles=[Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL],
    body=PermitDecisionIn,
    response=PermitView,
)
def decide_permit(ctx: Ctx, req: PermitDecisionIn, application_id: str):
    return _view(
        get_permit_service().decide(
            ctx.user, ctx.meta, application_id, version=req.version, approved=req.approved, reason=req.reason
        )
    )


class CertificateQuery(BaseModel):
    which: str = Field(default="正本", alias="copy", pattern=r"^(正本|副本)$", description="正本 或 副本")


class CertificateLink(BaseModel):
    """施工许可证PDF下载链接（15分钟内有效）"""

    url: str
    reprint: bool
    permit_no: str
    licence_id: str | None = Field(default=None, description="电子证照标识（文件由发证机关加盖电子印章）")


class NoticeLink(BaseModel):
    """补正材料一次性告知书PDF下载链接（15分钟内有效）"""

    url: str
    missing: list[str] = Field(description="一次性告知的补正事项")
    later_findings: list[dict[str, str]] = Field(default_factory=list, description="告知后因情况变化发现的事项")


@api_route(
    bp,
    "/permit-applications/{application_id}/notice",
    summary="补正材料一次性告知书（PDF）",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    response=NoticeLink,
)
def print_notice(ctx: Ctx, application_id: str):
    return NoticeLink(**get_permit_documents().notice(ctx.user, application_id))


class CompletionIn(BaseModel):
    """竣工验收备案"""

    version: int = Field(ge=1)
    completion_no: str = Field(min_length=4, max_length=50, description="竣工验收备案编号")
    completed_on: date
    details: CompletionDetails | None = Field(default=None, description="实际造价、面积、结构体系、质量检测机构")


@api_route(
    bp,
    "/permit-applications/{application_id}/certificate",
    summary="打印施工许可证（加盖发证机关电子印章的PDF电子证照，含二维码）",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    query=CertificateQuery,
    response=CertificateLink,
)
def print_certificate(ctx: Ctx, q: CertificateQuery, application_id: str):
    return CertificateLink(**get_permit_documents().certificate(ctx.user, ctx.meta, application_id, copy=q.which))


@api_route(
    bp,
    "/permit-applications/{application_id}/completion",
    "POST",
    summary="竣工验收备案（释放人员锁定）",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=CompletionIn,
    response=PermitView,
)
def complete_permit(ctx: Ctx, req: CompletionIn, application_id: str):
    return _view(
        get_permit_documents().complete(
            ctx.user,
            ctx.meta,
            application_id,
            version=req.version,
            completion_no=req.completion_no,
            completed_on=req.completed_on,
            details=req.details,
        )
    )


class StartIn(BaseModel):
    """开工报告"""

    version: int = Field(ge=1)
    started_on: date


class ExtensionIn(BaseModel):
    """延期申请（开工期限届满前）"""

    version: int = Field(ge=1)
    months: int = Field(ge=1, le=12, description="延期月数（每次不超过3个月，以规则为准）")
    reason: str = Field(min_length=2, max_length=1000)


class SuspendIn(BaseModel):
    """中止施工报告"""

    version: int = Field(ge=1)
    stopped_on: date
    reason: str = Field(min_length=2, max_length=1000)


class ResumeIn(BaseModel):
    """恢复施工（中止满一年的须经发证机关核验）"""

    version: int = Field(ge=1)
    resumed_on: date


@api_route(
    bp,
    "/permit-applications/{application_id}/start",
    "POST",
    summary="开工报告",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=StartIn,
    response=PermitView,
)
def report_start(ctx: Ctx, req: StartIn, application_id: str):
    return _view(
        get_permit_after_issue().report_start(
            ctx.user, ctx.meta, application_id, version=req.version, started_on=req.started_on
        )
    )


@api_route(
    bp,
    "/permit-applications/{application_id}/extensions",
    "POST",
    summary="申请延期开工",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=ExtensionIn,
    response=PermitView,
)
def request_extension(ctx: Ctx, req: ExtensionIn, application_id: str):
    return _view(
        get_permit_after_issue().request_extension(
            ctx.user, ctx.meta, application_id, version=req.version, months=req.months, reason=req.reason
        )
    )


@api_route(
    bp,
    "/permit-applications/{application_id}/extensions/decision",
    "POST",
    summary="延期审核（批准后重新核发新版证书）",
    tags=["施工许可"],
    roles=[Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL],
    body=PermitDecisionIn,
    response=PermitView,
)
def decide_extension(ctx: Ctx, req: PermitDecisionIn, application_id: str):
    return _view(
        get_permit_after_issue().decide_extension(
            ctx.user, ctx.meta, application_id, version=req.version, approved=req.approved, reason=req.reason
        )
    )


@api_route(
    bp,
    "/permit-applications/{application_id}/suspension",
    "POST",
    summary="中止施工报告",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE],
    body=SuspendIn,
    response=PermitView,
)
def suspend_work(ctx: Ctx, req: SuspendIn, application_id: str):
    return _view(
        get_permit_after_issue().suspend(
            ctx.user, ctx.meta, application_id, version=req.version, stopped_on=req.stopped_on, reason=req.reason
        )
    )


@api_route(
    bp,
    "/permit-applications/{application_id}/resumption",
    "POST",
    summary="恢复施工（或发证机关核验后恢复）",
    tags=["施工许可"],
    roles=[Role.ENTERPRISE, Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL],
    body=ResumeIn,
    response=PermitView,
)
def resume_work(ctx: Ctx, req: ResumeIn, application_id: str):
    return _view(
        get_permit_after_issue().resume(
            ctx.user, ctx.meta, application_id, version=req.version, resumed_on=req.resumed_on
        )
    )
