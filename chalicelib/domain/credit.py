"""Credit records (诚信记录) created by the platform's own workflows: false information, late or missing reporting.

The full credit network (penalties entered by officials, awards, scores, publication rules) builds on this model.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

_DATA = Path(__file__).resolve().parent.parent / "data" / "credit_rules.json"


class CreditKind(StrEnum):
    BAD = "BAD"  # 不良行为
    GOOD = "GOOD"  # 良好行为


class CreditSource(StrEnum):
    FALSIFIED_DATA_CONFIRMATION = "FALSIFIED_DATA_CONFIRMATION"  # 确认虚假
    LATE_OR_MISSING_REPORT = "LATE_OR_MISSING_REPORT"  # 迟报、漏报


class CreditRecord(BaseModel):
    credit_id: str
    kind: CreditKind
    source: CreditSource
    subject_type: str  # enterprise | person
    subject_id: str  # USCC, or person key/employer USCC
    subject_name: str | None = None
    owner_uscc: str | None = None
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


@cache
def rules() -> dict[str, Any]:
    return json.loads(_DATA.read_text("utf-8"))["sources"]


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


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
