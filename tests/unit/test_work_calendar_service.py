"""Loading a year's holiday arrangement (province administrator), and permit deadlines flagged while it is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain.audit import AuditAction, RequestMeta
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.workdays import YearArrangement
from chalicelib.services.permits import PermitService
from chalicelib.services.work_calendar import WorkCalendarService
from tests.unit.fakes import enterprise
from tests.unit.test_permit_clock import OWNER, Registry, Store, Workflow

ADMIN = Principal(subject="a", username="admin", role=Role.PROVINCE_ADMIN, region_code="330000")
COUNTY = Principal(subject="c", username="county", role=Role.COUNTY_OFFICIAL, region_code="330782")
DEC_3 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


class FakeStore:
    def __init__(self):
        self.stored: dict[int, tuple[YearArrangement, int]] = {}
        self.drafts = []
        self.reads = 0

    def years(self):
        self.reads += 1
        return list(self.stored.values())

    def put_year(self, arrangement, expected_version, draft, actor, meta):
        current = self.stored.get(arrangement.year)
        assert (current[1] if current else None) == expected_version
        version = (expected_version or 0) + 1
        self.stored[arrangement.year] = (arrangement, version)
        self.drafts.append(draft)
        return version


def arrangement(year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知（测试数据）"):
    return YearArrangement(
        year=year, notice=notice, holidays=[{"name": "元旦", "from": f"{year}-01-01", "to": f"{year}-01-03"}]
    )


def service(store=None, now=DEC_3):
    return WorkCalendarService(store or FakeStore(), clock=lambda: now, ttl_seconds=3600)


def test_missing_year_is_a_task_and_a_warning():
    svc = service()
    assert svc.missing_years() == [2027]
    status = svc.status(COUNTY)
    assert status["missing_years"] == [2027] and "2027年节假日安排尚未载入" in status["warning"]
    assert status["covered_through"] == 2026
    [task] = svc.tasks(ADMIN)
    assert task["title"] == "载入2027年节假日安排" and task["who"] == "系统管理员"
    with pytest.raises(Forbidden):
        svc.status(enterprise(OWNER))


def test_only_the_province_administrator_loads_a_year_and_it_is_audited():
    store = FakeStore()
    svc = service(store)
    with pytest.raises(Forbidden):
        svc.load_year(COUNTY, RequestMeta(), arrangement(), expected_version=None)
    assert svc.load_year(ADMIN, RequestMeta(), arrangement(), expected_version=None) == {"year": 2027, "version": 1}
    [draft] = store.drafts
    assert draft.action == AuditAction.WORK_CALENDAR_LOADED and draft.target_id == "2027"
    assert svc.missing_years() == [] and svc.calendar().covers(2027)
    assert svc.tasks(ADMIN) == []


def test_concurrent_loads_do_not_overwrite_each_other():
    store = FakeStore()
    svc = service(store)
    svc.load_year(ADMIN, RequestMeta(), arrangement(), expected_version=None)
    with pytest.raises(Conflict, match="已被他人修改"):
        svc.load_year(ADMIN, RequestMeta(), arrangement(notice="另一版本的通知"), expected_version=None)
    assert svc.load_year(ADMIN, RequestMeta(), arrangement(notice="更正后的通知"), expected_version=1)["version"] == 2


def test_shipped_years_and_far_years_cannot_be_loaded():
    svc = service()
    with pytest.raises(Conflict, match="已随平台发布"):
        svc.load_year(ADMIN, RequestMeta(), arrangement(2026, "x" * 10), expected_version=None)
    with pytest.raises(InvalidInput, match="只能载入2026年或2027年"):
        svc.load_year(ADMIN, RequestMeta(), arrangement(2029, "x" * 10), expected_version=None)


def test_the_merged_calendar_is_cached():
    store = FakeStore()
    svc = service(store)
    for _ in range(5):
        svc.calendar()
    assert store.reads == 1


def permit_service(now, calendar):
    return PermitService(Store(), Workflow(), Registry(), clock=lambda: now, new_id=lambda: "app1", calendar=calendar)


FIELDS = {
    "construction_uscc": OWNER,
    "project_manager": "p" * 24,
    "contract_price": Decimal("800"),
    "area": Decimal("5000"),
    "safety_persons": ["a" * 24, "c" * 24],
    "site_ready": True,
    "funds_committed": True,
}


def test_a_permit_deadline_reaching_2027_is_marked_provisional():
    told = []
    cal_service = WorkCalendarService(FakeStore(), clock=lambda: DEC_3, on_fallback=told.append)
    now = datetime(2026, 12, 24, 2, 0, tzinfo=UTC)  # Thursday in Beijing
    app = permit_service(now, cal_service.calendar).apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    assert app.decision_deadline == "2027-01-05" and app.provisional_years == [2027]
    assert 2027 in told


def test_the_same_deadline_is_exact_once_the_year_is_loaded():
    store = FakeStore()
    cal_service = WorkCalendarService(store, clock=lambda: DEC_3)
    cal_service.load_year(ADMIN, RequestMeta(), arrangement(), expected_version=None)
    now = datetime(2026, 12, 24, 2, 0, tzinfo=UTC)
    app = permit_service(now, cal_service.calendar).apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    assert app.decision_deadline == "2027-01-05" and app.provisional_years == []


def test_a_deadline_inside_a_covered_year_is_not_flagged():
    now = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
    from chalicelib.domain.workdays import file_calendar

    app = permit_service(now, file_calendar).apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    assert app.decision_deadline == "2026-10-14" and app.provisional_years == []
