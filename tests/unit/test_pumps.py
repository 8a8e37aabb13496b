"""The local runtime's event pumps (infra/local/pumps.py): schedule parsing, SQS poll semantics, the scheduler and
deriving the pumps from a Chalice app.

Everything runs against hand-written fakes: no network, no moto, no boto3. The only real waiting is one ~0.3 s run of
the scheduler thread.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from chalice import Chalice, Cron, Rate

from infra.local import pumps
from infra.local.pumps import (
    LocalLambdaContext,
    Schedule,
    Scheduler,
    SqsPoller,
    aws_cron_to_standard,
    event_pumps,
    sqs_record,
)

QUEUE_URL = "http://x/q1"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q1"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _quiet_pump_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crashing handlers are logged with log.exception; keep the expected tracebacks out of the test output."""
    monkeypatch.setattr(pumps.log, "disabled", True)


# ---- fakes -----------------------------------------------------------------------------------------------------


class QueueDoesNotExistError(Exception):
    pass


class FakeSqs:
    """Records every call; `receive_message` hands out the queued responses one by one, then nothing."""

    def __init__(self, batches: list[list[dict[str, Any]]] | None = None, queues: dict[str, str] | None = None):
        self.batches = list(batches or [])
        self.queues = dict(queues or {"q1": QUEUE_URL})
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _calls(self, op: str) -> list[dict[str, Any]]:
        return [kw for name, kw in self.calls if name == op]

    def receive_message(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("receive_message", kw))
        if not self.batches:
            return {}
        return {"Messages": self.batches.pop(0)}

    def delete_message_batch(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("delete_message_batch", kw))
        return {"Successful": [{"Id": e["Id"]} for e in kw["Entries"]], "Failed": []}

    def change_message_visibility(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("change_message_visibility", kw))
        return {}

    def get_queue_url(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("get_queue_url", kw))
        name = kw.get("QueueName")
        if name not in self.queues:
            raise QueueDoesNotExistError(f"no queue named {name!r}")
        return {"QueueUrl": self.queues[name]}

    def get_queue_attributes(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("get_queue_attributes", kw))
        name = next(n for n, u in self.queues.items() if u == kw["QueueUrl"])
        return {"Attributes": {"QueueArn": f"arn:aws:sqs:{REGION}:123456789012:{name}"}}


def msg(mid: str, body: str = "{}", receives: int = 1) -> dict[str, Any]:
    return {
        "MessageId": mid,
        "ReceiptHandle": f"rh-{mid}",
        "Body": body,
        "MD5OfBody": "d41d8cd98f00b204e9800998ecf8427e",
        "Attributes": {"ApproximateReceiveCount": str(receives), "SentTimestamp": "1767225600000"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "upload"}},
    }


def make_poller(
    sqs: FakeSqs, handler: Any, *, batch_size: int = 10, backoff: float = 1.0, name: str = "on_upload"
) -> SqsPoller:
    return SqsPoller(
        name=name,
        handler=handler,
        sqs=sqs,
        queue_url=QUEUE_URL,
        queue_arn=QUEUE_ARN,
        batch_size=batch_size,
        region=REGION,
        stop=threading.Event(),
        retry_backoff_seconds=backoff,
    )


# ---- Schedule: rate(...) ---------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "delta"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(3 days)", timedelta(days=3)),
    ],
)
def test_rate_interval(expr: str, delta: timedelta) -> None:
    s = Schedule(expr)
    assert s.cron is None
    assert s.interval == delta.total_seconds()
    assert s.next_after(T0) == T0 + delta
    assert s.next_after(s.next_after(T0)) == T0 + 2 * delta


@pytest.mark.parametrize(
    "expr",
    [
        "every 5 minutes",
        "rate(5 seconds)",
        "rate(five minutes)",
        "rate(-1 minutes)",
        "rate(5 minutes",
        "cron 0 2 * * ? *",
        "at(2026-01-01T00:00:00)",
        "",
    ],
)
def test_unsupported_expression_raises(expr: str) -> None:
    with pytest.raises(ValueError):
        Schedule(expr)


def test_rate_zero_is_rejected() -> None:
    with pytest.raises(ValueError):
        Schedule("rate(0 minutes)")


# ---- Schedule: cron(...) ---------------------------------------------------------------------------------------


def test_cron_with_a_year_is_refused_rather_than_fired_every_year() -> None:
    with pytest.raises(ValueError, match="year"):
        aws_cron_to_standard("0 12 ? JAN-MAR SUN 2027")


@pytest.mark.parametrize(
    ("aws", "standard"),
    [
        ("0 2 * * ? *", "0 2 * * *"),
        ("0/15 * ? * MON-FRI *", "0/15 * * * MON-FRI"),
        ("0 9 ? * 1 *", "0 9 * * 0"),  # AWS 1 = SUN -> 0
        ("0 9 ? * 7 *", "0 9 * * 6"),  # AWS 7 = SAT -> 6
        ("0 9 ? * 1,7 *", "0 9 * * 0,6"),
        ("0 9 ? * 2-6 *", "0 9 * * 1-5"),  # MON-FRI as numbers
        ("30 8 1 * ? *", "30 8 1 * *"),
    ],
)
def test_aws_cron_to_standard(aws: str, standard: str) -> None:
    assert aws_cron_to_standard(aws) == standard


@pytest.mark.parametrize(
    "aws",
    [
        "0 0 L * ? *",  # last day of month
        "0 0 15W * ? *",  # nearest weekday
        "0 0 ? * 6L *",  # last Friday
        "0 0 ? * 2#1 *",  # first Monday
        "0 0 ? * MON#2 *",
    ],
)
def test_aws_cron_l_w_hash_unsupported(aws: str) -> None:
    with pytest.raises(ValueError, match="not supported"):
        aws_cron_to_standard(aws)


@pytest.mark.parametrize("aws", ["0 2 * * ?", "0 2 * * ? * *", "", "0"])
def test_aws_cron_wrong_field_count(aws: str) -> None:
    with pytest.raises(ValueError, match="6 fields"):
        aws_cron_to_standard(aws)


def test_cron_schedule_next_after_same_day() -> None:
    s = Schedule("cron(0 2 * * ? *)")
    assert s.interval is None
    assert s.cron == "0 2 * * *"
    assert s.next_after(T0) == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert s.next_after(datetime(2026, 11, 29, 2, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_cron_schedule_numeric_day_of_week_is_aws_numbering() -> None:
    # 2026-11-29 is a Sunday; AWS dow 2 is Monday.
    assert T0.weekday() == 6
    assert Schedule("cron(0 9 ? * 2 *)").next_after(T0) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert Schedule("cron(0 9 ? * 1 *)").next_after(T0) == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_cron_schedule_named_weekdays() -> None:
    # Sunday 01:00 -> next MON-FRI quarter hour is Monday 00:00.
    assert Schedule("cron(0/15 * ? * MON-FRI *)").next_after(T0) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("cron(0 9 ? * WED *)", datetime(2026, 12, 2, 9, 0, tzinfo=UTC)),
        ("cron(0 9 ? * MON,WED,FRI *)", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
    ],
)
def test_cron_day_name_wed_is_supported(expr: str, expected: datetime) -> None:
    assert Schedule(expr).next_after(T0) == expected


# ---- SqsPoller.poll_once ---------------------------------------------------------------------------------------


def test_partial_batch_failure_deletes_only_successes_and_backs_off_the_failure() -> None:
    sqs = FakeSqs([[msg("id1"), msg("id2", receives=3), msg("id3")]])
    poller = make_poller(sqs, lambda event, ctx: {"batchItemFailures": [{"itemIdentifier": "id2"}]})

    assert poller.poll_once() == 3

    deletes = sqs._calls("delete_message_batch")
    assert len(deletes) == 1
    assert deletes[0]["QueueUrl"] == QUEUE_URL
    assert sorted(e["ReceiptHandle"] for e in deletes[0]["Entries"]) == ["rh-id1", "rh-id3"]
    assert len({e["Id"] for e in deletes[0]["Entries"]}) == 2  # batch entry ids are unique

    vis = sqs._calls("change_message_visibility")
    # third receive with a 1 s base back-off: 1 * 2 ** (3 - 1) = 4 s
    assert vis == [{"QueueUrl": QUEUE_URL, "ReceiptHandle": "rh-id2", "VisibilityTimeout": 4}]

    st = poller.stats
    assert (st.batches, st.messages, st.succeeded, st.failed, st.crashes) == (1, 3, 2, 1, 0)


@pytest.mark.parametrize(("receives", "timeout"), [(1, 1), (2, 2), (4, 8), (5, 16), (6, 30), (20, 30)])
def test_backoff_doubles_per_receive_and_is_capped(receives: int, timeout: int) -> None:
    sqs = FakeSqs([[msg("a", receives=receives)]])
    poller = make_poller(sqs, lambda e, c: {"batchItemFailures": [{"itemIdentifier": "a"}]})
    poller.poll_once()
    assert [kw["VisibilityTimeout"] for kw in sqs._calls("change_message_visibility")] == [timeout]
    assert sqs._calls("delete_message_batch") == []


def test_backoff_without_receive_count_attribute_is_the_base() -> None:
    m = msg("a")
    del m["Attributes"]
    sqs = FakeSqs([[m]])
    poller = make_poller(sqs, lambda e, c: {"batchItemFailures": [{"itemIdentifier": "a"}]}, backoff=2.0)
    poller.poll_once()
    assert sqs._calls("change_message_visibility")[0]["VisibilityTimeout"] == 2


def test_handler_crash_fails_the_whole_batch_and_the_poller_survives() -> None:
    sqs = FakeSqs([[msg("id1"), msg("id2", receives=2), msg("id3")]])

    def boom(event: dict, ctx: Any) -> None:
        raise RuntimeError("db down")

    poller = make_poller(sqs, boom)
    assert poller.poll_once() == 3  # does not raise

    assert sqs._calls("delete_message_batch") == []
    vis = {kw["ReceiptHandle"]: kw["VisibilityTimeout"] for kw in sqs._calls("change_message_visibility")}
    assert vis == {"rh-id1": 1, "rh-id2": 2, "rh-id3": 1}
    st = poller.stats
    assert (st.crashes, st.failed, st.succeeded, st.messages) == (1, 3, 0, 3)
    assert st.last_error is not None
    assert "db down" in st.last_error


def test_empty_receive_returns_zero_and_does_nothing_else() -> None:
    sqs = FakeSqs([])
    called: list[Any] = []
    poller = make_poller(sqs, lambda e, c: called.append(e))

    assert poller.poll_once() == 0
    assert [name for name, _ in sqs.calls] == ["receive_message"]
    assert called == []
    assert poller.stats.batches == 0
    assert poller.stats.messages == 0


def test_empty_messages_list_is_also_empty() -> None:
    sqs = FakeSqs([[]])
    poller = make_poller(sqs, lambda e, c: pytest.fail("handler must not be called"))
    assert poller.poll_once() == 0
    assert [name for name, _ in sqs.calls] == ["receive_message"]


def test_handler_gets_lambda_shaped_sqs_event_and_context() -> None:
    m1, m2 = msg("id1", body='{"a": 1}', receives=2), msg("id2", body="plain")
    sqs = FakeSqs([[m1, m2]])
    seen: list[tuple[dict, Any]] = []
    poller = make_poller(sqs, lambda e, c: seen.append((e, c)), name="on_upload_event")

    poller.poll_once()

    (event, ctx), *rest = seen
    assert rest == []
    assert list(event) == ["Records"]
    r1, r2 = event["Records"]
    assert r1["messageId"] == "id1"
    assert r1["receiptHandle"] == "rh-id1"
    assert r1["body"] == '{"a": 1}'
    assert r1["attributes"] == m1["Attributes"]
    assert r1["attributes"]["ApproximateReceiveCount"] == "2"
    assert r1["messageAttributes"] == m1["MessageAttributes"]
    assert r1["md5OfBody"] == m1["MD5OfBody"]
    assert r1["eventSource"] == "aws:sqs"
    assert r1["eventSourceARN"] == QUEUE_ARN
    assert r1["awsRegion"] == REGION
    assert r2["messageId"] == "id2"
    assert r2["body"] == "plain"

    assert ctx.function_name == "on_upload_event"
    remaining = ctx.get_remaining_time_in_millis()
    assert isinstance(remaining, int)
    assert 25_000 < remaining <= 30_000
    assert ctx.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:on_upload_event"
    assert ctx.aws_request_id

    # a handler returning None is a complete success
    assert sorted(e["ReceiptHandle"] for e in sqs._calls("delete_message_batch")[0]["Entries"]) == [
        "rh-id1",
        "rh-id2",
    ]
    assert sqs._calls("change_message_visibility") == []


def test_sqs_record_defaults_for_missing_optional_fields() -> None:
    r = sqs_record({"MessageId": "m", "ReceiptHandle": "rh", "Body": "b"}, QUEUE_ARN, "cn-north-1")
    assert r["attributes"] == {}
    assert r["messageAttributes"] == {}
    assert r["md5OfBody"] == ""
    assert r["awsRegion"] == "cn-north-1"


def test_context_remaining_time_counts_down_and_floors_at_zero() -> None:
    ctx = LocalLambdaContext("f", timeout_seconds=30)
    assert ctx.get_remaining_time_in_millis() > 29_000
    ctx.started -= 31  # pretend the invocation began 31 s ago
    assert ctx.get_remaining_time_in_millis() == 0
    assert ctx.log_group_name == "/aws/lambda/f"
    assert ctx.function_version == "$LATEST"


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": "not-in-batch"}, {"itemIdentifier": "id2"}],
        [{"itemIdentifier": "ghost"}],
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"wrongKey": "id1"}],
        "not a list",
    ],
)
def test_an_invalid_failure_list_fails_the_whole_batch_as_lambda_does(failures: Any) -> None:
    sqs = FakeSqs([[msg("id1"), msg("id2")]])
    poller = make_poller(sqs, lambda e, c: {"batchItemFailures": failures})
    poller.poll_once()
    assert sqs._calls("delete_message_batch") == []
    assert sorted(kw["ReceiptHandle"] for kw in sqs._calls("change_message_visibility")) == ["rh-id1", "rh-id2"]
    assert (poller.stats.succeeded, poller.stats.failed) == (0, 2)


@pytest.mark.parametrize(
    "result",
    [
        None,
        {},
        {"batchItemFailures": []},
        {"batchItemFailures": None},
        "ok",
        [],
    ],
)
def test_non_failure_results_are_complete_success(result: Any) -> None:
    sqs = FakeSqs([[msg("id1"), msg("id2")]])
    poller = make_poller(sqs, lambda e, c: result)
    poller.poll_once()
    assert len(sqs._calls("delete_message_batch")[0]["Entries"]) == 2
    assert sqs._calls("change_message_visibility") == []
    assert (poller.stats.succeeded, poller.stats.failed, poller.stats.crashes) == (2, 0, 0)


def test_all_items_failed_deletes_nothing() -> None:
    sqs = FakeSqs([[msg("id1"), msg("id2")]])
    poller = make_poller(
        sqs, lambda e, c: {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in e["Records"]]}
    )
    poller.poll_once()
    assert sqs._calls("delete_message_batch") == []
    assert len(sqs._calls("change_message_visibility")) == 2
    assert (poller.stats.succeeded, poller.stats.failed) == (0, 2)


@pytest.mark.parametrize(("configured", "sent"), [(0, 1), (-5, 1), (1, 1), (4, 4), (10, 10), (11, 10), (100, 10)])
def test_batch_size_is_clamped_to_sqs_limits(configured: int, sent: int) -> None:
    sqs = FakeSqs([])
    poller = make_poller(sqs, lambda e, c: None, batch_size=configured)
    poller.poll_once()
    (kw,) = sqs._calls("receive_message")
    assert kw["MaxNumberOfMessages"] == sent
    assert kw["QueueUrl"] == QUEUE_URL
    assert kw["AttributeNames"] == ["All"]
    assert kw["MessageAttributeNames"] == ["All"]


def test_stats_accumulate_over_polls() -> None:
    sqs = FakeSqs([[msg("a"), msg("b")], [msg("c")]])
    poller = make_poller(sqs, lambda e, c: None)
    assert poller.poll_once() == 2
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0
    assert (poller.stats.batches, poller.stats.messages, poller.stats.succeeded) == (2, 3, 3)


def test_poller_thread_survives_receive_errors_and_stops() -> None:
    class FlakySqs(FakeSqs):
        def receive_message(self, **kw: Any) -> dict[str, Any]:
            self.calls.append(("receive_message", kw))
            poller.stop_event.set()  # one iteration only
            raise ConnectionError("moto restarting")

    poller = make_poller(FlakySqs(), lambda e, c: None)
    poller.start()
    poller.join(timeout=2)
    assert not poller.is_alive()
    assert poller.daemon
    assert poller.name == "sqs:on_upload"
    assert poller.stats.last_error is not None
    assert "moto restarting" in poller.stats.last_error


# ---- Scheduler -------------------------------------------------------------------------------------------------


def _jobs(received: list[dict]) -> list[tuple[str, str, Any]]:
    def fn_ok(event: dict, ctx: Any) -> None:
        received.append(event)

    def fn_raising(event: dict, ctx: Any) -> None:
        raise RuntimeError("nightly job failed")

    return [("ok", "rate(1 minute)", fn_ok), ("bad", "rate(1 minute)", fn_raising)]


def test_fire_delivers_an_eventbridge_scheduled_event() -> None:
    received: list[dict] = []
    sched = Scheduler(_jobs(received), speedup=1, region=REGION, stop=threading.Event())
    at = datetime(2026, 11, 29, 2, 0, 5, tzinfo=UTC)

    (_, _, fn_ok), (_, _, fn_bad) = sched.jobs
    sched.fire("ok", fn_ok, at)
    sched.fire("bad", fn_bad, at)  # does not raise

    assert sched.stats["ok"].fired == 1
    assert sched.stats["ok"].crashes == 0
    (event,) = received
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-29T02:00:05Z"
    assert event["region"] == REGION
    assert event["account"] == "123456789012"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/ok"]
    assert event["detail"] == {}
    assert event["id"]

    bad = sched.stats["bad"]
    assert bad.crashes == 1
    assert bad.fired == 0
    assert bad.last_error is not None
    assert "nightly job failed" in bad.last_error


def test_scheduler_virtual_time_runs_speedup_times_faster() -> None:
    sched = Scheduler([], speedup=3600, region=REGION, stop=threading.Event())
    sched._real0 -= 1.0  # one real second has passed
    drift = sched.virtual_now() - sched._virt0
    assert timedelta(minutes=59) < drift < timedelta(minutes=62)


def test_scheduler_thread_fires_repeatedly_and_stops() -> None:
    received: list[dict] = []
    stop = threading.Event()
    # rate(1 minute) = 60 virtual s; at 1200x that is one firing every 0.05 s of real time.
    sched = Scheduler(_jobs(received), speedup=1200, region=REGION, stop=stop)
    sched.start()
    time.sleep(0.3)
    stop.set()
    sched.join(timeout=2)

    assert not sched.is_alive()
    assert sched.stats["ok"].fired >= 2
    assert len(received) == sched.stats["ok"].fired
    assert sched.stats["bad"].crashes >= 2  # a raising job does not kill the thread or the other job
    # firings are stamped with their (virtual) due times: whole minutes apart (a late tick is skipped, not doubled)
    times = [datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S%z") for e in received]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert all(g >= 60 and g % 60 == 0 for g in gaps), gaps


# ---- event_pumps -----------------------------------------------------------------------------------------------


def _app(*, second_queue: bool = False, seen: list[Any] | None = None) -> Chalice:
    app = Chalice("t")
    seen = [] if seen is None else seen

    @app.on_sqs_message(queue="q1", batch_size=4)
    def on_q1(event: Any) -> dict:
        # chalice's SQSRecord exposes body and receipt_handle only; the message id is in the raw record
        return {"batchItemFailures": [{"itemIdentifier": r.to_dict()["messageId"]} for r in event if r.body == "bad"]}

    if second_queue:

        @app.on_sqs_message(queue="q2", batch_size=20)
        def on_q2(event: Any) -> None:
            return None

    @app.schedule("rate(5 minutes)")
    def every_five(event: Any) -> None:
        seen.append(event)

    @app.route("/")
    def index() -> dict:
        return {"hello": "world"}

    return app


def _pumps(app: Chalice, sqs: FakeSqs) -> tuple[list[SqsPoller], Scheduler | None]:
    return event_pumps(app, sqs=sqs, region=REGION, stop=threading.Event(), speedup=60, retry_backoff_seconds=0.5)


def test_event_pumps_derives_one_poller_and_one_scheduled_job_from_the_app() -> None:
    app = _app()
    sqs = FakeSqs()
    pollers, scheduler = _pumps(app, sqs)

    (p,) = pollers
    assert p.batch_size == 4
    assert p.queue_url == QUEUE_URL
    assert p.queue_arn == QUEUE_ARN
    assert p.fn_name == "on_q1"
    assert p.handler is app.handler_map["on_q1"]
    assert p.backoff == 0.5
    assert p.region == REGION
    assert sqs._calls("get_queue_url") == [{"QueueName": "q1"}]

    assert scheduler is not None
    assert [name for name, _, _ in scheduler.jobs] == ["every_five"]
    (_, sched, fn) = scheduler.jobs[0]
    assert sched.interval == 300
    assert fn is app.handler_map["every_five"]
    assert scheduler.speedup == 60
    assert not p.is_alive()
    assert not scheduler.is_alive()  # the caller starts them


def test_event_pumps_second_sqs_handler_yields_a_second_poller() -> None:
    sqs = FakeSqs(queues={"q1": QUEUE_URL, "q2": "http://x/q2"})
    pollers, scheduler = _pumps(_app(second_queue=True), sqs)
    by_name = {p.fn_name: p for p in pollers}
    assert set(by_name) == {"on_q1", "on_q2"}
    assert by_name["on_q2"].queue_url == "http://x/q2"
    assert by_name["on_q2"].queue_arn == "arn:aws:sqs:us-east-1:123456789012:q2"
    assert by_name["on_q2"].batch_size == 10  # clamped
    assert scheduler is not None
    assert len(scheduler.jobs) == 1


def test_event_pumps_without_scheduled_handlers_has_no_scheduler() -> None:
    app = Chalice("t")

    @app.on_sqs_message(queue="q1")
    def only_sqs(event: Any) -> None:
        return None

    pollers, scheduler = _pumps(app, FakeSqs())
    assert len(pollers) == 1
    assert pollers[0].batch_size == 1  # chalice's default
    assert scheduler is None


def test_event_pumps_skips_unsupported_event_sources() -> None:
    app = Chalice("t")

    @app.on_sns_message(topic="t1")
    def on_sns(event: Any) -> None:
        return None

    sqs = FakeSqs()
    assert _pumps(app, sqs) == ([], None)
    assert sqs.calls == []


def test_pumped_chalice_sqs_handler_reports_partial_failures_end_to_end() -> None:
    app = _app()
    sqs = FakeSqs()
    (p,), _ = _pumps(app, sqs)
    sqs.batches.append([msg("good1", body="ok"), msg("bad1", body="bad"), msg("good2", body="ok")])

    assert p.poll_once() == 3

    assert sorted(e["ReceiptHandle"] for e in sqs._calls("delete_message_batch")[0]["Entries"]) == [
        "rh-good1",
        "rh-good2",
    ]
    assert [kw["ReceiptHandle"] for kw in sqs._calls("change_message_visibility")] == ["rh-bad1"]
    assert (p.stats.succeeded, p.stats.failed, p.stats.crashes) == (2, 1, 0)


def test_pumped_chalice_scheduled_handler_parses_the_event() -> None:
    seen: list[Any] = []
    app = _app(seen=seen)
    _, scheduler = _pumps(app, FakeSqs())
    assert scheduler is not None
    (name, _, fn) = scheduler.jobs[0]
    scheduler.fire(name, fn, datetime(2026, 11, 29, 2, 5, tzinfo=UTC))

    assert scheduler.stats[name].fired == 1
    assert scheduler.stats[name].crashes == 0
    (event,) = seen
    assert event.source == "aws.events"
    assert event.detail_type == "Scheduled Event"
    assert event.region == REGION


@pytest.mark.parametrize(
    ("expression", "interval"),
    [(Rate(5, unit=Rate.MINUTES), 300.0), (Cron(0, 2, "*", "*", "?", "*"), None)],
)
def test_event_pumps_accepts_chalice_rate_and_cron_objects(expression: Any, interval: float | None) -> None:
    app = Chalice("t")

    @app.schedule(expression)
    def job(event: Any) -> None:
        return None

    _, scheduler = _pumps(app, FakeSqs())
    assert scheduler is not None
    assert scheduler.jobs[0][1].interval == interval


def test_event_pumps_supports_on_sqs_message_by_queue_arn() -> None:
    app = Chalice("t")
    arn = "arn:aws:sqs:us-east-1:123456789012:q2"

    @app.on_sqs_message(queue_arn=arn, batch_size=2)
    def by_arn(event: Any) -> None:
        return None

    sqs = FakeSqs(queues={"q1": QUEUE_URL, "q2": "http://x/q2"})
    (p,), _ = _pumps(app, sqs)
    assert p.queue_url == "http://x/q2"
    assert p.queue_arn == arn
