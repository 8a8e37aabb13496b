"""Import jobs (status, progress, counts, error report) and the import templates."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.imports import JOB_STATE_LABELS, ImportJob, IssuePreview, JobCounts
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_import_service, get_template_service

bp = Blueprint(__name__)

UPLOADERS = [Role.ENTERPRISE, *OFFICIAL_ROLES]


class ImportJobView(BaseModel):
    """导入任务"""

    job_id: str
    upload_id: str
    kind: str
    record_type: str
    filename: str
    state: str
    state_label: str
    attempts: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    progress_rows: int
    counts: JobCounts
    file_error: str | None = Field(default=None, description="整个文件被拒收的原因")
    issues_preview: list[IssuePreview] = Field(default_factory=list, description="前50条问题")
    report: dict[str, str] = Field(default_factory=dict, description="错误报告下载链接（csv/xlsx，15分钟内有效）")

    @classmethod
    def of(cls, job: ImportJob, with_links: bool = True) -> ImportJobView:
        data = {k: v for k, v in job.model_dump(mode="json").items() if k in cls.model_fields}
        data["state_label"] = JOB_STATE_LABELS[job.state]
        if with_links:
            data["report"] = get_import_service().report_links(job)
        return cls.model_validate(data)


class ImportJobList(BaseModel):
    items: list[ImportJobView]
    cursor: str | None = None


class JobQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class TemplateInfo(BaseModel):
    name: str
    label: str
    record_type: str
    csv_url: str
    xlsx_url: str


class TemplateList(BaseModel):
    """导入模板（由数据模型生成）"""

    items: list[TemplateInfo]


@api_route(
    bp, "/imports", summary="我的导入任务", tags=["数据导入"], roles=UPLOADERS, query=JobQuery, response=ImportJobList
)
def list_imports(ctx: Ctx, q: JobQuery):
    page = get_import_service().list_mine(ctx.user, limit=q.limit, cursor=decode_cursor(q.cursor))
    return ImportJobList(
        items=[ImportJobView.of(j, with_links=False) for j in page.items], cursor=encode_cursor(page.cursor)
    )


@api_route(
    bp,
    "/imports/{job_id}",
    summary="导入任务详情（进度、计数、错误报告）",
    tags=["数据导入"],
    roles=UPLOADERS,
    response=ImportJobView,
)
def get_import(ctx: Ctx, job_id: str):
    return ImportJobView.of(get_import_service().get(ctx.user, job_id))


@api_route(bp, "/templates", summary="导入模板下载", tags=["数据导入"], roles=(), response=TemplateList)
def list_templates(ctx: Ctx):
    return TemplateList(items=[TemplateInfo(**t) for t in get_template_service().links()])
