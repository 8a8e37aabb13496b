"""The label layer (显示名称): every code a screen or a document shows, by its name, from the code tables and the
domain's own state vocabularies; every field by its Chinese title, also inside paths such as
`qualifications[0].cert_no` (diffs, supplement items, error reports). Pure data, built once per process.

The API keeps codes; clients render names with these maps (`GET /public/labels`), documents with `field_path_label`
and `region_name` directly.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Any

from pydantic import BaseModel

from chalicelib.domain import codetables
from chalicelib.domain.accounts import ACCOUNT_STATE_LABELS
from chalicelib.domain.identity import ROLE_LABELS

SEX_LABELS = {"1": "男", "2": "女", "0": "未知", "9": "未说明"}
CREDIT_KIND_LABELS = {"BAD": "不良行为", "GOOD": "良好行为"}
RECTIFICATION_STATE_LABELS = {"REQUESTED": "修复申请审核中", "APPROVED": "已准予信用修复", "REJECTED": "信用修复未通过"}
RECORD_TYPE_LABELS = {"enterprise": "企业", "person": "注册人员", "project": "工程项目"}
CREDIT_SOURCE_LABELS = {
    "FALSIFIED_DATA_CONFIRMATION": "数据核查确认虚假",
    "LATE_OR_MISSING_REPORT": "迟报、漏报",
    "ADMIN_PENALTY": "行政处罚",
    "AWARD": "获奖",
    "COMMENDATION": "表彰",
}
REQUEST_STATE_LABELS = {"DRAFT": "草稿", "SENT": "已发送", "ANSWERED": "已答复", "WITHDRAWN": "已撤回"}

_TABLES = (
    "economic_types",
    "qualification_types",
    "qualification_classes",
    "qualification_codes",
    "grades",
    "registration_types",
    "registration_specialties",
    "id_card_types",
    "project_categories",
    "project_natures",
    "project_uses",
    "approval_levels",
    "contract_types",
    "safety_cert_types",
    "credit_behaviours",
)


def region_name(code: str | None, on: date | None = None) -> str:
    """义乌市 for 330782; a city's or county's name as it was on `on` (a retired code keeps its last name)."""
    if not code:
        return ""
    if code == "330000":
        return "浙江省"
    return codetables.regions().name(code, on)


def region_full_name(code: str | None, on: date | None = None) -> str:
    """金华市义乌市: the county with its city (for documents and addresses)."""
    if not code:
        return ""
    name = region_name(code, on)
    if len(code) == 6 and not code.endswith("00"):
        city = region_name(code[:4] + "00", on)
        if city and city != code[:4] + "00" and not name.startswith(city):
            return city + name
    return name


@cache
def _authorities() -> dict[str, Any]:
    import json
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parents[1] / "data" / "authorities.json").read_text("utf-8"))


def authority_name(region: str | None, on: date | None = None) -> str:
    """The construction authority of a region as printed on documents (发证机关): 义乌市住房和城乡建设局
    (data/authorities.json: a pattern and the regions named otherwise)."""
    data = _authorities()
    region = region or "330000"
    if region in data["names"]:
        return data["names"][region]
    # a district's authority carries its city (杭州市西湖区…); a county or county-level city stands alone (义乌市…)
    name = region_name(region, on)
    if name.endswith("区"):
        name = region_full_name(region, on)
    return data["default_pattern"].format(name=name)


def _field_titles(model: type[BaseModel], prefix: str, out: dict[str, str]) -> None:
    for name, f in model.model_fields.items():
        title = f.title or (f.description or "").split("（")[0].split(" ")[0] or None
        path = f"{prefix}{name}"
        if title and path not in out:
            out[path] = title
        inner = _model_of(f.annotation)
        if inner is not None and len(prefix.split(".")) < 3:
            _field_titles(inner, path + ".", out)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        m = _model_of(arg)
        if m is not None:
            return m
    return None


@cache
def field_titles() -> dict[str, str]:
    """Field path (without list positions) → Chinese title, for every registry model."""
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.person import RegisteredPerson
    from chalicelib.domain.project import Project

    out: dict[str, str] = {}
    for model in (Enterprise, RegisteredPerson, Project):
        _field_titles(model, "", out)
    return out


def field_info_label(info: Any, fallback: str) -> str:
    """A pydantic field's Chinese name: its title, else its description up to the first bracket, without the national
    column name some descriptions carry (合同备案编号 RecordNum → 合同备案编号; 合同金额（万元） → 合同金额)."""
    text = (info.title or info.description or "").split("（", 1)[0].strip()
    text = re.sub(r"\s+[A-Za-z][A-Za-z0-9_]*$", "", text)
    return text if text and not re.fullmatch(r"[A-Za-z0-9_ ]+", text) else fallback


def field_path_label(path: str) -> str:
    """`qualifications[0].cert_no` / `registrations.0.issued_on` → 资质证书（第1项）·资质证书编号."""
    titles = field_titles()
    parts: list[str] = []
    bare: list[str] = []
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+", path or ""):
        if tok.isdigit():
            if parts:
                parts[-1] += f"（第{int(tok) + 1}项）"
            continue
        bare.append(tok)
        parts.append(titles.get(".".join(bare), tok))
    return "·".join(parts)


@cache
def all_labels() -> dict[str, dict[str, str]]:
    """Everything the web UI renders by name, one map per vocabulary (served once, cached by the browser)."""
    from chalicelib.domain import qualification_applications as qa
    from chalicelib.domain.audit import ACTION_LABELS, TARGET_TYPE_LABELS
    from chalicelib.domain.national import datasets
    from chalicelib.domain.permits import STATE_LABELS as PERMIT_STATES
    from chalicelib.domain.records import STATE_LABELS as RECORD_STATES

    # Zhejiang in full, and every province (out-of-province enterprises name their home province)
    regions = {
        e.code: e.name for e in codetables.regions().entries if e.code.startswith("33") or e.code.endswith("0000")
    }
    regions["330000"] = "浙江省"
    out: dict[str, dict[str, str]] = {"regions": regions}
    for t in _TABLES:
        out[t] = {e.code: e.name for e in codetables.load_table(t).entries}
    out.update(
        sex=SEX_LABELS,
        record_states={k.value: v for k, v in RECORD_STATES.items()},
        permit_states={k.value: v for k, v in PERMIT_STATES.items()},
        request_states=REQUEST_STATE_LABELS,
        rectification_states=RECTIFICATION_STATE_LABELS,
        record_types=RECORD_TYPE_LABELS,
        credit_kinds=CREDIT_KIND_LABELS,
        credit_sources=CREDIT_SOURCE_LABELS,
        datasets={k: v.get("label", k) for k, v in datasets().items()},
        roles={k.value: v for k, v in ROLE_LABELS.items()},
        account_states={k.value: v for k, v in ACCOUNT_STATE_LABELS.items()},
        fields=field_titles(),
        audit_targets=TARGET_TYPE_LABELS,
        audit_actions={k.value: v for k, v in ACTION_LABELS.items()},
        application_kinds={k.value: v for k, v in qa.KIND_LABELS.items()},
        application_states={k.value: v for k, v in qa.STATE_LABELS.items()},
        application_levels={k: v for k, v in qa.routing_rules()["levels"].items() if not k.startswith("_")},
        changeable_fields=dict(qa.CHANGEABLE_FIELDS),
        province_reg_types=dict(qa.person_rules()["reg_types"]),
    )
    return out
