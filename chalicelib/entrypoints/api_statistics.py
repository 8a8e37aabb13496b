"""Statistics dashboard and regional assessment (考核) for officials."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import OFFICIAL_ROLES
from chalicelib.entrypoints.http import Ctx, api_route
from chalicelib.wiring import get_statistics_service

bp = Blueprint(__name__)
TAGS = ["统计与考核"]


class RegionQuery(BaseModel):
    region: str | None = Field(default=None, pattern=r"^\d{6}$", description="行政区划代码；默认本单位")


class MonthQuery(BaseModel):
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$", description="月份 yyyy-mm；默认本月")


class Overview(BaseModel):
    region: str
    generated_at: str
    registry: dict[str, dict[str, int]] = Field(description="记录类型（ENT/PER/PRJ）→ 状态 → 数量")
    children: dict[str, Any] = Field(description="下一级地区的同样统计（省→市，市→县）")
    doubt_pool: dict[str, Any] = Field(description="存疑库：数量、最早进入时间、天数")
    campaigns: list[dict[str, Any]] = Field(description="专项工作确认进度与截止日期")
    permits: dict[str, Any] = Field(description="施工许可：按状态、按月申请与决定、法定时限内决定比例、平均工作日")
    reviews: dict[str, Any] = Field(description="审核决定：按月数量与时限内比例")
    credit: dict[str, int] = Field(description="在公开期内的诚信记录（BAD/GOOD）")
    scores: dict[str, Any] | None = Field(default=None, description="最近一日信用评分分布")
    national_sync: dict[str, dict[str, int]] | None = Field(
        default=None, description="国家平台同步：数据集 → 状态 → 数量"
    )


class Scorecards(BaseModel):
    month: str
    snapshot: bool = Field(description="是否为月度快照（本月为实时计算）")
    cards: list[dict[str, Any]]


class ExportLink(BaseModel):
    url: str
    filename: str
    month: str


@api_route(
    bp,
    "/statistics/overview",
    summary="统计概览（计数器，不扫描库）",
    tags=TAGS,
    roles=list(OFFICIAL_ROLES),
    query=RegionQuery,
    response=Overview,
)
def overview(ctx: Ctx, q: RegionQuery):
    return get_statistics_service().overview(ctx.user, q.region)


@api_route(
    bp,
    "/assessment",
    summary="地区考核记分卡",
    tags=TAGS,
    roles=list(OFFICIAL_ROLES),
    query=MonthQuery,
    response=Scorecards,
)
def scorecards(ctx: Ctx, q: MonthQuery):
    return get_statistics_service().scorecards(ctx.user, q.month)


@api_route(
    bp,
    "/assessment/export",
    summary="导出考核记分卡（XLSX）",
    tags=TAGS,
    roles=list(OFFICIAL_ROLES),
    query=MonthQuery,
    response=ExportLink,
)
def export(ctx: Ctx, q: MonthQuery):
    return get_statistics_service().export(ctx.user, q.month)
