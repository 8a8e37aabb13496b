"""Campaigns with deadlines, late-reporting lists, and the enterprise's notices."""

from __future__ import annotations

from datetime import date
from typing import Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.campaigns import Campaign, CampaignKind, Notice
from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_campaign_service

bp = Blueprint(__name__)


class CampaignIn(BaseModel):
    """专项工作（例：2015年企业信息补充完善，截止2015-04-15）"""

    name: str = Field(min_length=2, max_length=100)
    kind: CampaignKind
    record_type: Literal["enterprise", "person", "project"] = "enterprise"
    region_prefix: str = Field(default="33", pattern=r"^33(\d{2}){0,2}$")
    starts_on: date
    deadline: date
    grace_days: int = Field(default=15, ge=0, le=365)
    description: str = Field(default="", max_length=2000)


class CampaignList(BaseModel):
    items: list[Campaign]


class NoticeList(BaseModel):
    items: list[Notice]
    cursor: str | None = None


class PageQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class LateQuery(PageQuery):
    city: str | None = Field(default=None, pattern=r"^33\d{2}00$")
    county: str | None = Field(default=None, pattern=r"^33\d{4}$")


@api_route(
    bp,
    "/campaigns",
    "POST",
    summary="创建专项工作（系统管理员）",
    tags=["专项工作"],
    roles=[Role.PROVINCE_ADMIN],
    body=CampaignIn,
    response=Campaign,
    status=201,
)
def create_campaign(ctx: Ctx, req: CampaignIn):
    return get_campaign_service().create(ctx.user, ctx.meta, **req.model_dump())


@api_route(bp, "/campaigns", summary="专项工作列表", tags=["专项工作"], roles=(), response=CampaignList)
def list_campaigns(ctx: Ctx):
    return CampaignList(items=get_campaign_service().list())


@api_route(
    bp,
    "/campaigns/{campaign_id}/late",
    summary="逾期未报送名单（按地区）",
    tags=["专项工作"],
    roles=OFFICIAL_ROLES,
    query=LateQuery,
    response=NoticeList,
)
def late_list(ctx: Ctx, q: LateQuery, campaign_id: str):
    page = get_campaign_service().late_in_region(
        ctx.user, campaign_id, city=q.city, county=q.county, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return NoticeList(items=page.items, cursor=encode_cursor(page.cursor))


@api_route(
    bp,
    "/me/notices",
    summary="本企业收到的通知",
    tags=["企业门户"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=NoticeList,
)
def my_notices(ctx: Ctx, q: PageQuery):
    page = get_campaign_service().my_notices(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return NoticeList(items=page.items, cursor=encode_cursor(page.cursor))
