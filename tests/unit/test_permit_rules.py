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
    add_working_days,
    check_extension_request,
    decision_days,
    lapses,
    require,
    resume_needs_check,
    start_deadline,
    suspension_late,
    threshold,
)


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
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


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
