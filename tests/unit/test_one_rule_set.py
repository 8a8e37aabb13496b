"""One rule set: the same values get the same verdict through an import row and through a PATCH (补充信息).

Hypothesis generates values for every field that both paths carry — valid ones, near misses and arbitrary text —
and each case goes (a) into a CSV row of the import template, validated, assembled and built into a record as an
import job does, and (b) into `RegistryService.supplement` on a stored record, as the portal's PATCH does. The
verdicts (accepted, or refused naming the same fields) must agree. The count of generated cases is printed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain import sheets
from chalicelib.domain.enterprise import Enterprise
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.person import RegisteredPerson
from chalicelib.domain.records import Provenance, RecordSource, RecordState, RecordType
from chalicelib.domain.registry_base import RecordInvalid, validate_input
from chalicelib.services.registry import RegistryService
from tests.conftest import record_figure
from tests.unit.fakes import FakeBlobStore, enterprise

USCC = "91330782MA2D000028"
TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
CASES: dict[str, int] = {"enterprise": 0, "person": 0}


def id_card(region: str = "330782", born: str = "19800101", seq: str = "123") -> str:
    body = region + born + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


MALE_ID = id_card(seq="123")  # 17th digit 3: male
FEMALE_ID = id_card(seq="124")

phones = st.sampled_from(
    ["0579-85123456", "057985123456", "13805790000", "+86 138 0579 0000", "abc", "1360000", "0579-0123", ""]
)
emails = st.sampled_from(["zhang@example.com", "not-an-email", "a@b", "王@例子.中国", "x@y.cn", ""])
amounts = st.sampled_from(["5000", "-5", "1,200.50", "abc", "0", "1e3", ""])
id_types = st.sampled_from(["1", "3", "居民身份证", "护照", "9", ""])
id_numbers = st.sampled_from([MALE_ID, FEMALE_ID, "123", "E12345678", MALE_ID[:-1] + "0", ""])
sexes = st.sampled_from(["1", "2", "男", "女", "3", "x", ""])
birth_dates = st.sampled_from(["1980-01-01", "1980/1/1", "1981-01-01", "2099-01-01", "1980-13-01", ""])
mobiles = st.sampled_from(["13805790000", "138-0579-0000", "1360000", "abc", "23805790000", ""])
free_text = st.text(alphabet="0123456789-abc@.男女 ", max_size=12)


class Repo:
    """The registry port as the PATCH needs it: one stored record, saved with optimistic versions."""

    def __init__(self, record):
        self.record = record

    def get(self, record_type, key):
        return self.record

    def save(self, record, expected_version, draft, p, meta, extras=None):
        assert expected_version == self.record.version
        self.record = record


def _provenance() -> Provenance:
    return Provenance(
        source=RecordSource.ENTERPRISE_UPLOAD, entered_by="sub", entered_org=USCC, entered_at=NOW.isoformat()
    )


def _meta() -> dict[str, Any]:
    return {
        "state": RecordState.IMPORTED,
        "version": 1,
        "provenance": _provenance(),
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "region_code": "330782",
        "owner_uscc": USCC,
    }


def import_verdict(spec: sheets.SheetSpec, model, values: dict[str, str]) -> set[str] | None:
    """None when the import accepts the row; else the column paths it blames (row issues, then the record build)."""
    paths = {sheets.header_of(spec, c): c.path for c in spec.columns}
    header = sheets.headers(spec)
    cells = [values.get(paths[h], "") for h in header]
    result = sheets.validate_rows(spec, header, [(2, cells)])
    errors = [i for i in result.issues if i.severity == "error"]
    if errors:
        return {paths.get(i.column, "") for i in errors}
    records, issues = sheets.assemble(result.rows)
    assert not issues
    (rec,) = records.values()
    data = {**rec.data, **_meta()}
    if model is RegisteredPerson:
        data["person_key"] = "0" * 24
    try:
        validate_input(model, data, as_of=TODAY)
    except RecordInvalid as exc:
        return {p["field"] for p in exc.problems}
    return None


def patch_verdict(stored, record_type: RecordType, key: tuple[str, ...], changes: dict[str, str]) -> set[str] | None:
    """None when the PATCH is accepted; else the fields its 400 names."""
    svc = RegistryService(Repo(stored), FakeBlobStore(), clock=lambda: NOW)
    try:
        svc.supplement(enterprise(USCC), None, record_type, key, version=stored.version, changes=changes)
    except InvalidInput as exc:
        return {d["field"] for d in exc.details}
    return None


def _agree(a: set[str] | None, b: set[str] | None) -> bool:
    return (a is None) == (b is None) and (a is None or a == b)


STORED_ENTERPRISE = Enterprise.model_validate({"uscc": USCC, "name": "义乌市测试建筑有限公司", **_meta()})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    phone=st.one_of(phones, free_text),
    email=emails,
    capital=amounts,
    id_type=id_types,
    id_no=id_numbers,
)
def test_enterprise_fields_get_the_same_verdict_by_import_and_by_patch(phone, email, capital, id_type, id_no):
    CASES["enterprise"] += 1
    values = {
        "contact_phone": phone,
        "email": email,
        "registered_capital": capital,
        "legal_rep_id_type": id_type,
        "legal_rep_id_no": id_no,
    }
    by_import = import_verdict(
        sheets.ENTERPRISE_BASIC, Enterprise, {"uscc": USCC, "name": "义乌市测试建筑有限公司", **values}
    )
    by_patch = patch_verdict(STORED_ENTERPRISE, RecordType.ENTERPRISE, (USCC,), values)
    assert _agree(by_import, by_patch), (values, by_import, by_patch)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(id_no=st.sampled_from([MALE_ID, FEMALE_ID]), sex=sexes, birth=birth_dates, mobile=st.one_of(mobiles, free_text))
def test_person_fields_get_the_same_verdict_by_import_and_by_patch(id_no, sex, birth, mobile):
    CASES["person"] += 1
    stored = RegisteredPerson.model_validate(
        {"person_key": "0" * 24, "employer_uscc": USCC, "name": "何志远", "id_no": id_no, **_meta()}
    )
    values = {"sex": sex, "birth_date": birth, "mobile": mobile}
    by_import = import_verdict(
        sheets.PERSON_REGISTRATIONS,
        RegisteredPerson,
        {"id_no": id_no, "name": "何志远", "employer_uscc": USCC, **values},
    )
    # the stored record was filled from its ID number; a PATCH that blanks sex/birth date gets them back the same way
    by_patch = patch_verdict(stored, RecordType.PERSON, ("0" * 24, USCC), values)
    assert _agree(by_import, by_patch), (values, by_import, by_patch)


def test_every_problem_of_a_row_is_reported_at_once():
    """A bad phone, a bad e-mail, a negative capital and an ID number that contradicts its type: four problems."""
    values = {
        "contact_phone": "abc",
        "email": "not-an-email",
        "registered_capital": "-5",
        "legal_rep_id_type": "3",
        "legal_rep_id_no": MALE_ID,
    }
    expected = {"contact_phone", "email", "registered_capital", "legal_rep_id_no"}
    assert import_verdict(sheets.ENTERPRISE_BASIC, Enterprise, {"uscc": USCC, "name": "测试", **values}) == expected
    assert patch_verdict(STORED_ENTERPRISE, RecordType.ENTERPRISE, (USCC,), values) == expected
    person = {"id_no": MALE_ID, "name": "何志远", "employer_uscc": USCC, "sex": "女", "mobile": "1360000"}
    assert import_verdict(sheets.PERSON_REGISTRATIONS, RegisteredPerson, person) == {"mobile", "id_no"}


def test_the_patch_error_names_each_field_in_chinese():
    svc = RegistryService(Repo(STORED_ENTERPRISE), FakeBlobStore(), clock=lambda: NOW)
    with pytest.raises(InvalidInput) as err:
        svc.supplement(
            enterprise(USCC), None, RecordType.ENTERPRISE, (USCC,), version=1, changes={"contact_phone": "abc"}
        )
    (detail,) = err.value.details
    assert detail["label"] == "联系电话" and "格式不正确" in detail["message"]
    assert "联系电话" in str(err.value) and "Value error" not in str(err.value)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    record_figure(
        "one-rule-set",
        f"{CASES['enterprise']} enterprise and {CASES['person']} person cases through import and PATCH: same verdicts",
    )
