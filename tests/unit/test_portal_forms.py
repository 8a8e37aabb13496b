"""Portal forms are generated from the import templates: every template column is a form field or a field of a list
section, with the same title and required mark, and every code is offered by name from its code table."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain import codetables, sheets
from chalicelib.domain.forms import _FIXED, form_fields, form_sections
from chalicelib.domain.records import RecordType

ON = date(2026, 12, 4)


def _section_columns(sections, prefix=""):
    for s in sections:
        for f in s["fields"]:
            yield f"{prefix}{s['path']}[].{f['path']}", f
        yield from _section_columns(s["sections"], f"{prefix}{s['path']}[].")


@pytest.mark.parametrize("record_type", list(RecordType))
def test_every_template_column_is_in_the_form_with_its_title(record_type):
    offered = {f["path"]: f for f in form_fields(record_type, ON)}
    offered.update(dict(_section_columns(form_sections(record_type, ON))))
    for spec in sheets.LAYOUTS[record_type].sheets:
        for col in spec.columns:
            if (
                col.path in _FIXED[record_type]
                or col.path.split(".")[0] not in sheets.AGGREGATES[record_type].model_fields
            ):
                continue  # the record's key and what the platform derives are not entered
            assert col.path in offered, f"{spec.title}: {col.path} has no input"
            assert offered[col.path]["label"] == sheets.header_of(spec, col)
            if col.required:
                assert offered[col.path]["required"], col.path


def test_the_enterprise_form_edits_certificates_with_their_items_and_the_safety_licence():
    fields = {f["path"]: f for f in form_fields(RecordType.ENTERPRISE, ON)}
    assert fields["safety_licence.valid_until"]["kind"] == "date"
    assert fields["economic_type"]["kind"] == "code"
    (quals,) = form_sections(RecordType.ENTERPRISE, ON)
    assert (quals["path"], quals["label"]) == ("qualifications", "资质证书")
    row = {f["path"]: f for f in quals["fields"]}
    assert row["cert_no"]["required"] and row["valid_until"]["kind"] == "date"
    assert [o["code"] for o in row["standard_version"]["options"]] == ["2001", "2014"]
    (items,) = quals["sections"]
    code = next(f for f in items["fields"] if f["path"] == "code")
    assert code["kind"] == "code" and code["required"]
    names = {o["code"]: o["name"] for o in code["options"]}
    table = {e.code: e.name for e in codetables.qualification_codes().entries if e.is_valid_on(ON)}
    assert names == table and all(names.values())


def test_the_person_form_edits_registrations_and_safety_certificates():
    sections = {s["path"]: s for s in form_sections(RecordType.PERSON, ON)}
    assert set(sections) == {"registrations", "safety_certs"}
    reg = {f["path"]: f for f in sections["registrations"]["fields"]}
    assert reg["reg_type"]["kind"] == "code" and reg["reg_type"]["required"]  # the model requires it
    assert reg["specialties"]["kind"] == "codes" and reg["specialties"]["options"]
    cert = {f["path"]: f for f in sections["safety_certs"]["fields"]}
    assert {o["code"] for o in cert["category"]["options"]} >= {"A", "B", "C"}
    assert form_sections(RecordType.PROJECT, ON) == ()
