"""What Lambda does for event sources, done locally: SQS and DynamoDB-stream pollers and a scheduler, derived
from the app itself.

`event_pumps(app, ...)` reads `app.event_sources`, so a new `@on_sqs_message` or `@schedule` handler is pumped
without touching this file. Handlers are the real ones (`app.handler_map[name]`), called with Lambda-shaped events.

SQS semantics reproduced: batches up to the handler's batch size; a `batchItemFailures` response deletes only
the successful messages; a handler that raises fails the whole batch; failed messages become visible again after
a short back-off and moto moves them to the dead-letter queue after the queue's maxReceiveCount.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("cmsp.local")

LOCAL_ACCOUNT = "123456789012"


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    region: str = "us-east-1"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass
class PumpStats:
    batches: int = 0
    messages: int = 0
    succeeded: int = 0
    failed: int = 0
    crashes: int = 0
    fired: int = 0
    last_error: str | None = None


def sqs_record(msg: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg["Body"],
        "attributes": msg.get("Attributes", {}),
        "messageAttributes": msg.get("MessageAttributes", {}),
        "md5OfBody": msg.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsPoller(threading.Thread):
    def __init__(
        self,
        *,
        name: str,
        handler: Callable[[dict, Any], Any],
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        region: str,
        stop: threading.Event,
        retry_backoff_seconds: float = 1.0,
        wait_seconds: int = 1,
    ):
        super().__init__(name=f"sqs:{name}", daemon=True)
        self.fn_name = name
        self.handler = handler
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(batch_size, 10))
        self.region = region
        self.stop_event = stop
        self.backoff = retry_backoff_seconds
        self.wait_seconds = wait_seconds
        self.stats = PumpStats()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the poller itself must survive anything (moto restarting, network)
                self.stats.last_error = repr(exc)
                log.exception("poller %s: receive failed", self.fn_name)
                self.stop_event.wait(1.0)

    def _failed_ids(self, result: Any, by_id: dict[str, Any]) -> set[str]:
        """Lambda's partial-batch contract: an invalid failure list fails the whole batch."""
        if not isinstance(result, dict) or result.get("batchItemFailures") is None:
            return set()
        failures = result["batchItemFailures"]
        if not isinstance(failures, list):
            log.error("handler %s returned an invalid batchItemFailures; the whole batch fails", self.fn_name)
            return set(by_id)
        ids = set()
        for f in failures:
            ident = f.get("itemIdentifier") if isinstance(f, dict) else None
            if not ident or ident not in by_id:
                # As Lambda does: a null, empty or unknown itemIdentifier makes the batch a complete failure.
                log.error("handler %s reported unknown itemIdentifier %r; the whole batch fails", self.fn_name, ident)
                return set(by_id)
            ids.add(ident)
        return ids

    def poll_once(self) -> int:
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        msgs = resp.get("Messages", [])
        if not msgs:
            return 0
        self.stats.batches += 1
        self.stats.messages += len(msgs)
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in msgs]}
        by_id = {m["MessageId"]: m for m in msgs}
        failed: set[str]
        try:
            result = self.handler(event, LocalLambdaContext(self.fn_name, region=self.region))
            failed = self._failed_ids(result, by_id)
        except Exception as exc:
            self.stats.crashes += 1
            self.stats.last_error = repr(exc)
            log.exception("handler %s crashed on a batch of %d; the batch will be retried", self.fn_name, len(msgs))
            failed = set(by_id)
        done = [m for mid, m in by_id.items() if mid not in failed]
        if done:
            resp = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
            for f in (resp or {}).get("Failed", []):
                log.warning("poller %s: delete failed (%s); the message will be redelivered", self.fn_name, f)
        for mid in failed:
            m = by_id[mid]
            receives = int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=m["ReceiptHandle"],
                VisibilityTimeout=int(min(self.backoff * 2 ** (receives - 1), 30)),
            )
        self.stats.succeeded += len(done)
        self.stats.failed += len(failed)
        return len(msgs)


class StreamPoller(threading.Thread):
    """Lambda's DynamoDB-stream event source: every shard read in order from TRIM_HORIZON (or LATEST), batches of up
    to the handler's batch size, and on a reported failure (`batchItemFailures` with a sequence number, or a crash)
    the shard is read again from the failed record after a back-off, so nothing after it is skipped."""

    def __init__(
        self,
        *,
        name: str,
        handler: Callable[[dict, Any], Any],
        streams: Any,
        stream_arn: str,
        batch_size: int,
        starting_position: str,
        region: str,
        stop: threading.Event,
        idle_seconds: float = 0.5,
        checkpoint: Path | None = None,
    ):
        super().__init__(name=f"stream:{name}", daemon=True)
        # The last sequence number the handler took without failure: kept on disk, a restart resumes after it
        # (records not yet handled when the platform stopped are handled then, none twice).
        self.checkpoint = checkpoint
        self.fn_name = name
        self.handler = handler
        self.streams = streams
        self.stream_arn = stream_arn
        self.batch_size = max(1, min(batch_size, 1000))
        self.starting_position = starting_position
        self.region = region
        self.stop_event = stop
        self.idle_seconds = idle_seconds
        self.iterators: dict[str, str | None] = {}
        self.failures: dict[str, int] = {}
        self.stats = PumpStats()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                if not self.poll_once():
                    self.stop_event.wait(self.idle_seconds)
            except Exception as exc:
                self.stats.last_error = repr(exc)
                log.exception("stream poller %s failed", self.fn_name)
                self.stop_event.wait(1.0)

    def _iterator(self, shard_id: str) -> str | None:
        if shard_id not in self.iterators:
            done = self._checkpoint_seq()
            if done is not None:
                it = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=str(done),
                )
            else:
                it = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.starting_position
                )
            self.iterators[shard_id] = it["ShardIterator"]
        return self.iterators[shard_id]

    def _checkpoint_seq(self) -> int | None:
        if self.checkpoint is None or not self.checkpoint.exists():
            return None
        try:
            return int(json.loads(self.checkpoint.read_text("utf-8"))["seq"])
        except (ValueError, KeyError):
            return None

    def _save_checkpoint(self, seq: str) -> None:
        if self.checkpoint is None:
            return
        table = self.stream_arn.split(":table/", 1)[1].split("/", 1)[0]
        tmp = self.checkpoint.with_suffix(".tmp")
        tmp.write_text(json.dumps({"table": table, "seq": int(seq), "handler": self.fn_name}), "utf-8")
        tmp.replace(self.checkpoint)

    def poll_once(self) -> int:
        """One read per shard; returns the number of records handed to the handler."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        moved = 0
        for shard in shards:
            sid = shard["ShardId"]
            it = self._iterator(sid)
            if not it:
                continue
            resp = self.streams.get_records(ShardIterator=it, Limit=self.batch_size)
            records = resp.get("Records", [])
            if not records:
                self.iterators[sid] = resp.get("NextShardIterator")
                continue
            for r in records:
                r.setdefault("eventSourceARN", self.stream_arn)
                r.setdefault("awsRegion", self.region)
                dyn = r["dynamodb"]
                dyn.setdefault("SizeBytes", 0)
                dyn.setdefault("StreamViewType", "NEW_AND_OLD_IMAGES")
                created = dyn.get("ApproximateCreationDateTime", time.time())
                dyn["ApproximateCreationDateTime"] = created.timestamp() if isinstance(created, datetime) else created
            self.stats.batches += 1
            self.stats.messages += len(records)
            failed_at = self._invoke(records)
            if failed_at is None:
                self._save_checkpoint(records[-1]["dynamodb"]["SequenceNumber"])
                self.iterators[sid] = resp.get("NextShardIterator")
                self.failures.pop(sid, None)
                self.stats.succeeded += len(records)
                moved += len(records)
                continue
            n = self.failures[sid] = self.failures.get(sid, 0) + 1
            self.stats.failed += 1
            self.iterators[sid] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=failed_at
            )["ShardIterator"]
            self.stop_event.wait(min(30.0, 0.5 * 2 ** (n - 1)))
        return moved

    def _invoke(self, records: list[dict[str, Any]]) -> str | None:
        """The sequence number to resume from, or None when the whole batch succeeded."""
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        try:
            result = self.handler({"Records": records}, LocalLambdaContext(self.fn_name, region=self.region))
        except Exception as exc:
            self.stats.crashes += 1
            self.stats.last_error = repr(exc)
            log.exception("stream handler %s crashed; the batch will be retried", self.fn_name)
            return seqs[0]
        failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None
        idents = [f.get("itemIdentifier") for f in failures if isinstance(f, dict)]
        valid = [i for i in idents if i in seqs]
        if len(valid) != len(failures):
            return seqs[0]  # as Lambda: an unknown identifier fails the whole batch
        return min(valid, key=seqs.index)


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_DOW_NUM = re.compile(r"\d+")
_DAY_OR_MONTH_NAME = re.compile(r"\b(SUN|MON|TUE|WED|THU|FRI|SAT|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\b")


def aws_cron_to_standard(expr: str) -> str:
    """AWS `cron(min hour dom month dow year)` -> 5-field cron for croniter (AWS dow 1-7 = SUN-SAT)."""
    fields = expr.split()
    if len(fields) != 6:
        raise ValueError(f"AWS cron needs 6 fields: {expr}")
    minute, hour, dom, month, dow, year = fields
    if any(c in _DAY_OR_MONTH_NAME.sub("", f.upper()) for f in (dom, dow) for c in "LW#"):
        raise ValueError(f"cron features L/W/# are not supported locally: {expr}")
    if year not in ("*", "?"):
        raise ValueError(f"cron with a year restriction is not supported locally: {expr}")
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else _DOW_NUM.sub(lambda m: str((int(m.group()) - 1) % 7), dow)
    return f"{minute} {hour} {dom} {month} {dow}"


class Schedule:
    """Next firing times of a schedule expression, in (possibly accelerated) virtual time."""

    def __init__(self, expression: Any):
        if not isinstance(expression, str):  # chalice.app.Rate / Cron objects
            expression = expression.to_string()
        expression = expression.strip()
        self.expression = expression
        m = _RATE.match(expression)
        if m:
            n, unit_word = int(m.group(1)), m.group(2)
            if n < 1:
                raise ValueError(f"rate must be at least 1: {expression}")
            if (n == 1) != (not unit_word.endswith("s")):
                raise ValueError(f"AWS wants a singular unit for 1 and a plural one otherwise: {expression}")
            self.interval: float | None = float(n * _UNIT[unit_word.rstrip("s")])
            self.cron: str | None = None
        elif expression.startswith("cron(") and expression.endswith(")"):
            self.interval = None
            self.cron = aws_cron_to_standard(expression[5:-1])
        else:
            raise ValueError(f"unsupported schedule expression: {expression}")

    def next_after(self, t: datetime) -> datetime:
        if self.interval is not None:
            return t + timedelta(seconds=self.interval)
        from croniter import croniter

        return croniter(self.cron, t).get_next(datetime)


class Scheduler(threading.Thread):
    """Fires every scheduled handler. `speedup` compresses time: rate(5 minutes) at 60x fires every 5 s."""

    def __init__(
        self,
        jobs: list[tuple[str, str, Callable]],
        *,
        speedup: float,
        region: str,
        stop: threading.Event,
        state_file: Path | None = None,
    ):
        super().__init__(name="scheduler", daemon=True)
        # When each job last fired (its high-water mark), kept on disk: after downtime a job whose time passed
        # fires once to catch up, never once per missed tick, and never twice for the same tick.
        self.state_file = state_file
        self.jobs = [(name, Schedule(expr), fn) for name, expr, fn in jobs]
        self.speedup = max(speedup, 0.001)
        self.region = region
        self.stop_event = stop
        self.stats: dict[str, PumpStats] = {name: PumpStats() for name, _, _ in self.jobs}
        self._real0 = time.monotonic()
        self._virt0 = datetime.now(UTC)

    def virtual_now(self) -> datetime:
        return self._virt0 + timedelta(seconds=(time.monotonic() - self._real0) * self.speedup)

    def fire(self, name: str, fn: Callable, at: datetime) -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{LOCAL_ACCOUNT}:rule/{name}"],
            "detail": {},
        }
        st = self.stats[name]
        try:
            fn(event, LocalLambdaContext(name, region=self.region))
            st.fired += 1
        except Exception as exc:
            st.crashes += 1
            st.last_error = repr(exc)
            log.exception("scheduled handler %s failed; it fires again at its next time", name)

    def _last_fired(self) -> dict[str, datetime]:
        if self.state_file is None or not self.state_file.exists():
            return {}
        try:
            raw = json.loads(self.state_file.read_text("utf-8"))
            return {k: datetime.fromisoformat(v) for k, v in raw.items()}
        except (ValueError, TypeError):
            return {}

    def _save_fired(self, name: str, at: datetime) -> None:
        if self.state_file is None:
            return
        fired = {k: v.isoformat() for k, v in self._last_fired().items()}
        fired[name] = at.isoformat()
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(fired), "utf-8")
        tmp.replace(self.state_file)

    def run(self) -> None:
        now = self.virtual_now()
        last = self._last_fired()
        # a job that last fired before the downtime and whose next time has passed is due now (catch-up, once)
        due = {
            name: sched.next_after(last[name]) if name in last else sched.next_after(now)
            for name, sched, _ in self.jobs
        }
        while not self.stop_event.is_set():
            now = self.virtual_now()
            for name, sched, fn in self.jobs:
                if due[name] <= now:
                    self.fire(name, fn, due[name])
                    self._save_fired(name, due[name])
                    nxt = sched.next_after(due[name])
                    now = self.virtual_now()
                    while nxt <= now:  # missed ticks (a slow handler) are skipped, as EventBridge would
                        nxt = sched.next_after(nxt)
                    due[name] = nxt
            soonest = min(due.values(), default=now + timedelta(seconds=60))
            wait_real = max(0.02, min(1.0, (soonest - self.virtual_now()).total_seconds() / self.speedup))
            self.stop_event.wait(wait_real)


def table_stream_arn(dynamodb: Any, placeholder_arn: str) -> str:
    """The real stream of the table a placeholder ARN names (`...:table/<name>/stream/...`)."""
    table = placeholder_arn.split(":table/", 1)[1].split("/", 1)[0]
    return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def event_pumps(
    app: Any,
    *,
    sqs: Any,
    region: str,
    stop: threading.Event,
    speedup: float,
    retry_backoff_seconds: float = 1.0,
    dynamodb: Any = None,
    streams: Any = None,
    state_dir: Path | None = None,
) -> tuple[list[Any], Scheduler | None]:
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

    pollers: list[Any] = []
    jobs: list[tuple[str, str, Callable]] = []
    for src in app.event_sources:
        handler = app.handler_map[src.name]
        if isinstance(src, SQSEventConfig):
            queue_name = src.queue or (src.queue_arn or "").rsplit(":", 1)[-1]
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            pollers.append(
                SqsPoller(
                    name=src.name,
                    handler=handler,
                    sqs=sqs,
                    queue_url=url,
                    queue_arn=arn,
                    batch_size=src.batch_size,
                    region=region,
                    stop=stop,
                    retry_backoff_seconds=retry_backoff_seconds,
                )
            )
        elif isinstance(src, ScheduledEventConfig):
            jobs.append((src.name, src.schedule_expression, handler))
        elif isinstance(src, DynamoDBEventConfig) and dynamodb is not None and streams is not None:
            pollers.append(
                StreamPoller(
                    name=src.name,
                    handler=handler,
                    streams=streams,
                    stream_arn=table_stream_arn(dynamodb, src.stream_arn),
                    batch_size=src.batch_size,
                    starting_position=src.starting_position,
                    region=region,
                    stop=stop,
                    checkpoint=state_dir / f"stream-{src.name}.json" if state_dir is not None else None,
                )
            )
        else:
            log.warning("event source %s (%s) is not pumped locally", src.name, type(src).__name__)
    scheduler = (
        Scheduler(
            jobs,
            speedup=speedup,
            region=region,
            stop=stop,
            state_file=state_dir / "scheduler.json" if state_dir is not None else None,
        )
        if jobs
        else None
    )
    return pollers, scheduler
