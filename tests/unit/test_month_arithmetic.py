"""Rules that say 月 or 年 count calendar months (dateutil's relativedelta), never 30 or 365 days: property tests
of every such rule against relativedelta itself."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import credit
from chalicelib.domain.clock import add_months
from chalicelib.domain.permits import resume_needs_check, start_deadline, suspension_late

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
months = st.integers(min_value=0, max_value=48)
CASES = 400


@settings(max_examples=CASES)
@given(days, months)
def test_add_months_is_relativedelta(d, n):
    assert add_months(d, n) == d + relativedelta(months=n)


@settings(max_examples=CASES)
@given(days, st.integers(min_value=0, max_value=70))
def test_suspension_report_within_one_calendar_month(stopped, after):
    reported = stopped + timedelta(days=after)
    assert suspension_late(stopped, reported) == (reported > stopped + relativedelta(months=1))


@settings(max_examples=CASES)
@given(days, st.integers(min_value=300, max_value=430))
def test_resumption_check_after_a_full_calendar_year(suspended, after):
    resumed = suspended + timedelta(days=after)
    assert resume_needs_check(suspended, resumed) == (resumed >= suspended + relativedelta(years=1))


@settings(max_examples=CASES)
@given(days, st.lists(st.integers(min_value=1, max_value=3), max_size=2))
def test_start_deadline_moves_the_deadline_in_force(issued, extensions):
    expected = issued + relativedelta(months=3)
    for m in extensions:
        expected = expected + relativedelta(months=m)
    assert start_deadline(issued, extensions) == expected


@settings(max_examples=CASES)
@given(days.filter(lambda d: d >= date(2007, 1, 1)), st.integers(min_value=6, max_value=36))
def test_bad_credit_period_is_calendar_months_from_the_decision(decided, n):
    end = credit.publish_end_for(credit.CreditKind.BAD, decided, n, None)
    assert end == decided + relativedelta(months=n)
    good = credit.publish_end_for(credit.CreditKind.GOOD, decided, None, None)
    assert good == decided + relativedelta(years=3)
