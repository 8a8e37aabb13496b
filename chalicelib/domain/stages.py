"""Project stage records (项目环节信息) before and around the construction permit, per the national data standard
(domain.md §2.2, §8): 中标 (TBTenderInfo), 合同备案 (TBContractRecordManage), 施工图审查 (TBProjectCensorInfo) and
质量安全监督登记. Each is filed by the enterprise entitled to file it, checked by the officials of the project's
region, versioned and audited. The permit preconditions read them (domain.md §7.6).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from chalicelib.domain.fields import RequiredProjectNumber, RequiredUscc, Uscc

USCC = RequiredUscc  # checked (check character included), as everywhere else
DocNo = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[0-9A-Za-z\-_（）()\u4e00-\u9fff]+$")]


class StageKind(StrEnum):
    TENDER = "tender"  # 中标
    CONTRACT = "contract"  # 合同备案
    DRAWING_REVIEW = "drawing_review"  # 施工图审查
    SUPERVISION_REGISTRATION = "supervision_registration"  # 质量安全监督登记


KIND_LABELS = {
    StageKind.TENDER: "中标信息",
    StageKind.CONTRACT: "合同备案",
    StageKind.DRAWING_REVIEW: "施工图审查合格书",
    StageKind.SUPERVISION_REGISTRATION: "质量安全监督登记",
}


class ContractType(StrEnum):
    """合同类别 (TBContractTypeDic: official codes unverified, domain.md §3 — labels are what users see)."""

    SURVEY = "survey"  # 勘察
    DESIGN = "design"  # 设计
    CONSTRUCTION = "construction"  # 施工
    SUPERVISION = "supervision"  # 监理


CONTRACT_LABELS = {
    ContractType.SURVEY: "勘察合同",
    ContractType.DESIGN: "设计合同",
    ContractType.CONSTRUCTION: "施工合同",
    ContractType.SUPERVISION: "监理合同",
}


class TenderResult(BaseModel):
    """中标 (TBTenderInfo)."""

    kind: Literal["tender"] = "tender"
    number: DocNo = Field(description="中标通知书编号 TenderNum")
    tender_class: str = Field(pattern=r"^\d{3}$", description="招标类型 TenderClassNum")
    tender_type: str = Field(pattern=r"^\d{3}$", description="招标方式 TenderTypeNum（003 直接发包）")
    result_date: date = Field(description="中标日期")
    money: Decimal = Field(ge=0, description="中标金额（万元）")
    winner_uscc: USCC = Field(description="中标单位")
    winner_name: str | None = Field(default=None, max_length=200, description="中标单位名称（未入库企业时填写）")
    agency_uscc: Uscc = Field(default=None, description="招标代理机构")
    agency_name: str | None = Field(default=None, max_length=200, description="招标代理机构名称")
    manager_person_key: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{24}$", description="中标的项目经理/总监理工程师（中标单位的注册人员标识）"
    )


class ContractFiling(BaseModel):
    """合同备案 (TBContractRecordManage)."""

    kind: Literal["contract"] = "contract"
    number: DocNo = Field(description="合同备案编号 RecordNum")
    contract_no: str = Field(min_length=1, max_length=60, description="合同编号")
    contract_type: ContractType = Field(description="合同类别（勘察、设计、施工、监理）")
    money: Decimal = Field(ge=0, description="合同金额（万元）")
    contract_date: date = Field(description="合同签订日期")
    employer_uscc: USCC = Field(description="发包单位")
    employer_name: str | None = Field(default=None, max_length=200, description="发包单位名称（未入库时填写）")
    contractor_uscc: USCC = Field(description="承包单位")
    contractor_name: str | None = Field(default=None, max_length=200, description="承包单位名称（未入库时填写）")
    union_uscc: Uscc = Field(default=None, description="联合体承包单位")
    union_name: str | None = Field(default=None, max_length=200, description="联合体承包单位名称")
    leader_name: str | None = Field(
        default=None,
        min_length=2,
        max_length=50,
        description="承包单位项目负责人（勘察、设计合同：印在施工许可证上的勘察/设计单位项目负责人）",
    )


class DrawingReview(BaseModel):
    """施工图审查合格书 (TBProjectCensorInfo)."""

    kind: Literal["drawing_review"] = "drawing_review"
    number: DocNo = Field(description="施工图审查合格书编号 CensorNum")
    review_org_uscc: USCC = Field(description="审查机构")
    review_org_name: str = Field(min_length=2, max_length=100, description="审查机构名称")
    finished_on: date = Field(description="审查完成日期 CensorEDate")
    first_pass: bool = Field(description="一次审查是否通过")
    violations: int = Field(ge=0, description="一次审查违反强制性条文数")
    violated_clauses: str | None = Field(default=None, max_length=2000, description="违反的强制性条文")

    @model_validator(mode="after")
    def _clauses(self) -> DrawingReview:
        if self.violations and not self.violated_clauses:
            raise ValueError("违反强制性条文数大于0时，应填写违反的强制性条文")
        return self


class SupervisionRegistration(BaseModel):
    """质量安全监督登记."""

    kind: Literal["supervision_registration"] = "supervision_registration"
    number: DocNo = Field(description="监督登记号")
    station: str = Field(min_length=2, max_length=100, description="监督机构")
    registered_on: date = Field(description="监督登记日期")


StageData = Annotated[
    TenderResult | ContractFiling | DrawingReview | SupervisionRegistration, Field(discriminator="kind")
]


class StageState(StrEnum):
    SUBMITTED = "SUBMITTED"  # 待核查
    CONFIRMED = "CONFIRMED"  # 已核查
    RETURNED = "RETURNED"  # 退回修改


STAGE_STATE_LABELS = {
    StageState.SUBMITTED: "待核查",
    StageState.CONFIRMED: "已核查",
    StageState.RETURNED: "退回修改",
}

TRANSITIONS: dict[str, tuple[set[StageState], StageState]] = {
    "correct": ({StageState.SUBMITTED, StageState.RETURNED}, StageState.SUBMITTED),
    "confirm": ({StageState.SUBMITTED}, StageState.CONFIRMED),
    "return": ({StageState.SUBMITTED}, StageState.RETURNED),
}


class StageRecord(BaseModel):
    prj_num: RequiredProjectNumber
    kind: StageKind
    number: str
    region_code: str
    project_owner: str = Field(description="建设单位")
    filed_by: str = Field(description="填报单位")
    data: StageData
    state: StageState = StageState.SUBMITTED
    version: int = 1
    checked_by: str | None = None
    check_note: str | None = None
    created_at: str
    updated_at: str


def may_file(data: Any, *, filer: str, project_owner: str) -> str | None:
    """Who files what: the 建设单位 files every stage; a contractor may file its own contract. None = allowed."""
    if filer == project_owner:
        return None
    if isinstance(data, ContractFiling) and filer in (data.contractor_uscc, data.union_uscc):
        return None
    return f"{KIND_LABELS[StageKind(data.kind)]}应由建设单位填报" + (
        "（合同备案也可由承包单位填报）" if isinstance(data, ContractFiling) else ""
    )


def transition(record: StageRecord, action: str) -> StageState:
    allowed, target = TRANSITIONS[action]
    if record.state not in allowed:
        raise ValueError(
            f"{KIND_LABELS[record.kind]}{record.number}当前为“{STAGE_STATE_LABELS[record.state]}”，不能办理"
        )
    return target


def stage_gaps(
    stages: list[StageRecord],
    *,
    construction_uscc: str,
    supervision_uscc: str | None,
    required_contracts: list[str],
    on: date,
) -> list[str]:
    """What the permit still lacks among the stage records (domain.md §7.6), each named in Chinese."""
    ok = [s for s in stages if s.state == StageState.CONFIRMED]
    missing: list[str] = []
    contracts = [s.data for s in ok if isinstance(s.data, ContractFiling)]
    for ctype in required_contracts:
        t = ContractType(ctype)
        if t == ContractType.SUPERVISION and not supervision_uscc:
            continue
        party = {ContractType.CONSTRUCTION: construction_uscc, ContractType.SUPERVISION: supervision_uscc}.get(t)
        if not any(
            c.contract_type == t and (party is None or party in (c.contractor_uscc, c.union_uscc)) for c in contracts
        ):
            who = "与申请的施工单位" if t == ContractType.CONSTRUCTION else "与申请的监理单位" if party else ""
            missing.append(f"缺少已核查的{who}{CONTRACT_LABELS[t]}备案")
    reviews = [s.data for s in ok if isinstance(s.data, DrawingReview)]
    if not any(r.finished_on <= on for r in reviews):
        missing.append("缺少已核查的施工图审查合格书")
    if not any(isinstance(s.data, SupervisionRegistration) for s in ok):
        missing.append("未办理质量安全监督登记")
    return missing


def price_flags(stages: list[StageRecord], *, construction_uscc: str, contract_price: Decimal) -> list[str]:
    """合同价格 consistent with the filed construction contract and the tender result (domain.md §7.6): a mismatch is
    flagged for the reviewing official (not a refusal: supplementary agreements exist)."""
    ok = [s.data for s in stages if s.state == StageState.CONFIRMED]
    flags: list[str] = []
    contracts = [
        c
        for c in ok
        if isinstance(c, ContractFiling)
        and c.contract_type == ContractType.CONSTRUCTION
        and construction_uscc in (c.contractor_uscc, c.union_uscc)
    ]
    if contracts and all(c.money != contract_price for c in contracts):
        filed = "、".join(f"{c.money}" for c in contracts)
        flags.append(f"申请的合同价格{contract_price}万元与已备案施工合同金额（{filed}万元）不一致")
    tenders = [t for t in ok if isinstance(t, TenderResult) and t.winner_uscc == construction_uscc]
    if tenders and all(t.money != contract_price for t in tenders):
        won = "、".join(f"{t.money}" for t in tenders)
        flags.append(f"申请的合同价格{contract_price}万元与中标金额（{won}万元）不一致")
    return flags


# ---- contract kind vs the contractor's qualification (承包单位资质与合同类别相符) ---------------------------------------


def qualification_types_held(enterprise: Any, on: date) -> set[str]:
    """The 资质类型 codes of which the enterprise holds a certificate valid on `on`: the certificate's own type, or the
    family its certificate number and its items' codes name (D… is 建筑业, B… 工程勘察: qualification_types apt_family)."""
    from chalicelib.domain import codetables

    family = {
        e.extra["apt_family"]: e.code for e in codetables.qualification_types().entries if e.extra.get("apt_family")
    }
    held: set[str] = set()
    for cert in getattr(enterprise, "qualifications", None) or []:
        if cert.valid_until is not None and cert.valid_until < on:
            continue
        if cert.qualification_type:
            held.add(cert.qualification_type)
        letters = {(cert.cert_no or "")[:1], *((item.code or "")[:1] for item in cert.items)}
        held.update(family[x] for x in letters if x in family)
    return held


def contractor_problems(filing: ContractFiling, enterprises: dict[str, Any]) -> list[dict[str, str]]:
    """A contract's contractor (and its joint-venture partner) must hold a qualification of the kind the contract
    needs, valid on the contract date (the rule is data: contract_types.contractor_qualification_types). An enterprise
    not in the registry (`enterprises` lacks it: e.g. from outside the province) is not judged here."""
    from chalicelib.domain import codetables
    from chalicelib.domain.clock import cn_date

    entry = next(e for e in codetables.contract_types().entries if e.extra.get("kind") == filing.contract_type.value)
    needed = set(entry.extra.get("contractor_qualification_types") or [])
    if not needed:
        return []
    names = {e.code: e.name for e in codetables.qualification_types().entries}
    wanted = "或".join(f"{names.get(c, c)}资质" for c in sorted(needed))
    out = []
    for field, label, uscc in (
        ("contractor_uscc", "承包单位", filing.contractor_uscc),
        ("union_uscc", "联合体承包单位", filing.union_uscc),
    ):
        ent = enterprises.get(uscc) if uscc else None
        if ent is None or qualification_types_held(ent, filing.contract_date) & needed:
            continue
        out.append(
            {
                "field": field,
                "label": label,
                "message": f"{label}{ent.name or uscc}没有{cn_date(filing.contract_date)}有效的{wanted}，不能承接{entry.name}",
            }
        )
    return out
