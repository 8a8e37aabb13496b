"""Construction permit applications (施工许可, 住建部令第18号): preconditions, statutory clock, permit numbers, locks.

The workflow itself runs on Step Functions (infra/statemachines/permit_application.asl.json); this module holds
the pure rules each step applies.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain.codetables import safety_cert_types
from chalicelib.domain.records import RecordState

_DATA = Path(__file__).resolve().parent.parent / "data" / "permit_rules.json"


class PermitState(StrEnum):
    SUBMITTED = "SUBMITTED"  # 已申请，自动检查中
    INCOMPLETE = "INCOMPLETE"  # 材料不全，待补正
    UNDER_REVIEW = "UNDER_REVIEW"  # 主管部门审查中
    ESCALATED = "ESCALATED"  # 逾期，上级主管部门审查中
    ISSUED = "ISSUED"  # 已发证
    COMPLETED = "COMPLETED"  # 已竣工验收备案
    REJECTED = "REJECTED"  # 不予许可
    ABANDONED = "ABANDONED"  # 逾期未补正
    FAILED = "FAILED"  # 流程异常
    SUSPENDED = "SUSPENDED"  # 中止施工
    LAPSED = "LAPSED"  # 逾期未开工，自行废止


STATE_LABELS = {
    PermitState.SUBMITTED: "已申请，自动检查中",
    PermitState.INCOMPLETE: "材料不全，待补正",
    PermitState.UNDER_REVIEW: "审查中",
    PermitState.ESCALATED: "已提交上级审查",
    PermitState.ISSUED: "已发证",
    PermitState.COMPLETED: "已竣工验收备案",
    PermitState.REJECTED: "不予许可",
    PermitState.ABANDONED: "逾期未补正",
    PermitState.FAILED: "流程异常",
    PermitState.SUSPENDED: "中止施工",
    PermitState.LAPSED: "已废止（逾期未开工）",
}


class PermitExtension(BaseModel):
    """延期申请: applied for before the start deadline, decided by the issuing authority (发证机关)."""

    months: int = Field(ge=1)
    reason: str
    requested_on: str
    approved: bool | None = None
    decided_by: str | None = None
    decided_on: str | None = None
    decision_reason: str | None = None


class PermitApplication(BaseModel):
    application_id: str
    prj_num: str
    project_name: str | None = None
    region_code: str
    applicant_uscc: str
    construction_uscc: str = Field(description="施工单位")
    supervision_uscc: str | None = Field(default=None, description="监理单位")
    project_manager: str = Field(description="项目经理（人员标识）")
    safety_persons: list[str] = Field(default_factory=list, description="安全生产管理人员（三类人员，人员标识）")
    chief_engineer: str | None = Field(default=None, description="总监理工程师（人员标识）")
    contract_price: Decimal = Field(ge=0, description="合同价格（万元）")
    area: Decimal = Field(ge=0, description="建筑面积（平方米）")
    exempt_reason: str | None = None
    applied_on: str
    state: PermitState = PermitState.SUBMITTED
    version: int = 1
    missing: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list, description="提示审查人员注意的情况（不阻止办理）")
    task_token: str | None = None  # stored server-side, never returned by the API
    task_step: str | None = None
    review_level: str | None = None
    decision_deadline: str | None = None
    clock_started_on: str | None = Field(default=None, description="法定期限起算日（受理或补正齐全之日）")
    notice_issued_on: str | None = Field(default=None, description="一次性告知补正材料的日期")
    notice_due_by: str | None = Field(default=None, description="应当告知的最后日期（5个工作日）")
    provisional_years: list[int] = Field(
        default_factory=list, description="期限计算经过的、尚未载入节假日安排的年份（期限待复核）"
    )
    permit_no: str | None = None
    issued_on: str | None = None
    verification_id: str | None = None  # unguessable; printed as the QR code, resolved by the public API
    prints: int = 0
    completion_no: str | None = None
    completed_on: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    # after issue (令第18号 第八条至第十条)
    start_deadline: str | None = Field(default=None, description="应当开工的最后日期")
    started_on: str | None = None
    extensions: list[PermitExtension] = Field(default_factory=list)
    cert_version: int = Field(default=1, description="证书版次；每次批准延期重新核发")
    suspended_on: str | None = None
    suspension_reason: str | None = None
    suspension_reported_late: bool = False
    resumed_on: str | None = None
    resume_checked_by: str | None = None
    lapsed_on: str | None = None
    lapse_notice: str | None = None
    created_at: str
    updated_at: str

    def public_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"task_token"})


@cache
def rules() -> dict[str, Any]:
    return json.loads(_DATA.read_text("utf-8"))


def _dated(entries: list[dict[str, Any]], on: date) -> dict[str, Any]:
    current = None
    for e in sorted(entries, key=lambda e: e["from"]):
        if date.fromisoformat(e["from"]) <= on:
            current = e
    if current is None:
        raise ValueError(f"no rule in force on {on}")
    return current


def threshold(on: date) -> dict[str, Any]:
    return _dated(rules()["thresholds"], on)


def decision_days(on: date) -> int:
    return int(_dated(rules()["decision_working_days"], on)["days"])


def check_preconditions(
    app: PermitApplication,
    *,
    project: Any,
    construction: Any,
    manager: Any,
    supervision: Any,
    chief: Any,
    manager_locked_by: str | None,
    on: date,
    safety: list[Any] | None = None,
) -> list[str]:
    """令第18号 第四条 and domain.md §7.6, as far as the platform holds the data: each failure named in Chinese."""
    missing: list[str] = []
    category = getattr(project, "category", None)
    need = rules()["category_requirements"].get(category or "")
    category_name = need["label"] if need else ""
    if project is None or project.state != RecordState.CONFIRMED:
        missing.append("工程项目未经主管部门确认入库")
    if construction is None or construction.state != RecordState.CONFIRMED:
        missing.append("施工单位未经确认入库")
    else:
        valid = [
            c
            for c in construction.qualifications
            if c.valid_until and c.valid_until >= on and any((i.code or "").startswith("D") for i in c.items)
        ]
        if not valid:
            missing.append("施工单位无有效的建筑业企业资质证书")
        elif need and not any(
            (i.code or "").startswith(tuple(need["qualification_prefixes"])) for c in valid for i in c.items
        ):
            missing.append(f"施工单位的资质不含{category_name}施工总承包资质")
        lic = construction.safety_licence
        if lic is None or lic.valid_until is None or lic.valid_until < on:
            missing.append("施工单位安全生产许可证不存在或已过期")
    if manager is None or manager.state != RecordState.CONFIRMED:
        missing.append("项目经理不是施工单位已确认的注册人员")
    elif not any(
        (r.reg_type or "").startswith("JZS") and (r.valid_until is None or r.valid_until >= on)
        for r in manager.registrations
    ):
        missing.append("项目经理不是有效注册的注册建造师")
    elif need and not any(
        sp in need["manager_specialties"]
        for r in manager.registrations
        if (r.reg_type or "").startswith("JZS")
        for sp in (r.specialties or [])
    ):
        missing.append(f"项目经理的注册专业与工程类别（{category_name}）不符")
    if manager_locked_by and manager_locked_by != app.prj_num:
        missing.append(f"项目经理已被在建项目{manager_locked_by}锁定")
    if app.supervision_uscc and (supervision is None or supervision.state != RecordState.CONFIRMED):
        missing.append("监理单位未经确认入库")
    if app.chief_engineer and (chief is None or not any(r.reg_type == "JL" for r in chief.registrations)):
        missing.append("总监理工程师不是监理单位的注册监理工程师")
    missing += safety_gaps([manager, *(safety or [])], on)
    limit = threshold(on)
    below = app.contract_price <= Decimal(str(limit["investment_wan"])) or app.area <= Decimal(str(limit["area_m2"]))
    if below and not app.exempt_reason:
        missing.append(
            f"工程投资额{app.contract_price}万元或建筑面积{app.area}平方米未超过限额"
            f"（{limit['investment_wan']}万元/{limit['area_m2']}平方米），无需办理施工许可或请说明理由"
        )
    return missing


def safety_gaps(people: list[Any], on: date) -> list[str]:
    """三类人员: at least one confirmed person with a valid certificate of each required category (A/B/C)."""
    held = {
        cert.category
        for person in people
        if person is not None and person.state == RecordState.CONFIRMED
        for cert in getattr(person, "safety_certs", []) or []
        if cert.valid_until is None or cert.valid_until >= on
    }
    return [
        f"缺少持有效安全生产考核合格证书的{safety_cert_types().name(c)}（{c}证）"
        for c in rules()["safety_cert_categories_required"]
        if c not in held
    ]


def splitting_flag(app: PermitApplication, related: list[PermitApplication], on: date) -> str | None:
    """分解工程规避施工许可: this application is under the threshold, but together with the same applicant's other
    applications for the same project or the same site it is not. A flag for the reviewing official, not a refusal."""
    limit = threshold(on)
    price_limit, area_limit = Decimal(str(limit["investment_wan"])), Decimal(str(limit["area_m2"]))
    if app.contract_price > price_limit and app.area > area_limit:
        return None
    others = [r for r in related if r.application_id != app.application_id and r.state != PermitState.REJECTED]
    if not others:
        return None
    price = app.contract_price + sum((r.contract_price for r in others), Decimal(0))
    area = app.area + sum((r.area for r in others), Decimal(0))
    if price > price_limit and area > area_limit:
        return (
            f"疑似分解工程规避施工许可：同一建设单位在同一项目或地点另有{len(others)}项申请，"
            f"合计合同价格{price}万元、建筑面积{area}平方米，超过限额"
        )
    return None


def permit_number(county: str, day: date, seq: int) -> str:
    """6-digit county + 8-digit date + 4-digit sequence (the Zhejiang shape, domain.md §4.6)."""
    return f"{county}{day.strftime('%Y%m%d')}{seq:04d}"


def seconds_until(deadline: date, now: datetime) -> int:
    end = datetime.combine(deadline + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    return max(60, int((end - now).total_seconds()))


# ---- after issue ----------------------------------------------------------------------------------------------

AFTER_ISSUE = {
    # action: (states it may start from, state it leads to)
    "start": ({PermitState.ISSUED}, PermitState.ISSUED),
    "request_extension": ({PermitState.ISSUED}, PermitState.ISSUED),
    "decide_extension": ({PermitState.ISSUED, PermitState.LAPSED}, PermitState.ISSUED),
    "suspend": ({PermitState.ISSUED}, PermitState.SUSPENDED),
    "resume": ({PermitState.SUSPENDED}, PermitState.ISSUED),
    "lapse": ({PermitState.ISSUED}, PermitState.LAPSED),
    "complete": ({PermitState.ISSUED}, PermitState.COMPLETED),
}


class TransitionRefused(ValueError):
    """An after-issue action not allowed now; the message is for the user (Chinese)."""


def after_issue_rules() -> dict[str, Any]:
    return rules()["after_issue"]


def add_months(d: date, months: int) -> date:
    from dateutil.relativedelta import relativedelta

    return d + relativedelta(months=months)


def start_deadline(issued_on: date, granted_months: list[int]) -> date:
    """Start within 3 months of issue, plus every granted extension (令第18号 第九条)."""
    return add_months(issued_on, int(after_issue_rules()["start_within_months"]) + sum(granted_months))


def granted(app: PermitApplication) -> list[PermitExtension]:
    return [e for e in app.extensions if e.approved]


def pending_extension(app: PermitApplication) -> PermitExtension | None:
    return next((e for e in app.extensions if e.approved is None), None)


def require(app: PermitApplication, action: str) -> PermitState:
    allowed, target = AFTER_ISSUE[action]
    if app.state not in allowed:
        raise TransitionRefused(f"施工许可证当前状态为“{STATE_LABELS[app.state]}”，不能办理此事项")
    return target


def check_extension_request(app: PermitApplication, months: int, today: date) -> None:
    r = after_issue_rules()
    require(app, "request_extension")
    if app.started_on:
        raise TransitionRefused("工程已开工，无需延期")
    if pending_extension(app):
        raise TransitionRefused("已有待审核的延期申请")
    if len(granted(app)) >= int(r["max_extensions"]):
        raise TransitionRefused(f"延期以{r['max_extensions']}次为限，已不能再申请延期")
    if not 1 <= months <= int(r["extension_max_months"]):
        raise TransitionRefused(f"每次延期不超过{r['extension_max_months']}个月")
    if app.start_deadline and today > date.fromisoformat(app.start_deadline):
        raise TransitionRefused(f"应在开工期限（{app.start_deadline}）届满前申请延期，已逾期")


def lapses(app: PermitApplication, today: date) -> bool:
    """自行废止: not started by the deadline, and no extension waiting for the authority's decision."""
    return (
        app.state == PermitState.ISSUED
        and not app.started_on
        and app.start_deadline is not None
        and today > date.fromisoformat(app.start_deadline)
        and pending_extension(app) is None
    )


def lapse_notice(app: PermitApplication) -> str:
    return (
        f"施工许可证{app.permit_no}（{app.project_name or app.prj_num}）自核发之日起至{app.start_deadline}未开工，"
        "且未获批准延期，依据《建筑工程施工许可管理办法》该施工许可证自行废止。如需施工，请重新申请领取施工许可证。"
    )


def suspension_late(stopped_on: date, reported_on: date) -> bool:
    """中止施工之日起一个月内报告."""
    return (reported_on - stopped_on).days > int(after_issue_rules()["suspension_report_days"])


def resume_needs_check(suspended_on: date, resumed_on: date) -> bool:
    """中止施工满一年的工程恢复施工前，应当报发证机关核验施工许可证."""
    return (resumed_on - suspended_on).days >= int(after_issue_rules()["resume_check_after_days"])
