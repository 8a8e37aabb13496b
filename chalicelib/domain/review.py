"""Official review (确认): queues, decisions, supplement requests (补正), snapshots and diffs, the SLA clock.

The 2015 notice §三(一): authorities confirm each enterprise-submitted record — true (基础库), false (published as a
bad-behaviour record), or not yet confirmable (存疑库). Decisions are transitions of `RECORD_LIFECYCLE`, guarded by
who may decide (region and level) and by the record's version.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain.errors import Forbidden, InvalidInput
from chalicelib.domain.fields import Uscc
from chalicelib.domain.identity import PROVINCE_CODE, PROVINCE_ROLES, Principal, Role, in_region_scope
from chalicelib.domain.lifecycle import TransitionTable
from chalicelib.domain.records import RecordEvent


class Level(StrEnum):
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


LEVEL_LABELS = {Level.COUNTY: "县级", Level.CITY: "市级", Level.PROVINCE: "省级"}
_LEVEL_RANK = {Level.COUNTY: 0, Level.CITY: 1, Level.PROVINCE: 2}


def level_of(p: Principal) -> Level | None:
    if p.role == Role.COUNTY_OFFICIAL:
        return Level.COUNTY
    if p.role == Role.CITY_OFFICIAL:
        return Level.CITY
    if p.role in PROVINCE_ROLES:
        return Level.PROVINCE
    return None


def city_code(county: str) -> str:
    return county[:4] + "00"


class Court(StrEnum):
    """Whose move it is (for the SLA clock)."""

    OFFICIAL = "OFFICIAL"  # 在主管部门
    ENTERPRISE = "ENTERPRISE"  # 在企业
    NONE = "NONE"  # decided or not yet submitted


class SlaClock(BaseModel):
    """Time a record spent waiting on officials (per level) and on the enterprise; "in our court" vs theirs."""

    court: Court = Court.NONE
    since: str | None = None
    level: Level | None = None
    official_seconds: dict[str, float] = Field(default_factory=dict)  # level -> seconds
    enterprise_seconds: float = 0.0

    def moved(self, now: datetime, court: Court, level: Level | None) -> tuple[SlaClock, dict[str, float]]:
        """Stop the running clock at `now`, start the next one; returns the new clock and the elapsed delta
        (keys "official:{level}" / "enterprise") for counters."""
        delta: dict[str, float] = {}
        official = dict(self.official_seconds)
        enterprise = self.enterprise_seconds
        if self.since is not None and self.court != Court.NONE:
            elapsed = max(0.0, (now - datetime.fromisoformat(self.since)).total_seconds())
            if self.court == Court.OFFICIAL and self.level is not None:
                official[self.level.value] = official.get(self.level.value, 0.0) + elapsed
                delta[f"official:{self.level.value}"] = elapsed
            elif self.court == Court.ENTERPRISE:
                enterprise += elapsed
                delta["enterprise"] = elapsed
        clock = SlaClock(
            court=court,
            since=now.isoformat() if court != Court.NONE else None,
            level=level if court == Court.OFFICIAL else None,
            official_seconds=official,
            enterprise_seconds=enterprise,
        )
        return clock, delta


class ReviewInfo(BaseModel):
    """Where a record stands in review: who is responsible, who holds it, what was decided last."""

    responsible_level: Level = Level.COUNTY
    responsible_region: str | None = None  # county, city or 330000
    waiting_since: str | None = None
    assignee: str | None = None
    assignee_name: str | None = None
    assigned_at: str | None = None
    last_decision_id: str | None = None
    last_outcome: str | None = None
    decided_level: Level | None = None
    decided_region: str | None = None
    decided_at: str | None = None
    last_confirmed_snapshot: int | None = None
    snapshots: int = 0
    open_request: str | None = None  # the supplement request the enterprise must answer
    escalations: int = 0


class Outcome(StrEnum):
    CONFIRMED = "CONFIRMED"  # 真实
    FALSE = "FALSE"  # 虚假
    IN_DOUBT = "IN_DOUBT"  # 暂时无法确认


OUTCOME_EVENTS = {
    Outcome.CONFIRMED: RecordEvent.CONFIRM,
    Outcome.FALSE: RecordEvent.MARK_FALSE,
    Outcome.IN_DOUBT: RecordEvent.DOUBT,
}
OUTCOME_LABELS = {Outcome.CONFIRMED: "确认真实", Outcome.FALSE: "确认虚假", Outcome.IN_DOUBT: "暂时无法确认（存疑）"}


class Decision(BaseModel):
    """One review decision; its id is derived from (record, version, outcome) so a retried request is recognised."""

    decision_id: str
    record_type: str
    record_id: str
    record_version: int
    outcome: Outcome
    reason: str
    evidence_upload_id: str | None = None
    decided_by: str
    decided_by_name: str
    decided_role: str
    decided_level: Level
    decided_region: str
    decided_at: str
    credit_record_id: str | None = None


def decision_id(record_type: str, record_id: str, version: int, outcome: str) -> str:
    raw = f"{record_type}|{record_id}|{version}|{outcome}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def can_review(p: Principal, region_code: str | None) -> bool:
    """A county official reviews its county; a city official its counties; the province everything in Zhejiang."""
    return p.is_official and in_region_scope(p, region_code)


def ensure_can_decide(p: Principal, region_code: str | None, review: ReviewInfo) -> Level:
    """Guard for decisions: region scope, and an escalated record is no longer the county's to decide."""
    level = level_of(p)
    if level is None or p.role == Role.PROVINCE_ADMIN:
        # Separation of duties: the platform administrator runs campaigns and imports, officials decide.
        raise Forbidden("只有县、市、省级主管部门的审核人员可以作出确认决定")
    if _LEVEL_RANK[level] < _LEVEL_RANK[review.responsible_level]:
        raise Forbidden(f"该记录已提交{LEVEL_LABELS[review.responsible_level]}主管部门审核")
    return level


def ensure_can_reopen(p: Principal, review: ReviewInfo) -> Level:
    """A wrong decision is reopened by the level above the one that decided (province may reopen its own)."""
    level = level_of(p)
    if level is None or review.decided_level is None:
        raise Forbidden("只有上级主管部门可以重新审核")
    if _LEVEL_RANK[level] <= _LEVEL_RANK[review.decided_level] and level != Level.PROVINCE:
        raise Forbidden(f"该决定由{LEVEL_LABELS[review.decided_level]}作出，只能由上级主管部门重新审核")
    return level


def escalation_target(review: ReviewInfo, region_code: str) -> tuple[Level, str]:
    if review.responsible_level == Level.COUNTY:
        return Level.CITY, city_code(region_code)
    if review.responsible_level == Level.CITY:
        return Level.PROVINCE, PROVINCE_CODE
    raise InvalidInput("省级审核的记录不能再上报")


# ---- snapshots and diffs -----------------------------------------------------------------------------------------


class Snapshot(BaseModel):
    """What the enterprise submitted (or what was confirmed): earlier versions are never lost."""

    seq: int
    record_version: int
    state: str
    taken_at: str
    reason: str  # SUBMITTED | CONFIRMED | ...
    data: dict[str, Any]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(data, list):
        if not data:
            return {prefix: []}
        out = {}
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


class FieldChange(BaseModel):
    path: str
    before: Any = None
    after: Any = None
    change: str  # added | removed | changed


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    """Field-by-field differences (nested paths like qualifications[0].items[1].code)."""
    a, b = flatten(before or {}), flatten(after)
    changes = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path), b.get(path)
        if va == vb:
            continue
        kind = (
            "added"
            if path not in a or va in (None, "", [])
            else "removed"
            if path not in b or vb in (None, "", [])
            else "changed"
        )
        changes.append(FieldChange(path=path, before=va, after=vb, change=kind))
    return changes


# ---- supplement requests (补正) -------------------------------------------------------------------------------------


class RequestState(StrEnum):
    DRAFT = "DRAFT"  # 草稿：the enterprise cannot see it yet
    SENT = "SENT"  # 已发送：waiting for the enterprise
    ANSWERED = "ANSWERED"  # 已答复：the record is back in the queue
    WITHDRAWN = "WITHDRAWN"  # 已撤回


class RequestEvent(StrEnum):
    SEND = "SEND"
    ANSWER = "ANSWER"
    WITHDRAW = "WITHDRAW"


REQUEST_LIFECYCLE: TransitionTable[RequestState, RequestEvent] = TransitionTable(
    "supplement-request",
    {
        (RequestState.DRAFT, RequestEvent.SEND): RequestState.SENT,
        (RequestState.DRAFT, RequestEvent.WITHDRAW): RequestState.WITHDRAWN,
        (RequestState.SENT, RequestEvent.ANSWER): RequestState.ANSWERED,
    },
    labels={
        RequestState.DRAFT: "草稿",
        RequestState.SENT: "已发送",
        RequestState.ANSWERED: "已答复",
        RequestState.WITHDRAWN: "已撤回",
        RequestEvent.SEND: "发送",
        RequestEvent.ANSWER: "答复",
        RequestEvent.WITHDRAW: "撤回",
    },
)


class RequestItem(BaseModel):
    field: str | None = Field(default=None, description="需补正的字段路径，如 contact_phone")
    document: str | None = Field(default=None, description="需补交的材料，如 营业执照扫描件")
    note: str = Field(min_length=1, max_length=500, description="说明")


class SupplementRequest(BaseModel):
    request_id: str
    record_type: str
    record_id: str
    record_key: list[str]
    owner_uscc: Uscc
    region_code: str | None
    state: RequestState = RequestState.DRAFT
    version: int = 1
    items: list[RequestItem]
    created_by: str
    created_by_name: str
    created_at: str
    sent_at: str | None = None
    due_on: str | None = None
    answered_at: str | None = None
    answer_note: str | None = None
    answer_attachments: list[str] = Field(default_factory=list)
