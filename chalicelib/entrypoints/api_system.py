"""Health, the API description, the working-day calendar and administrator tasks."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.workdays import HolidayPeriod, MakeUpDay, YearArrangement
from chalicelib.entrypoints.http import Ctx, api_route, json_response
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


class Health(BaseModel):
    status: str
    stage: str
    service: str


@api_route(bp, "/health", summary="健康检查", tags=["系统"], roles=None, response=Health)
def health(ctx: Ctx) -> Health:
    s = get_settings()
    return Health(status="ok", stage=s.stage, service=s.service_name)


@api_route(bp, "/openapi.json", summary="OpenAPI 接口说明", tags=["系统"], roles=None)
def openapi(ctx: Ctx):
    from chalicelib.entrypoints.openapi import openapi_document

    return json_response(openapi_document())


@api_route(bp, "/", summary="首页（跳转到网页界面）", tags=["系统"], roles=None)
def home(ctx: Ctx) -> Response:
    return Response(body="", status_code=302, headers={"Location": "/ui/", "Cache-Control": "no-cache"})


class YearOut(BaseModel):
    year: int
    notice: str
    source: str
    holidays: list[dict[str, Any]]
    workdays: list[dict[str, Any]]
    origin: str = Field(description="平台内置 / 管理员载入")
    version: int | None = None


class CalendarStatus(BaseModel):
    today: str = Field(description="北京时间今天")
    covered_through: int | None = Field(description="已载入节假日安排的最后一年")
    missing_years: list[int] = Field(description="法定期限可能用到、但尚未载入安排的年份")
    warning: str | None = None
    years: list[YearOut]


@api_route(
    bp,
    "/system/work-calendar",
    summary="节假日安排（法定期限的工作日计算依据）",
    tags=["系统"],
    roles=OFFICIAL_ROLES,
    response=CalendarStatus,
)
def work_calendar(ctx: Ctx) -> CalendarStatus:
    from chalicelib.wiring import get_work_calendar_service

    return CalendarStatus.model_validate(get_work_calendar_service().status(ctx.user))


class YearIn(BaseModel):
    notice: str = Field(min_length=4, max_length=200, description="通知名称及文号")
    source: str = Field(default="", max_length=500, description="原文出处")
    holidays: list[HolidayPeriod] = Field(min_length=1, max_length=20, description="放假期间")
    workdays: list[MakeUpDay] = Field(default_factory=list, max_length=20, description="调休上班日")
    version: int | None = Field(default=None, description="修改已载入的安排时填写当前版本号")


class YearSaved(BaseModel):
    year: int
    version: int


@api_route(
    bp,
    "/system/work-calendar/{year}",
    "PUT",
    summary="载入某年节假日安排（国务院办公厅通知）",
    tags=["系统"],
    roles=[Role.PROVINCE_ADMIN],
    body=YearIn,
    response=YearSaved,
)
def load_work_calendar_year(ctx: Ctx, body: YearIn, year: str) -> YearSaved:
    from pydantic import ValidationError

    from chalicelib.domain.errors import InvalidInput
    from chalicelib.entrypoints.http import validation_details
    from chalicelib.wiring import get_work_calendar_service

    if not year.isdigit():
        raise InvalidInput("年份应为4位数字", details=[{"field": "year"}])
    try:
        arrangement = YearArrangement.model_validate(
            {"year": int(year), **body.model_dump(by_alias=True, exclude={"version"})}
        )
    except ValidationError as exc:
        raise InvalidInput("节假日安排校验未通过", details=validation_details(exc)) from None
    saved = get_work_calendar_service().load_year(ctx.user, ctx.meta, arrangement, expected_version=body.version)
    return YearSaved(**saved)


class Task(BaseModel):
    kind: str
    title: str
    detail: str
    who: str
    link: str


class TaskList(BaseModel):
    items: list[Task]


@api_route(bp, "/system/tasks", summary="待办事项（平台管理）", tags=["系统"], roles=OFFICIAL_ROLES, response=TaskList)
def tasks(ctx: Ctx) -> TaskList:
    from chalicelib.wiring import get_work_calendar_service

    return TaskList(items=[Task(**t) for t in get_work_calendar_service().tasks(ctx.user)])
