"""资质电子化网上申报: an enterprise's qualification application, routed by authority and decided on platform data.

Kinds (申请类型): 首次申请, 升级, 增项, 延续, 重新核定, 变更, 遗失补办, 注销. Who accepts (受理) and who decides (审批)
each kind and grade, the decision limit in working days and the public notice (公示) are data
(`data/qualification_routing.json`, unverified [U]). The statutory clock runs in working days from acceptance and is
paused while a supplement request (补正) is in the enterprise's court. Lifecycle:

    SUBMITTED ──accept──▶ ACCEPTED ──request_supplement──▶ SUPPLEMENT_REQUESTED ──answer──▶ ACCEPTED
        │                   │  ├──start_notice──▶ PUBLIC_NOTICE ──approve──▶ APPROVED
        │                   │  ├──approve──▶ APPROVED (no notice required)      └──reject──▶ REJECTED
        │                   │  ├──reject──▶ REJECTED
        │                   │  ├──forward──▶ FORWARDED (报住房和城乡建设部)
        │                   │  └──refer_up──▶ ACCEPTED at the next level up (初审通过，转报上级)
        └──refuse──▶ REFUSED (不予受理)        SUBMITTED/ACCEPTED/SUPPLEMENT_REQUESTED ──withdraw──▶ WITHDRAWN
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.domain import codetables
from chalicelib.domain.clock import add_years
from chalicelib.domain.fields import RequiredUscc, Uscc
from chalicelib.domain.lifecycle import TransitionTable
from chalicelib.domain.workdays import WorkCalendar


class ApplicationKind(StrEnum):
    NEW = "NEW"  # 首次申请
    UPGRADE = "UPGRADE"  # 升级
    ADD = "ADD"  # 增项
    RENEWAL = "RENEWAL"  # 延续
    REASSESSMENT = "REASSESSMENT"  # 重新核定
    CHANGE = "CHANGE"  # 变更（名称、地址、法定代表人…）
    REPLACEMENT = "REPLACEMENT"  # 遗失补办
    CANCELLATION = "CANCELLATION"  # 注销
    # registered personnel (注册人员), where the province registers them (二级注册建造师…)
    REG_INITIAL = "REG_INITIAL"  # 初始注册
    REG_TRANSFER = "REG_TRANSFER"  # 变更注册（变更注册单位）
    REG_RENEWAL = "REG_RENEWAL"  # 延续注册
    REG_CANCELLATION = "REG_CANCELLATION"  # 注销注册


PERSON_KINDS = frozenset(
    {
        ApplicationKind.REG_INITIAL,
        ApplicationKind.REG_TRANSFER,
        ApplicationKind.REG_RENEWAL,
        ApplicationKind.REG_CANCELLATION,
    }
)

KIND_LABELS = {
    ApplicationKind.NEW: "首次申请",
    ApplicationKind.UPGRADE: "升级",
    ApplicationKind.ADD: "增项",
    ApplicationKind.RENEWAL: "延续",
    ApplicationKind.REASSESSMENT: "重新核定",
    ApplicationKind.CHANGE: "变更",
    ApplicationKind.REPLACEMENT: "遗失补办",
    ApplicationKind.CANCELLATION: "注销",
    ApplicationKind.REG_INITIAL: "初始注册",
    ApplicationKind.REG_TRANSFER: "变更注册",
    ApplicationKind.REG_RENEWAL: "延续注册",
    ApplicationKind.REG_CANCELLATION: "注销注册",
}
# the kinds that concern a certificate the enterprise already holds (they name it)
ON_A_HELD_CERTIFICATE = frozenset(
    {
        ApplicationKind.RENEWAL,
        ApplicationKind.REASSESSMENT,
        ApplicationKind.CHANGE,
        ApplicationKind.REPLACEMENT,
        ApplicationKind.CANCELLATION,
    }
)


class AppState(StrEnum):
    SUBMITTED = "SUBMITTED"  # 已提交待受理
    ACCEPTED = "ACCEPTED"  # 已受理审查中
    SUPPLEMENT_REQUESTED = "SUPPLEMENT_REQUESTED"  # 待企业补正
    PUBLIC_NOTICE = "PUBLIC_NOTICE"  # 公示中
    APPROVED = "APPROVED"  # 准予许可
    REJECTED = "REJECTED"  # 不予许可
    REFUSED = "REFUSED"  # 不予受理
    FORWARDED = "FORWARDED"  # 已报住房和城乡建设部
    WITHDRAWN = "WITHDRAWN"  # 企业撤回


class AppEvent(StrEnum):
    ACCEPT = "ACCEPT"
    REFUSE = "REFUSE"
    REQUEST_SUPPLEMENT = "REQUEST_SUPPLEMENT"
    ANSWER = "ANSWER"
    START_NOTICE = "START_NOTICE"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    FORWARD = "FORWARD"
    REFER_UP = "REFER_UP"
    WITHDRAW = "WITHDRAW"


STATE_LABELS: dict[StrEnum, str] = {
    AppState.SUBMITTED: "已提交待受理",
    AppState.ACCEPTED: "已受理审查中",
    AppState.SUPPLEMENT_REQUESTED: "待企业补正",
    AppState.PUBLIC_NOTICE: "公示中",
    AppState.APPROVED: "准予许可",
    AppState.REJECTED: "不予许可",
    AppState.REFUSED: "不予受理",
    AppState.FORWARDED: "已报住房和城乡建设部",
    AppState.WITHDRAWN: "已撤回",
    AppEvent.ACCEPT: "受理",
    AppEvent.REFUSE: "不予受理",
    AppEvent.REQUEST_SUPPLEMENT: "要求补正",
    AppEvent.ANSWER: "提交补正",
    AppEvent.START_NOTICE: "开始公示",
    AppEvent.APPROVE: "准予许可",
    AppEvent.REJECT: "不予许可",
    AppEvent.FORWARD: "报住房和城乡建设部",
    AppEvent.REFER_UP: "初审通过，转报上级",
    AppEvent.WITHDRAW: "撤回申请",
}

S, E = AppState, AppEvent
APPLICATION_LIFECYCLE: TransitionTable[AppState, AppEvent] = TransitionTable(
    "qualification_application",
    {
        (S.SUBMITTED, E.ACCEPT): S.ACCEPTED,
        (S.SUBMITTED, E.REFUSE): S.REFUSED,
        (S.SUBMITTED, E.WITHDRAW): S.WITHDRAWN,
        (S.ACCEPTED, E.REQUEST_SUPPLEMENT): S.SUPPLEMENT_REQUESTED,
        (S.SUPPLEMENT_REQUESTED, E.ANSWER): S.ACCEPTED,
        (S.SUPPLEMENT_REQUESTED, E.WITHDRAW): S.WITHDRAWN,
        (S.ACCEPTED, E.START_NOTICE): S.PUBLIC_NOTICE,
        (S.ACCEPTED, E.APPROVE): S.APPROVED,
        (S.ACCEPTED, E.REJECT): S.REJECTED,
        (S.ACCEPTED, E.FORWARD): S.FORWARDED,
        (S.ACCEPTED, E.REFER_UP): S.ACCEPTED,
        (S.ACCEPTED, E.WITHDRAW): S.WITHDRAWN,
        (S.PUBLIC_NOTICE, E.APPROVE): S.APPROVED,
        (S.PUBLIC_NOTICE, E.REJECT): S.REJECTED,
    },
    STATE_LABELS,
)
FINAL_STATES = frozenset({S.APPROVED, S.REJECTED, S.REFUSED, S.FORWARDED, S.WITHDRAWN})


@cache
def routing_rules() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("qualification_routing.json").read_text("utf-8"))


@dataclass(frozen=True)
class Route:
    """Who handles an application: the level that accepts it, the level that decides it, the decision limit in
    working days and the public notice period (0: no notice), and the rule that said so."""

    accept: str
    decide: str
    decide_days: int
    notice_days: int
    rule: str

    @property
    def decide_label(self) -> str:
        return routing_rules()["levels"][self.decide]

    @property
    def accept_label(self) -> str:
        return routing_rules()["levels"][self.accept]


def route(kind: ApplicationKind, target: str, certificate_no: str | None = None) -> Route:
    """The routing of an application for `target` (a qualification code), first matching rule of the table. For the
    kinds decided by the certificate's issuer, the level comes from the level digit of `certificate_no`."""
    entry = codetables.qualification_codes().get(target)
    extra = entry.extra if entry else {}
    family, cls, grade = extra.get("family"), extra.get("class") or "", extra.get("grade")
    cfg = routing_rules()
    for rule in cfg["rules"]:
        if "kinds" in rule and kind.value not in rule["kinds"]:
            continue
        if "families" in rule and family not in rule["families"]:
            continue
        if "class_prefix" in rule and not cls.startswith(rule["class_prefix"]):
            continue
        if "grades" in rule and grade not in rule["grades"]:
            continue
        decide = rule["decide"]
        if decide == "issuer":
            digit = (certificate_no or "")[1:2]
            decide = cfg["issuer_levels"].get(digit, "province")
        return Route(rule["accept"], decide, int(rule["decide_days"]), int(rule["notice_days"]), rule["label"])
    raise LookupError(f"资质申请分级规则中没有适用于{target}的规则")


@dataclass(frozen=True)
class Pause:
    """A stretch in the enterprise's court (补正): from the request's day to the answer's day (None: still open)."""

    start: date
    end: date | None


def decision_due(accepted_on: date, limit_days: int, pauses: list[Pause], calendar: WorkCalendar, today: date) -> date:
    """The last day of the decision limit: `limit_days` working days after acceptance, the days in the enterprise's
    court not counted (行政许可法 第四十五条: 补正 time is not counted). An open pause is counted up to `today`."""
    due = calendar.add(accepted_on, limit_days).day
    for p in sorted(pauses, key=lambda x: x.start):
        end = p.end or today
        if p.start > due or end <= p.start:
            continue
        paused = calendar.count_between(p.start, end)  # the working days the enterprise held it
        due = calendar.add(due, paused).day
    return due


def working_days_left(due: date, today: date, calendar: WorkCalendar) -> int:
    """Working days from `today` to `due` (negative: overdue)."""
    if today <= due:
        return calendar.count_between(today, due)
    return -calendar.count_between(due, today)


def notice_ends(started_on: date, notice_days: int) -> date:
    """公示期: calendar days from the day after the notice starts [U: some rules count working days]."""
    return started_on + timedelta(days=notice_days)


def barring_reasons(
    kind: ApplicationKind, blacklist: list[Any], bad_records: list[Any], today: date
) -> list[dict[str, str]]:
    """What bars the application whatever the registry says (data: `bars` in the routing file), each with its basis:
    an active 黑名单 entry, an open 不良行为 record of a barring kind. 变更、遗失补办、注销 are never barred."""
    bars = routing_rules()["bars"]
    if kind.value in bars.get("kinds_exempt", []):
        return []
    out = []
    if bars.get("blacklist"):
        for entry in blacklist:
            if entry.active_on(today):
                out.append(
                    {
                        "key": "blacklist",
                        "reason": f"企业被列入黑名单（{entry.criterion_name}，{entry.authority}认定，"
                        f"{entry.listed_on}至{entry.removal_on}），认定依据：{entry.basis}",
                    }
                )
    prefixes = tuple(bars.get("bad_behaviour_prefixes", []))

    def get(rec: Any, key: str) -> Any:
        return rec.get(key) if isinstance(rec, dict) else getattr(rec, key, None)

    for rec in bad_records:
        code = get(rec, "behaviour_code") or ""
        if prefixes and code.startswith(prefixes):
            out.append(
                {
                    "key": "bad_record",
                    "reason": f"存在公开期内的不良行为记录（{code}：{get(rec, 'content') or ''}，"
                    f"公开至{get(rec, 'publish_end') or ''}）",
                }
            )
    return out


# ---- levels: who holds an application -------------------------------------------------------------------------------

LEVEL_ORDER = ("county", "city", "province", "ministry")
LEVEL_DIGITS = {"ministry": "1", "province": "2", "city": "3", "county": "4"}


def level_region(level: str, county: str) -> str:
    """The region code of the authority at `level` over the enterprise's county (the ministry: the province's)."""
    from chalicelib.domain import identifiers

    if level == "county":
        return county
    if level == "city":
        return identifiers.city_of(county) or county
    return "330000"


def handling_level(level: str) -> str:
    """The provincial level that works on an application at `level`: a ministry-level one is prepared by the
    province and forwarded (报部)."""
    return "province" if level == "ministry" else level


def next_level(current: str, decide: str) -> str | None:
    """The level an application is passed up to after a preliminary review (初审) at `current`, None when `current`
    decides (or forwards to the ministry)."""
    top = handling_level(decide)
    i, j = LEVEL_ORDER.index(current), LEVEL_ORDER.index(top)
    return LEVEL_ORDER[i + 1] if i < j else None


def role_level(role: str) -> str | None:
    return {"county_official": "county", "city_official": "city", "province_official": "province"}.get(role)


# ---- the application ---------------------------------------------------------------------------------------------


class SupplementRound(BaseModel):
    """One 补正 round: what the authority asked for, and the enterprise's answer (the clock stops in between)."""

    requested_on: str
    requested_at: str
    requested_by: str
    level: str
    items: list[str]
    answered_on: str | None = None
    answered_at: str | None = None
    answer: str | None = None


class ReviewSnapshot(BaseModel):
    """The platform data review as it stood at a step (at submission and again at the decision)."""

    at: str
    stage: Literal["submission", "notice", "decision"]
    met: bool
    requirements: list[dict[str, Any]]
    bars: list[dict[str, str]] = Field(default_factory=list)


class Step(BaseModel):
    """One step of the application's way, for its page (the audit trail holds the sealed record)."""

    at: str
    event: str
    by: str
    level: str | None = None
    note: str | None = None


class QualificationApplication(BaseModel):
    """资质申请: kind + target qualification (+ the certificate it concerns), routed by data, with its data review."""

    application_id: str
    uscc: RequiredUscc
    enterprise_name: str | None = None
    region_code: str = Field(description="企业所在县（市、区）")
    kind: ApplicationKind
    target: str
    target_label: str
    certificate_no: str | None = None
    # a registered person's registration (the PERSON_KINDS): who, which specialties, from which employer
    person_key: str | None = None
    person_name: str | None = None
    specialties: list[str] = Field(default_factory=list)
    from_employer_uscc: Uscc = None
    from_employer_name: str | None = None
    registration_cert_no: str | None = None
    changes: dict[str, str] = Field(default_factory=dict, description="变更事项：字段 → 新值")
    statement: str | None = Field(default=None, description="申请说明")
    state: AppState = AppState.SUBMITTED
    version: int = 1
    # routing, from the data table at submission
    accept_level: str
    decide_level: str
    decide_days: int
    notice_days: int
    route_rule: str
    current_level: str
    # the statutory clock
    submitted_at: str
    accepted_on: str | None = None
    decision_due: str | None = None
    supplements: list[SupplementRound] = Field(default_factory=list)
    notice_started_on: str | None = None
    notice_until: str | None = None
    reviews: list[ReviewSnapshot] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    # the decision and its effect on the certificate
    decided_by: str | None = None
    decided_on: str | None = None
    decision_reason: str | None = None
    approval_no: str | None = None
    new_certificate_no: str | None = None
    effect_applied: bool = False
    created_at: str
    updated_at: str

    def pauses(self) -> list[Pause]:
        return [
            Pause(date.fromisoformat(r.requested_on), date.fromisoformat(r.answered_on) if r.answered_on else None)
            for r in self.supplements
        ]

    def open_supplement(self) -> SupplementRound | None:
        return next((r for r in self.supplements if r.answered_on is None), None)

    def waiting_on(self) -> str | None:
        """Who has the application now: a level's region key, or None (the enterprise, or nobody)."""
        if self.state in (AppState.SUBMITTED, AppState.ACCEPTED, AppState.PUBLIC_NOTICE):
            return self.current_level
        return None


def due_date(app: QualificationApplication, calendar: WorkCalendar, today: date) -> date | None:
    if not app.accepted_on:
        return None
    return decision_due(date.fromisoformat(app.accepted_on), app.decide_days, app.pauses(), calendar, today)


# ---- effects of an approval on the qualification certificate -------------------------------------------------------

CANCELLED = "注销"


def validity_years() -> int:
    return int(routing_rules().get("validity_years", 5))


def approval_number(year: int, serial: int) -> str:
    return routing_rules()["approval_no_format"].format(year=year, serial=serial)


def new_certificate_number(target: str, level: str, serial: int) -> str:
    """资质证书编号 of a certificate issued at `level`: family letter + level digit + 33 (浙江) + 6-digit serial."""
    return f"{target[0]}{LEVEL_DIGITS[level]}33{serial:06d}"


def addable_certificate(e: Any, target: str, level: str, on: date) -> Any | None:
    """增项: the valid certificate of the target's family issued at the deciding `level`, which the new item joins
    (None: a new certificate is issued)."""
    digit = LEVEL_DIGITS[handling_level(level)]
    for c in e.qualifications:
        if c.valid_on(on) and c.cert_no and c.cert_no[:1] == target[:1] and c.cert_no[1:2] == digit:
            return c
    return None


def needs_new_certificate(app: QualificationApplication) -> bool:
    """A certificate is issued under a new number when none is concerned yet (首次申请, 增项 with no certificate of
    the family at the deciding level), or when the deciding level is not the one that issued the certificate the
    target joins (an upgrade from a city's 三级 to the province's)."""
    if app.kind == ApplicationKind.NEW or (app.kind == ApplicationKind.ADD and not app.certificate_no):
        return True
    if app.kind in (ApplicationKind.UPGRADE, ApplicationKind.ADD) and app.certificate_no:
        return app.certificate_no[1:2] != LEVEL_DIGITS[handling_level(app.decide_level)]
    return False


def certificate_for(e: Any, app: QualificationApplication, on: date) -> Any | None:
    """The certificate the application concerns: the one named, else (升级) the one holding the same class, else
    (增项) the valid one of the same qualification type."""
    certs = list(e.qualifications)
    if app.certificate_no:
        return next((c for c in certs if c.cert_no == app.certificate_no), None)
    entry = codetables.qualification_codes().get(app.target)
    cls = entry.extra.get("class") if entry else None
    for c in certs:
        if not c.valid_on(on):
            continue
        for item in c.items:
            other = codetables.qualification_codes().get(item.code)
            if other and other.extra.get("class") == cls and item.status != CANCELLED:
                return c
    return None


def apply_decision(
    e: Any, app: QualificationApplication, on: date, authority: str, *, cert_no: str | None
) -> dict[str, Any]:
    """The enterprise record's changed fields after an approval (pure). `cert_no` is the new certificate's number
    where one is issued. Items carry the approval number: applying the same decision twice changes nothing."""
    from chalicelib.domain.enterprise import QualificationCert, QualificationItem

    certs = [c.model_copy(deep=True) for c in e.qualifications]
    if any(i.approval_no == app.approval_no for c in certs for i in c.items) and app.kind not in (
        ApplicationKind.CHANGE,
        ApplicationKind.REPLACEMENT,
    ):
        return {}
    until = add_years(on, validity_years()) - timedelta(days=1)
    item = QualificationItem(
        code=app.target, is_primary=None, approval_no=app.approval_no, approved_on=on, acquired_by=KIND_LABELS[app.kind]
    )
    held = certificate_for(e.model_copy(update={"qualifications": certs}), app, on)  # one of the copies
    entry = codetables.qualification_codes().get(app.target)
    cls = entry.extra.get("class") if entry else None
    changes: dict[str, Any] = {}

    def same_class(code: str) -> bool:
        other = codetables.qualification_codes().get(code)
        return bool(other and other.extra.get("class") == cls)

    if app.kind in (ApplicationKind.NEW, ApplicationKind.UPGRADE, ApplicationKind.ADD):
        if held is not None and app.kind == ApplicationKind.UPGRADE and cert_no:
            # the lower grade moves to the new certificate: it is cancelled on the old one, which ends when nothing
            # valid is left on it (its national rows say so: IsValid 0)
            for i in held.items:
                if same_class(i.code) and i.status != CANCELLED:
                    i.status = CANCELLED
            if all(i.status == CANCELLED for i in held.items):
                held.valid_until = on - timedelta(days=1)
        elif held is not None and app.kind == ApplicationKind.UPGRADE:
            held.items = [i for i in held.items if not same_class(i.code)]  # replaced on the same certificate
        if cert_no:
            primary = item.model_copy(update={"is_primary": True})
            certs.append(
                QualificationCert(
                    cert_no=cert_no,
                    qualification_type=(held.qualification_type if held else None) or _type_of(app.target),
                    issuing_authority=authority,
                    issued_on=on,
                    valid_until=until,
                    items=[primary],
                )
            )
        elif held is not None:
            was_primary = app.kind == ApplicationKind.UPGRADE and not any(i.is_primary for i in held.items)
            held.items.append(item.model_copy(update={"is_primary": True if was_primary else None}))
            held.issued_on = on  # 换发: the certificate is reissued with the new item
    elif held is None:
        raise LookupError(f"企业未持有资质证书{app.certificate_no or ''}")
    elif app.kind in (ApplicationKind.RENEWAL, ApplicationKind.REASSESSMENT):
        base = held.valid_until if held.valid_until and held.valid_until >= on else on
        held.valid_until = add_years(base, validity_years()) if app.kind == ApplicationKind.RENEWAL else until
        held.issued_on = on
        held.standard_version = "2014"
        for i in held.items:
            if i.code == app.target:
                i.approval_no, i.approved_on = app.approval_no, on
    elif app.kind == ApplicationKind.CHANGE:
        held.issued_on = on
        changes.update({k: v for k, v in app.changes.items() if k in CHANGEABLE_FIELDS})
    elif app.kind == ApplicationKind.REPLACEMENT:
        held.issued_on = on  # 补发: same number, new issue date
    elif app.kind == ApplicationKind.CANCELLATION:
        for i in held.items:
            if i.code == app.target:
                i.status, i.approval_no, i.approved_on = CANCELLED, app.approval_no, on
        if all(i.status == CANCELLED for i in held.items):
            held.valid_until = on - timedelta(days=1)  # 注销 ends the certificate
    changes["qualifications"] = certs
    return changes


# 变更事项: the enterprise fields a 资质变更 may change, with their names
CHANGEABLE_FIELDS = {
    "name": "企业名称",
    "address": "经营地址",
    "legal_rep": "法定代表人",
    "registered_capital": "注册资本（万元）",
}


def _type_of(target: str) -> str | None:
    """资质类型 (CertTypeNum) of a qualification code, by its family letter (qualification_types apt_family)."""
    return next(
        (e.code for e in codetables.qualification_types().entries if (e.extra or {}).get("apt_family") == target[:1]),
        None,
    )


# ---- registered personnel: the province's registrations ------------------------------------------------------------


def person_rules() -> dict[str, Any]:
    return routing_rules()["personnel"]


def active_registration(record: Any, reg_type: str, on: date) -> Any | None:
    """The person's registration of `reg_type` on this employer's record, if in force."""
    for g in getattr(record, "registrations", None) or []:
        if g.reg_type == reg_type and g.status != CANCELLED and (g.valid_until is None or g.valid_until >= on):
            return g
    return None


def person_reasons(
    kind: ApplicationKind, reg_type: str, employer: str, records: list[Any], lock: str | None, on: date
) -> tuple[list[dict[str, str]], Any | None]:
    """Why a registration application cannot be accepted (the one-employer rule, the person lock), and the
    record of the employer the registration comes from (变更注册). `records`: the person's confirmed records at every
    employer; `lock`: the project the person is locked on (a description), if any."""
    from chalicelib.domain.records import RecordState

    types = person_rules()["reg_types"]
    name = codetables.load_table("registration_types").name(reg_type)
    if reg_type not in types:
        return [
            {"key": "reg_type", "reason": f"“{name}”不由本省注册（省级注册的类别：{'、'.join(types.values())}）"}
        ], None
    confirmed = [r for r in records if r.state == RecordState.CONFIRMED]
    mine = next((r for r in confirmed if r.employer_uscc == employer), None)
    holders = [r for r in confirmed if active_registration(r, reg_type, on) is not None]
    elsewhere = next((r for r in holders if r.employer_uscc != employer), None)
    here = next((r for r in holders if r.employer_uscc == employer), None)
    out: list[dict[str, str]] = []
    if mine is None:
        out.append(
            {
                "key": "person",
                "reason": "该人员不在本企业已确认的注册人员库中：请先通过人员信息表报送，经主管部门确认后再申请",
            }
        )
    if kind == ApplicationKind.REG_INITIAL and elsewhere is not None:
        out.append(
            {
                "key": "one_employer",
                "reason": f"该人员已在{elsewhere.employer_name or elsewhere.employer_uscc}注册为{name}，"
                "一人只能在一个单位注册，应申请变更注册",
            }
        )
    if kind == ApplicationKind.REG_INITIAL and here is not None:
        out.append({"key": "registered", "reason": f"该人员已在本企业注册为{name}，不需初始注册"})
    if kind == ApplicationKind.REG_TRANSFER and elsewhere is None:
        out.append({"key": "registered", "reason": f"该人员未在其他单位注册为{name}，应申请初始注册"})
    if kind in (ApplicationKind.REG_RENEWAL, ApplicationKind.REG_CANCELLATION) and here is None:
        out.append({"key": "registered", "reason": f"该人员未在本企业注册为{name}（或注册已失效）"})
    if kind in (ApplicationKind.REG_TRANSFER, ApplicationKind.REG_CANCELLATION) and lock:
        out.append(
            {
                "key": "person_lock",
                "reason": f"该人员正在在建项目{lock}担任项目负责人，项目竣工验收前不得{KIND_LABELS[kind]}",
            }
        )
    return out, elsewhere


def person_effects(
    records: list[Any], app: QualificationApplication, on: date, authority: str
) -> list[tuple[Any, dict]]:
    """The changed registrations of each affected record (pure; a record already changed is left out, so applying
    the same decision twice changes nothing)."""
    from chalicelib.domain.person import Registration

    years = int(person_rules()["validity_years"])
    by_employer = {r.employer_uscc: r for r in records}
    mine = by_employer.get(app.uscc)
    out: list[tuple[Any, dict]] = []

    def regs(record: Any) -> list[Any]:
        return [g.model_copy() for g in record.registrations]

    joins = app.kind in (ApplicationKind.REG_INITIAL, ApplicationKind.REG_TRANSFER)
    old = by_employer.get(app.from_employer_uscc or "") if app.kind == ApplicationKind.REG_TRANSFER else None
    moved = active_registration(old, app.target, on) if old is not None else None
    if joins and mine is not None and active_registration(mine, app.target, on) is None:
        # the registration joins the applying employer's record
        new = Registration(
            reg_type=app.target,
            specialties=app.specialties or (moved.specialties if moved else []),
            qualification_cert_no=moved.qualification_cert_no if moved else None,
            registration_cert_no=app.registration_cert_no or (moved.registration_cert_no if moved else None),
            issued_on=on,
            issuing_authority=authority,
            valid_until=(moved.valid_until if moved else None) or (add_years(on, years) - timedelta(days=1)),
            status="有效",
        )
        out.append((mine, {"registrations": [*[g for g in regs(mine) if g.reg_type != app.target], new]}))
    if old is not None and moved is not None:
        # and leaves the former employer's record
        out.append((old, {"registrations": [g for g in regs(old) if g.reg_type != app.target]}))
    if app.kind == ApplicationKind.REG_RENEWAL and mine is not None:
        g = active_registration(mine, app.target, on)
        target_until = add_years(g.valid_until or on, years) if g else None
        if g is not None and app.decided_on and g.issued_on != on:
            kept = [x for x in regs(mine) if x.reg_type != app.target]
            out.append(
                (mine, {"registrations": [*kept, g.model_copy(update={"valid_until": target_until, "issued_on": on})]})
            )
    if app.kind == ApplicationKind.REG_CANCELLATION and mine is not None:
        g = active_registration(mine, app.target, on)
        if g is not None:
            kept = [x for x in regs(mine) if x.reg_type != app.target]
            ended = g.model_copy(update={"status": CANCELLED, "valid_until": on - timedelta(days=1)})
            out.append((mine, {"registrations": [*kept, ended]}))
    return out
