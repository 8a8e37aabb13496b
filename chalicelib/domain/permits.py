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

from chalicelib.domain.clock import add_months
from chalicelib.domain.codetables import safety_cert_types
from chalicelib.domain.fields import RequiredProjectNumber, RequiredUscc, Uscc
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


# States in which the application's workflow execution is still running (waiting on a check, a completion or a
# decision); after a local restart these are driven again (PermitService.recover_workflows).
OPEN_WORKFLOW = frozenset(
    {PermitState.SUBMITTED, PermitState.INCOMPLETE, PermitState.UNDER_REVIEW, PermitState.ESCALATED}
)

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


class CompletionDetails(BaseModel):
    """竣工验收备案 (TBProjectFinishManage): what was actually built, as filed at completion."""

    fact_cost: Decimal | None = Field(default=None, ge=0, description="实际造价（万元）")
    fact_area: Decimal | None = Field(default=None, ge=0, description="实际面积（平方米）")
    fact_size: str | None = Field(default=None, max_length=500, description="实际建设规模")
    structure_type: str | None = Field(default=None, pattern=r"^\d{3}$", description="结构体系代码")
    qc_corp_name: str | None = Field(default=None, max_length=200, description="质量检测机构名称")
    qc_corp_uscc: Uscc = Field(default=None, description="质量检测机构统一社会信用代码")
    started_on: date | None = Field(default=None, description="实际开工日期")
    remarks: str | None = Field(default=None, max_length=500, description="备注")


class PreconditionCheck(BaseModel):
    """One condition of 令第18号 第四条 as checked for an application: where the answer came from, and the result."""

    item: str = Field(description="条款，如 第四条（一）")
    title: str
    source: str = Field(description="平台数据 / 申请人提交 / 申请人承诺 / 不适用 / 由审查人员核实")
    ok: bool
    detail: str


class LaterFinding(BaseModel):
    """A gap found after the one-time notice (一次性告知) because the facts changed (a licence expired, a record was
    reopened): recorded as a documented exception to the single notice, never as a second notice."""

    found_on: str
    item: str


class PermitApplication(BaseModel):
    application_id: str
    prj_num: RequiredProjectNumber
    project_name: str | None = None
    region_code: str
    applicant_uscc: RequiredUscc
    construction_uscc: RequiredUscc = Field(description="施工单位")
    supervision_uscc: Uscc = Field(default=None, description="监理单位")
    project_manager: str = Field(description="项目经理（人员标识）")
    safety_persons: list[str] = Field(default_factory=list, description="安全生产管理人员（三类人员，人员标识）")
    chief_engineer: str | None = Field(default=None, description="总监理工程师（人员标识）")
    contract_price: Decimal = Field(ge=0, description="合同价格（万元）")
    area: Decimal = Field(ge=0, description="建筑面积（平方米）")
    exempt_reason: str | None = None
    contract_start: date | None = Field(default=None, description="合同开工日期")
    contract_end: date | None = Field(default=None, description="合同竣工日期")
    land_use_exempt_reason: str | None = Field(default=None, description="依法无需办理用地批准手续的理由")
    planning_exempt_reason: str | None = Field(default=None, description="依法无需取得建设工程规划许可证的理由")
    site_ready: bool = Field(default=False, description="申请人承诺：施工场地已经基本具备施工条件")
    funds_committed: bool = Field(default=False, description="申请人承诺：建设资金已经落实（承诺书）")
    funds_in_place: Decimal | None = Field(default=None, ge=0, description="到位资金（万元，2018年9月28日前的申请）")
    remarks: str | None = Field(default=None, max_length=500, description="备注（印于证书）")
    applied_on: str
    state: PermitState = PermitState.SUBMITTED
    version: int = 1
    missing: list[str] = Field(default_factory=list)
    checks: list[PreconditionCheck] = Field(default_factory=list, description="第四条逐项检查结果")
    notice_items: list[str] = Field(default_factory=list, description="一次性告知的补正事项（告知后不再变更）")
    later_findings: list[LaterFinding] = Field(
        default_factory=list, description="告知后因情况变化发现的事项（一次性告知的例外，逐项记录）"
    )
    flags: list[str] = Field(default_factory=list, description="提示审查人员注意的情况（不阻止办理）")
    task_token: str | None = None  # stored server-side, never returned by the API
    task_step: str | None = None
    execution: str | None = Field(default=None, description="当前流程实例名（重启后重新驱动时变更）")
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
    completion: CompletionDetails | None = Field(default=None, description="竣工验收备案的实际数据")
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
    """The entry with the latest `from` on or before `on`; before the first entry, the first one (every date has a
    rule: an application dated before the oldest rule the platform holds is judged by that oldest rule)."""
    ordered = sorted(entries, key=lambda e: e["from"])
    current = ordered[0]
    for e in ordered:
        if date.fromisoformat(e["from"]) <= on:
            current = e
    return current


def _in_period(entries: list[dict[str, Any]], on: date) -> dict[str, Any] | None:
    """The entry whose [from, to] (to inclusive; null = open) contains `on`, or None."""
    for e in entries:
        if date.fromisoformat(e["from"]) <= on and (e.get("to") is None or on <= date.fromisoformat(e["to"])):
            return e
    return None


def below_threshold(price: Decimal, area: Decimal, on: date) -> bool:
    """Exempt from the permit (可以不申请): investment or area under the dated limit. Whether the limit itself is
    exempt is part of the rule: the national 30万元/300平方米 "以下" includes it, Zhejiang's 200万元/1000平方米 does not."""
    limit = threshold(on)
    price_limit, area_limit = Decimal(str(limit["investment_wan"])), Decimal(str(limit["area_m2"]))
    if limit.get("inclusive", True):
        return price <= price_limit or area <= area_limit
    return price < price_limit or area < area_limit


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
    below = below_threshold(app.contract_price, app.area, on)
    if below and not app.exempt_reason:
        missing.append(
            f"工程投资额{app.contract_price}万元或建筑面积{app.area}平方米未超过限额"
            f"（{limit['investment_wan']}万元/{limit['area_m2']}平方米），无需办理施工许可或请说明理由"
        )
    return missing


def _article4() -> dict[str, Any]:
    return rules()["article4"]


def contract_within_one_year(app: PermitApplication) -> bool | None:
    if app.contract_start is None or app.contract_end is None:
        return None
    return app.contract_end < add_months(app.contract_start, 12)


def article4_checks(
    app: PermitApplication, *, project: Any, on: date, other_gaps: dict[str, list[str]]
) -> list[PreconditionCheck]:
    """令第18号 第四条, item by item, each with its source. `other_gaps` are the findings of the checks that read
    the registries and stage records, by item: (四) enterprise, personnel and contracts, (五) drawing review,
    (六) quality and safety supervision."""
    applied = date.fromisoformat(app.applied_on)
    out: list[PreconditionCheck] = []

    land = getattr(project, "land_plan_permit_no", None)
    if land:
        out.append(
            PreconditionCheck(
                item="第四条（一）",
                title="用地批准手续",
                source="平台数据",
                ok=True,
                detail=f"工程项目库：建设用地规划许可证号{land}",
            )
        )
    elif app.land_use_exempt_reason:
        out.append(
            PreconditionCheck(
                item="第四条（一）",
                title="用地批准手续",
                source="申请人提交",
                ok=True,
                detail=f"申请人说明依法无需办理：{app.land_use_exempt_reason}",
            )
        )
    else:
        out.append(
            PreconditionCheck(
                item="第四条（一）",
                title="用地批准手续",
                source="平台数据",
                ok=False,
                detail="未办理用地批准手续：工程项目未登记建设用地规划许可证号，也未说明依法无需办理的理由",
            )
        )

    plan = getattr(project, "project_plan_permit_no", None)
    if plan:
        out.append(
            PreconditionCheck(
                item="第四条（二）",
                title="建设工程规划许可证",
                source="平台数据",
                ok=True,
                detail=f"工程项目库：建设工程规划许可证号{plan}",
            )
        )
    elif app.planning_exempt_reason:
        out.append(
            PreconditionCheck(
                item="第四条（二）",
                title="建设工程规划许可证",
                source="申请人提交",
                ok=True,
                detail=f"申请人说明无需取得（如不在城市、镇规划区内）：{app.planning_exempt_reason}",
            )
        )
    else:
        out.append(
            PreconditionCheck(
                item="第四条（二）",
                title="建设工程规划许可证",
                source="平台数据",
                ok=False,
                detail="未取得建设工程规划许可证：工程项目未登记建设工程规划许可证号，也未说明无需取得的理由",
            )
        )

    out.append(
        PreconditionCheck(
            item="第四条（三）",
            title="施工场地具备施工条件",
            source="申请人承诺",
            ok=app.site_ready,
            detail="申请人承诺施工场地已经基本具备施工条件，需要征收房屋的，其进度符合施工要求"
            if app.site_ready
            else "申请人未承诺施工场地已经基本具备施工条件",
        )
    )

    for item, title in (
        ("第四条（四）", "已经确定施工企业"),
        ("第四条（五）", "施工图设计文件已按规定审查合格"),
        ("第四条（六）", "保证工程质量和安全的具体措施"),
    ):
        gaps = other_gaps.get(item, [])
        out.append(
            PreconditionCheck(
                item=item,
                title=title,
                source="平台数据",
                ok=not gaps,
                detail="；".join(gaps) if gaps else "平台数据核对一致",
            )
        )

    rule = _in_period(_article4()["supervision_required"], applied)
    if rule is None:
        out.append(
            PreconditionCheck(
                item="第四条（七）",
                title="委托监理",
                source="不适用",
                ok=True,
                detail="该项已于2018年9月28日删除（令第42号）",
            )
        )
    else:
        needed = app.contract_price >= Decimal(str(rule["min_investment_wan"]))
        ok = (not needed) or bool(app.supervision_uscc)
        out.append(
            PreconditionCheck(
                item="第四条（七）",
                title="委托监理",
                source="平台数据",
                ok=ok,
                detail=("已委托监理" if app.supervision_uscc else "按规定无需委托监理")
                if ok
                else f"按规定应当委托监理的工程（{rule['min_investment_wan']}万元以上）未委托监理",
            )
        )

    funds = _in_period(_article4()["funds"], applied)
    if funds is None or funds["kind"] == "commitment":
        out.append(
            PreconditionCheck(
                item="第四条（八）",
                title="建设资金已经落实",
                source="申请人承诺",
                ok=app.funds_committed,
                detail="建设单位已提交建设资金已经落实承诺书"
                if app.funds_committed
                else "未提交建设资金已经落实承诺书",
            )
        )
    else:
        short = contract_within_one_year(app)
        if short is None:
            out.append(
                PreconditionCheck(
                    item="第四条（八）",
                    title="建设资金已经落实",
                    source="申请人提交",
                    ok=False,
                    detail="请填写合同开工、竣工日期，以确定到位资金比例",
                )
            )
        else:
            share = Decimal(str(funds["share_within_one_year" if short else "share_over_one_year"]))
            need = (app.contract_price * share).quantize(Decimal("0.01"))
            have = app.funds_in_place or Decimal(0)
            out.append(
                PreconditionCheck(
                    item="第四条（八）",
                    title="建设资金已经落实",
                    source="申请人提交",
                    ok=have >= need,
                    detail=f"到位资金{have}万元，应不少于合同价的{int(share * 100)}%（{need}万元）",
                )
            )

    out.append(
        PreconditionCheck(
            item="第四条（九）",
            title="法律、行政法规规定的其他条件",
            source="由审查人员核实",
            ok=True,
            detail="平台无对应数据，由审查人员核实",
        )
    )
    return out


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
    if not below_threshold(app.contract_price, app.area, on):
        return None
    others = [r for r in related if r.application_id != app.application_id and r.state != PermitState.REJECTED]
    if not others:
        return None
    price = app.contract_price + sum((r.contract_price for r in others), Decimal(0))
    area = app.area + sum((r.area for r in others), Decimal(0))
    if not below_threshold(price, area, on):
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


def start_deadline(issued_on: date, granted_months: list[int]) -> date:
    """Start within 3 months of issue (令第18号 第九条); each granted extension moves the deadline then in force by its
    months (2025-11-30: deadline 2026-02-28, extended by 3 months to 2026-05-28 — not issue date + 6 months)."""
    deadline = add_months(issued_on, int(after_issue_rules()["start_within_months"]))
    for months in granted_months:
        deadline = add_months(deadline, months)
    return deadline


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
    """中止施工之日起一个月内报告: on time up to the same day of the next month (03-01 -> 04-01; 01-31 -> 02-28)."""
    return reported_on > add_months(stopped_on, int(after_issue_rules()["suspension_report_months"]))


def resume_needs_check(suspended_on: date, resumed_on: date) -> bool:
    """中止施工满一年的工程恢复施工前，应当报发证机关核验施工许可证: a full calendar year (2024-02-29 -> 2025-02-28)."""
    return resumed_on >= add_months(suspended_on, int(after_issue_rules()["resume_check_after_months"]))


# ---- the procedure as the applicant and the official know it (not the workflow engine's states) -------------------

BUSINESS_STEPS = ("申请", "条件审查", "补正", "审查决定", "发证", "开工", "竣工")


def business_steps(app: PermitApplication) -> list[dict[str, Any]]:
    """申请 → 条件审查 → 补正 → 审查决定 → 发证 → 开工 → 竣工, each done / current / todo / skipped / stopped, with
    its date where the record has one."""
    s = app.state
    refused = s in (PermitState.REJECTED, PermitState.ABANDONED, PermitState.FAILED)
    decided = s not in (PermitState.SUBMITTED, PermitState.INCOMPLETE, PermitState.UNDER_REVIEW, PermitState.ESCALATED)
    issued = bool(app.permit_no)

    def step(name: str, status: str, on: str | None = None, note: str | None = None) -> dict[str, Any]:
        return {"name": name, "status": status, "date": on, "note": note}

    supplement = (
        step("补正", "current", app.notice_issued_on, "材料不全，待补正")
        if s == PermitState.INCOMPLETE
        else step("补正", "done", app.notice_issued_on, "已补正")
        if app.notice_issued_on and s != PermitState.ABANDONED
        else step("补正", "stopped", app.notice_issued_on, "逾期未补正")
        if s == PermitState.ABANDONED
        else step("补正", "skipped", None, "材料齐全，无需补正")
    )
    review_status = (
        "current"
        if s in (PermitState.UNDER_REVIEW, PermitState.ESCALATED)
        else ("done" if decided and not (s == PermitState.ABANDONED or s == PermitState.FAILED) else "todo")
    )
    review_note = (
        "上级主管部门审查" if s == PermitState.ESCALATED else ("不予许可" if s == PermitState.REJECTED else None)
    )
    after = "stopped" if refused else "todo"
    started = bool(app.started_on)
    return [
        step("申请", "done", app.applied_on),
        step("条件审查", "current" if s == PermitState.SUBMITTED else "done", app.clock_started_on),
        supplement,
        step("审查决定", "stopped" if s == PermitState.REJECTED else review_status, None, review_note),
        step("发证", "done" if issued else after, app.issued_on),
        step(
            "开工",
            "done" if started else ("current" if s == PermitState.ISSUED else after),
            app.started_on,
            "已废止（逾期未开工）" if s == PermitState.LAPSED else ("中止施工" if s == PermitState.SUSPENDED else None),
        ),
        step(
            "竣工",
            "done" if s == PermitState.COMPLETED else ("current" if started and s == PermitState.ISSUED else after),
            app.completed_on,
        ),
    ]
