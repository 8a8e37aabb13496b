"""Credit records (诚信记录) created by the platform's own workflows: false information, late or missing reporting.

The full credit network (penalties entered by officials, awards, scores, publication rules) builds on this model.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.clock import add_months
from chalicelib.domain.fields import ProjectNumber, RequiredUscc, Uscc

_DATA = Path(__file__).resolve().parent.parent / "data" / "credit_rules.json"


class CreditKind(StrEnum):
    BAD = "BAD"  # 不良行为
    GOOD = "GOOD"  # 良好行为


class CreditSource(StrEnum):
    FALSIFIED_DATA_CONFIRMATION = "FALSIFIED_DATA_CONFIRMATION"  # 确认虚假
    LATE_OR_MISSING_REPORT = "LATE_OR_MISSING_REPORT"  # 迟报、漏报
    ADMIN_PENALTY = "ADMIN_PENALTY"  # 行政处罚
    AWARD = "AWARD"  # 获奖（省标化工地、钱江杯…）
    COMMENDATION = "COMMENDATION"  # 表彰


class CreditRecord(BaseModel):
    credit_id: str
    kind: CreditKind
    source: CreditSource
    subject_type: str  # enterprise | person
    subject_id: str  # USCC, or person key/employer USCC
    subject_name: str | None = None
    owner_uscc: Uscc = None
    region_code: str | None = None
    behaviour_code: str
    category: str
    content: str
    basis: str
    authority: str  # 认定部门
    authority_region: str | None = None
    decision_id: str | None = None
    campaign_id: str | None = None
    entered_by: str
    entered_by_name: str
    entered_at: str
    happened_on: str
    publish_begin: str
    publish_end: str
    published: bool = True
    # Administrative penalty (行政处罚) details
    penalty_number: str | None = None  # 处罚决定文号
    penalty_department: str | None = None  # 处罚部门
    penalty_date: str | None = None
    penalty_end: str | None = None  # 处罚期限截止（公开期限不得短于处罚期限）
    penalty_amount: str | None = None  # 罚款（万元）
    penalty_content: str | None = None  # 处罚决定内容 (PunishContent)
    project_num: ProjectNumber = None
    reviewed_by: str | None = None  # 审核人
    rectified: bool = False  # 信用修复：公开期限已缩短
    original_publish_end: str | None = None
    version: int = 1
    # 信用修复 (rectification): requested by the subject, decided by an official
    rectification_state: str | None = None  # REQUESTED | APPROVED | REJECTED
    rectification_reason: str | None = None
    rectification_requested_end: str | None = None
    rectification_evidence: str | None = None
    rectification_decided_by: str | None = None
    extended_reason: str | None = None

    def public_on(self, day: date) -> bool:
        """Published and inside its publication period (建市〔2017〕241号 第十三条: not used after it ends)."""
        return self.published and self.publish_begin <= day.isoformat() <= self.publish_end


@cache
def rules() -> dict[str, Any]:
    return json.loads(_DATA.read_text("utf-8"))["sources"]


def credit_id(*parts: str) -> str:
    return "C" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:31]


def bad_record(
    source: CreditSource,
    *,
    credit_id_: str,
    subject_type: str,
    subject_id: str,
    subject_name: str | None,
    owner_uscc: str | None,
    region_code: str | None,
    authority: str,
    authority_region: str | None,
    entered_by: str,
    entered_by_name: str,
    now_iso: str,
    on: date,
    reason: str | None = None,
    decision_id: str | None = None,
    campaign_id: str | None = None,
) -> CreditRecord:
    rule = rules()[source.value]
    content = rule["content"] + (f"：{reason}" if reason else "")
    return CreditRecord(
        credit_id=credit_id_,
        kind=CreditKind.BAD,
        source=source,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_name=subject_name,
        owner_uscc=owner_uscc,
        region_code=region_code,
        behaviour_code=rule["behaviour_code"],
        category=rule["category"],
        content=content,
        basis=rule["basis"],
        authority=authority,
        authority_region=authority_region,
        decision_id=decision_id,
        campaign_id=campaign_id,
        entered_by=entered_by,
        entered_by_name=entered_by_name,
        entered_at=now_iso,
        happened_on=on.isoformat(),
        publish_begin=on.isoformat(),
        publish_end=add_months(on, int(rule["publish_months"])).isoformat(),
    )


# ---- publication periods, score, blacklist --------------------------------------------------------------------------

_POLICY = Path(__file__).resolve().parent.parent / "data" / "credit_policy.json"


@cache
def policy() -> dict[str, Any]:
    return json.loads(_POLICY.read_text("utf-8"))


def publication_rule(on: date) -> dict[str, Any]:
    """The rule in force on a date (dated configuration: 2007 rules until 2017, 241号 from 2018)."""
    for rule in policy()["publication_rules"]:
        start = date.fromisoformat(rule["valid_from"])
        end = date.fromisoformat(rule["valid_to"]) if rule["valid_to"] else date.max
        if start <= on <= end:
            return rule
    raise ValueError(f"no publication rule in force on {on}")


def publish_end_for(kind: CreditKind, decided_on: date, months: int | None, penalty_end: date | None) -> date:
    """The end of the publication period, which runs from the decision (处罚决定 / 表彰决定) — never from the conduct:
    a penalty decided today about 2024 conduct is shown from today (domain.md §5.3: decision date + period).
    Good: 3 years. Bad: the chosen 6 months - 3 years, never shorter than the penalty itself."""
    rule = publication_rule(decided_on)
    begin = decided_on
    if kind == CreditKind.GOOD:
        return add_months(begin, rule["good_months"])
    chosen = months if months is not None else rule["bad_min_months"]
    if not rule["bad_min_months"] <= chosen <= rule["bad_max_months"]:
        from chalicelib.domain.errors import InvalidInput

        raise InvalidInput(f"不良行为公开期限应为{rule['bad_min_months']}至{rule['bad_max_months']}个月")
    end = add_months(begin, chosen)
    return max(end, penalty_end) if penalty_end else end


def extended_end(record: CreditRecord, months: int) -> date:
    """拒不整改: the period is extended by `months`, at most to the rules' maximum from its begin; an extension never
    shortens it (not below its current end, nor below the penalty's own period)."""
    begin = date.fromisoformat(record.publish_begin)
    current = date.fromisoformat(record.publish_end)
    cap = add_months(begin, publication_rule(begin)["bad_max_months"])
    end = max(current, min(add_months(current, months), cap))
    if record.penalty_end:
        end = max(end, date.fromisoformat(record.penalty_end))
    return end


def repair_deciders(on: date) -> list[str]:
    """Who decides 信用修复 under the rules in force (2007 rules: the province, 《建筑市场诚信行为信息管理办法》)."""
    return list(publication_rule(on)["repair_decided_by"])


def shortened_end(record: CreditRecord, requested_end: date) -> date:
    """信用修复: the period may be shortened, but not below the minimum (3 months) nor the penalty's own period."""
    begin = date.fromisoformat(record.publish_begin)
    floor = add_months(begin, publication_rule(begin)["rectified_min_months"])
    if record.penalty_end:
        floor = max(floor, date.fromisoformat(record.penalty_end))
    return min(max(requested_end, floor), date.fromisoformat(record.publish_end))


class BlacklistEntry(BaseModel):
    """黑名单 (谁处罚、谁列入)."""

    entry_id: str
    uscc: RequiredUscc
    enterprise_name: str | None = None
    criterion: str  # BL-1..BL-4
    criterion_name: str
    basis: str  # 认定依据
    authority: str  # 认定部门
    authority_region: str | None = None
    region_code: str | None = None
    listed_on: str
    removal_on: str  # 移除日期 (expiry)
    entered_by: str
    entered_by_name: str
    entered_at: str

    def active_on(self, day: date) -> bool:
        return self.listed_on <= day.isoformat() <= self.removal_on


def blacklist_criteria() -> dict[str, str]:
    return {c["code"]: c["name"] for c in policy()["blacklist"]["criteria"]}


class ScoreItem(BaseModel):
    credit_id: str
    kind: CreditKind
    behaviour_code: str
    category: str
    points: float
    publish_end: str


class CreditScore(BaseModel):
    """评价总分 = 基础分 + 良好信用分(封顶) - 不良信用分, each item counted only inside its publication period."""

    uscc: RequiredUscc
    on: str
    base: float
    base_reason: str
    good: float
    good_capped: float
    bad: float
    total: float
    grade: str
    items: list[ScoreItem]
    blacklisted: bool


def behaviour_points(code: str) -> float:
    from chalicelib.domain import codetables

    entry = codetables.load_table("credit_behaviours").get(code)
    return float((entry.extra or {}).get("points", 0)) if entry else 0.0


def compute_score(
    uscc: str, *, on: date, profile_complete: bool, blacklisted: bool, records: list[CreditRecord]
) -> CreditScore:
    cfg = policy()["score"]
    items = []
    good = bad = 0.0
    for r in records:
        if not r.public_on(on):
            continue
        pts = behaviour_points(r.behaviour_code)
        if r.kind == CreditKind.GOOD:
            pts = abs(pts)
            good += pts
        else:
            pts = -abs(pts)
            bad += -pts
        items.append(
            ScoreItem(
                credit_id=r.credit_id,
                kind=r.kind,
                behaviour_code=r.behaviour_code,
                category=r.category,
                points=pts,
                publish_end=r.publish_end,
            )
        )
    if blacklisted:
        base, why = 0.0, "列入黑名单，不计基础分"
    elif not profile_complete:
        base, why = 0.0, "企业信息未经确认或不完整，不计基础分"
    else:
        base, why = float(cfg["base"]), "企业信息已确认且完整"
    good_capped = min(good, float(cfg["good_cap"]))
    total = min(base + good_capped - bad, float(cfg["max"]))
    grade = next(g["grade"] for g in cfg["grades"] if g["min"] is None or total >= g["min"])
    return CreditScore(
        uscc=uscc,
        on=on.isoformat(),
        base=base,
        base_reason=why,
        good=good,
        good_capped=good_capped,
        bad=bad,
        total=total,
        grade=grade,
        items=items,
        blacklisted=blacklisted,
    )
