"""National sync rules (no I/O): mapping and conversions, change capture, the sync row's state machine, back-off,
and the pull's conflict rule."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import national
from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem
from chalicelib.domain.errors import Conflict
from chalicelib.domain.national import NationalRow, Op, Outcome, SyncRow, SyncStatus
from chalicelib.domain.project import Project
from chalicelib.domain.records import Provenance, RecordSource, RecordState

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
PROV = Provenance(
    source=RecordSource.LEGACY_IMPORT,
    entered_by="system:test",
    entered_by_name="测试",
    entered_org="330000",
    entered_at="2026-01-01T00:00:00+00:00",
)


def ent(state=RecordState.CONFIRMED, **kw) -> Enterprise:
    data = dict(
        uscc="91330782MA2F00063N",
        name="义乌市示范建工有限公司",
        registered_region="330782",
        address="无",
        legal_rep="张伟",
        registered_capital="8000.50",
        qualifications=[
            QualificationCert(
                cert_no="D233001234",
                qualification_type="3",
                issued_on=date(2015, 1, 20),
                valid_until=date(2030, 1, 19),
                items=[QualificationItem(code="D101A", is_primary=True)],
            )
        ],
        state=state,
        provenance=PROV,
        created_at="2026-01-01T00:00:00+00:00",
        updated_at="2026-01-01T00:00:00+00:00",
        region_code="330782",
    )
    data.update(kw)
    return Enterprise(**data)


class NoLookups:
    def person(self, person_key, employer_uscc):
        return None

    def enterprise(self, uscc):
        return None

    def project(self, prj_num):
        return None

    def stages(self, prj_num):
        return []


def test_enterprise_maps_to_basic_cert_and_detail_rows_with_conversions():
    mapped = national.map_source(ent(), NoLookups())
    by_ds = {r.dataset: r for r in mapped.rows}
    basic = by_ds["TBCorpBasicInfo"].data
    assert (basic["ProvinceNum"], basic["CityNum"], basic["CountyNum"]) == ("330000", "330700", "330782")
    assert basic["Address"] is None  # the sentinel 无 goes up as missing, never as text
    assert basic["RegPrin"] == 8000.5 and basic["CorpCode"] == "MA2F0006-3"  # varchar(15): the organisation code
    cert = by_ds["TBCorpCertInfo"].data
    assert cert["OrganDate"] == "2015-01-20" and cert["EndDate"] == "2030-01-19"
    detail = by_ds["TBCorpCertDetailInfo"]
    assert detail.key == "D233001234:D101A"
    assert (detail.data["TradeBoundNum"], detail.data["TitleLevelNum"], detail.data["IsMaster"]) == ("D101", "02", "1")


def test_corp_code_forms():
    assert national.org_code_of("91330782MA2F00063N") == "MA2F0006-3"
    assert national.corp_code("91330782MA2F00063N", "org_code") == "MA2F0006-3"
    assert national.corp_code("91330782MA2F00063N", "uscc") == "91330782MA2F00063N"
    assert national.normalise_corp_code("d2143569x") == "D2143569-X"
    assert national.corp_code("/") is None


@pytest.mark.parametrize(
    ("state", "expect"),
    [
        (RecordState.CONFIRMED, "rows"),
        (RecordState.SUBMITTED, "ignore"),
        (RecordState.IN_DOUBT, "ignore"),
        (RecordState.FALSE, "withdraw"),
    ],
)
def test_only_confirmed_records_go_up_and_false_ones_are_withdrawn(state, expect):
    mapped = national.map_source(ent(state=state), NoLookups())
    if expect == "rows":
        assert mapped.rows and not mapped.withdraw
    elif expect == "ignore":
        assert mapped.rows is None
    else:
        assert mapped.withdraw and mapped.rows == []


def test_capture_queues_only_changed_rows_and_deletes_removed_ones():
    first = national.capture(national.map_source(ent(), NoLookups()), {})
    assert {r.dataset for r in first.changed} == {"TBCorpBasicInfo", "TBCorpCertInfo", "TBCorpCertDetailInfo"}
    # The same content again: nothing to send.
    again = national.capture(national.map_source(ent(), NoLookups()), first.manifest)
    assert again.changed == []
    # A changed name touches the basic row and the certificate row (both carry CorpName), not the detail row.
    renamed = national.capture(national.map_source(ent(name="义乌市示范建工集团有限公司"), NoLookups()), first.manifest)
    assert {r.dataset for r in renamed.changed} == {"TBCorpBasicInfo", "TBCorpCertInfo"}
    # A certificate removed: its rows go up as deletions.
    no_cert = national.capture(national.map_source(ent(qualifications=[]), NoLookups()), first.manifest)
    deletions = {(r.dataset, r.key) for r in no_cert.changed if r.op == Op.DELETE}
    assert deletions == {("TBCorpCertInfo", "D233001234"), ("TBCorpCertDetailInfo", "D233001234:D101A")}
    # Found false later: everything reported is withdrawn.
    withdrawn = national.capture(national.map_source(ent(state=RecordState.FALSE), NoLookups()), first.manifest)
    assert {r.op for r in withdrawn.changed} == {Op.DELETE} and len(withdrawn.changed) == 3
    assert withdrawn.manifest == {}
    # Under review: no capture at all (the ministry keeps the last confirmed version).
    assert national.capture(national.map_source(ent(state=RecordState.SUBMITTED), NoLookups()), first.manifest) is None


def test_project_row_and_digest_is_content_based():
    p = Project(
        prj_num="3307822603150001",
        name="示范项目",
        location_region="330782",
        total_investment=Decimal("1200.0000"),
        scale="无数据",
        state=RecordState.CONFIRMED,
        provenance=PROV,
        created_at="2026-03-15T02:00:00+00:00",
        updated_at="2026-03-15T02:00:00+00:00",
    )
    [row] = national.map_source(p, NoLookups()).rows
    assert row.data["AllInvest"] == 1200 and row.data["PrjSize"] is None and row.data["CreateDate"] == "2026-03-15"
    assert row.digest == NationalRow(row.dataset, row.key, dict(row.data)).digest
    assert row.digest != NationalRow(row.dataset, row.key, {**row.data, "PrjName": "x"}).digest


def _row(**kw) -> SyncRow:
    r = SyncRow.changed(NationalRow("TBProjectInfo", "k1", {"PrjName": "x"}), None, now="t0", source={}, region=None)
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_sync_row_transitions():
    r = national.after(_row(), Outcome.ACCEPTED, now=NOW, message=None, wait=10)
    assert r.status == SyncStatus.ACCEPTED and r.pushed_change_no == 1 and r.attempts == 0
    with pytest.raises(Conflict):
        national.after(r, Outcome.ACCEPTED, now=NOW, message=None, wait=10)  # an accepted row is not delivered
    r = national.after(_row(), Outcome.RETRY, now=NOW, message={"code": "BUSY"}, wait=90)
    assert r.status == SyncStatus.PENDING and r.attempts == 1 and r.next_attempt_at == "2026-11-29T08:01:30.000+00:00"
    r = national.after(_row(), Outcome.UNKNOWN, now=NOW, message=None, wait=0)
    assert r.status == SyncStatus.UNKNOWN  # next time: ask the national side before re-sending
    r = national.after(_row(), Outcome.REJECTED, now=NOW, message={"message": "PrjSize（建设规模）不能为空"}, wait=0)
    assert r.status == SyncStatus.DEAD and r.dead_at  # rejected data is not retried blindly
    limit = national.config()["push"]["max_attempts"]
    r = _row(attempts=limit - 1)
    assert national.after(r, Outcome.RETRY, now=NOW, message=None, wait=1).status == SyncStatus.DEAD
    r = national.resend(r, now=NOW)
    assert r.status == SyncStatus.PENDING and r.attempts == 0 and r.queued_at == "2026-11-29T08:00:00.000+00:00"
    with pytest.raises(Conflict):
        national.resend(r, now=NOW)  # only dead rows are re-sent by hand


def test_a_new_version_keeps_history_and_counts_up():
    old = _row()
    national.note(old, {"status": "REJECTED"})
    new = SyncRow.changed(NationalRow("TBProjectInfo", "k1", {"PrjName": "y"}), old, now="t1", source={}, region=None)
    assert new.change_no == 2 and new.status == SyncStatus.PENDING and new.history == old.history
    assert new.sync_id != old.sync_id  # a new idempotency key for the new version
    for i in range(30):
        national.note(new, {"n": i})
    assert len(new.history) == national.HISTORY_LIMIT and new.history[-1] == {"n": 29}


def test_backoff_is_full_jitter_under_a_cap():
    rng = random.Random(1)
    waits = [national.backoff(a, base=0.5, cap=30, rng=rng) for a in range(12)]
    assert all(0 <= w <= min(30, 0.5 * 2**a) for a, w in enumerate(waits))
    assert max(waits[8:]) <= 30


def test_pull_conflicts_only_on_provincial_fields():
    provincial = {"CorpName": "义乌市示范建工有限公司", "LegalMan": "张伟", "Address": None}
    national_row = {"CorpName": "义乌示范建工（旧名）", "LegalMan": "张伟", "Address": "某路1号", "EDate": "2020-01-01"}
    found = national.conflicts("TBCorpBasicInfo", national_row, provincial)
    assert [(c.field, c.national) for c in found] == [("CorpName", "义乌示范建工（旧名）")]


def test_mask_id():
    assert national.mask_id("110105194912310021") == "110105********0021"


def test_an_issued_permit_maps_to_licence_builder_users_and_finally_completion():
    from chalicelib.domain.permits import PermitApplication, PermitState
    from chalicelib.domain.person import RegisteredPerson, SafetyCert

    def person(key, name, id_no, category):
        return RegisteredPerson(
            person_key=key,
            employer_uscc="91330782MA2F00063N",
            name=name,
            id_no=id_no,
            safety_certs=[SafetyCert(category=category, cert_no=f"浙建安{category}（2023）0001")],
            state=RecordState.CONFIRMED,
            provenance=PROV,
            created_at="2026-01-01T00:00:00+00:00",
            updated_at="2026-01-01T00:00:00+00:00",
        )

    people = {
        "pm": person("pm", "何志远", "33078219780815002X", "B"),
        "c1": person("c1", "吴安平", "330782198506120014", "C"),
    }

    class Lookups(NoLookups):
        def person(self, key, employer):
            return people.get(key)

        def enterprise(self, uscc):
            return ent()

    app = PermitApplication(
        application_id="A1",
        prj_num="3307822603150001",
        region_code="330782",
        applicant_uscc="91330782MA2F00063N",
        construction_uscc="91330782MA2F00063N",
        project_manager="pm",
        safety_persons=["pm", "c1"],
        contract_price=Decimal("5200"),
        area=Decimal("12000.5"),
        applied_on="2026-03-20",
        state=PermitState.ISSUED,
        permit_no="330782202603200101",
        issued_on="2026-03-27",
        created_at="2026-03-20T00:00:00+00:00",
        updated_at="2026-03-27T00:00:00+00:00",
    )
    rows = national.map_source(app, Lookups()).rows
    licence = next(r for r in rows if r.dataset == "TBBuilderLicenceManage")
    assert licence.data["ConstructorName"] == "何志远" and licence.data["IssueCertDate"] == "2026-03-27"
    users = {r.data["UserName"]: r.data["UserType"] for r in rows if r.dataset == "TBProjectBuilderUserInfo"}
    assert users == {"何志远": 2, "吴安平": 3}  # 项目负责人, 安全员 (UserType int)
    assert not [r for r in rows if r.dataset == "TBProjectFinishManage"]
    done = app.model_copy(
        update={"state": PermitState.COMPLETED, "completion_no": "JG2027001", "completed_on": "2027-05-01"}
    )
    finish = next(r for r in national.map_source(done, Lookups()).rows if r.dataset == "TBProjectFinishManage")
    assert finish.data["EDate"] == "2027-05-01" and finish.key == "JG2027001"
    # Under review or refused: nothing goes up.
    assert national.map_source(app.model_copy(update={"state": PermitState.UNDER_REVIEW}), Lookups()).rows is None
