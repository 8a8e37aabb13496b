"""Pure permit rules: dated thresholds and clocks, after-issue deadlines, extensions, lapse, suspension."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.permits import (
    PermitApplication,
    PermitExtension,
    PermitState,
    TransitionRefused,
    check_extension_request,
    decision_days,
    lapses,
    require,
    resume_needs_check,
    start_deadline,
    suspension_late,
    threshold,
)
from chalicelib.domain.records import RecordState
from chalicelib.domain.workdays import file_calendar


def issued(**kw) -> PermitApplication:
    base = dict(
        application_id="a1",
        prj_num="3307821503100001",
        region_code="330782",
        applicant_uscc="91330782MA2HXXXX0X",
        construction_uscc="91330782MA2HXXXX0X",
        project_manager="0" * 24,
        contract_price=Decimal("800"),
        area=Decimal("5000"),
        applied_on="2026-01-05",
        state=PermitState.ISSUED,
        permit_no="330782202601150001",
        issued_on="2026-01-15",
        start_deadline="2026-04-15",
        created_at="t",
        updated_at="t",
    )
    base.update(kw)
    return PermitApplication(**base)


def test_dated_rules_follow_the_application_date():
    assert decision_days(date(2015, 3, 1)) == 15 and decision_days(date(2018, 9, 28)) == 7
    assert threshold(date(2015, 3, 1))["investment_wan"] == 30


def test_working_days_skip_the_national_day_holiday():
    # 2025-09-30 (Tue) + 1 working day: 10-01..10-08 are holidays, 2025-10-09 is the next working day
    assert file_calendar().add(date(2025, 9, 30), 1).day == date(2025, 10, 9)


def test_start_deadline_is_three_months_plus_granted_extensions():
    assert start_deadline(date(2026, 1, 15), []) == date(2026, 4, 15)
    assert start_deadline(date(2025, 11, 30), [3]) == date(2026, 5, 30)
    assert start_deadline(date(2026, 1, 31), []) == date(2026, 4, 30)  # month-end clamps


def test_extension_limits():
    app = issued()
    check_extension_request(app, 3, date(2026, 4, 15))  # on the last day: still in time
    with pytest.raises(TransitionRefused, match="届满前"):
        check_extension_request(app, 3, date(2026, 4, 16))
    with pytest.raises(TransitionRefused, match="不超过3个月"):
        check_extension_request(app, 4, date(2026, 2, 1))
    two = [
        PermitExtension(months=3, reason="r", requested_on="2026-04-01", approved=True),
        PermitExtension(months=3, reason="r", requested_on="2026-07-01", approved=True),
    ]
    with pytest.raises(TransitionRefused, match="2次为限"):
        check_extension_request(issued(extensions=two, start_deadline="2026-10-15"), 1, date(2026, 9, 1))
    pending = [PermitExtension(months=2, reason="r", requested_on="2026-04-01")]
    with pytest.raises(TransitionRefused, match="待审核"):
        check_extension_request(issued(extensions=pending), 1, date(2026, 4, 2))
    with pytest.raises(TransitionRefused, match="已开工"):
        check_extension_request(issued(started_on="2026-02-01"), 1, date(2026, 3, 1))


def test_lapse_only_when_not_started_past_the_deadline_and_nothing_pending():
    assert not lapses(issued(), date(2026, 4, 15))
    assert lapses(issued(), date(2026, 4, 16))
    assert not lapses(issued(started_on="2026-04-01"), date(2026, 5, 1))
    pending = [PermitExtension(months=2, reason="r", requested_on="2026-04-10")]
    assert not lapses(issued(extensions=pending), date(2026, 4, 20))
    assert not lapses(issued(state=PermitState.LAPSED), date(2026, 5, 1))


def test_explicit_after_issue_transitions():
    assert require(issued(), "suspend") == PermitState.SUSPENDED
    assert require(issued(state=PermitState.SUSPENDED), "resume") == PermitState.ISSUED
    with pytest.raises(TransitionRefused, match="中止施工"):
        require(issued(state=PermitState.SUSPENDED), "complete")
    with pytest.raises(TransitionRefused):
        require(issued(state=PermitState.LAPSED), "start")


def test_suspension_reporting_and_resumption_check():
    assert not suspension_late(date(2026, 3, 1), date(2026, 3, 31))
    assert suspension_late(date(2026, 3, 1), date(2026, 4, 1))
    assert not resume_needs_check(date(2026, 3, 1), date(2027, 2, 28))
    assert resume_needs_check(date(2026, 3, 1), date(2027, 3, 1))


def _stage(data, state="CONFIRMED"):
    from chalicelib.domain.stages import StageRecord

    return StageRecord(
        prj_num="3307821503100001",
        kind=data["kind"],
        number=data["number"],
        region_code="330782",
        project_owner="A" * 18,
        filed_by="A" * 18,
        data=data,
        state=state,
        created_at="t",
        updated_at="t",
    )


def _contract(ctype, contractor, n):
    return {
        "kind": "contract",
        "number": f"HT-000{n}",
        "contract_no": "c",
        "contract_type": ctype,
        "money": "1",
        "contract_date": "2026-01-01",
        "employer_uscc": "A" * 18,
        "contractor_uscc": contractor,
    }


def test_stage_gaps_name_each_missing_filing():
    from chalicelib.domain.stages import stage_gaps

    builder, supervisor = "B" * 18, "C" * 18
    review = {
        "kind": "drawing_review",
        "number": "SC-0001",
        "review_org_uscc": "D" * 18,
        "review_org_name": "审图中心",
        "finished_on": "2026-03-01",
        "first_pass": True,
        "violations": 0,
    }
    reg = {"kind": "supervision_registration", "number": "JD-0001", "station": "监督站", "registered_on": "2026-03-02"}
    stages = [
        _stage(_contract("survey", "E" * 18, 1)),
        _stage(_contract("design", "E" * 18, 2)),
        _stage(_contract("construction", "F" * 18, 3)),  # another builder's contract does not count
        _stage(_contract("supervision", supervisor, 4), state="SUBMITTED"),  # not yet checked
        _stage(review),
        _stage(reg),
    ]
    required = ["survey", "design", "construction", "supervision"]
    gaps = stage_gaps(
        stages, construction_uscc=builder, supervision_uscc=supervisor, required_contracts=required, on=date(2026, 3, 1)
    )
    assert gaps == ["缺少已核查的与申请的施工单位施工合同备案", "缺少已核查的与申请的监理单位监理合同备案"]
    stages[2] = _stage(_contract("construction", builder, 3))
    assert (
        stage_gaps(
            stages, construction_uscc=builder, supervision_uscc=None, required_contracts=required, on=date(2026, 3, 1)
        )
        == []
    )
    # a review finished after the application day does not count yet
    assert stage_gaps(
        stages, construction_uscc=builder, supervision_uscc=None, required_contracts=required, on=date(2026, 2, 28)
    ) == ["缺少已核查的施工图审查合格书"]


def test_who_may_file_a_stage():
    from chalicelib.domain.stages import ContractFiling, DrawingReview, may_file

    c = ContractFiling.model_validate(_contract("construction", "F" * 18, 1))
    assert may_file(c, filer="A" * 18, project_owner="A" * 18) is None
    assert may_file(c, filer="F" * 18, project_owner="A" * 18) is None  # the contractor files its own contract
    assert "建设单位" in may_file(c, filer="G" * 18, project_owner="A" * 18)
    d = DrawingReview(
        number="SC-0001",
        review_org_uscc="D" * 18,
        review_org_name="审图中心",
        finished_on=date(2026, 3, 1),
        first_pass=True,
        violations=0,
    )
    assert may_file(d, filer="F" * 18, project_owner="A" * 18) == "施工图审查合格书应由建设单位填报"


def test_splitting_one_project_into_applications_under_the_threshold_is_flagged():
    from chalicelib.domain.permits import splitting_flag

    on = date(2015, 3, 1)  # 30万元 / 300 m²
    first = issued(application_id="a1", contract_price=Decimal("25"), area=Decimal("280"))
    second = issued(application_id="a2", contract_price=Decimal("20"), area=Decimal("250"))
    assert splitting_flag(second, [], on) is None
    flag = splitting_flag(second, [first], on)
    assert "分解工程" in flag and "45万元" in flag and "530平方米" in flag
    rejected = first.model_copy(update={"state": PermitState.REJECTED})
    assert splitting_flag(second, [rejected], on) is None
    big = issued(application_id="a3", contract_price=Decimal("800"), area=Decimal("5000"))
    assert splitting_flag(big, [first], on) is None  # above the threshold on its own: nothing to dodge


def _person(state="CONFIRMED", certs=(), specialties=("建筑工程",)):
    from types import SimpleNamespace as NS

    return NS(
        state=RecordState(state),
        registrations=[NS(reg_type="JZS1", specialties=list(specialties), valid_until=None)],
        safety_certs=[NS(category=c, valid_until=date(2030, 1, 1)) for c in certs],
    )


def test_category_qualification_specialty_and_safety_personnel():
    from types import SimpleNamespace as NS

    from chalicelib.domain.permits import check_preconditions

    project = NS(state=RecordState.CONFIRMED, category="02")  # 市政公用工程
    builder = NS(
        state=RecordState.CONFIRMED,
        qualifications=[NS(valid_until=date(2030, 1, 1), items=[NS(code="D101A")])],
        safety_licence=NS(valid_until=date(2030, 1, 1)),
    )
    app = issued(state=PermitState.SUBMITTED)
    gaps = check_preconditions(
        app,
        project=project,
        construction=builder,
        manager=_person(certs=("B",)),
        supervision=None,
        chief=None,
        manager_locked_by=None,
        on=date(2026, 3, 1),
        safety=[_person(certs=("A",))],
    )
    assert gaps == [
        "施工单位的资质不含市政公用工程施工总承包资质",
        "项目经理的注册专业与工程类别（市政公用工程）不符",
        "缺少持有效安全生产考核合格证书的专职安全生产管理人员（C证）",
    ]
    builder.qualifications[0].items.append(NS(code="D110B"))
    gaps = check_preconditions(
        app,
        project=project,
        construction=builder,
        manager=_person(certs=("B",), specialties=("JZS08",)),
        supervision=None,
        chief=None,
        manager_locked_by=None,
        on=date(2026, 3, 1),
        safety=[_person(certs=("A",)), _person(certs=("C",))],
    )
    assert gaps == []


def test_price_mismatch_with_contract_and_tender_is_flagged():
    from chalicelib.domain.stages import price_flags

    builder = "B" * 18
    contract = _stage(_contract("construction", builder, 1))  # money 1
    tender = _stage(
        {
            "kind": "tender",
            "number": "ZB-0001",
            "tender_class": "003",
            "tender_type": "001",
            "result_date": "2026-01-01",
            "money": "2",
            "winner_uscc": builder,
        }
    )
    assert price_flags([contract], construction_uscc=builder, contract_price=Decimal("1")) == []
    assert price_flags([contract, tender], construction_uscc=builder, contract_price=Decimal("1")) == [
        "申请的合同价格1万元与中标金额（2万元）不一致"
    ]
    assert price_flags([contract], construction_uscc="C" * 18, contract_price=Decimal("5")) == []
