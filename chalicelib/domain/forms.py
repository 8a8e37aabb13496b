"""Portal forms (企业门户在线填报) generated from the same field definitions as the import templates.

A form's fields are the primary import sheet's columns (`sheets.SheetSpec`): the same paths, Chinese titles and
required marks as the template's headers, and the same validators behind them (the PATCH goes through
`registry_base.validate_input`, like an import row). Each field says how it is entered: text, date, number, yes/no,
or a code picked by name from its code table (the options come with the form, so the picker shows names and the
stored value stays the code). Nested one-to-one parts (`safety_licence.licence_no`) are fields of the form too; list
parts (资质证书 with their 资质项, 注册信息, 安全生产考核证书) are sections: tables of rows from the list sheets' columns.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo

from chalicelib.domain import codetables, fields, sheets
from chalicelib.domain.records import RecordType

# Checked types whose values come from a code table: the form offers the table's entries by name.
_CODE_TYPES: tuple[tuple[Any, str], ...] = (
    (fields.EconomicType, "economic_types"),
    (fields.IdCardType, "id_card_types"),
    (fields.Sex, "sexes"),
    (fields.QualificationType, "qualification_types"),
    (fields.ProjectCategory, "project_categories"),
    (fields.ProjectNature, "project_natures"),
    (fields.ProjectUse, "project_uses"),
    (fields.ApprovalLevel, "approval_levels"),
    (fields.QualificationCode, "qualification_codes"),
    (fields.RegistrationType, "registration_types"),
    (fields.Specialty, "registration_specialties"),
    (fields.SafetyCertType, "safety_cert_types"),
)
_DATE_TYPES = (fields.CnDate, fields.PastDate)
_COUNTY_TYPES = (fields.ZhejiangCounty,)

# Fields a form never offers: the record key and what the platform derives.
_FIXED = {
    RecordType.ENTERPRISE: {"uscc"},
    RecordType.PERSON: {"id_type", "id_no", "employer_uscc", "region_code"},
    RecordType.PROJECT: {"prj_num", "owner_uscc"},
}

_SHEET = {
    RecordType.ENTERPRISE: sheets.ENTERPRISE_BASIC,
    RecordType.PERSON: sheets.PERSON_REGISTRATIONS,
    RecordType.PROJECT: sheets.PROJECTS,
}


def _metadata(annotation: Any) -> tuple[Any, ...]:
    """The validators that make a type what it is (the shared blanking hook says nothing about the type)."""
    return tuple(m for m in getattr(annotation, "__metadata__", ()) if m is not fields.Blank)


def _kind(info: Any) -> tuple[str, str | None]:
    """(input kind, code table) of a field, found by the validators it carries."""
    if get_origin(info.annotation) is list:  # 注册专业: several codes of one table
        inner = get_args(info.annotation)[0]
        kind, table = _kind(FieldInfo.from_annotation(inner))
        return ("codes", table) if kind == "code" else ("text", None)
    if get_origin(info.annotation) is Literal:
        return "choice", None
    meta = set(map(id, info.metadata))
    for alias, table in _CODE_TYPES:
        if meta & set(map(id, _metadata(alias))):
            return "code", table
    if any(meta & set(map(id, _metadata(t))) for t in _COUNTY_TYPES):
        return "code", "counties"
    if any(meta & set(map(id, _metadata(t))) for t in _DATE_TYPES):
        return "date", None
    if meta & set(map(id, _metadata(fields.Amount))):
        return "number", None
    if meta & set(map(id, _metadata(fields.YesNo))):
        return "bool", None
    return "text", None


def _options(table: str, on: date) -> list[dict[str, str]]:
    if table == "counties":
        regions = codetables.regions()
        return [
            {"code": e.code, "name": e.name}
            for e in regions.entries
            if (e.extra or {}).get("level") == "county" and e.code.startswith("33") and e.is_valid_on(on)
        ]
    return [{"code": e.code, "name": e.name} for e in getattr(codetables, table)().entries if e.is_valid_on(on)]


def _entry(path: str, label: str, required: bool, info: Any, on: date) -> dict[str, Any]:
    kind, table = _kind(info)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    entry: dict[str, Any] = {
        "path": path,
        "label": label,
        "required": required,
        "kind": kind,
        "pii": bool(extra.get("pii")),
    }
    if table:
        entry["options"] = _options(table, on)
    if kind == "choice":
        entry["options"] = [{"code": v, "name": f"{v}版" if v.isdigit() else v} for v in get_args(info.annotation)]
    return entry


# The list parts of a record (一对多: 资质证书 and their 资质项, 注册信息, 安全生产考核证书): the sheets that carry them.
_LIST_SHEETS = {
    RecordType.ENTERPRISE: (sheets.ENTERPRISE_QUALIFICATIONS,),
    RecordType.PERSON: (sheets.PERSON_REGISTRATIONS, sheets.PERSON_SAFETY_CERTS),
    RecordType.PROJECT: (),
}


@cache
def form_sections(record_type: RecordType, on: date) -> tuple[dict[str, Any], ...]:
    """The list parts of a record's form, each a table of rows: its fields (paths relative to a row, in the
    template's column order, with the template's titles and required marks) and its own list parts (资质项 inside a
    资质证书). The whole list is sent back in a PATCH, validated by the same models as an import row."""
    model = sheets.AGGREGATES[record_type]
    out: dict[str, dict[str, Any]] = {}
    for spec in _LIST_SHEETS[record_type]:
        for col in spec.columns:
            if "[]" not in col.path:
                continue
            parts = col.path.split("[].")
            info, _ = sheets._resolve(model, col.path)
            container, owner = out, None
            for depth, name in enumerate(parts[:-1]):
                list_info, _ = sheets._resolve(model, "[].".join(parts[: depth + 1]))
                section = container.get(name)
                if section is None:
                    section = {"path": name, "label": list_info.title or name, "fields": [], "sections": {}}
                    container[name] = section
                owner = section
                container = section["sections"]
            assert owner is not None
            required = col.required or info.is_required()
            owner["fields"].append(_entry(parts[-1], sheets.header_of(spec, col), required, info, on))

    def finish(section: dict[str, Any]) -> dict[str, Any]:
        return {**section, "sections": [finish(s) for s in section["sections"].values()]}

    return tuple(finish(s) for s in out.values())


@cache
def form_fields(record_type: RecordType, on: date) -> tuple[dict[str, Any], ...]:
    """The form of a record type: one entry per editable field, in the template's column order."""
    spec = _SHEET[record_type]
    model = sheets.AGGREGATES[record_type]
    out = []
    for col in spec.columns:
        if "[]" in col.path or col.path in _FIXED[record_type] or col.path.split(".")[0] not in model.model_fields:
            continue
        _, info = sheets._resolve(model, col.path)
        out.append(_entry(col.path, sheets.header_of(spec, col), col.required, info, on))
    return tuple(out)
