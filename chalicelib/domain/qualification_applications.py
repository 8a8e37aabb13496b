"""资质电子化网上申报: an enterprise's qualification application, routed by authority and decided on platform data.

Kinds (申请类型): 首次申请, 升级, 增项, 延续, 重新核定, 变更, 遗失补办, 注销. Who accepts (受理) and who decides (审批)
each kind and grade, the decision limit in working days and the public notice (公示) are data
(`data/qualification_routing.json`, unverified [U]). The statutory clock runs in working days from acceptance and is
paused while a supplement request (补正) is in the enterprise's court. Lifecycle:

    SUBMITTED ──accept──▶ ACCEPTED ──request_supplement──▶ SUPPLEMENT_REQUESTED ──answer──▶ ACCEPTED
        │                   │  ├──start_notice──▶ PUBLIC_NOTICE ──approve──▶ APPROVED
        │                   │  ├──approve──▶ APPROVED (no notice required)      └──reject──▶ REJECTED
        │                   │  ├──reject──▶ REJECTED
        │                   │  └──forward──▶ FORWARDED (报住房和城乡建设部)
        └──refuse──▶ REFUSED (不予受理)        SUBMITTED/ACCEPTED/SUPPLEMENT_REQUESTED ──withdraw──▶ WITHDRAWN
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from chalicelib.domain import codetables
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


KIND_LABELS = {
    ApplicationKind.NEW: "首次申请",
    ApplicationKind.UPGRADE: "升级",
    ApplicationKind.ADD: "增项",
    ApplicationKind.RENEWAL: "延续",
    ApplicationKind.REASSESSMENT: "重新核定",
    ApplicationKind.CHANGE: "变更",
    ApplicationKind.REPLACEMENT: "遗失补办",
    ApplicationKind.CANCELLATION: "注销",
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
    for rec in bad_records:
        code = getattr(rec, "behaviour_code", None) or ""
        if prefixes and code.startswith(prefixes):
            out.append(
                {
                    "key": "bad_record",
                    "reason": f"存在公开期内的不良行为记录（{code}：{getattr(rec, 'content', '')}，"
                    f"公开至{getattr(rec, 'publish_end', '')}）",
                }
            )
    return out
