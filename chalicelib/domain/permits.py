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
}


class PermitApplication(BaseModel):
    application_id: str
    prj_num: str
    project_name: str | None = None
    region_code: str
    applicant_uscc: str
    construction_uscc: str = Field(description="施工单位")
    supervision_uscc: str | None = Field(default=None, description="监理单位")
    project_manager: str = Field(description="项目经理（人员标识）")
    chief_engineer: str | None = Field(default=None, description="总监理工程师（人员标识）")
    contract_price: Decimal = Field(ge=0, description="合同价格（万元）")
    area: Decimal = Field(ge=0, description="建筑面积（平方米）")
    exempt_reason: str | None = None
    applied_on: str
    state: PermitState = PermitState.SUBMITTED
    version: int = 1
    missing: list[str] = Field(default_factory=list)
    task_token: str | None = None  # stored server-side, never returned by the API
    task_step: str | None = None
    review_level: str | None = None
    decision_deadline: str | None = None
    permit_no: str | None = None
    issued_on: str | None = None
    verification_id: str | None = None  # unguessable; printed as the QR code, resolved by the public API
    prints: int = 0
    completion_no: str | None = None
    completed_on: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
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


def add_working_days(start: date, days: int) -> date:
    """Statutory limits count working days: weekends and official holidays excluded, the State Council's adjusted
    working days included (chinesecalendar). Outside the calendar's years, weekends only."""
    import chinese_calendar

    d = start
    left = days
    while left > 0:
        d += timedelta(days=1)
        try:
            working = chinese_calendar.is_workday(d)
        except NotImplementedError:
            working = d.weekday() < 5
        if working:
            left -= 1
    return d


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
) -> list[str]:
    """令第18号 第四条 and domain.md §7.6, as far as the platform holds the data: each failure named in Chinese."""
    missing: list[str] = []
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
    if manager_locked_by and manager_locked_by != app.prj_num:
        missing.append(f"项目经理已被在建项目{manager_locked_by}锁定")
    if app.supervision_uscc and (supervision is None or supervision.state != RecordState.CONFIRMED):
        missing.append("监理单位未经确认入库")
    if app.chief_engineer and (chief is None or not any(r.reg_type == "JL" for r in chief.registrations)):
        missing.append("总监理工程师不是监理单位的注册监理工程师")
    limit = threshold(on)
    below = app.contract_price <= Decimal(str(limit["investment_wan"])) or app.area <= Decimal(str(limit["area_m2"]))
    if below and not app.exempt_reason:
        missing.append(
            f"工程投资额{app.contract_price}万元或建筑面积{app.area}平方米未超过限额"
            f"（{limit['investment_wan']}万元/{limit['area_m2']}平方米），无需办理施工许可或请说明理由"
        )
    return missing


def permit_number(county: str, day: date, seq: int) -> str:
    """6-digit county + 8-digit date + 4-digit sequence (the Zhejiang shape, domain.md §4.6)."""
    return f"{county}{day.strftime('%Y%m%d')}{seq:04d}"


def seconds_until(deadline: date, now: datetime) -> int:
    end = datetime.combine(deadline + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    return max(60, int((end - now).total_seconds()))
