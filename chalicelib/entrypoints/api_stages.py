"""Project stage records (中标、合同备案、施工图审查、质量安全监督登记): filing, correction, official check."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.stages import KIND_LABELS, STAGE_STATE_LABELS, StageData, StageRecord
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_project_view, get_stage_service

bp = Blueprint(__name__)
KIND = r"^(tender|contract|drawing_review|supervision_registration)$"


class StageFileIn(BaseModel):
    """环节信息填报（data.kind 决定内容）"""

    data: StageData


class StageCorrectIn(BaseModel):
    version: int = Field(ge=1)
    data: StageData


class StageCheckIn(BaseModel):
    """主管部门核查"""

    version: int = Field(ge=1)
    confirmed: bool
    note: str = Field(min_length=2, max_length=1000)


class StageView(BaseModel):
    record: dict[str, Any]
    kind_label: str
    state_label: str


class StageList(BaseModel):
    items: list[StageView]
    cursor: str | None = None


class PendingQuery(BaseModel):
    county: str | None = Field(default=None, pattern=r"^33\d{4}$")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


def _view(r: StageRecord) -> StageView:
    return StageView(
        record=r.model_dump(mode="json"), kind_label=KIND_LABELS[r.kind], state_label=STAGE_STATE_LABELS[r.state]
    )


@api_route(
    bp,
    "/projects/{prj_num}/stages",
    "POST",
    summary="填报项目环节信息",
    tags=["项目环节"],
    roles=[Role.ENTERPRISE],
    body=StageFileIn,
    response=StageView,
    status=201,
)
def file_stage(ctx: Ctx, req: StageFileIn, prj_num: str):
    return _view(get_stage_service().file(ctx.user, ctx.meta, prj_num, req.data.model_dump(mode="json")))


@api_route(
    bp,
    "/projects/{prj_num}/stages",
    summary="项目环节信息",
    tags=["项目环节"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    response=StageList,
)
def list_stages(ctx: Ctx, prj_num: str):
    return StageList(items=[_view(r) for r in get_stage_service().list(ctx.user, prj_num)])


@api_route(
    bp,
    "/projects/{prj_num}/stages/{kind}/{number}",
    "PUT",
    summary="修改环节信息（待核查或退回修改时）",
    tags=["项目环节"],
    roles=[Role.ENTERPRISE],
    body=StageCorrectIn,
    response=StageView,
)
def correct_stage(ctx: Ctx, req: StageCorrectIn, prj_num: str, kind: str, number: str):
    return _view(
        get_stage_service().correct(
            ctx.user, ctx.meta, prj_num, kind, number, version=req.version, data=req.data.model_dump(mode="json")
        )
    )


@api_route(
    bp,
    "/projects/{prj_num}/stages/{kind}/{number}/check",
    "POST",
    summary="核查环节信息",
    tags=["项目环节"],
    roles=[Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL],
    body=StageCheckIn,
    response=StageView,
)
def check_stage(ctx: Ctx, req: StageCheckIn, prj_num: str, kind: str, number: str):
    return _view(
        get_stage_service().check(
            ctx.user, ctx.meta, prj_num, kind, number, version=req.version, confirmed=req.confirmed, note=req.note
        )
    )


@api_route(
    bp,
    "/stages/pending",
    summary="待核查的环节信息（按提交时间）",
    tags=["项目环节"],
    roles=OFFICIAL_ROLES,
    query=PendingQuery,
    response=StageList,
)
def pending_stages(ctx: Ctx, q: PendingQuery):
    page = get_stage_service().pending(ctx.user, q.county, limit=q.limit, cursor=decode_cursor(q.cursor))
    return StageList(items=[_view(r) for r in page.items], cursor=encode_cursor(page.cursor))


class ProjectLifecycle(BaseModel):
    """项目全过程：项目、环节信息、施工许可申请及其流程进度"""

    project: dict[str, Any]
    stages: list[StageView]
    permits: list[dict[str, Any]] = Field(description="每项施工许可申请及流程进度（当前步骤、历史）")


@api_route(
    bp,
    "/projects/{prj_num}/lifecycle",
    summary="项目全过程视图（环节信息与施工许可流程进度）",
    tags=["项目环节"],
    roles=[Role.ENTERPRISE, *OFFICIAL_ROLES],
    response=ProjectLifecycle,
)
def project_lifecycle(ctx: Ctx, prj_num: str):
    view = get_project_view().show(ctx.user, prj_num)
    return ProjectLifecycle(project=view["project"], stages=[_view(r) for r in view["stages"]], permits=view["permits"])
