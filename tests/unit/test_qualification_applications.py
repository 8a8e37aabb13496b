"""资质申请 routing, lifecycle and statutory clock (the domain core of the online qualification application)."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.qualification_applications import (
    APPLICATION_LIFECYCLE,
    AppEvent,
    ApplicationKind,
    AppState,
    Pause,
    decision_due,
    route,
    working_days_left,
)
from chalicelib.domain.workdays import file_calendar

CAL = file_calendar()


@pytest.mark.parametrize(
    ("kind", "target", "cert", "accept", "decide", "notice"),
    [
        (ApplicationKind.UPGRADE, "D101A", None, "province", "ministry", 10),  # 施工总承包一级: the ministry
        (ApplicationKind.UPGRADE, "D101B", None, "county", "province", 7),  # 二级: county accepts, the province decides
        (ApplicationKind.NEW, "D101C", None, "county", "city", 0),  # 三级: the city
        (ApplicationKind.ADD, "D201A", None, "province", "province", 7),  # 专业承包一级
        (ApplicationKind.NEW, "A1A", None, "province", "ministry", 10),  # 工程设计综合甲级
        (ApplicationKind.CHANGE, "D101B", "D233000123", "city", "province", 0),  # 变更: the issuer (digit 2)
        (ApplicationKind.CANCELLATION, "D101C", "D333000456", "city", "city", 0),  # issued by a city
    ],
)
def test_the_routing_table_decides_the_level(kind, target, cert, accept, decide, notice):
    r = route(kind, target, cert)
    assert (r.accept, r.decide, r.notice_days, r.decide_days) == (accept, decide, notice, 20)
    assert r.decide_label in {"住房和城乡建设部", "省住房和城乡建设厅", "设区市主管部门", "县级主管部门"}


def test_the_lifecycle_walks_supplement_notice_and_approval_and_refuses_the_rest():
    s = AppState.SUBMITTED
    for event in (
        AppEvent.ACCEPT,
        AppEvent.REQUEST_SUPPLEMENT,
        AppEvent.ANSWER,
        AppEvent.START_NOTICE,
        AppEvent.APPROVE,
    ):
        s = APPLICATION_LIFECYCLE.next_state(s, event)
    assert s == AppState.APPROVED
    with pytest.raises(InvalidTransition) as err:
        APPLICATION_LIFECYCLE.next_state(AppState.APPROVED, AppEvent.WITHDRAW)
    assert str(err.value) == "当前状态为“准予许可”，不能执行“撤回申请”"
    assert APPLICATION_LIFECYCLE.allowed_events(AppState.SUPPLEMENT_REQUESTED) == [AppEvent.ANSWER, AppEvent.WITHDRAW]


def test_the_decision_limit_counts_working_days_and_pauses_while_the_enterprise_holds_it():
    accepted = date(2026, 9, 21)  # a Monday, before 中秋节 (9-25) and the National Day week
    plain = decision_due(accepted, 20, [], CAL, today=accepted)
    assert plain == CAL.add(accepted, 20).day
    # a supplement request sent on the 22nd and answered on the 29th: the enterprise held it 4 working days
    # (23, 24, 28, 29: the 25th is 中秋节, 26 and 27 a weekend), which the end moves by
    pause = Pause(date(2026, 9, 22), date(2026, 9, 29))
    held = CAL.count_between(pause.start, pause.end)
    assert held == 4
    paused = decision_due(accepted, 20, [pause], CAL, today=date(2026, 12, 1))
    assert paused == CAL.add(plain, held).day and paused > plain
    # a request still open is counted up to today
    open_ = decision_due(accepted, 20, [Pause(date(2026, 9, 22), None)], CAL, today=date(2026, 9, 29))
    assert open_ == paused
    assert working_days_left(plain, plain, CAL) == 0
    assert working_days_left(plain, CAL.add(plain, 3).day, CAL) == -3


def test_a_blacklisted_enterprise_or_a_barring_bad_record_is_refused_with_the_basis():
    from types import SimpleNamespace

    from chalicelib.domain.credit import BlacklistEntry
    from chalicelib.domain.qualification_applications import barring_reasons

    entry = BlacklistEntry(
        entry_id="b1",
        uscc="91330782677204726D",
        criterion="BL-1",
        criterion_name="发生重大及以上工程质量安全事故",
        basis="浙建罚〔2026〕12号",
        authority="义乌市住房和城乡建设局",
        listed_on="2026-06-01",
        removal_on="2027-05-31",
        entered_by="x",
        entered_by_name="x",
        entered_at="2026-06-01T00:00:00+00:00",
    )
    bad = SimpleNamespace(behaviour_code="C1-2-05", content="违法分包", publish_end="2027-04-20")
    minor = SimpleNamespace(behaviour_code="B2-1-01", content="迟报", publish_end="2027-01-01")
    today = date(2026, 12, 4)
    reasons = barring_reasons(ApplicationKind.UPGRADE, [entry], [bad, minor], today)
    assert [r["key"] for r in reasons] == ["blacklist", "bad_record"]
    assert "浙建罚〔2026〕12号" in reasons[0]["reason"] and "C1-2-05" in reasons[1]["reason"]
    assert barring_reasons(ApplicationKind.UPGRADE, [entry], [], date(2027, 6, 1)) == []  # removed from the list
    assert barring_reasons(ApplicationKind.CANCELLATION, [entry], [bad], today) == []  # 注销 is never barred


# ---- effects of an approval (pure) ---------------------------------------------------------------------------------


def _enterprise(*certs):
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.records import Provenance, RecordSource, RecordState

    now = "2026-12-01T00:00:00+00:00"
    return Enterprise(
        uscc="91330782MA2F00880W",
        name="义乌市城建市政工程有限公司",
        qualifications=list(certs),
        state=RecordState.CONFIRMED,
        provenance=Provenance(source=RecordSource.LEGACY_IMPORT, entered_by="t", entered_org="330000", entered_at=now),
        created_at=now,
        updated_at=now,
        region_code="330782",
        owner_uscc="91330782MA2F00880W",
    )


def _cert(no, *codes, until=date(2028, 3, 9)):
    from chalicelib.domain.enterprise import QualificationCert, QualificationItem

    return QualificationCert(
        cert_no=no,
        qualification_type="3",
        issuing_authority="金华市住房和城乡建设局",
        issued_on=date(2023, 3, 10),
        valid_until=until,
        items=[QualificationItem(code=c, is_primary=i == 0) for i, c in enumerate(codes)],
    )


def _app(kind, target, cert=None, **more):
    from chalicelib.domain.qualification_applications import QualificationApplication

    return QualificationApplication(
        application_id="a1",
        uscc="91330782MA2F00880W",
        region_code="330782",
        kind=kind,
        target=target,
        target_label=target,
        certificate_no=cert,
        accept_level="county",
        decide_level="province",
        decide_days=20,
        notice_days=0,
        route_rule="r",
        current_level="province",
        submitted_at="2026-12-01T00:00:00+00:00",
        approval_no="浙建资许〔2026〕00007号",
        created_at="2026-12-01T00:00:00+00:00",
        updated_at="2026-12-01T00:00:00+00:00",
        **more,
    )


ON = date(2026, 12, 8)


def test_an_upgrade_decided_above_the_issuer_issues_a_new_certificate_and_ends_the_old_one():
    from chalicelib.domain.qualification_applications import apply_decision, needs_new_certificate

    e = _enterprise(_cert("D333061208", "D110C"))
    app = _app(ApplicationKind.UPGRADE, "D110B", "D333061208")
    assert needs_new_certificate(app)  # a city's certificate, the province's decision
    changes = apply_decision(e, app, ON, "浙江省住房和城乡建设厅", cert_no="D233000001")
    old, new = changes["qualifications"]
    assert [(i.code, i.status) for i in old.items] == [("D110C", "注销")] and old.valid_until == date(2026, 12, 7)
    assert new.cert_no == "D233000001" and new.issuing_authority == "浙江省住房和城乡建设厅"
    assert [(i.code, i.is_primary, i.approval_no) for i in new.items] == [("D110B", True, "浙建资许〔2026〕00007号")]
    assert (new.issued_on, new.valid_until) == (ON, date(2031, 12, 7))
    # the same decision applied again (a retry after a stop) changes nothing
    assert apply_decision(e.model_copy(update=changes), app, ON, "浙江省住房和城乡建设厅", cert_no="D233000001") == {}
    assert e.qualifications[0].items[0].status is None  # the input record is never mutated


def test_an_upgrade_on_the_same_issuers_certificate_replaces_the_grade_in_place():
    from chalicelib.domain.qualification_applications import apply_decision, needs_new_certificate

    e = _enterprise(_cert("D233000123", "D101C", "D110C"))
    app = _app(ApplicationKind.UPGRADE, "D101B", "D233000123")
    assert not needs_new_certificate(app)
    [cert] = apply_decision(e, app, ON, "浙江省住房和城乡建设厅", cert_no=None)["qualifications"]
    assert sorted(i.code for i in cert.items) == ["D101B", "D110C"] and cert.issued_on == ON


def test_renewal_change_and_cancellation():
    from chalicelib.domain.qualification_applications import apply_decision

    e = _enterprise(_cert("D233000123", "D101B", "D110C"))
    [renewed] = apply_decision(e, _app(ApplicationKind.RENEWAL, "D101B", "D233000123"), ON, "x", cert_no=None)[
        "qualifications"
    ]
    assert renewed.valid_until == date(2033, 3, 9)  # five years from the old end, applied for before it
    changed = apply_decision(
        e,
        _app(ApplicationKind.CHANGE, "D101B", "D233000123", changes={"name": "新名称有限公司"}),
        ON,
        "x",
        cert_no=None,
    )
    assert changed["name"] == "新名称有限公司" and changed["qualifications"][0].issued_on == ON
    [one] = apply_decision(e, _app(ApplicationKind.CANCELLATION, "D110C", "D233000123"), ON, "x", cert_no=None)[
        "qualifications"
    ]
    assert {i.code: i.status for i in one.items} == {"D101B": None, "D110C": "注销"} and one.valid_until >= ON
    e2 = _enterprise(_cert("D333000456", "D110C"))
    [ended] = apply_decision(e2, _app(ApplicationKind.CANCELLATION, "D110C", "D333000456"), ON, "x", cert_no=None)[
        "qualifications"
    ]
    assert ended.valid_until < ON  # nothing left on it: 注销 ends the certificate


def test_levels_pass_up_from_the_accepting_authority_to_the_deciding_one():
    from chalicelib.domain.qualification_applications import handling_level, level_region, next_level

    assert [next_level("county", "province"), next_level("city", "province"), next_level("province", "province")] == [
        "city",
        "province",
        None,
    ]
    assert handling_level("ministry") == "province" and next_level("province", "ministry") is None
    assert [level_region(x, "330782") for x in ("county", "city", "province")] == ["330782", "330700", "330000"]


# ---- registered personnel (pure) -------------------------------------------------------------------------------------


def _person(employer, *regs, state="CONFIRMED"):
    from chalicelib.domain.person import RegisteredPerson, Registration
    from chalicelib.domain.records import Provenance, RecordSource

    now = "2026-12-01T00:00:00+00:00"
    return RegisteredPerson(
        person_key="ab" * 12,
        employer_uscc=employer,
        employer_name={"91330782MA2F00880W": "市政公司", "91330782MA2F00063N": "建工集团"}[employer],
        name="陈建明",
        id_no="330782198501100110",
        registrations=[
            Registration(
                reg_type=r,
                specialties=["JZS08"],
                registration_cert_no="浙2332010000001",
                valid_until=date(2028, 12, 31),
            )
            for r in regs
        ],
        state=state,
        provenance=Provenance(source=RecordSource.LEGACY_IMPORT, entered_by="t", entered_org="330000", entered_at=now),
        created_at=now,
        updated_at=now,
        region_code="330782",
        owner_uscc=employer,
    )


def test_the_one_employer_rule_and_the_person_lock():
    from chalicelib.domain.qualification_applications import person_reasons

    here, there = "91330782MA2F00063N", "91330782MA2F00880W"
    records = [_person(there, "JZS2"), _person(here)]
    keys = lambda found: [r["key"] for r in found[0]]  # noqa: E731
    assert keys(person_reasons(ApplicationKind.REG_INITIAL, "JZS2", here, records, None, ON)) == ["one_employer"]
    reasons, source = person_reasons(ApplicationKind.REG_TRANSFER, "JZS2", here, records, None, ON)
    assert reasons == [] and source.employer_uscc == there
    locked = person_reasons(ApplicationKind.REG_TRANSFER, "JZS2", here, records, "3307822603150001（一期工程）", ON)
    assert keys(locked) == ["person_lock"] and "3307822603150001（一期工程）" in locked[0][0]["reason"]
    assert keys(person_reasons(ApplicationKind.REG_TRANSFER, "JZS1", here, records, None, ON)) == ["reg_type"]
    # not (yet) on the applying employer's confirmed staff
    assert keys(person_reasons(ApplicationKind.REG_TRANSFER, "JZS2", here, [_person(there, "JZS2")], None, ON)) == [
        "person"
    ]


def test_a_transfer_moves_the_registration_once():
    from chalicelib.domain.qualification_applications import person_effects

    here, there = "91330782MA2F00063N", "91330782MA2F00880W"
    app = _app(ApplicationKind.REG_TRANSFER, "JZS2", from_employer_uscc=there, person_key="ab" * 12)
    app = app.model_copy(update={"uscc": here})
    old, new = _person(there, "JZS2"), _person(here)
    effects = person_effects([old, new], app, ON, "浙江省住房和城乡建设厅")
    assert [(r.employer_uscc, [g.reg_type for g in ch["registrations"]]) for r, ch in effects] == [
        (here, ["JZS2"]),
        (there, []),
    ]
    moved = effects[0][1]["registrations"][0]
    assert (moved.registration_cert_no, moved.valid_until, moved.issued_on) == (
        "浙2332010000001",
        date(2028, 12, 31),
        ON,
    )
    done = [r.model_copy(update=ch) for r, ch in effects]
    assert person_effects(done, app, ON, "浙江省住房和城乡建设厅") == []


def test_an_added_qualification_joins_the_deciding_levels_certificate_of_its_family_or_gets_a_new_one():
    from chalicelib.domain.qualification_applications import addable_certificate, apply_decision, needs_new_certificate

    e = _enterprise(_cert("D233000123", "D101B"), _cert("D333000456", "D110C"))
    assert addable_certificate(e, "D201B", "province", ON).cert_no == "D233000123"
    assert addable_certificate(e, "B101A", "province", ON) is None  # no 勘察 certificate
    app = _app(ApplicationKind.ADD, "D201B", "D233000123")
    assert not needs_new_certificate(app)
    certs = apply_decision(e, app, ON, "浙江省住房和城乡建设厅", cert_no=None)["qualifications"]
    assert [i.code for i in certs[0].items] == ["D101B", "D201B"] and len(certs) == 2
    assert needs_new_certificate(_app(ApplicationKind.ADD, "B101A"))
