"""Portal forms (企业门户在线填报) generated from the same field definitions as the import templates.

A form's fields are the primary import sheet's columns (`sheets.SheetSpec`): the same paths, Chinese titles and
required marks as the template's headers, and the same validators behind them (the PATCH goes through
`registry_base.validate_input`, like an import row). Each field says how it is entered: text, date, number, yes/no,
or a code picked by name from its code table (the options come with the form, so the picker shows names and the
stored value stays the code). Nested one-to-one parts (`safety_licence.licence_no`) are fields of the form too; list
parts (qualifications, registrations) are edited in their own sections.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

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
        kind, table = _kind(info)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        entry: dict[str, Any] = {
            "path": col.path,
            "label": sheets.header_of(spec, col),
            "required": col.required,
            "kind": kind,
            "pii": bool(extra.get("pii")),
        }
        if table:
            entry["options"] = _options(table, on)
        out.append(entry)
    return tuple(out)
