"""The working-day calendar: the data file against its sources, deadlines across the 2026/2027 year boundary, and a
year without an arrangement as an explicit, flagged state."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.domain.workdays import (
    WorkCalendar,
    YearArrangement,
    file_arrangements,
    file_calendar,
    provisional_note,
)


def test_every_shipped_year_agrees_with_chinesecalendar_day_by_day():
    """2004-2026 come from chinesecalendar's transcription of the notices: every single day must agree."""
    import chinese_calendar

    cal = file_calendar()
    years = cal.years()
    assert years == list(range(2004, 2027))
    d, end, checked = date(2004, 1, 1), date(2026, 12, 31), 0
    while d <= end:
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)
        checked += 1
    assert checked == 8401


def test_statutory_days_by_rule_are_days_off_in_every_shipped_year():
    """Cross-check with the `holidays` package (statutory days by rule) for the years since the 2008 reform."""
    import holidays

    cal = file_calendar()
    for year in range(2008, 2027):
        for d in holidays.China(years=year):
            assert not cal.is_workday(d), (d, holidays.China(years=year)[d])


def test_2026_is_the_notice_as_published():
    """国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04), transcribed from its text."""
    [a] = [a for a in file_arrangements() if a.year == 2026]
    periods = {(p.name, p.from_.isoformat(), p.to.isoformat()) for p in a.holidays}
    assert periods == {
        ("元旦", "2026-01-01", "2026-01-03"),
        ("春节", "2026-02-15", "2026-02-23"),
        ("清明节", "2026-04-04", "2026-04-06"),
        ("劳动节", "2026-05-01", "2026-05-05"),
        ("端午节", "2026-06-19", "2026-06-21"),
        ("中秋节", "2026-09-25", "2026-09-27"),
        ("国庆节", "2026-10-01", "2026-10-07"),
    }
    assert [w.day.isoformat() for w in a.workdays] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]


def test_no_arrangement_for_2027_is_shipped_and_none_is_invented():
    cal = file_calendar()
    assert not cal.covers(2027)
    assert cal.missing_years(date(2026, 12, 3)) == [2027]  # December: next year's deadlines are near
    assert cal.missing_years(date(2026, 6, 1)) == []  # in June only this year matters
    assert cal.missing_years(date(2027, 3, 1)) == [2027]


def test_deadline_across_the_year_boundary_is_flagged_provisional():
    told = []
    cal = file_calendar().with_years([], on_fallback=told.append)
    # Thu 2026-12-24 + 7: 12-25 (1), 12-28 .. 12-31 (2..5); 2027-01-01 is 元旦 by rule: off; 01-04 (6), 01-05 (7)
    counted = cal.add(date(2026, 12, 24), 7)
    assert counted.day == date(2027, 1, 5)
    assert counted.provisional and counted.assumed_years == (2027,)
    assert told == [2027]
    # inside 2026 the same count is exact and not flagged
    inside = cal.add(date(2026, 12, 1), 7)
    assert inside.day == date(2026, 12, 10) and not inside.provisional
    assert told == [2027]
    assert "2027年节假日安排尚未载入" in provisional_note(counted.assumed_years)


def test_spring_festival_2027_on_the_fallback_skips_the_statutory_days_and_is_flagged():
    cal = file_calendar()
    # 春节 2027 by rule: 除夕 02-05 .. 02-08 and 补假 02-09, 02-10 (初一/初二 fall on the weekend).
    # Wed 02-03 + 3: 02-04 (1), then 02-05 .. 02-10 off, 02-11 (2), 02-12 (3)
    counted = cal.add(date(2027, 2, 3), 3)
    assert counted.day == date(2027, 2, 12) and counted.assumed_years == (2027,)
    # no make-up working days are assumed: Saturdays around the festival stay days off
    assert not cal.is_workday(date(2027, 2, 13))


def test_a_loaded_arrangement_replaces_the_fallback():
    """An arrangement entered after the notice (here a fixture of this test, not data) makes the count exact."""
    fixture = YearArrangement(
        year=2027,
        notice="测试用安排（非真实通知）",
        holidays=[
            {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
            {"name": "春节", "from": "2027-02-05", "to": "2027-02-13"},
        ],
        workdays=[{"date": "2027-02-14", "for": "春节"}],
    )
    cal = file_calendar().with_years([fixture])
    assert cal.covers(2027)
    counted = cal.add(date(2026, 12, 24), 7)
    assert counted.day == date(2027, 1, 5) and not counted.provisional
    assert cal.is_workday(date(2027, 2, 14))  # the make-up Sunday counts
    assert cal.add(date(2027, 2, 4), 1).day == date(2027, 2, 14)


def test_count_between_inverts_add():
    cal = file_calendar()
    for start in (date(2026, 9, 25), date(2026, 12, 28), date(2025, 1, 20)):
        for n in (1, 5, 7, 15):
            end = cal.add(start, n).day
            assert cal.count_between(start, end) == n


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workdays": [{"date": "2027-02-10", "for": "春节"}]}, "本来就是工作日"),
        ({"workdays": [{"date": "2027-02-06", "for": "春节"}]}, "既是放假日又是调休上班日"),
        ({"holidays": [{"name": "春节", "from": "2028-02-01", "to": "2028-02-03"}]}, "不在2027年安排的范围内"),
        ({"holidays": [{"name": "春节", "from": "2027-02-08", "to": "2027-02-01"}]}, "截止日早于起始日"),
        ({"holidays": []}, "at least 1"),
    ],
)
def test_an_arrangement_that_contradicts_itself_is_refused(change, message):
    base = {
        "year": 2027,
        "notice": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [{"name": "春节", "from": "2027-02-05", "to": "2027-02-11"}],
        "workdays": [],
    }
    with pytest.raises(ValidationError, match=message):
        YearArrangement.model_validate({**base, **change})


def test_december_days_of_the_next_notice_belong_to_it():
    """2012's notice made Saturday 2011-12-31 a working day for 元旦 2012."""
    cal = file_calendar()
    assert cal.is_workday(date(2011, 12, 31))
    assert not cal.is_workday(date(2012, 1, 2))


def test_calendar_without_any_data_is_weekends_only():
    cal = WorkCalendar({})
    assert cal.add(date(2026, 10, 1), 1).day == date(2026, 10, 2)  # no arrangement: 国庆 would not be skipped
    assert cal.add(date(2026, 10, 1), 1).assumed_years == (2026,)


def test_the_committed_file_is_what_the_generator_writes():
    from infra.gen_work_calendar import OUT, build, dumps

    assert OUT.read_text("utf-8") == dumps(build())
