"""Presigned uploads: ask for a POST policy, then follow the upload's state."""

from __future__ import annotations

from typing import Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.fields import Uscc
from chalicelib.domain.identity import Role
from chalicelib.domain.uploads import Upload
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_upload_service

bp = Blueprint(__name__)

UPLOADERS = [Role.ENTERPRISE, Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN]


class UploadRequestIn(BaseModel):
    """上传申请"""

    kind: str = Field(
        description="上传类型：enterprise_sheet / personnel_sheet / project_sheet / legacy_export / attachment"
    )
    filename: str = Field(min_length=1, max_length=255, description="原始文件名")
    content_type: str = Field(min_length=3, max_length=128, description="文件MIME类型")
    size: int = Field(gt=0, description="文件大小（字节）")
    record_type: Literal["enterprise", "person", "project"] | None = Field(
        default=None, description="历史数据导出（legacy_export）的记录类型"
    )


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]


class UploadView(BaseModel):
    """上传记录"""

    upload_id: str
    kind: str
    filename: str
    content_type: str
    max_bytes: int
    state: str
    requested_at: str
    expires_at: str
    received_at: str | None = None
    size: int | None = None
    reject_reason: str | None = None
    owner_uscc: Uscc = None
    region_code: str | None = None
    record_type: str | None = None
    import_job: str | None = Field(default=None, description="表格类上传的导入任务编号（接收后生成）")

    @classmethod
    def of(cls, u: Upload) -> UploadView:
        from chalicelib.domain.sheets import SHEET_KINDS

        data = {k: v for k, v in u.model_dump(mode="json").items() if k in cls.model_fields}
        if u.kind in SHEET_KINDS and u.state == "RECEIVED":
            data["import_job"] = u.upload_id
        return cls.model_validate(data)


class UploadTicketOut(BaseModel):
    """上传凭证：浏览器以 multipart/form-data 将 fields 与文件一起 POST 到 url"""

    upload: UploadView
    post: PresignedPost


class UploadList(BaseModel):
    items: list[UploadView]
    cursor: str | None = None


class ListQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


@api_route(
    bp,
    "/uploads",
    "POST",
    summary="申请上传地址（预签名POST）",
    tags=["数据上传"],
    roles=UPLOADERS,
    body=UploadRequestIn,
    response=UploadTicketOut,
    status=201,
)
def request_upload(ctx: Ctx, req: UploadRequestIn) -> UploadTicketOut:
    ticket = get_upload_service().request(
        ctx.user,
        ctx.meta,
        kind=req.kind,
        filename=req.filename,
        content_type=req.content_type,
        size=req.size,
        record_type=req.record_type,
    )
    return UploadTicketOut(upload=UploadView.of(ticket.upload), post=PresignedPost(**ticket.post))


@api_route(
    bp, "/uploads", summary="我的上传记录", tags=["数据上传"], roles=UPLOADERS, query=ListQuery, response=UploadList
)
def list_uploads(ctx: Ctx, q: ListQuery) -> UploadList:
    page = get_upload_service().list_mine(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return UploadList(items=[UploadView.of(u) for u in page.items], cursor=encode_cursor(page.cursor))


class DownloadLink(BaseModel):
    url: str = Field(description="5分钟内有效的查看地址")
    filename: str
    content_type: str


@api_route(
    bp,
    "/uploads/{upload_id}/download",
    summary="查看已接收的文件（附件预览）",
    tags=["数据上传"],
    roles=UPLOADERS,
    response=DownloadLink,
)
def download_upload(ctx: Ctx, upload_id: str) -> DownloadLink:
    return DownloadLink(**get_upload_service().download_link(ctx.user, upload_id))


@api_route(bp, "/uploads/{upload_id}", summary="上传记录详情", tags=["数据上传"], roles=UPLOADERS, response=UploadView)
def get_upload(ctx: Ctx, upload_id: str) -> UploadView:
    return UploadView.of(get_upload_service().get(ctx.user, upload_id))
