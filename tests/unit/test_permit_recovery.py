"""After a restart of the local platform no Step Functions execution survives: PermitService.recover_workflows
drives each open application again from the step its record is in, with the statutory time that is left, and leaves
executions that still run alone (service with in-memory adapters, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.permits import OPEN_WORKFLOW, PermitState
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.services.permits import PermitService
from tests.unit.fakes import enterprise
from tests.unit.test_permit_clock import OWNER, Registry, Store

FIELDS = {
    "construction_uscc": OWNER,
    "project_manager": "p" * 24,
    "contract_price": Decimal("800"),
    "area": Decimal("5000"),
    "safety_persons": ["a" * 24, "c" * 24],
    "site_ready": True,
    "funds_committed": True,
}


class RecoveringStore(Store):
    def open_workflows(self):
        return [a for a in self.apps.values() if a.state in OPEN_WORKFLOW]


class Workflow:
    def __init__(self):
        self.started: list[tuple[str, dict]] = []
        self.alive: set[str] = set()
        self.answers = []

    def start(self, name, payload):
        self.started.append((name, payload))
        self.alive.add(name)

    def running(self, name):
        return name in self.alive

    def succeed(self, token, output):
        self.answers.append((token, output))


def service(now):
    store, flow, registry = RecoveringStore(), Workflow(), Registry()
    svc = PermitService(store, flow, registry, clock=lambda: now["t"], new_id=lambda: "app1")
    return svc, store, flow, registry


def test_an_application_waiting_for_the_county_is_driven_again_at_the_review_with_the_time_left():
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}
    svc, store, flow, registry = service(now)
    registry.records[(RecordType.PERSON, ("p" * 24, OWNER))].state = RecordState.CONFIRMED
    svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t1"}, RequestMeta())
    svc.handle_task({"application_id": "app1", "task": "review", "level": "county", "token": "t2"}, RequestMeta())
    waiting = store.get("app1")
    assert waiting.state == PermitState.UNDER_REVIEW and waiting.task_token == "t2"

    # an execution that still runs is left alone
    assert svc.recover_workflows(RequestMeta()) == {"running": 1, "resumed": 0}

    # the platform restarts two days later: no execution survived
    flow.alive.clear()
    now["t"] += timedelta(days=2)
    assert svc.recover_workflows(RequestMeta()) == {"running": 0, "resumed": 1}
    name, payload = flow.started[-1]
    again = store.get("app1")
    assert name == "app1-r1" and again.execution == "app1-r1"
    assert again.task_token is None  # the old execution's token is void; the new one arrives with the review task
    assert again.decision_deadline == waiting.decision_deadline  # the statutory date does not move
    assert payload["resume"] == "review" and payload["application_id"] == "app1"
    review_left = payload["check"]["limits"]["review_seconds"]
    original = flow.answers[-1][1]["limits"]["review_seconds"]
    assert 0 < review_left <= original - 2 * 86400 + 60  # two days of the statutory time are gone
    assert payload["check"]["limits"]["escalation_seconds"] > review_left

    # a second restart continues the generation count
    flow.alive.clear()
    svc.recover_workflows(RequestMeta())
    assert flow.started[-1][0] == "app1-r2" and store.get("app1").execution == "app1-r2"


def test_an_incomplete_application_waits_for_its_completion_again_and_a_deadline_passed_meanwhile_runs_out():
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}
    svc, store, flow, _ = service(now)
    svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    svc.handle_task({"application_id": "app1", "task": "check", "token": "t1"}, RequestMeta())
    svc.handle_task({"application_id": "app1", "task": "await_completion", "token": "t2"}, RequestMeta())
    assert store.get("app1").state == PermitState.INCOMPLETE
    flow.alive.clear()
    now["t"] += timedelta(days=400)  # far beyond the completion window
    svc.recover_workflows(RequestMeta())
    name, payload = flow.started[-1]
    assert name == "app1-r1" and payload["resume"] == "await_completion"
    assert payload["limits"]["completion_seconds"] == 60  # times out at once: abandoned as the rules say


def test_decided_and_issued_applications_are_not_driven_again():
    now = {"t": datetime(2026, 9, 29, 2, 0, tzinfo=UTC)}
    svc, store, flow, _ = service(now)
    svc.apply(enterprise(OWNER), RequestMeta(), "3307821503100001", FIELDS)
    app = store.get("app1")
    for state in (PermitState.ISSUED, PermitState.REJECTED, PermitState.ABANDONED):
        store.apps["app1"] = app.model_copy(update={"state": state})
        flow.alive.clear()
        assert svc.recover_workflows(RequestMeta()) == {"running": 0, "resumed": 0}
