"""Registry API: the enterprise portal (my records, supplement, submit, download) and officials' regional reads."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.clock import beijing_today
from chalicelib.domain.completeness import Completeness, MissingField
from chalicelib.domain.enterprise import Enterprise
from chalicelib.domain.expiry import expiries
from chalicelib.domain.fields import CorpCode, RequiredProjectNumber, ZhejiangCounty
from chalicelib.domain.identity import OFFICIAL_ROLES, Role
from chalicelib.domain.person import RegisteredPerson
from chalicelib.domain.project import Project
from chalicelib.domain.records import STATE_LABELS, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.wiring import get_registry_service

bp = Blueprint(__name__)

READERS = [Role.ENTERPRISE, *OFFICIAL_ROLES]


class CompletenessView(BaseModel):
    """完整性：缺少的必填项"""

    complete: bool
    percent: int
    required: int
    filled: int
    missing: list[MissingField]

    @classmethod
    def of(cls, c: Completeness) -> CompletenessView:
        return cls(complete=c.complete, percent=c.percent, required=c.required, filled=c.filled, missing=c.missing)


class ExpiryView(BaseModel):
    """证书到期提醒：已过期或三个月内到期"""

    path: str = Field(description="有效期字段的路径，如 qualifications.0.valid_until")
    certificate: str = Field(description="证书名称")
    number: str | None = Field(description="证书编号")
    valid_until: date
    days_left: int = Field(description="剩余天数（已过期为负数）")
    expired: bool
    message: str


class _View(BaseModel):
    record_type: str
    record_id: str
    state_label: str
    completeness: CompletenessView
    expiries: list[ExpiryView] = Field(default_factory=list, description="证书到期提醒（最紧急的在前）")


class EnterpriseView(_View):
    """企业记录"""

    record: Enterprise


class PersonView(_View):
    """注册人员记录"""

    record: RegisteredPerson


class ProjectView(_View):
    """工程项目记录"""

    record: Project


VIEWS: dict[RecordType, type[_View]] = {
    RecordType.ENTERPRISE: EnterpriseView,
    RecordType.PERSON: PersonView,
    RecordType.PROJECT: ProjectView,
}


def view(record: RecordBase) -> _View:
    svc = get_registry_service()
    return VIEWS[record.RECORD_TYPE](
        record_type=record.RECORD_TYPE.value,
        record_id=record.record_id,
        state_label=STATE_LABELS[record.state],
        completeness=CompletenessView.of(svc.completeness(record)),
        expiries=[
            ExpiryView(
                path=e.path,
                certificate=e.certificate,
                number=e.number,
                valid_until=e.valid_until,
                days_left=e.days_left,
                expired=e.expired,
                message=e.message,
            )
            for e in expiries(record, beijing_today())
        ],
        record=record,  # type: ignore[arg-type]
    )


class EnterpriseList(BaseModel):
    items: list[EnterpriseView]
    cursor: str | None = None


class PersonList(BaseModel):
    items: list[PersonView]
    cursor: str | None = None


class ProjectList(BaseModel):
    items: list[ProjectView]
    cursor: str | None = None


LISTS: dict[RecordType, type[BaseModel]] = {
    RecordType.ENTERPRISE: EnterpriseList,
    RecordType.PERSON: PersonList,
    RecordType.PROJECT: ProjectList,
}


def page_of(record_type: RecordType, page) -> BaseModel:
    return LISTS[record_type](items=[view(r) for r in page.items], cursor=encode_cursor(page.cursor))


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class RegionQuery(PageQuery):
    city: str | None = Field(default=None, pattern=r"^33\d{2}00$", description="设区市代码（省级必填）")
    county: str | None = Field(default=None, pattern=r"^33\d{4}$", description="县级代码")


class SupplementRequest(BaseModel):
    """补充信息：version 为读取时的版本号，changes 为要修改的字段"""

    version: int = Field(ge=1)
    changes: dict[str, Any] = Field(min_length=1)


class SubmitRequest(BaseModel):
    """提交审核"""

    version: int = Field(ge=1)


class ProjectFilingIn(BaseModel):
    """近三年工程项目备案：项目基本信息（其余字段可稍后补充）"""

    prj_num: RequiredProjectNumber = Field(description="16位项目编号")
    name: str = Field(min_length=2, max_length=200)
    category: str | None = None
    location_region: ZhejiangCounty = None
    address: str | None = None
    build_corp_name: str | None = None
    build_corp_code: CorpCode = None
    total_investment: str | None = Field(default=None, description="万元")
    total_area: str | None = Field(default=None, description="平方米")
    nature: str | None = None
    use: str | None = None
    start_date: str | None = None
    end_date: str | None = None


class ExportQuery(BaseModel):
    type: Literal["enterprise", "person", "project"] = "enterprise"
    format: Literal["csv", "xlsx", "json"] = "xlsx"


class ExportLink(BaseModel):
    """下载链接（15分钟内有效）"""

    url: str
    filename: str
    records: int


# ---- enterprise portal ---------------------------------------------------------------------------------------


@api_route(
    bp, "/me/enterprise", summary="本企业信息", tags=["企业门户"], roles=[Role.ENTERPRISE], response=EnterpriseView
)
def my_enterprise(ctx: Ctx):
    return view(get_registry_service().get(ctx.user, RecordType.ENTERPRISE, (ctx.user.uscc or "",)))


@api_route(
    bp,
    "/me/personnel",
    summary="本企业注册人员",
    tags=["企业门户"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=PersonList,
)
def my_personnel(ctx: Ctx, q: PageQuery):
    page = get_registry_service().list_mine(ctx.user, RecordType.PERSON, limit=q.limit, cursor=decode_cursor(q.cursor))
    return page_of(RecordType.PERSON, page)


@api_route(
    bp,
    "/me/projects",
    summary="本企业工程项目",
    tags=["企业门户"],
    roles=[Role.ENTERPRISE],
    query=PageQuery,
    response=ProjectList,
)
def my_projects(ctx: Ctx, q: PageQuery):
    page = get_registry_service().list_mine(ctx.user, RecordType.PROJECT, limit=q.limit, cursor=decode_cursor(q.cursor))
    return page_of(RecordType.PROJECT, page)


@api_route(
    bp,
    "/me/export",
    summary="下载本企业记录（CSV/XLSX/JSON）",
    tags=["企业门户"],
    roles=[Role.ENTERPRISE],
    query=ExportQuery,
    response=ExportLink,
)
def my_export(ctx: Ctx, q: ExportQuery):
    out = get_registry_service().export(ctx.user, RecordType(q.type), q.format)
    return ExportLink(url=out["url"], filename=out["filename"], records=int(out["records"]))


@api_route(
    bp,
    "/me/projects",
    "POST",
    summary="工程项目备案（单个）",
    tags=["企业门户", "工程项目库"],
    roles=[Role.ENTERPRISE],
    body=ProjectFilingIn,
    response=ProjectView,
    status=201,
)
def file_project(ctx: Ctx, req: ProjectFilingIn):
    return view(get_registry_service().file_project(ctx.user, ctx.meta, req.model_dump(exclude_none=True)))


# ---- records: read, supplement, submit ------------------------------------------------------------------------


def _record_routes(record_type: RecordType, base: str, key_params: list[str], label: str) -> None:
    path = base + "".join(f"/{{{k}}}" for k in key_params)
    view_model = VIEWS[record_type]
    list_model = LISTS[record_type]
    tag = ["注册人员" if record_type == RecordType.PERSON else f"{label}库"]

    def key_of(params: dict[str, str]) -> tuple[str, ...]:
        return tuple(params[k] for k in key_params)

    def read(ctx: Ctx, **params: str):
        return view(get_registry_service().get(ctx.user, record_type, key_of(params)))

    read.__name__ = f"get_{record_type.value}"
    api_route(bp, path, summary=f"{label}详情", tags=tag, roles=READERS, response=view_model)(read)

    def supplement(ctx: Ctx, req: SupplementRequest, **params: str):
        svc = get_registry_service()
        return view(
            svc.supplement(ctx.user, ctx.meta, record_type, key_of(params), version=req.version, changes=req.changes)
        )

    supplement.__name__ = f"supplement_{record_type.value}"
    api_route(
        bp,
        path,
        "PATCH",
        summary=f"补充{label}信息（乐观锁）",
        tags=tag,
        roles=[Role.ENTERPRISE],
        body=SupplementRequest,
        response=view_model,
    )(supplement)

    def submit(ctx: Ctx, req: SubmitRequest, **params: str):
        svc = get_registry_service()
        return view(svc.submit(ctx.user, ctx.meta, record_type, key_of(params), version=req.version))

    submit.__name__ = f"submit_{record_type.value}"
    api_route(
        bp,
        f"{path}/submit",
        "POST",
        summary=f"提交{label}信息待确认",
        tags=tag,
        roles=[Role.ENTERPRISE],
        body=SubmitRequest,
        response=view_model,
    )(submit)

    def listing(ctx: Ctx, q: RegionQuery):
        svc = get_registry_service()
        page = svc.list_region(
            ctx.user, record_type, city=q.city, county=q.county, limit=q.limit, cursor=decode_cursor(q.cursor)
        )
        return page_of(record_type, page)

    listing.__name__ = f"list_{record_type.value}"
    api_route(
        bp,
        base,
        summary=f"按地区查询{label}（主管部门）",
        tags=tag,
        roles=OFFICIAL_ROLES,
        query=RegionQuery,
        response=list_model,
    )(listing)


_record_routes(RecordType.ENTERPRISE, "/registry/enterprises", ["uscc"], "企业")
_record_routes(RecordType.PERSON, "/registry/persons", ["person_key", "employer_uscc"], "注册人员")
_record_routes(RecordType.PROJECT, "/registry/projects", ["prj_num"], "工程项目")


class FormOption(BaseModel):
    code: str
    name: str


class FormField(BaseModel):
    path: str = Field(description="字段路径（与导入模板的列一致），如 contact_phone、safety_licence.licence_no")
    label: str = Field(description="中文名称（即导入模板的表头）")
    required: bool
    kind: Literal["text", "date", "number", "bool", "code", "codes", "choice"]
    pii: bool = Field(description="个人信息（不公开）")
    options: list[FormOption] = Field(
        default_factory=list, description="可选取值（kind=code/codes 取自代码表，kind=choice 为固定取值）"
    )


class FormSection(BaseModel):
    """一对多的组成部分（资质证书及其资质项、执业注册、安全生产考核合格证书）：表格的每一行是一项，整表随 PATCH 提交。"""

    path: str = Field(description="记录中的列表字段，如 qualifications")
    label: str
    fields: list[FormField] = Field(description="每一行的字段（路径相对于行）")
    sections: list[FormSection] = Field(default_factory=list, description="行内的列表（如资质证书的资质项）")


class FormDefinition(BaseModel):
    record_type: str
    fields: list[FormField]
    sections: list[FormSection] = Field(default_factory=list)


@api_route(
    bp,
    "/forms/{record_type}",
    summary="在线填报表单的字段定义（与导入模板同源）",
    tags=["企业门户"],
    roles=READERS,
    response=FormDefinition,
)
def form_definition(ctx: Ctx, record_type: str):
    from chalicelib.domain.clock import beijing_today
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.forms import form_fields, form_sections

    if record_type not in ("enterprise", "person", "project"):
        raise NotFound("没有该类记录的表单")
    today = beijing_today()
    return FormDefinition.model_validate(
        {
            "record_type": record_type,
            "fields": form_fields(RecordType(record_type), today),
            "sections": form_sections(RecordType(record_type), today),
        }
    )
