"""National synchronisation monitor for province officials: reconciliation, dead letters, push log, re-send,
conflicts found by the pull job, and the national records pulled for the province."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import Role
from chalicelib.domain.national import STATUS_LABELS, SyncRow, dataset_label
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_national_sync_service

bp = Blueprint(__name__)
PROVINCE = [Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN]
TAGS = ["国家平台同步"]


class DatasetFigures(BaseModel):
    dataset: str = Field(description="国家数据标准表名")
    label: str
    pushed: int = Field(description="累计发送记录数（含重试）")
    accepted: int = Field(description="累计被国家平台接收")
    rejected: int = Field(description="累计被国家平台拒收")
    pending: int = Field(description="已修改，未上报（含待重试、结果待查）")
    dead: int = Field(description="上报失败，待人工处理")
    oldest_pending_change: str | None = Field(default=None, description="最早一条未上报修改的时间（UTC）")
    high_water_mark: str | None = Field(default=None, description="此前的修改均已有最终结果（UTC）")
    last_run_at: str | None = None


class Reconciliation(BaseModel):
    generated_at: str
    datasets: list[DatasetFigures]


class SyncRowOut(BaseModel):
    dataset: str
    dataset_label: str
    key: str
    op: str
    status: str
    status_label: str
    change_no: int = Field(description="本地修改序号（每次内容变化加一）")
    sync_id: str = Field(description="本版本的幂等标识")
    changed_at: str
    attempts: int
    next_attempt_at: str | None = None
    last_error: dict[str, Any] | None = Field(default=None, description="国家平台最近一次返回的代码与信息")
    accepted_at: str | None = None
    dead_at: str | None = None
    region_code: str | None = None
    data: dict[str, Any] = Field(description="上报内容（国家标准字段）")

    @classmethod
    def of(cls, row: SyncRow) -> SyncRowOut:
        return cls(
            dataset=row.dataset,
            dataset_label=dataset_label(row.dataset),
            key=row.key,
            op=row.op.value,
            status=row.status.value,
            status_label=STATUS_LABELS[row.status],
            change_no=row.change_no,
            sync_id=row.sync_id,
            changed_at=row.changed_at,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at or None,
            last_error=row.last_error,
            accepted_at=row.accepted_at,
            dead_at=row.dead_at,
            region_code=row.region_code,
            data=row.data,
        )


class SyncRowPage(BaseModel):
    items: list[SyncRowOut]
    cursor: str | None = None


class SyncRowDetail(BaseModel):
    row: SyncRowOut
    log: list[dict[str, Any]] = Field(
        description="推送日志（新到旧）：批次、幂等标识、状态、服务器代码与信息、尝试次数"
    )


class ResendIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500, description="重新上报的原因（如：数据已更正）")


class DeadQuery(BaseModel):
    dataset: str = Field(description="国家数据标准表名，如 TBProjectInfo")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class DictPage(BaseModel):
    items: list[dict[str, Any]]
    cursor: str | None = None


@api_route(bp, "/sync/report", summary="国家平台同步对账报告", tags=TAGS, roles=PROVINCE, response=Reconciliation)
def sync_report(ctx: Ctx):
    return get_national_sync_service().report(ctx.user)


@api_route(
    bp,
    "/sync/dead-letters",
    summary="上报失败记录（死信）",
    tags=TAGS,
    roles=PROVINCE,
    query=DeadQuery,
    response=SyncRowPage,
)
def dead_letters(ctx: Ctx, q: DeadQuery):
    page = get_national_sync_service().dead_letters(ctx.user, q.dataset, limit=q.limit, cursor=decode_cursor(q.cursor))
    return SyncRowPage(items=[SyncRowOut.of(r) for r in page.items], cursor=encode_cursor(page.cursor))


@api_route(
    bp, "/sync/rows/{dataset}/{key}", summary="上报记录及推送日志", tags=TAGS, roles=PROVINCE, response=SyncRowDetail
)
def sync_row(ctx: Ctx, dataset: str, key: str):
    row, log = get_national_sync_service().row(ctx.user, dataset, key)
    return SyncRowDetail(row=SyncRowOut.of(row), log=log)


@api_route(
    bp,
    "/sync/rows/{dataset}/{key}/resend",
    "POST",
    summary="重新上报（上报失败的记录）",
    tags=TAGS,
    roles=PROVINCE,
    body=ResendIn,
    response=SyncRowOut,
)
def resend(ctx: Ctx, req: ResendIn, dataset: str, key: str):
    return SyncRowOut.of(get_national_sync_service().resend(ctx.user, dataset, key, req.reason, ctx.meta))


@api_route(
    bp,
    "/sync/batches/{batch_id}",
    summary="一个推送批次的请求与国家平台的完整应答",
    tags=TAGS,
    roles=PROVINCE,
    response=DictPage,
)
def batch_log(ctx: Ctx, batch_id: str):
    return DictPage(items=get_national_sync_service().request_log(ctx.user, batch_id))


@api_route(
    bp,
    "/sync/conflicts",
    summary="国家平台数据与本省数据不一致",
    tags=TAGS,
    roles=PROVINCE,
    query=PageQuery,
    response=DictPage,
)
def conflicts(ctx: Ctx, q: PageQuery):
    page = get_national_sync_service().conflicts(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return DictPage(items=page.items, cursor=encode_cursor(page.cursor))


@api_route(
    bp,
    "/sync/national/{dataset}",
    summary="从国家平台获取的记录（省外入浙企业、人员，部级诚信记录）",
    tags=TAGS,
    roles=PROVINCE,
    query=PageQuery,
    response=DictPage,
)
def national_records(ctx: Ctx, q: PageQuery, dataset: str):
    page = get_national_sync_service().national_records(
        ctx.user, dataset, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return DictPage(items=page.items, cursor=encode_cursor(page.cursor))
