"""Using the registries as the single source of truth (2015 notice §三(三) 数据应用): pure rules.

- 资质申请平台数据审查: an enterprise's qualification application checked against the platform's confirmed data —
  registered personnel by registration type and specialty, achievements (业绩) from confirmed projects it completed,
  the safety production licence, open bad-behaviour records — each requirement met or not, with its evidence.
- 评优评先: only registered projects with complete information may apply for a provincial award.

Requirement tables are data (`data/qualification_requirements.json`, `data/award_rules.json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from chalicelib.domain import codetables
from chalicelib.domain.clock import add_years
from chalicelib.domain.enterprise import Enterprise
from chalicelib.domain.person import RegisteredPerson
from chalicelib.domain.records import STATE_LABELS, RecordState


@cache
def qualification_rules() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("qualification_requirements.json").read_text("utf-8"))


@cache
def award_rules() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("award_rules.json").read_text("utf-8"))


@dataclass
class Requirement:
    key: str
    label: str
    required: Any
    actual: Any
    met: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)


def held_codes(e: Enterprise, on: date) -> set[str]:
    return {item.code for cert in e.qualifications if cert.valid_on(on) for item in cert.items if item.status != "注销"}


def _class_name(cls: str | None) -> str:
    """资质类别 by name (D101 → 建筑工程施工总承包), from the qualification classes table."""
    entry = codetables.load_table("qualification_classes").get(cls) if cls else None
    return entry.name if entry else (cls or "")


def application_gaps(
    e: Enterprise | None, kind: str, target: str, missing_fields: list[str], on: date, *, need_standard: bool = True
) -> list[str]:
    """Why an application cannot be accepted on the platform's data (empty: it can). Without `need_standard`, a
    target without a platform standard is no gap (the authority reviews it on the application's materials)."""
    rules = qualification_rules()
    if kind not in rules["kinds"]:
        return [f"申请类型“{kind}”无效，应为：{'、'.join(rules['kinds'].values())}"]
    if e is None:
        return ["企业不在平台企业库中，请先登记并经主管部门确认"]
    gaps = []
    if e.state != RecordState.CONFIRMED:
        gaps.append(f"企业信息尚未经主管部门确认（当前状态：{STATE_LABELS[e.state]}），未进入基础库的企业不能申请资质")
    if missing_fields:
        gaps.append("企业信息不完整，缺少：" + "、".join(missing_fields))
    entry = codetables.qualification_codes().get(target)
    if entry is None:
        gaps.append(f"资质代码“{target}”不在代码表中")
        return gaps
    if need_standard and target not in rules["requirements"]:
        gaps.append(f"“{entry.name}”暂无平台数据审查标准，请联系系统管理员配置")
    held = held_codes(e, on)
    cls = entry.extra.get("class")
    same_class = {c for c in held if (codetables.qualification_codes().get(c) or entry).extra.get("class") == cls}
    if kind in ("RENEWAL", "CHANGE", "REASSESSMENT", "REPLACEMENT", "CANCELLATION") and target not in held:
        gaps.append(f"企业未持有有效的“{entry.name}”资质，不能申请{rules['kinds'][kind]}")
    if kind == "UPGRADE" and not same_class:
        gaps.append(f"升级申请须已持有同类别较低等级资质（{_class_name(cls)}）")
    if kind == "UPGRADE" and target in held:
        gaps.append(f"企业已持有“{entry.name}”")
    if kind in ("NEW", "ADD") and same_class:
        names = "、".join(codetables.qualification_codes().name(c) for c in sorted(same_class))
        gaps.append(f"企业已持有该类别资质（{names}），应申请升级或延续")
    return gaps


def review_qualification(
    e: Enterprise,
    target: str,
    persons: list[RegisteredPerson],
    achievements: list[dict[str, Any]],
    bad_records: list[dict[str, Any]],
    on: date,
) -> list[Requirement]:
    """Each requirement of the target qualification, against confirmed platform data, with its evidence."""
    rule = qualification_rules()["requirements"][target]
    out: list[Requirement] = []
    confirmed = [p for p in persons if p.state == RecordState.CONFIRMED and p.employer_uscc == e.uscc]
    specialties = codetables.load_table("registration_specialties")
    for need in rule.get("personnel", []):
        # the requirement names a specialty (建筑工程); registrations store its code (JZS01)
        wanted = {need["specialty"]} | {e.code for e in specialties.entries if e.name == need["specialty"]}
        counted = []
        for p in confirmed:
            for reg in p.registrations:
                valid = reg.valid_until is None or reg.valid_until >= on
                if reg.reg_type in need["reg_types"] and wanted & set(reg.specialties) and valid:
                    counted.append(
                        {
                            "person_key": p.person_key,
                            "name": p.name,
                            "reg_type": reg.reg_type,
                            "registration_cert_no": reg.registration_cert_no,
                            "valid_until": reg.valid_until.isoformat() if reg.valid_until else None,
                        }
                    )
                    break
        out.append(
            Requirement(
                key=f"personnel:{'/'.join(need['reg_types'])}:{need['specialty']}",
                label=f"{need['label']}不少于{need['min']}人",
                required=need["min"],
                actual=len(counted),
                met=len(counted) >= need["min"],
                evidence=counted,
            )
        )
    ach = rule.get("achievements")
    if ach:
        since = add_years(on, -int(ach["years"]))
        counted = [
            a
            for a in achievements
            if a.get("category") in ach["categories"]
            and a.get("completed_on")
            and a["completed_on"] >= since.isoformat()
        ]
        out.append(
            Requirement(
                key="achievements",
                label=f"{ach['label']}不少于{ach['min']}项",
                required=ach["min"],
                actual=len(counted),
                met=len(counted) >= ach["min"],
                evidence=counted,
            )
        )
    cap = rule.get("capital")
    if cap:
        have = float(e.registered_capital) if e.registered_capital is not None else 0.0
        out.append(
            Requirement(
                key="capital",
                label=f"{cap['label']}不少于{cap['min']}万元",
                required=cap["min"],
                actual=have,
                met=have >= float(cap["min"]),
                evidence=[{"registered_capital": have}],
            )
        )
    if rule.get("safety_licence"):
        lic = e.safety_licence
        valid = bool(lic and lic.licence_no and (lic.valid_until is None or lic.valid_until >= on))
        out.append(
            Requirement(
                key="safety_licence",
                label="安全生产许可证在有效期内",
                required=True,
                actual=lic.valid_until.isoformat() if lic and lic.valid_until else None,
                met=valid,
                evidence=[{"licence_no": lic.licence_no, "valid_until": str(lic.valid_until)}] if lic else [],
            )
        )
    limit = int(rule.get("max_open_bad_records", 0))
    out.append(
        Requirement(
            key="bad_records",
            label="无公开期内的不良行为记录" if limit == 0 else f"公开期内的不良行为记录不超过{limit}条",
            required=limit,
            actual=len(bad_records),
            met=len(bad_records) <= limit,
            evidence=bad_records,
        )
    )
    return out


def award_gaps(award: str, project: Any | None, stages: list[Any], permits: list[Any]) -> list[str]:
    """What keeps a project from applying for an award (empty: eligible)."""
    rules = award_rules()["awards"]
    if award not in rules:
        choices = "、".join(f"{k} {v['label']}" for k, v in rules.items())
        return [f"奖项代码“{award}”无效，应为：{choices}"]
    rule = rules[award]
    if project is None:
        return ["项目不在平台项目库中，未登记的项目不能申报"]
    gaps = []
    if project.state != RecordState.CONFIRMED:
        gaps.append(f"项目信息尚未经主管部门确认（当前状态：{STATE_LABELS[project.state]}）")
    labels = {name: (f.title or name) for name, f in type(project).model_fields.items()}
    missing = [labels.get(f, f) for f in rule["project_fields"] if getattr(project, f, None) in (None, "", [])]
    if missing:
        gaps.append("项目信息不完整，缺少：" + "、".join(missing))
    confirmed_kinds = {str(s.kind) for s in stages if str(s.state) == "CONFIRMED"}
    stage_labels = {
        "tender": "中标信息",
        "contract": "合同备案",
        "drawing_review": "施工图审查",
        "supervision_registration": "质量安全监督登记",
    }
    for kind in rule["stages"]:
        if kind not in confirmed_kinds:
            gaps.append(f"缺少经核查的{stage_labels.get(kind, kind)}")
    ok = [p for p in permits if str(p.state) in rule["permit_states"]]
    if not ok:
        gaps.append("施工许可状态不符合申报条件（须为：" + "、".join(rule["permit_states"]) + "）")
    elif rule.get("started") and not any(p.started_on for p in ok):
        gaps.append("项目尚未报告开工")
    return gaps
