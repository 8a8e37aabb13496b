"""Synchronisation with the national database (全国建筑市场监管与诚信信息系统, 数据一个库): pure rules.

- **Mapping**: each platform record that may go up becomes one or more rows of the national standard's data sets
  (建市〔2014〕108号 table and column names, domain.md §2.2), with the conversions the standard's consumers expect:
  统一社会信用代码 → 组织机构代码 `XXXXXXXX-X` when configured, GB/T 2260 province/city/county columns, ISO dates,
  code-table values as codes, and empty-value sentinels (`无`, `/` ...) sent as null, never as text.
  Only CONFIRMED registry records, CONFIRMED stage records, issued permits and published credit records go up; a
  registry record later found false (FALSE) is withdrawn (its rows are sent as deletions).
- **Sync rows** (`SyncRow`): the outbox entry of one national row with its own state machine
  (PENDING / UNKNOWN → ACCEPTED | DEAD), attempts, back-off and the server's last message.
- **Back-off**: exponential with full jitter, the randomness injected.

Nothing here does I/O; services/national_sync.py drives it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Protocol

from chalicelib.domain import codetables, identifiers
from chalicelib.domain.credit import CreditRecord
from chalicelib.domain.enterprise import Enterprise
from chalicelib.domain.errors import Conflict
from chalicelib.domain.permits import PermitApplication, PermitState
from chalicelib.domain.person import RegisteredPerson
from chalicelib.domain.project import Project
from chalicelib.domain.records import RecordState
from chalicelib.domain.stages import StageKind, StageRecord, StageState

# ---- configuration -------------------------------------------------------------------------------------------------


@cache
def config() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("national_sync.json").read_text("utf-8"))


def datasets() -> dict[str, dict[str, Any]]:
    return config()["datasets"]


def dataset_label(name: str) -> str:
    return datasets().get(name, {}).get("label", name)


# ---- the standard's table definitions ------------------------------------------------------------------------------


@cache
def table_definitions() -> dict[str, dict[str, str]]:
    """Data set -> column -> SQL type (data/national_tables.json: project part verbatim from a provincial DDL)."""
    doc = json.loads(resources.files("chalicelib.data").joinpath("national_tables.json").read_text("utf-8"))
    return {name: dict(t["columns"]) for name, t in doc["tables"].items()}


_SQL_TYPE = re.compile(r"^(varchar|char|int|decimal|datetime)(?:\((\d+)(?:,(\d+))?\))?$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")


def value_problem(column: str, sql_type: str, value: Any) -> str | None:
    """Why a value does not fit its column's type, or None. None values (NULL) always fit."""
    if value is None:
        return None
    m = _SQL_TYPE.match(sql_type)
    if m is None:
        return f"{column}: 未知的字段类型 {sql_type}"
    kind, size, scale = m.group(1), m.group(2), m.group(3)
    if kind in ("varchar", "char"):
        if not isinstance(value, str):
            return f"{column}: 应为文本（{sql_type}），实际为{type(value).__name__}"
        if size and len(value) > int(size):
            return f"{column}: 长度{len(value)}超过{sql_type}"
        return None
    if kind == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            return f"{column}: 应为整数（int），实际为“{value}”"
        return None
    if kind == "decimal":
        try:
            d = Decimal(str(value))
        except Exception:
            return f"{column}: 应为数字（{sql_type}），实际为“{value}”"
        precision, digits = int(size or 18), int(scale or 0)
        _sign, digit_tuple, exponent = d.as_tuple()
        fraction = max(0, -int(exponent))
        integer = len(digit_tuple) - fraction
        if fraction > digits or integer > precision - digits:
            return f"{column}: {value} 超出{sql_type}"
        return None
    if not (isinstance(value, str) and _ISO_DAY.match(value)):
        return f"{column}: 应为日期（datetime），实际为“{value}”"
    return None


def column_problems(dataset: str, data: dict[str, Any]) -> list[str]:
    """Columns not in the standard's table, and values that do not fit their column (type, length)."""
    table = table_definitions().get(dataset)
    if table is None:
        return [f"{dataset}: 不是国家标准的数据集"]
    problems = [f"{dataset}.{col}: 标准中没有此字段" for col in data if col not in table]
    for col, value in data.items():
        if col in table:
            why = value_problem(col, table[col], value)
            if why:
                problems.append(f"{dataset}.{why}")
    return problems


# ---- conversions ---------------------------------------------------------------------------------------------------


def org_code_of(uscc: str) -> str:
    """The 组织机构代码 embedded in an 18-character USCC, as legacy consumers expect it: `XXXXXXXX-X` (§2.5)."""
    return f"{uscc[8:16]}-{uscc[16]}"


def corp_code(value: str | None, form: str | None = None) -> str | None:
    """A CorpCode column in the configured form ('uscc' or 'org_code')."""
    value = clean(value)
    if value is None:
        return None
    value = str(value).strip().upper()
    if (form or config()["corp_code_form"]) == "org_code" and len(value) == 18:
        return org_code_of(value)
    return value


def normalise_corp_code(value: str | None) -> str | None:
    """National CorpCode as received: an 18-char USCC, `XXXXXXXX-X`, or 9 chars without the hyphen (normalised)."""
    value = clean(value)
    if value is None:
        return None
    value = str(value).strip().upper()
    if len(value) == 9 and "-" not in value:
        return f"{value[:8]}-{value[8]}"
    return value


def clean(value: Any) -> Any:
    """None for missing values and the sentinels consumers treat as missing; everything else unchanged."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip() in config()["empty_sentinels"]:
        return None
    return value


def regions(county: str | None) -> dict[str, str | None]:
    if not county or len(county) != 6:
        return {"ProvinceNum": None, "CityNum": None, "CountyNum": clean(county)}
    return {
        "ProvinceNum": county[:2] + "0000",
        "CityNum": identifiers.city_of(county) or county[:4] + "00",
        "CountyNum": county,
    }


def day(value: Any) -> str | None:
    """ISO date (yyyy-mm-dd) from a date, a datetime or an ISO string."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def number(value: Any) -> float | int | None:
    value = clean(value)
    if value is None:
        return None
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def yes_no(value: Any) -> str | None:
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return "1" if str(value) in {"1", "是", "true", "True", "Y"} else "0"


def _row(data: dict[str, Any]) -> dict[str, Any]:
    return {k: clean(v) for k, v in data.items()}


# ---- national rows -------------------------------------------------------------------------------------------------


class Op(StrEnum):
    UPSERT = "UPSERT"
    DELETE = "DELETE"


@dataclass(frozen=True)
class NationalRow:
    dataset: str
    key: str
    data: dict[str, Any]
    op: Op = Op.UPSERT

    @property
    def row_id(self) -> str:
        return f"{self.dataset}|{self.key}"

    @property
    def digest(self) -> str:
        canonical = json.dumps([self.op.value, self.data], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def deletion(row_id: str) -> NationalRow:
    dataset, key = row_id.split("|", 1)
    return NationalRow(dataset, key, {}, Op.DELETE)


class Resolver(Protocol):
    """Reads the records a mapping needs besides its source (names and ID numbers of a permit's persons)."""

    def person(self, person_key: str, employer_uscc: str | None) -> RegisteredPerson | None: ...

    def enterprise(self, uscc: str) -> Enterprise | None: ...

    def project(self, prj_num: str) -> Project | None: ...

    def stages(self, prj_num: str) -> list[StageRecord]: ...


@dataclass(frozen=True)
class Mapped:
    """What a changed source means for the national side.

    rows=None: nothing to report (the change is not reportable: a record under review keeps its last confirmed rows
    at the ministry). rows=[]: every row reported before is to be deleted (a record found false).
    """

    rows: list[NationalRow] | None

    @property
    def withdraw(self) -> bool:
        return self.rows == []


IGNORE = Mapped(rows=None)


def map_source(source: Any, resolver: Resolver) -> Mapped:
    if isinstance(source, Enterprise | RegisteredPerson | Project):
        if source.state == RecordState.FALSE:
            return Mapped(rows=[])
        if source.state != RecordState.CONFIRMED:
            return IGNORE
        if isinstance(source, Enterprise):
            return Mapped(enterprise_rows(source))
        if isinstance(source, RegisteredPerson):
            return Mapped(person_rows(source))
        return Mapped(project_rows(source))
    if isinstance(source, StageRecord):
        return Mapped(stage_rows(source, resolver)) if source.state == StageState.CONFIRMED else IGNORE
    if isinstance(source, PermitApplication):
        reportable = {PermitState.ISSUED, PermitState.SUSPENDED, PermitState.COMPLETED, PermitState.LAPSED}
        return Mapped(permit_rows(source, resolver)) if source.state in reportable and source.permit_no else IGNORE
    if isinstance(source, CreditRecord):
        return Mapped(credit_rows(source, resolver)) if source.published and source.kind == "BAD" else IGNORE
    return IGNORE


def enterprise_rows(e: Enterprise, on: date | None = None) -> list[NationalRow]:
    on = on or identifiers._today()
    code = corp_code(e.uscc)
    rows = [
        NationalRow(
            "TBCorpBasicInfo",
            e.uscc,
            _row(
                {
                    "CorpName": e.name,
                    "CorpCode": code,
                    "LicenseNum": e.business_reg_no,
                    **regions(e.registered_region or e.region_code),
                    "Address": e.address,
                    "LegalMan": e.legal_rep,
                    "IDCardTypeNum": e.legal_rep_id_type,
                    "LegalManIDCard": e.legal_rep_id_no,
                    "LegalManDuty": e.legal_rep_title,  # 法定代表人职务 (LegaManProTitle is 职称: not held)
                    "EconomicNum": e.economic_type,
                    "RegPrin": number(e.registered_capital),
                    "LinkMan": e.contact_person,
                    "LinkPhone": e.contact_phone,
                }
            ),
        )
    ]
    for cert in e.qualifications:
        rows.append(
            NationalRow(
                "TBCorpCertInfo",
                cert.cert_no,
                _row(
                    {
                        "CertID": cert.cert_no,
                        "CorpName": e.name,
                        "CorpCode": code,
                        "CertTypeNum": cert.qualification_type,
                        "OrganName": cert.issuing_authority,
                        "OrganDate": day(cert.issued_on),
                        "EndDate": day(cert.valid_until),
                        "TitleLevelNum": highest_grade(cert.items),
                        "IsValid": "1" if cert.valid_until and cert.valid_until >= on else "0",
                    }
                ),
            )
        )
        for item in cert.items:
            rows.append(
                NationalRow(
                    "TBCorpCertDetailInfo",
                    f"{cert.cert_no}:{item.code}",
                    _row(
                        {
                            "CertID": cert.cert_no,
                            "CorpCode": code,
                            "CertTypeNum": cert.qualification_type,
                            **qualification_columns(item.code, cert.qualification_type),
                            "IsMaster": yes_no(item.is_primary),
                            "NoteNumber": item.approval_no,
                            "NoteDate": day(item.approved_on),
                            "AddTypeNum": item.acquired_by,
                            "CertTradeStatusNum": item.status,
                        }
                    ),
                )
            )
    return rows


def qualification_columns(code: str, cert_type: str | None = None) -> dict[str, Any]:
    """APT_CODE (D101A) → TradeTypeNum (资质序列, by the qualification type: 104 建筑业 ...), TradeBoundNum (资质类别
    D101) and TitleLevelNum (等级代码) from the code tables (§3.1, §3.2)."""
    entry = codetables.qualification_codes().get(code)
    extra = entry.extra if entry else {}
    return {
        "TradeTypeNum": trade_type(extra.get("family"), cert_type),
        "TradeBoundNum": extra.get("class", code),
        "TitleLevelNum": extra.get("grade_code"),
    }


def trade_type(family: str | None, cert_type: str | None) -> str | None:
    types = codetables.qualification_types()
    entry = types.get(cert_type) if cert_type else None
    if entry is None and family:
        entry = next((e for e in types.entries if e.extra.get("apt_family") == family), None)
    return entry.extra.get("trade_type_prefix") if entry else None


def highest_grade(items: list[Any]) -> str | None:
    """TBCorpCertInfo.TitleLevelNum: the best grade among a certificate's items (rank within one scale)."""
    best, rank = None, -1
    grades = codetables.grades()
    for item in items:
        entry = codetables.qualification_codes().get(item.code)
        code = entry.extra.get("grade_code") if entry else None
        g = grades.get(code) if code else None
        r = (g.extra.get("rank") or 0) if g else -1
        if code and r > rank:
            best, rank = code, r
    return best


def person_rows(p: RegisteredPerson) -> list[NationalRow]:
    rows = []
    for reg in p.registrations:
        rows.append(
            NationalRow(
                "TBRegPersonRegInfo",
                f"{p.person_key}:{p.employer_uscc}:{reg.reg_type}",
                _row(
                    {
                        "PersonName": p.name,
                        "SexNum": p.sex,
                        "IDCardTypeNum": p.id_type,
                        "IDCard18": p.id_no,
                        "Birthday": day(p.birth_date),
                        "EduLevelNum": p.education,
                        "SpecialtyTypNum": reg.reg_type,
                        "RegTradeTypeNum": ",".join(reg.specialties) or None,
                        "CertNum": reg.qualification_cert_no,
                        "CertId": reg.registration_cert_no,
                        "StampNum": reg.seal_no,
                        "AwardDate": day(reg.issued_on),
                        "AwardDepart": reg.issuing_authority,
                        "EffectDate": day(reg.valid_until),
                        "QState": reg.status,
                        "CorpName": p.employer_name,
                        "CorpCode": corp_code(p.employer_uscc),
                    }
                ),
            )
        )
    return rows


def project_rows(p: Project) -> list[NationalRow]:
    return [
        NationalRow(
            "TBProjectInfo",
            p.prj_num,
            _row(
                {
                    "PrjNum": p.prj_num,
                    "PrjName": p.name,
                    "PrjTypeNum": p.category,
                    "BuildCorpName": p.build_corp_name,
                    "BuildCorpCode": corp_code(p.build_corp_code),
                    **regions(p.location_region or p.region_code),
                    "PrjApprovalNum": p.approval_no,
                    "PrjApprovalLevelNum": p.approval_level,
                    "BuldPlanNum": p.land_plan_permit_no,
                    "ProjectPlanNum": p.project_plan_permit_no,
                    "AllInvest": number(p.total_investment),
                    "AllArea": number(p.total_area),
                    "PrjSize": p.scale,
                    "PrjPropertyNum": p.nature,
                    "PrjFunctionNum": p.use,
                    "BDate": day(p.start_date),
                    "EDate": day(p.end_date),
                    "CreateDate": day(p.created_at),
                }
            ),
        )
    ]


def _name_of(resolver: Resolver | None, uscc: str | None, given: str | None = None) -> str | None:
    """An enterprise's name as the registry holds it (authoritative), else as the filing gave it."""
    if not uscc:
        return given
    found = resolver.enterprise(uscc) if resolver is not None else None
    return (getattr(found, "name", None) if found is not None else None) or given


def contract_type_code(kind: Any) -> str | None:
    """合同类别 code (TBContractTypeDic, char(3)) of the platform's contract kind (codes [U], a code table)."""
    value = getattr(kind, "value", kind)
    return next((e.code for e in codetables.contract_types().entries if e.extra.get("kind") == value), None)


def stage_rows(s: StageRecord, resolver: Resolver | None = None) -> list[NationalRow]:
    d = s.data
    if s.kind == StageKind.TENDER:
        manager = (
            resolver.person(d.manager_person_key, d.winner_uscc)
            if resolver is not None and d.manager_person_key
            else None
        )
        data = {
            "TenderNum": d.number,
            "PrjNum": s.prj_num,
            "TenderClassNum": d.tender_class,
            "TenderTypeNum": d.tender_type,
            "TenderResultDate": day(d.result_date),
            "TenderMoney": number(d.money),
            "TenderCorpName": _name_of(resolver, d.winner_uscc, d.winner_name),
            "TenderCorpCode": corp_code(d.winner_uscc),
            "AgencyCorpName": _name_of(resolver, d.agency_uscc, d.agency_name),
            "AgencyCorpCode": corp_code(d.agency_uscc),
            "ConstructorName": manager.name if manager else None,
            "IDCardTypeNum": manager.id_type if manager else None,
            "ConstructorIDCard": manager.id_no if manager else None,
        }
        return [NationalRow("TBTenderInfo", d.number, _row(data))]
    if s.kind == StageKind.CONTRACT:
        data = {
            "RecordNum": d.number,
            "PrjNum": s.prj_num,
            "ContractNum": d.contract_no,
            "ContractTypeNum": contract_type_code(d.contract_type),
            "ContractMoney": number(d.money),
            "ContractDate": day(d.contract_date),
            "PropietorCorpName": _name_of(resolver, d.employer_uscc, d.employer_name),
            "PropietorCorpCode": corp_code(d.employer_uscc),
            "ContractorCorpName": _name_of(resolver, d.contractor_uscc, d.contractor_name),
            "ContractorCorpCode": corp_code(d.contractor_uscc),
            "UnionCorpName": _name_of(resolver, d.union_uscc, d.union_name),
            "UnionCorpCode": corp_code(d.union_uscc),
        }
        return [NationalRow("TBContractRecordManage", d.number, _row(data))]
    if s.kind == StageKind.DRAWING_REVIEW:
        data = {
            "CensorNum": d.number,
            "PrjNum": s.prj_num,
            "CensorCorpName": d.review_org_name,
            "CensorCorpCode": corp_code(d.review_org_uscc),
            "CensorEDate": day(d.finished_on),
            "OneCensorIsPass": 1 if d.first_pass else 0,
            "OneCensorWfqtCount": d.violations,
            "OneCensorWfqtContent": d.violated_clauses,
        }
        return [NationalRow("TBProjectCensorInfo", d.number, _row(data))]
    return []  # 质量安全监督登记 has no data set in the 2014 standard


SAFETY_USER_TYPE = {"A": 1, "B": 2, "C": 3}  # TBProjectBuilderUserInfo.UserType int: 主要负责人/项目负责人/安全员


def _contract_party(stages: list[StageRecord], kind: str) -> str | None:
    from chalicelib.domain.stages import ContractFiling

    for st in stages:
        if st.state == StageState.CONFIRMED and isinstance(st.data, ContractFiling) and st.data.contract_type == kind:
            return st.data.contractor_uscc
    return None


def licence_row(app: PermitApplication, resolver: Resolver, project: Any) -> NationalRow:
    """电子证照: the current version of the permit's licence and its status (an extension, a suspension, a lapse
    change the row, so the ministry receives every change)."""
    from chalicelib.domain import elicence
    from chalicelib.domain.labels import authority_name

    code, name = elicence.status(str(app.state), app.cert_version, app.cert_version)
    holder = getattr(project, "build_corp_code", None) or app.applicant_uscc
    data = {
        "LicenceID": elicence.licence_id(app.region_code, str(app.permit_no), app.cert_version),
        "LicenceName": elicence.rules()["licence_name"],
        "LicenceTypeCode": elicence.rules()["type_code"],
        "BuilderLicenceNum": app.permit_no,
        "PrjNum": app.prj_num,
        "Version": app.cert_version,
        "HolderName": getattr(project, "build_corp_name", None) or _name_of(resolver, holder),
        "HolderCode": holder,
        "IssuerName": authority_name(app.region_code),
        "IssuerCode": elicence.issuer_code(app.region_code),
        "IssueDate": day(app.issued_on),
        "StatusCode": code,
        "StatusName": name,
    }
    return NationalRow("TBBuilderLicenceECert", str(app.permit_no), _row(data))


def permit_rows(app: PermitApplication, resolver: Resolver) -> list[NationalRow]:
    from chalicelib.domain.stages import DrawingReview

    builder = resolver.enterprise(app.construction_uscc)
    manager = resolver.person(app.project_manager, app.construction_uscc)
    chief = resolver.person(app.chief_engineer, app.supervision_uscc) if app.chief_engineer else None
    project = resolver.project(app.prj_num)
    stages = resolver.stages(app.prj_num)
    review = next(
        (st.data for st in stages if st.state == StageState.CONFIRMED and isinstance(st.data, DrawingReview)), None
    )
    survey, design = _contract_party(stages, "survey"), _contract_party(stages, "design")
    licence = {
        "BuilderLicenceNum": app.permit_no,
        "PrjNum": app.prj_num,
        "BuldPlanNum": getattr(project, "land_plan_permit_no", None),
        "ProjectPlanNum": getattr(project, "project_plan_permit_no", None),
        "CensorNum": review.number if review else None,
        "ContractMoney": number(app.contract_price),
        "Area": number(app.area),
        "PrjSize": getattr(project, "scale", None),
        "IssueCertDate": day(app.issued_on),
        "EconCorpName": _name_of(resolver, survey),
        "EconCorpCode": corp_code(survey),
        "DesignCorpName": _name_of(resolver, design),
        "DesignCorpCode": corp_code(design),
        "ConsCorpName": builder.name if builder else None,
        "ConsCorpCode": corp_code(app.construction_uscc),
        "SafetyCerID": builder.safety_licence.licence_no if builder and builder.safety_licence else None,
        "SuperCorpName": _name_of(resolver, app.supervision_uscc),
        "SuperCorpCode": corp_code(app.supervision_uscc),
        "ConstructorName": manager.name if manager else None,
        "CIDCardTypeNum": manager.id_type if manager else None,
        "ConstructorIDCard": manager.id_no if manager else None,
        "SupervisionName": chief.name if chief else None,
        "SIDCardTypeNum": chief.id_type if chief else None,
        "SupervisionIDCard": chief.id_no if chief else None,
    }
    rows = [NationalRow("TBBuilderLicenceManage", str(app.permit_no), _row(licence))]
    if app.permit_no and app.issued_on:
        rows.append(licence_row(app, resolver, project))
    persons = [(app.project_manager, 2)] + [(k, None) for k in app.safety_persons if k != app.project_manager]
    for key, user_type in persons:
        p = manager if key == app.project_manager else resolver.person(key, app.construction_uscc)
        if p is None:
            continue
        cert = p.safety_certs[0] if p.safety_certs else None
        kind = user_type or (SAFETY_USER_TYPE.get(str(cert.category)) if cert else None)
        data = {
            "PrjNum": app.prj_num,
            "BuilderLicenceNum": app.permit_no,
            "CorpName": builder.name if builder else None,
            "CorpCode": corp_code(app.construction_uscc),
            "SafetyCerID": licence["SafetyCerID"],
            "UserName": p.name,
            "IDCardTypeNum": p.id_type,
            "IDCard": p.id_no,
            "CertID": cert.cert_no if cert else None,
            "UserType": kind,
        }
        rows.append(NationalRow("TBProjectBuilderUserInfo", f"{app.permit_no}:{key}", _row(data)))
    if app.state == PermitState.COMPLETED and app.completion_no:
        c = app.completion
        finish = {
            "PrjFinishNum": app.completion_no,
            "PrjNum": app.prj_num,
            "BuilderLicenceNum": app.permit_no,
            "QCCorpName": c.qc_corp_name if c else None,
            "QCCorpCode": corp_code(c.qc_corp_uscc) if c else None,
            "FactCost": number(c.fact_cost) if c else None,
            "FactArea": number(c.fact_area) if c else None,  # what was built, never the area applied for
            "FactSize": c.fact_size if c else None,
            "PrjStructureTypeNum": c.structure_type if c else None,
            "BDate": day((c.started_on if c and c.started_on else None) or app.started_on),
            "EDate": day(app.completed_on),
            "Mark": c.remarks if c else None,
        }
        rows.append(NationalRow("TBProjectFinishManage", app.completion_no, _row(finish)))
    return rows


def credit_class(code: str | None) -> str | None:
    """不良行为分类 (TBCreditType): the recognition standard's category code — the A1-1 of item A1-1-01 (§5.2)."""
    if not code or "-" not in code:
        return None
    return code.rsplit("-", 1)[0]


def punish_depart_type(region: str | None) -> str | None:
    """PunishDepartType: 1 省级, 2 地市, 3 区县 (0 部级 is never the province's) from the deciding body's region."""
    if not region or len(region) != 6:
        return None
    if region.endswith("0000"):
        return "1"
    return "2" if region.endswith("00") else "3"


def credit_rows(c: Any, resolver: Resolver) -> list[NationalRow]:
    region = c.region_code
    common = {
        "CreditCode": c.behaviour_code,
        "CreditType": c.category,
        "Content": c.content,
        "HappenDate": day(c.happened_on),
        "PrjNum": c.project_num,
        **regions(region),
        "PunishDepartName": c.penalty_department or c.authority,
        "PunishDepartType": punish_depart_type(c.authority_region),
        "PunishEvidence": c.basis,
        "PunishContent": c.penalty_content,
        "PunishNumber": c.penalty_number,
        "PunishDate": day(c.penalty_date),
        "PunishEDate": day(c.penalty_end),
        "PunishMoney": number(c.penalty_amount),
        "PublicBDate": day(c.publish_begin),
        "PublicEDate": day(c.publish_end),
        "IsPublic": "1" if c.published else "0",
        "AuditDate": day(c.entered_at),  # entered by the reviewing official: entry and audit are one act
        "AuditUserName": c.reviewed_by,
        "DepartName": c.authority,  # 登记部门 (谁录入、谁负责)
        "UserName": c.entered_by_name,
        "CreateDate": day(c.entered_at),
        "CreditClassNum": credit_class(c.behaviour_code),
    }
    if c.subject_type == "person":
        person_key, _, employer = c.subject_id.partition("/")
        person = resolver.person(person_key, employer or None)
        data = {
            "PersonName": c.subject_name or (person.name if person else None),
            "IDCardTypeNum": person.id_type if person else None,
            "IDCard18": person.id_no if person else None,
            "CorpCode": corp_code(employer),
            **common,
        }
        return [NationalRow("TBPersonBadBehaviorInfo", c.credit_id, _row(data))]
    data = {"CorpName": c.subject_name, "CorpCode": corp_code(c.subject_id), **common}
    return [NationalRow("TBCorpBadBehaviorInfo", c.credit_id, _row(data))]


# ---- change capture: which rows to (re)send ------------------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    """The rows to mark "已修改，未上报" after a source changed, and the new manifest of reported rows."""

    changed: list[NationalRow]
    manifest: dict[str, str]  # row id -> digest of what is now reported for this source


def capture(mapped: Mapped, manifest: dict[str, str]) -> Capture | None:
    """Compare what a source maps to now with what was captured from it before; None when nothing is reportable."""
    if mapped.rows is None:
        return None
    current = {r.row_id: r for r in mapped.rows}
    changed = [r for rid, r in current.items() if manifest.get(rid) != r.digest]
    for rid in manifest:
        if rid not in current:
            changed.append(deletion(rid))
    return Capture(changed=changed, manifest={rid: r.digest for rid, r in current.items()})


# ---- the outbox entry and its state machine --------------------------------------------------------------------------


class SyncStatus(StrEnum):
    PENDING = "PENDING"  # 已修改，未上报 (or due for a retry)
    UNKNOWN = "UNKNOWN"  # sent, no answer (timeout, connection lost): ask the national side before re-sending
    ACCEPTED = "ACCEPTED"  # 已上报
    DEAD = "DEAD"  # 上报失败，待人工处理 (rejected by the ministry, or too many failures)


STATUS_LABELS = {
    SyncStatus.PENDING: "已修改，未上报",
    SyncStatus.UNKNOWN: "已发送，结果待查",
    SyncStatus.ACCEPTED: "已上报",
    SyncStatus.DEAD: "上报失败，待人工处理",
}

QUEUED = frozenset({SyncStatus.PENDING, SyncStatus.UNKNOWN})


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"  # the national side stored this version
    REJECTED = "REJECTED"  # the national side refused the data (validation): retrying the same data cannot help
    RETRY = "RETRY"  # transient: busy, throttled, 5xx
    UNKNOWN = "UNKNOWN"  # no answer: maybe stored, maybe not


@dataclass
class SyncRow:
    dataset: str
    key: str
    op: Op
    data: dict[str, Any]
    digest: str
    change_no: int
    changed_at: str
    status: SyncStatus = SyncStatus.PENDING
    attempts: int = 0
    next_attempt_at: str = ""
    last_error: dict[str, Any] | None = None
    source: dict[str, str] = field(default_factory=dict)
    region_code: str | None = None
    pushed_change_no: int = 0
    accepted_at: str | None = None
    dead_at: str | None = None
    queued_at: str | None = None  # when it (re-)entered the queue: the age index and the high-water mark
    history: list[dict[str, Any]] = field(default_factory=list)  # the row's push log, newest last (bounded)
    rev: int = 0  # optimistic lock of the stored row: every write increments it

    @classmethod
    def changed(
        cls, row: NationalRow, previous: SyncRow | None, *, now: str, source: dict[str, str], region: str | None
    ):
        """已修改，未上报: a new version of a national row, queued now."""
        return cls(
            dataset=row.dataset,
            key=row.key,
            op=row.op,
            data=row.data,
            digest=row.digest,
            change_no=(previous.change_no if previous else 0) + 1,
            changed_at=now,
            next_attempt_at=now,
            queued_at=now,
            source=source,
            region_code=region or (previous.region_code if previous else None),
            pushed_change_no=previous.pushed_change_no if previous else 0,
            accepted_at=previous.accepted_at if previous else None,
            rev=previous.rev if previous else 0,
            history=list(previous.history) if previous else [],
        )

    @property
    def sync_id(self) -> str:
        """Idempotency key of this version at the national side."""
        return f"{self.dataset}:{self.key}:{self.change_no}:{self.digest[:12]}"

    def payload(self) -> dict[str, Any]:
        return {"sync_id": self.sync_id, "key": self.key, "op": self.op.value, "data": self.data}


def after(row: SyncRow, outcome: Outcome, *, now: datetime, message: dict[str, Any] | None, wait: float) -> SyncRow:
    """The row after one delivery outcome (explicit transitions; a row that is not queued cannot be delivered)."""
    if row.status not in QUEUED:
        raise Conflict(f"记录状态为“{STATUS_LABELS[row.status]}”，不能上报")
    p = config()["push"]
    stamp = now.isoformat(timespec="milliseconds")
    if outcome == Outcome.ACCEPTED:
        row.status, row.accepted_at, row.pushed_change_no, row.last_error = (
            SyncStatus.ACCEPTED,
            stamp,
            row.change_no,
            None,
        )
        return row
    row.attempts += 1
    row.last_error = message
    if outcome == Outcome.REJECTED or row.attempts >= int(p["max_attempts"]):
        row.status, row.dead_at = SyncStatus.DEAD, stamp
        return row
    row.status = SyncStatus.UNKNOWN if outcome == Outcome.UNKNOWN else SyncStatus.PENDING
    row.next_attempt_at = (now + timedelta(seconds=wait)).isoformat(timespec="milliseconds")
    return row


HISTORY_LIMIT = 20


def note(row: SyncRow, entry: dict[str, Any]) -> None:
    """Append to a row's push log, keeping the newest HISTORY_LIMIT entries."""
    row.history.append(entry)
    del row.history[:-HISTORY_LIMIT]


def resend(row: SyncRow, *, now: datetime) -> SyncRow:
    """An official sends a dead-lettered row again: back to the queue with a fresh attempt count."""
    if row.status != SyncStatus.DEAD:
        raise Conflict(f"只有上报失败的记录可以重新上报（当前：{STATUS_LABELS[row.status]}）")
    row.status, row.attempts, row.dead_at = SyncStatus.PENDING, 0, None
    row.next_attempt_at = row.queued_at = now.isoformat(timespec="milliseconds")
    return row


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter: uniform(0, min(cap, base * 2**attempt))."""
    ceiling = min(cap, base * (2 ** max(0, attempt)))
    return (rng or random).uniform(0, ceiling)


def record_wait(attempts: int, rng: random.Random | None = None) -> float:
    p = config()["push"]
    return backoff(
        attempts, base=float(p["record_backoff_base_seconds"]), cap=float(p["record_backoff_cap_seconds"]), rng=rng
    )


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards


# ---- pull: merging national records without overwriting provincial fields -------------------------------------------


@dataclass(frozen=True)
class FieldConflict:
    field: str
    national: Any
    provincial: Any


def conflicts(dataset: str, national: dict[str, Any], provincial: dict[str, Any]) -> list[FieldConflict]:
    """Fields the province is authoritative for whose national value differs from the provincial one."""
    owned = config()["pull"]["provincial_authoritative"].get(dataset, [])
    out = []
    for name in owned:
        n, p = clean(national.get(name)), clean(provincial.get(name))
        if n is None or p is None:
            continue
        if str(n).strip() != str(p).strip():
            out.append(FieldConflict(name, n, p))
    return out


def mask_id(id_no: str | None) -> str | None:
    """First 6 and last 4 characters of an ID number (the public masking rule)."""
    if not id_no:
        return None
    return id_no[:6] + "*" * max(0, len(id_no) - 10) + id_no[-4:] if len(id_no) > 10 else "*" * len(id_no)
