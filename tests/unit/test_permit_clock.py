"""The statutory clock of a permit application, on the service with in-memory adapters (no I/O): the incomplete
notice is dated and due within 5 working days; the decision clock (re)starts when the application is complete."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace as NS
from zoneinfo import ZoneInfo

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.services.permits import PermitService
from tests.unit.fakes import enterprise

OWNER = "91330782677204726D"


class Store:
    def __init__(self):
        self.apps = {}

    def create(self, app, draft, actor, meta):
        self.apps[app.application_id] = app

    def get(self, application_id):
        return self.apps.get(application_id)

    def save(self, app, expected_version, draft, actor, meta, *, lock_persons=None):
        assert self.apps[app.application_id].version == expected_version
        self.apps[app.application_id] = app

    def by_applicant(self, applicant, since):
        return [a for a in self.apps.values() if a.applicant_uscc == applicant and a.applied_on >= since]

    def lock_holder(self, person):
        return None


class Workflow:
    def __init__(self):
        self.started, self.answers = [], []

    def start(self, name, payload):
        self.started.append(payload)

    def succeed(self, token, output):
        self.answers.append((token, output))


class Registry:
    def __init__(self):
        cert = NS(valid_until=date(2030, 1, 1), items=[NS(code="D101B")])
        self.records = {
            (RecordType.PROJECT, ("3307821503100001",)): NS(
                state=RecordState.CONFIRMED,
                owner_uscc=OWNER,
                region_code="330782",
                name="某工程",
                land_plan_permit_no="地字第330782201500001号",
                project_plan_permit_no="建字第330782201500001号",
            ),
            (RecordType.ENTERPRISE, (OWNER,)): NS(
                state=RecordState.CONFIRMED, qualifications=[cert], safety_licence=NS(valid_until=date(2030, 1, 1))
            ),
            (RecordType.PERSON, ("p" * 24, OWNER)): NS(
                state=RecordState.SUBMITTED,
                registrations=[NS(reg_type="JZS1", valid_until=None)],
                safety_certs=[NS(category="B", valid_until=None)],
            ),
            (RecordType.PERSON, ("a" * 24, OWNER)): NS(
                state=RecordState.CONFIRMED, safety_certs=[NS(category="A", valid_until=date(2030, 1, 1))]
            ),
            (RecordType.PERSON, ("c" * 24, OWNER)): NS(
                state=RecordState.CONFIRMED, safety_certs=[NS(category="C", valid_until=date(2030, 1, 1))]
            ),
        }

    def get(self, rtype, key):
        return self.records.get((rtype, key))


def test_notice_then_clock_restarts_on_completion():
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}  # Tuesday 10:00 in Beijing, before the National Day week
    store, flow, registry = Store(), Workflow(), Registry()
    svc = PermitService(store, flow, registry, clock=lambda: now["t"], new_id=lambda: "app1")
    fields = {
        "construction_uscc": OWNER,
        "project_manager": "p" * 24,
        "contract_price": Decimal("800"),
        "area": Decimal("5000"),
        "safety_persons": ["a" * 24, "c" * 24],
        "site_ready": True,
        "funds_committed": True,
    }
    app = svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", fields)
    # 9-30 (1), 10-01..07 国庆, 10-08 (2), 10-09 (3), Saturday 10-10 调休上班 (4), 10-12..14 (5..7)
    assert app.decision_deadline == "2026-10-14"

    svc.handle_task({"application_id": "app1", "task": "check", "token": "t1"}, RequestMeta())
    a = store.get("app1")
    assert a.missing == ["项目经理不是施工单位已确认的注册人员", "缺少持有效安全生产考核合格证书的项目负责人（B证）"]
    assert a.notice_issued_on == "2026-09-29"
    assert a.notice_due_by == "2026-10-12"  # holidays skipped, the make-up Saturday counted
    assert flow.answers[-1][1]["ok"] is False

    # fixed and resubmitted three weeks later: the decision clock starts again from then
    now["t"] = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    registry.records[(RecordType.PERSON, ("p" * 24, OWNER))].state = RecordState.CONFIRMED
    svc.handle_task({"application_id": "app1", "task": "await_completion", "token": "t2"}, RequestMeta())
    svc.resubmit(enterprise(OWNER), RequestMeta(), "app1", version=store.get("app1").version, changes={})
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t3"}, RequestMeta())
    a = store.get("app1")
    assert a.missing == [] and a.clock_started_on == "2026-10-20"
    deadline = date(2026, 10, 29)  # 10-21 .. 10-23, 10-26 .. 10-29
    assert a.decision_deadline == deadline.isoformat()
    limits = flow.answers[-1][1]["limits"]
    end_of_deadline = datetime.combine(deadline + timedelta(days=1), time(), tzinfo=ZoneInfo("Asia/Shanghai"))
    assert limits["review_seconds"] == int((end_of_deadline - now["t"]).total_seconds())


def test_the_one_time_notice_is_given_once_and_later_findings_are_recorded_apart():
    """一次性告知: a second check after resubmission does not issue a new notice. What is still missing stays in the
    original notice; what the facts changed since (here the builder's safety licence expired) is a dated exception."""
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}
    store, flow, registry = Store(), Workflow(), Registry()
    svc = PermitService(store, flow, registry, clock=lambda: now["t"], new_id=lambda: "app1")
    fields = {
        "construction_uscc": OWNER,
        "project_manager": "p" * 24,
        "contract_price": Decimal("800"),
        "area": Decimal("5000"),
        "safety_persons": ["a" * 24, "c" * 24],
        "site_ready": True,
        "funds_committed": True,
    }
    svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", fields)
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t1"}, RequestMeta())
    first = store.get("app1")
    assert first.notice_items == first.missing and first.notice_issued_on == "2026-09-29"
    # two weeks later the applicant resubmits without fixing anything, and the safety licence has expired meanwhile
    now["t"] = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)
    ent = registry.records[(RecordType.ENTERPRISE, (OWNER,))]
    ent.safety_licence = NS(valid_until=date(2026, 10, 1))
    svc.handle_task({"application_id": "app1", "task": "await_completion", "token": "t2"}, RequestMeta())
    svc.resubmit(enterprise(OWNER), RequestMeta(), "app1", version=store.get("app1").version, changes={})
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t3"}, RequestMeta())
    again = store.get("app1")
    assert again.notice_issued_on == "2026-09-29" and again.notice_items == first.notice_items  # not re-issued
    assert [(f.found_on, f.item) for f in again.later_findings] == [
        ("2026-10-13", "施工单位安全生产许可证不存在或已过期")
    ]
    assert set(again.missing) == set(first.notice_items) | {"施工单位安全生产许可证不存在或已过期"}


def test_article_4_items_are_checked_each_with_its_source():
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}
    store, flow, registry = Store(), Workflow(), Registry()
    project = registry.records[(RecordType.PROJECT, ("3307821503100001",))]
    project.land_plan_permit_no = None  # no 用地 document on the project, no reason given
    svc = PermitService(store, flow, registry, clock=lambda: now["t"], new_id=lambda: "app1")
    fields = {
        "construction_uscc": OWNER,
        "project_manager": "p" * 24,
        "contract_price": Decimal("800"),
        "area": Decimal("5000"),
        "safety_persons": ["a" * 24, "c" * 24],
        "planning_exempt_reason": None,
        "site_ready": False,
        "funds_committed": False,
    }
    svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", fields)
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t1"}, RequestMeta())
    a = store.get("app1")
    by_item = {c.item: c for c in a.checks}
    assert list(by_item) == [f"第四条（{n}）" for n in "一二三四五六七八九"]
    assert not by_item["第四条（一）"].ok and by_item["第四条（一）"].source == "平台数据"
    assert by_item["第四条（二）"].ok and "建字第" in by_item["第四条（二）"].detail
    assert not by_item["第四条（三）"].ok and by_item["第四条（三）"].source == "申请人承诺"
    assert not by_item["第四条（四）"].ok  # the project manager is not confirmed
    assert by_item["第四条（七）"].source == "不适用"  # deleted on 2018-09-28
    assert not by_item["第四条（八）"].ok and "承诺书" in by_item["第四条（八）"].detail
    for text in ("未办理用地批准手续", "申请人未承诺施工场地", "未提交建设资金已经落实承诺书"):
        assert any(text in m for m in a.missing), text
