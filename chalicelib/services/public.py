"""The public, read-only view of the registries and the credit network (诚信网).

Only CONFIRMED records are published as authoritative (IN_DOUBT and unconfirmed ones never are); FALSE decisions
are published as bad-behaviour records. Personal data never leaves: ID numbers are masked (first 6 + last 4),
phones, e-mails, personal addresses and birth dates are not part of any public model.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain import codetables, identifiers
from chalicelib.domain.clock import beijing_today, utcnow
from chalicelib.domain.credit import BlacklistEntry, CreditRecord, CreditScore
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.fields import RequiredProjectNumber, RequiredUscc, Uscc
from chalicelib.domain.person import person_key
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.services.ports import Page, RegistryRepository


class PublicQualificationItem(BaseModel):
    code: str
    name: str


class PublicQualification(BaseModel):
    cert_no: str | None
    issuing_authority: str | None
    valid_until: str | None
    items: list[PublicQualificationItem]


class PublicEnterprise(BaseModel):
    """企业（公开信息）"""

    uscc: RequiredUscc = Field(description="统一社会信用代码")
    name: str | None
    region_code: str | None
    region_name: str | None
    business_address: str | None = Field(description="经营地址（企业地址，非个人住址）")
    legal_representative: str | None = Field(description="法定代表人姓名")
    economic_type: str | None
    registered_capital: str | None = Field(description="注册资本（万元）")
    established_on: str | None
    qualifications: list[PublicQualification]
    safety_licence_no: str | None
    safety_licence_valid_until: str | None
    updated_at: str


class PublicEnterpriseHit(BaseModel):
    uscc: RequiredUscc
    name: str | None
    region_code: str | None
    qualification_codes: list[str] = Field(default_factory=list)


class PublicRegistration(BaseModel):
    reg_type: str | None
    reg_type_name: str | None
    specialties: list[str]
    registration_cert_no: str | None
    valid_until: str | None


class PublicPerson(BaseModel):
    """注册人员（公开信息；证件号码已脱敏）"""

    name: str | None
    id_masked: str = Field(description="证件号码（仅显示前6位与后4位）")
    employer_uscc: Uscc
    employer_name: str | None
    registrations: list[PublicRegistration]
    updated_at: str


class PublicPersonHit(BaseModel):
    person_ref: str = Field(description="人员标识（不可逆摘要，非证件号码）")
    employer_uscc: Uscc
    name: str | None
    region_code: str | None
    reg_types: list[str] = Field(default_factory=list)


class PublicProject(BaseModel):
    """工程项目（公开信息）"""

    prj_num: RequiredProjectNumber
    name: str | None
    category: str | None
    location_region: str | None
    location: str | None = Field(description="建设地点")
    build_corp_name: str | None
    total_investment: str | None
    total_area: str | None
    nature: str | None
    use: str | None
    updated_at: str


class PublicCredit(BaseModel):
    """诚信记录（公开期限内）"""

    credit_id: str
    kind: str = Field(description="BAD 不良行为 / GOOD 良好行为")
    subject_type: str
    subject_name: str | None
    enterprise_uscc: Uscc
    category: str
    behaviour_code: str
    content: str
    basis: str
    authority: str = Field(description="认定部门")
    penalty_number: str | None
    penalty_date: str | None
    happened_on: str
    publish_begin: str
    publish_end: str
    rectified: bool

    @classmethod
    def of(cls, r: CreditRecord) -> PublicCredit:
        return cls(
            credit_id=r.credit_id,
            kind=r.kind.value,
            subject_type=r.subject_type,
            subject_name=r.subject_name,
            enterprise_uscc=r.owner_uscc,
            category=r.category,
            behaviour_code=r.behaviour_code,
            content=r.content,
            basis=r.basis,
            authority=r.authority,
            penalty_number=r.penalty_number,
            penalty_date=r.penalty_date,
            happened_on=r.happened_on,
            publish_begin=r.publish_begin,
            publish_end=r.publish_end,
            rectified=r.rectified,
        )


class PublicBlacklistEntry(BaseModel):
    """黑名单"""

    uscc: RequiredUscc
    enterprise_name: str | None
    criterion: str
    criterion_name: str
    basis: str
    authority: str
    listed_on: str
    removal_on: str

    @classmethod
    def of(cls, e: BlacklistEntry) -> PublicBlacklistEntry:
        return cls(
            uscc=e.uscc,
            enterprise_name=e.enterprise_name,
            criterion=e.criterion,
            criterion_name=e.criterion_name,
            basis=e.basis,
            authority=e.authority,
            listed_on=e.listed_on,
            removal_on=e.removal_on,
        )


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


class PublicService:
    def __init__(
        self,
        registry: RegistryRepository,
        credit_store: Any,
        scores: Callable[[str], CreditScore],
        *,
        person_key_secret: bytes,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.registry = registry
        self.credits = credit_store
        self.scores = scores
        self.secret = person_key_secret
        self.clock = clock

    def today(self) -> date:
        return beijing_today(self.clock())

    # ---- enterprises ----------------------------------------------------------------------------------------------

    def enterprise(self, uscc: str) -> PublicEnterprise:
        """One GetItem."""
        record = self.registry.get(RecordType.ENTERPRISE, (uscc.strip().upper(),))
        if record is None or record.state != RecordState.CONFIRMED:
            raise NotFound("未找到已确认的企业信息")
        quals = codetables.qualification_codes()
        return PublicEnterprise(
            uscc=record.uscc,
            name=record.name,
            region_code=record.region_code,  # type: ignore[attr-defined]
            region_name=identifiers.region_name(record.region_code) if record.region_code else None,
            business_address=record.address,
            legal_representative=record.legal_rep,  # type: ignore[attr-defined]
            economic_type=codetables.economic_types().name(record.economic_type) if record.economic_type else None,  # type: ignore[attr-defined]
            registered_capital=_str(record.registered_capital),  # type: ignore[attr-defined]
            established_on=_str(record.established_on),  # type: ignore[attr-defined]
            qualifications=[
                PublicQualification(
                    cert_no=q.cert_no,
                    issuing_authority=q.issuing_authority,
                    valid_until=_str(q.valid_until),
                    items=[PublicQualificationItem(code=i.code or "", name=quals.name(i.code)) for i in q.items],
                )
                for q in record.qualifications  # type: ignore[attr-defined]
            ],
            safety_licence_no=record.safety_licence.licence_no if record.safety_licence else None,  # type: ignore[attr-defined]
            safety_licence_valid_until=_str(record.safety_licence.valid_until) if record.safety_licence else None,  # type: ignore[attr-defined]
            updated_at=record.updated_at,
        )

    def search_enterprises(
        self, *, name: str | None, region: str | None, qualification: str | None, limit: int, cursor: dict | None
    ) -> Page[PublicEnterpriseHit]:
        """Name fragment through the bigram index, qualification code through its index, region through the region
        index: always a Query, never a Scan."""
        if name:
            chars = [c for c in name if c.isalnum()]
            if len(chars) < 2:
                raise InvalidInput("企业名称至少输入2个字", details=[{"field": "name"}])
            fragment = "".join(chars)

            def keep(h: dict[str, Any]) -> bool:
                return (
                    fragment in "".join(c for c in (h.get("name") or "") if c.isalnum())
                    and (not region or (h.get("region_code") or "").startswith(region.rstrip("0") or region))
                    and (not qualification or qualification in (h.get("quals") or []))
                )

            hits, next_cursor = self._filtered("ENT", chars[0] + chars[1], keep, limit, cursor)
            return Page(items=[self._hit(h) for h in hits], cursor=next_cursor)
        if qualification:
            page = self.credits.qualification_search(qualification, limit=limit, cursor=cursor)
            hits = page.items
            if region:
                hits = [h for h in hits if (h.get("region_code") or "").startswith(region.rstrip("0") or region)]
            return Page(items=[self._hit(h) for h in hits], cursor=page.cursor)
        if region:
            city = identifiers.city_of(region) or region
            county = region if region != city else None
            page = self.registry.list_by_region(RecordType.ENTERPRISE, city, county, limit=limit, cursor=cursor)
            return Page(
                items=[
                    PublicEnterpriseHit(uscc=r.record_id, name=getattr(r, "name", None), region_code=r.region_code)
                    for r in page.items
                    if r.state == RecordState.CONFIRMED
                ],
                cursor=page.cursor,
            )
        raise InvalidInput("请至少提供一个查询条件：统一社会信用代码、企业名称、地区或资质代码")

    def _filtered(
        self,
        type_code: str,
        gram: str,
        keep: Callable[[dict[str, Any]], bool],
        limit: int,
        cursor: dict | None,
        *,
        budget: int = 4,
    ) -> tuple[list[dict[str, Any]], dict | None]:
        """Read the bigram's partition in large pages (index entries are small), keep matching entries, and stop
        at `limit` hits or after `budget` requests, returning a cursor positioned right after the last entry read."""
        hits: list[dict[str, Any]] = []
        for _ in range(budget):
            page = self.credits.name_search(type_code, gram, limit=1000, cursor=cursor)
            for h in page.items:
                if keep(h):
                    hits.append(h)
                    if len(hits) == limit:
                        return hits, {"pk": {"S": f"NG#{type_code}#{gram}"}, "sk": {"S": h["record_id"]}}
            cursor = page.cursor
            if not cursor:
                return hits, None
        return hits, cursor

    @staticmethod
    def _hit(h: dict[str, Any]) -> PublicEnterpriseHit:
        return PublicEnterpriseHit(
            uscc=h["record_id"],
            name=h.get("name"),
            region_code=h.get("region_code"),
            qualification_codes=h.get("quals") or [],
        )

    # ---- persons --------------------------------------------------------------------------------------------------

    def _public_person(self, record) -> PublicPerson:
        types = codetables.registration_types()
        return PublicPerson(
            name=record.name,
            id_masked=identifiers.mask_id_card(record.id_no),
            employer_uscc=record.employer_uscc,
            employer_name=record.employer_name,
            registrations=[
                PublicRegistration(
                    reg_type=r.reg_type,
                    reg_type_name=types.name(r.reg_type),
                    specialties=list(r.specialties),
                    registration_cert_no=r.registration_cert_no,
                    valid_until=_str(r.valid_until),
                )
                for r in record.registrations
            ],
            updated_at=record.updated_at,
        )

    def person_by_id_number(self, id_type: str, id_no: str) -> list[PublicPerson]:
        """Exact search by ID number: compared server-side through the person key, never echoed back."""
        check = identifiers.check_id_card(id_no) if id_type == "1" else None
        number = check.value if check is not None and check.ok else id_no.strip().upper()
        key = person_key(id_type, number or "", self.secret)
        out = []
        for record in self.registry.person_partition(key):
            if record.state == RecordState.CONFIRMED:
                out.append(self._public_person(record))
        return out

    def search_persons(
        self, *, name: str, reg_type: str | None, limit: int, cursor: dict | None
    ) -> Page[PublicPersonHit]:
        chars = [c for c in name if c.isalnum()]
        if not chars:
            raise InvalidInput("请输入姓名", details=[{"field": "name"}])
        gram = chars[0] if len(chars) == 1 else chars[0] + chars[1]
        page = self.credits.name_search("PER", gram, limit=limit, cursor=cursor)
        hits = [h for h in page.items if (h.get("name") or "") == name or name in (h.get("name") or "")]
        if reg_type:
            table = codetables.registration_types()
            entry = table.get(reg_type) or table.find_by_name(reg_type)
            wanted = entry.code if entry else reg_type
            hits = [h for h in hits if wanted in (h.get("reg_types") or [])]
        return Page(
            items=[
                PublicPersonHit(
                    person_ref=h["record_id"].split("#")[0],
                    employer_uscc=h["record_id"].split("#")[-1],
                    name=h.get("name"),
                    region_code=h.get("region_code"),
                    reg_types=h.get("reg_types") or [],
                )
                for h in hits
            ],
            cursor=page.cursor,
        )

    # ---- projects -------------------------------------------------------------------------------------------------

    def project(self, prj_num: str) -> PublicProject:
        record = self.registry.get(RecordType.PROJECT, (prj_num,))
        if record is None or record.state != RecordState.CONFIRMED:
            raise NotFound("未找到已确认的工程项目")
        return PublicProject(
            prj_num=record.prj_num,
            name=record.name,
            category=record.category,  # type: ignore[attr-defined]
            location_region=record.location_region,
            location=record.address,  # type: ignore[attr-defined]
            build_corp_name=record.build_corp_name,  # type: ignore[attr-defined]
            total_investment=_str(record.total_investment),
            total_area=_str(record.total_area),  # type: ignore[attr-defined]
            nature=record.nature,
            use=record.use,
            updated_at=record.updated_at,  # type: ignore[attr-defined]
        )

    def search_projects(
        self, *, name: str | None, region: str | None, limit: int, cursor: dict | None
    ) -> Page[dict[str, Any]]:
        if name:
            chars = [c for c in name if c.isalnum()]
            if len(chars) < 2:
                raise InvalidInput("项目名称至少输入2个字", details=[{"field": "name"}])
            fragment = "".join(chars)
            page = self.credits.name_search("PRJ", chars[0] + chars[1], limit=limit, cursor=cursor)
            hits = [h for h in page.items if fragment in "".join(c for c in (h.get("name") or "") if c.isalnum())]
            if region:
                hits = [h for h in hits if (h.get("region_code") or "").startswith(region.rstrip("0") or region)]
            return Page(
                items=[
                    {"prj_num": h["record_id"], "name": h.get("name"), "region_code": h.get("region_code")}
                    for h in hits
                ],
                cursor=page.cursor,
            )
        if region:
            city = identifiers.city_of(region) or region
            county = region if region != city else None
            page = self.registry.list_by_region(RecordType.PROJECT, city, county, limit=limit, cursor=cursor)
            return Page(
                items=[
                    {"prj_num": r.record_id, "name": getattr(r, "name", None), "region_code": r.region_code}
                    for r in page.items
                    if r.state == RecordState.CONFIRMED
                ],
                cursor=page.cursor,
            )
        raise InvalidInput("请提供项目编号、项目名称或地区")

    # ---- credit ---------------------------------------------------------------------------------------------------

    def credit_records(
        self,
        *,
        uscc: str | None,
        city: str | None,
        county: str | None,
        kind: str,
        code: str | None,
        limit: int,
        cursor: dict | None,
        authority: str | None = None,
        happened_from: date | None = None,
        happened_to: date | None = None,
    ) -> Page[PublicCredit]:
        today = self.today()
        if uscc:
            page = self.credits.credits_of_owner(uscc.strip().upper(), today, limit=limit, cursor=cursor)
            items = [r for r in page.items if r.kind.value == kind]
        else:
            if not city and not county:
                page = self.credits.credits_of_province(kind, today, limit=limit, cursor=cursor)
            else:
                city = city or identifiers.city_of(county or "")
                page = self.credits.credits_of_region(city or "", kind, today, county, limit=limit, cursor=cursor)
            items = page.items
        if code:
            items = [r for r in items if r.behaviour_code == code]
        if authority:
            items = [r for r in items if authority in r.authority]
        if happened_from:
            items = [r for r in items if r.happened_on >= happened_from.isoformat()]
        if happened_to:
            items = [r for r in items if r.happened_on <= happened_to.isoformat()]
        return Page(items=[PublicCredit.of(r) for r in items if r.public_on(today)], cursor=page.cursor)

    def blacklist(self, *, limit: int, cursor: dict | None) -> Page[PublicBlacklistEntry]:
        page = self.credits.blacklist(self.today(), limit=limit, cursor=cursor)
        return Page(items=[PublicBlacklistEntry.of(e) for e in page.items], cursor=page.cursor)

    def score(self, uscc: str) -> CreditScore:
        return self.scores(uscc.strip().upper())
