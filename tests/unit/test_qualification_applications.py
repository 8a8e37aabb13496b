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
