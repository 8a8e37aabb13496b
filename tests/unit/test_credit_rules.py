"""Credit publication rules as domain.md §5 states them: periods from the decision, extensions that never shorten,
blacklist criteria in full, 信用修复 decided by the level the rules name."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.credit import (
    CreditKind,
    CreditRecord,
    CreditSource,
    blacklist_criteria,
    extended_end,
    publish_end_for,
    repair_deciders,
)


def record(**kw) -> CreditRecord:
    base = dict(
        credit_id="C1",
        kind=CreditKind.BAD,
        source=CreditSource.ADMIN_PENALTY,
        subject_type="enterprise",
        subject_id="91330782677204726D",
        behaviour_code="C1-2-05",
        category="承揽业务",
        content="转包",
        basis="x",
        authority="义乌市住房和城乡建设局",
        entered_by="s",
        entered_by_name="n",
        entered_at="2026-12-03T00:00:00+00:00",
        happened_on="2024-01-01",
        publish_begin="2026-12-03",
        publish_end="2027-06-03",
    )
    base.update(kw)
    return CreditRecord(**base)


def test_the_period_runs_from_the_decision_not_the_conduct():
    # a penalty decided on 2026-12-03 about conduct of 2024-01-01: shown until 2027-06-03 (6 months from the decision)
    assert publish_end_for(CreditKind.BAD, date(2026, 12, 3), 6, None) == date(2027, 6, 3)
    # the same call with the conduct's date is what made records born expired
    assert publish_end_for(CreditKind.BAD, date(2024, 1, 1), 6, None) == date(2024, 7, 1)
    # never shorter than the penalty itself
    assert publish_end_for(CreditKind.BAD, date(2026, 12, 3), 6, date(2028, 1, 1)) == date(2028, 1, 1)


def test_an_extension_never_shortens_the_period():
    # the penalty runs longer than the 3-year cap from the begin: extending must keep the penalty's end
    r = record(publish_begin="2026-01-01", publish_end="2030-06-30", penalty_end="2030-06-30")
    assert extended_end(r, 6) == date(2030, 6, 30)
    # a normal extension moves the end, capped at 36 months from the begin
    r = record(publish_begin="2026-01-01", publish_end="2027-01-01")
    assert extended_end(r, 6) == date(2027, 7, 1)
    assert extended_end(r, 30) == date(2029, 1, 1)


def test_blacklist_criterion_3_in_full():
    assert blacklist_criteria()["BL-3"] == (
        "发生重大及以上工程质量安全事故，或1年内累计发生2次及以上较大工程质量安全事故，"
        "或发生性质恶劣、危害性严重、社会影响大的较大工程质量安全事故，受到行政处罚"
    )


def test_repair_is_decided_by_the_province_under_the_2007_rules():
    assert repair_deciders(date(2015, 6, 1)) == ["province_official"]
    assert repair_deciders(date(2026, 12, 3)) == ["province_official"]
