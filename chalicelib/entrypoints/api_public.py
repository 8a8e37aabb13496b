"""The public, read-only credit API (no login): registries, credit records, blacklist, credit scores.

Every response: personal data masked, `updated_at` where the object has one, a hard page-size cap (50), an ETag
(and 304 on If-None-Match) and Cache-Control. Each client (source IP) is rate limited: by AWS WAF's rate-based
rule on AWS (infra), and by the in-process token bucket below everywhere (the local runtime included).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import date
from typing import Literal

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib.domain.credit import CreditScore
from chalicelib.domain.errors import TooManyRequests
from chalicelib.domain.fields import RequiredIdDocumentNo, RequiredProjectNumber, RequiredUscc, Uscc
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor, json_response
from chalicelib.services.public import (
    PublicBlacklistEntry,
    PublicCredit,
    PublicEnterprise,
    PublicEnterpriseHit,
    PublicPerson,
    PublicPersonHit,
    PublicProject,
)
from chalicelib.settings import get_settings
from chalicelib.wiring import get_permit_documents, get_public_service

bp = Blueprint(__name__)
TAG = "公众查询"
MAX_PAGE = 50


class _Bucket:
    """Token bucket per client: `rate` requests per second sustained, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.state: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self.state[client] = (tokens, now)
                return False
            self.state[client] = (tokens - 1, now)
            if len(self.state) > 50_000:  # forget idle clients
                self.state = {k: v for k, v in self.state.items() if now - v[1] < 60}
            return True


_BUCKET: _Bucket | None = None


def _limit(ctx: Ctx) -> None:
    global _BUCKET
    if _BUCKET is None:
        s = get_settings()
        _BUCKET = _Bucket(s.public_rate_per_second, s.public_burst)
    if not _BUCKET.allow(ctx.meta.source_ip or "unknown"):
        raise TooManyRequests()


def cached(payload: BaseModel, max_age: int = 60) -> Response:
    """JSON with a strong ETag over the body; 304 when the client already has it."""
    body = payload.model_dump(mode="json")
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    inm = (bp.current_request.headers or {}).get("if-none-match")
    if inm and etag in [t.strip() for t in inm.split(",")]:
        return Response(body="", status_code=304, headers=headers)
    return json_response(body, 200, headers)


class PageQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description=f"每页条数（最多{MAX_PAGE}）")
    cursor: str | None = Field(default=None, max_length=2000)


class EnterpriseQuery(PageQuery):
    name: str | None = Field(default=None, max_length=60, description="企业名称片段（至少2个字）")
    region: str | None = Field(default=None, pattern=r"^33\d{4}$", description="地区代码（设区市或县）")
    qualification: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9]{1,8}$", description="资质代码，如D101A")


class EnterpriseHits(BaseModel):
    items: list[PublicEnterpriseHit]
    cursor: str | None = None


class PersonQuery(PageQuery):
    name: str = Field(min_length=1, max_length=30, description="姓名")
    reg_type: str | None = Field(default=None, max_length=30, description="注册类别（代码或名称）")


class PersonHits(BaseModel):
    items: list[PublicPersonHit]
    cursor: str | None = None


class IdLookup(BaseModel):
    """按证件号码精确查询（号码只在服务器端比对，不会出现在响应或日志中）"""

    id_type: Literal["1", "2", "3", "4", "5", "6"] = "1"
    id_no: RequiredIdDocumentNo = Field(max_length=32)


class PersonList(BaseModel):
    items: list[PublicPerson]


class ProjectQuery(PageQuery):
    name: str | None = Field(default=None, max_length=60)
    region: str | None = Field(default=None, pattern=r"^33\d{4}$")


class ProjectHit(BaseModel):
    prj_num: RequiredProjectNumber
    name: str | None
    region_code: str | None


class ProjectHits(BaseModel):
    items: list[ProjectHit]
    cursor: str | None = None


class CreditQuery(PageQuery):
    kind: Literal["BAD", "GOOD"] = "BAD"
    uscc: Uscc = Field(default=None)
    city: str | None = Field(default=None, pattern=r"^33\d{2}00$")
    county: str | None = Field(default=None, pattern=r"^33\d{4}$")
    code: str | None = Field(default=None, max_length=20, description="行为代码，如C1-2-05")
    authority: str | None = Field(default=None, max_length=50, description="认定部门（名称片段）")
    happened_from: date | None = Field(default=None, description="行为发生日期起")
    happened_to: date | None = Field(default=None, description="行为发生日期止")


class CreditList(BaseModel):
    items: list[PublicCredit]
    cursor: str | None = None


class BlacklistPage(BaseModel):
    items: list[PublicBlacklistEntry]
    cursor: str | None = None


@api_route(
    bp,
    "/public/enterprises",
    summary="查询企业（名称片段、地区、资质代码）",
    tags=[TAG],
    roles=None,
    query=EnterpriseQuery,
    response=EnterpriseHits,
)
def public_enterprises(ctx: Ctx, q: EnterpriseQuery):
    _limit(ctx)
    page = get_public_service().search_enterprises(
        name=q.name, region=q.region, qualification=q.qualification, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return cached(EnterpriseHits(items=page.items, cursor=encode_cursor(page.cursor)))


@api_route(
    bp,
    "/public/enterprises/{uscc}",
    summary="企业详情（按统一社会信用代码）",
    tags=[TAG],
    roles=None,
    response=PublicEnterprise,
)
def public_enterprise(ctx: Ctx, uscc: str):
    _limit(ctx)
    return cached(get_public_service().enterprise(uscc))


@api_route(
    bp,
    "/public/enterprises/{uscc}/credit-score",
    summary="企业信用评分（逐项说明）",
    tags=[TAG],
    roles=None,
    response=CreditScore,
)
def public_score(ctx: Ctx, uscc: str):
    _limit(ctx)
    return cached(get_public_service().score(uscc))


@api_route(
    bp,
    "/public/persons",
    summary="查询注册人员（姓名+注册类别）",
    tags=[TAG],
    roles=None,
    query=PersonQuery,
    response=PersonHits,
)
def public_persons(ctx: Ctx, q: PersonQuery):
    _limit(ctx)
    page = get_public_service().search_persons(
        name=q.name, reg_type=q.reg_type, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return cached(PersonHits(items=page.items, cursor=encode_cursor(page.cursor)))


@api_route(
    bp,
    "/public/persons/lookup",
    "POST",
    summary="按证件号码精确查询注册人员（号码不回显）",
    tags=[TAG],
    roles=None,
    body=IdLookup,
    response=PersonList,
)
def public_person_lookup(ctx: Ctx, req: IdLookup):
    _limit(ctx)
    return json_response(
        PersonList(items=get_public_service().person_by_id_number(req.id_type, req.id_no)),
        200,
        {"Cache-Control": "no-store"},
    )


@api_route(
    bp,
    "/public/projects",
    summary="查询工程项目（名称片段、地区）",
    tags=[TAG],
    roles=None,
    query=ProjectQuery,
    response=ProjectHits,
)
def public_projects(ctx: Ctx, q: ProjectQuery):
    _limit(ctx)
    page = get_public_service().search_projects(
        name=q.name, region=q.region, limit=q.limit, cursor=decode_cursor(q.cursor)
    )
    return cached(ProjectHits(items=[ProjectHit(**h) for h in page.items], cursor=encode_cursor(page.cursor)))


@api_route(
    bp,
    "/public/projects/{prj_num}",
    summary="工程项目详情（按项目编号）",
    tags=[TAG],
    roles=None,
    response=PublicProject,
)
def public_project(ctx: Ctx, prj_num: str):
    _limit(ctx)
    return cached(get_public_service().project(prj_num))


@api_route(
    bp,
    "/public/credit-records",
    summary="诚信记录（公开期限内的良好/不良行为）",
    tags=[TAG],
    roles=None,
    query=CreditQuery,
    response=CreditList,
)
def public_credit(ctx: Ctx, q: CreditQuery):
    _limit(ctx)
    page = get_public_service().credit_records(
        uscc=q.uscc,
        city=q.city,
        county=q.county,
        kind=q.kind,
        code=q.code,
        limit=q.limit,
        cursor=decode_cursor(q.cursor),
        authority=q.authority,
        happened_from=q.happened_from,
        happened_to=q.happened_to,
    )
    return cached(CreditList(items=page.items, cursor=encode_cursor(page.cursor)))


@api_route(
    bp,
    "/public/blacklist",
    summary="黑名单（在列期间）",
    tags=[TAG],
    roles=None,
    query=PageQuery,
    response=BlacklistPage,
)
def public_blacklist(ctx: Ctx, q: PageQuery):
    _limit(ctx)
    page = get_public_service().blacklist(limit=q.limit, cursor=decode_cursor(q.cursor))
    return cached(BlacklistPage(items=page.items, cursor=encode_cursor(page.cursor)))


class QualificationNotice(BaseModel):
    """资质审批公示：拟准予许可的申请（公示期内）"""

    enterprise_name: str | None
    uscc: RequiredUscc
    kind_label: str
    target_label: str
    person_name: str | None = None
    decide_label: str
    notice_started_on: str
    notice_until_label: str


class QualificationNoticePage(BaseModel):
    items: list[QualificationNotice]
    cursor: str | None = None


@api_route(
    bp,
    "/public/qualification-notices",
    summary="资质审批公示（公示期内的拟准予许可事项）",
    tags=[TAG],
    roles=None,
    query=PageQuery,
    response=QualificationNoticePage,
)
def public_qualification_notices(ctx: Ctx, q: PageQuery):
    from chalicelib.wiring import get_qualification_application_service

    _limit(ctx)
    page = get_qualification_application_service().notices(limit=q.limit, cursor=decode_cursor(q.cursor))
    return cached(QualificationNoticePage(items=page.items, cursor=encode_cursor(page.cursor)))


class LicenceFileIn(BaseModel):
    """电子证照文件核验：上传施工许可证PDF文件（Base64），核验电子印章与证照状态"""

    pdf_base64: str = Field(min_length=8, max_length=8_000_000, description="PDF文件内容（Base64编码，不超过约6MB）")


class SealOut(BaseModel):
    signed: bool = Field(description="文件带有电子印章")
    intact: bool = Field(description="盖章后文件未被改动")
    trusted: bool = Field(description="电子印章由平台认可的发证机关签发")
    whole: bool = Field(description="盖章后未追加内容")
    signer: str | None = Field(description="盖章单位")
    signed_at: str | None = Field(description="盖章时间")


class LicenceCheck(BaseModel):
    """电子证照核验结果"""

    genuine: bool
    verdict: str
    seal: SealOut
    licence_id: str | None
    permit_no: str | None
    version: int | None = Field(description="文件的证照版本")
    current_version: int | None = Field(description="当前有效的证照版本")
    status: str | None
    status_label: str | None
    project_name: str | None
    problems: list[str]


@api_route(
    bp,
    "/public/licences/verify",
    "POST",
    summary="电子证照文件核验（电子印章、证照状态与版本）",
    tags=[TAG],
    roles=None,
    body=LicenceFileIn,
    response=LicenceCheck,
)
def public_licence_verify(ctx: Ctx, req: LicenceFileIn):
    import base64
    import binascii

    from chalicelib.domain.errors import InvalidInput
    from chalicelib.wiring import get_licence_service

    _limit(ctx)
    try:
        pdf = base64.b64decode(req.pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("文件内容不是有效的Base64编码", details=[{"field": "pdf_base64"}]) from None
    return get_licence_service().check(pdf)


class PermitVerifyQuery(BaseModel):
    vid: str | None = Field(default=None, min_length=8, max_length=64, description="证书二维码中的核验码")
    permit_no: str | None = Field(default=None, pattern=r"^\d{18}$", description="施工许可证编号")


class PermitVerification(BaseModel):
    """施工许可证核验结果"""

    permit_no: str
    prj_num: RequiredProjectNumber
    project_name: str | None
    construction_uscc: RequiredUscc
    issued_on: str | None
    region_code: str
    status: str
    certificate_version: int = Field(default=1, description="当前有效的证书（电子证照）版本")


@api_route(
    bp,
    "/public/permits/verify",
    summary="施工许可证核验（二维码核验码或证书编号）",
    tags=[TAG],
    roles=None,
    query=PermitVerifyQuery,
    response=PermitVerification,
)
def public_permit_verify(ctx: Ctx, q: PermitVerifyQuery):
    _limit(ctx)
    return cached(PermitVerification(**get_permit_documents().verify(vid=q.vid, permit_no=q.permit_no)))


@api_route(bp, "/public/openapi.json", summary="公众查询接口说明（OpenAPI）", tags=["系统"], roles=None)
def public_openapi(ctx: Ctx):
    from chalicelib.entrypoints.openapi import openapi_document

    return json_response(openapi_document(only_tag=TAG))


class Labels(BaseModel):
    """显示名称：代码表与状态的中文名称（地区、登记注册类型、资质、性别、状态、字段……），供客户端按代码显示名称"""

    tables: dict[str, dict[str, str]]


@api_route(bp, "/public/labels", summary="代码与字段的中文名称", tags=[TAG], roles=None, response=Labels)
def public_labels(ctx: Ctx):
    from chalicelib.domain.labels import all_labels

    return cached(Labels(tables=all_labels()), max_age=3600)
