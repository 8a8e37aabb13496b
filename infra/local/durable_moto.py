"""moto with a data folder: the embedded local AWS keeps its state across stops and crashes.

moto keeps everything in memory. This process hosts moto's own WSGI application (the same server `moto.server`
runs) behind a journal: every request that changes a persisted service is handled under one lock, and before its
answer leaves, what it changed is appended to `journal.jsonl` in the data folder —
- DynamoDB: the full item (or its absence) for every key the request touched, and the stream records it produced
  (so stream consumers that had not yet read them get them after a restart, with the same sequence numbers);
- S3: every version of every key touched, the bytes stored content-addressed under `blobs/`;
- SQS: messages added and removed on every queue touched (a message not yet deleted is delivered again);
- Cognito: the users that changed (sub, password, status, attributes, MFA flags, groups).
Step Functions executions are not kept: the application re-drives open workflows from its own records after a
restart (PermitService.recover_workflows). Periodically (and at a clean stop, and after a restore) the state is
compacted into `snapshot.jsonl` and the journal starts again; the snapshot names the journal position it covers, so
a crash between the two steps replays nothing twice.

Durability bound: the journal entry is written (to the operating system) before the request is answered, so a killed
process (`kill -9`, Ctrl-C, a crash) loses no acknowledged write; the file is fsync'ed every `fsync_seconds`
(default 1 s), the bound for a power failure of the machine.

Restoring: the runtime first creates the declared resources (infra/bootstrap.py, unchanged), then POSTs
`/__durable/restore`: items, objects, messages and users go straight into moto's backends — DynamoDB items without
emitting stream records, the streams' unread records re-created with their original sequence numbers, and the
sequence counters continued above them. Cognito pool and client ids are made deterministic
(MOTO_COGNITO_IDP_*_ID_STRATEGY=HASH), so ID tokens issued before a restart stay valid after it.

Run: python -m infra.local.durable_moto --data-dir .local/data -H 127.0.0.1 -p 5050
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH")

FORMAT_VERSION = 1
_tl = threading.local()


def _touches() -> dict[str, set] | None:
    return getattr(_tl, "touched", None)


def _touch(kind: str, value: Any) -> None:
    t = _touches()
    if t is not None:
        t.setdefault(kind, set()).add(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=_json_default)


# ---- hooks into moto's backends: record what a request touches -------------------------------------------------------


def install_hooks() -> None:
    """Wrap the backend methods every mutating path goes through, so a request's touched resources are known."""
    from moto.cognitoidp import models as idp
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.s3.models import S3Backend
    from moto.sqs.models import SQSBackend

    if getattr(Table, "_durable_hooked", False):
        return

    def wrap(cls: Any, name: str, after: Any) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            with contextlib.suppress(Exception):
                after(self, result, args, kwargs)
            return result

        setattr(cls, name, wrapper)

    def item_key(table: Any, item: Any) -> tuple[str, str, str | None]:
        rng = item.range_key.to_json() if getattr(item, "range_key", None) is not None else None
        return (table.name, _dumps(item.hash_key.to_json()), _dumps(rng) if rng is not None else None)

    wrap(Table, "put_item", lambda self, item, a, k: item is not None and _touch("ddb", item_key(self, item)))

    def after_delete(self: Any, item: Any, args: tuple, kwargs: dict) -> None:
        if item is not None:
            _touch("ddb", item_key(self, item))

    wrap(Table, "delete_item", after_delete)

    def after_update(self: Any, item: Any, args: tuple, kwargs: dict) -> None:
        table_name = args[0] if args else kwargs["table_name"]
        if item is not None:
            _touch("ddb", item_key(self.get_table(table_name), item))

    wrap(DynamoDBBackend, "update_item", after_update)

    def after_s3(self: Any, result: Any, args: tuple, kwargs: dict) -> None:
        bucket = args[0] if args else kwargs.get("bucket_name")
        key = args[1] if len(args) > 1 else kwargs.get("key_name")
        if bucket and key:
            _touch("s3", (bucket, key))

    wrap(S3Backend, "put_object", after_s3)
    wrap(S3Backend, "delete_object", after_s3)

    def after_queue(self: Any, queue: Any, args: tuple, kwargs: dict) -> None:
        _touch("sqs", queue.name)
        if queue.dead_letter_queue is not None:
            _touch("sqs", queue.dead_letter_queue.name)

    wrap(SQSBackend, "get_queue", after_queue)
    _ = idp  # Cognito users are compared after each changing request (see Journal._idp_changes)
    fast_transactions()
    Table._durable_hooked = True


def fast_transactions() -> None:
    """moto backs up every table a TransactWriteItems touches with a deep copy, so a transaction costs time in
    proportion to the table (platform-notes: 1.6 ms per existing item; 94 ms per transaction at 6,000 items).
    Here changing requests run one at a time under the journal's lock, so it is enough to back up the items the
    transaction names (and the stream's length) and to put those back when it is cancelled — the same outcome in
    constant time."""
    import copy as _copy

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class _NoTableCopy:
        """moto's module-level `copy`, except that a Table is not copied (its items are backed up instead)."""

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else _copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(_copy, name)

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups = []
        streams = {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"].get(table.hash_key_attr)}
                if table.range_key_attr:
                    key[table.range_key_attr] = op["Item"].get(table.range_key_attr)
            else:
                key = op.get("Key") or {}
            try:
                hash_key, range_key = self.get_keys_value(table, key)
                current = table.get_item(hash_key, range_key)
            except Exception:  # noqa: S112 - an invalid key: moto's own validation refuses the transaction
                continue
            backups.append((table, hash_key, range_key, _copy.deepcopy(current)))
            if table.stream_shard is not None:
                streams.setdefault(table.name, (table.stream_shard, len(table.stream_shard.items)))
        saved, ddb_models.copy = ddb_models.copy, _NoTableCopy()
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(backups):
                if item is None:
                    if table.get_item(hash_key, range_key) is not None:
                        shard, table.stream_shard = table.stream_shard, None
                        try:
                            table.delete_item(hash_key, range_key)
                        finally:
                            table.stream_shard = shard
                else:
                    if range_key is not None:
                        table.items[hash_key][range_key] = item
                    else:
                        table.items[hash_key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            ddb_models.copy = saved

    DynamoDBBackend.transact_write_items = transact


# ---- backends -------------------------------------------------------------------------------------------------------


def _all(backend_dict: Any) -> Iterator[Any]:
    for _account, regions in list(backend_dict.items()):
        yield from list(regions.values())


def ddb_tables() -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends

    return {name: t for b in _all(dynamodb_backends) for name, t in b.tables.items()}


def s3_buckets() -> dict[str, Any]:
    from moto.s3.models import s3_backends

    return {name: bucket for b in _all(s3_backends) for name, bucket in b.buckets.items()}


def sqs_queues() -> dict[str, Any]:
    from moto.sqs.models import sqs_backends

    return {name: q for b in _all(sqs_backends) for name, q in b.queues.items()}


def idp_pools() -> dict[str, Any]:
    from moto.cognitoidp.models import cognitoidp_backends

    return {pool.name: pool for b in _all(cognitoidp_backends) for pool in b.user_pools.values()}


def _item_json(item: Any) -> dict[str, Any] | None:
    return None if item is None else item.to_json()["Attributes"]


def _get_item(table: Any, hash_json: str, range_json: str | None) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    h = DynamoType(json.loads(hash_json))
    r = DynamoType(json.loads(range_json)) if range_json is not None else None
    try:
        return table.get_item(h, r)
    except Exception:
        return None


def _message_json(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "body": m.body,
        "attributes": m.message_attributes,
        "group_id": m.group_id,
        "deduplication_id": m.deduplication_id,
        "system_attributes": m.system_attributes,
        "sent_timestamp": m.sent_timestamp,
    }


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "sub": user.id,
        "password": user.password,
        "status": user.status,
        "enabled": user.enabled,
        "attributes": user.attributes,
        "sms_mfa_enabled": user.sms_mfa_enabled,
        "software_token_mfa_enabled": user.software_token_mfa_enabled,
        "token_verified": user.token_verified,
        "preferred_mfa_setting": user.preferred_mfa_setting,
        "groups": sorted(g.group_name for g in user.groups),
        "create_date": user.create_date,
        "last_modified_date": user.last_modified_date,
    }


def _fingerprint(user: Any) -> str:
    return _dumps({k: v for k, v in _user_json(user).items() if k != "last_modified_date"})


# ---- the journal ------------------------------------------------------------------------------------------------


class Store:
    """The data folder: journal, snapshot, blobs, and what the pumps of the runtime keep (`pumps/`)."""

    def __init__(self, root: Path):
        self.root = root
        self.blobs = root / "blobs"
        self.journal_path = root / "journal.jsonl"
        self.snapshot_path = root / "snapshot.jsonl"
        root.mkdir(parents=True, exist_ok=True)
        self.blobs.mkdir(exist_ok=True)

    def is_empty(self) -> bool:
        return not self.snapshot_path.exists() and (
            not self.journal_path.exists() or self.journal_path.stat().st_size == 0
        )

    def put_blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.blobs / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest

    def get_blob(self, digest: str) -> bytes:
        return (self.blobs / digest[:2] / digest).read_bytes()

    def stream_checkpoints(self) -> dict[str, int]:
        """The lowest sequence number each table's stream consumers have handled (from the runtime's pumps)."""
        lowest: dict[str, int] = {}
        consumers: dict[str, int] = {}
        for f in (self.root / "pumps").glob("stream-*.json"):
            with contextlib.suppress(Exception):
                doc = json.loads(f.read_text("utf-8"))
                table, seq = doc["table"], int(doc["seq"])
                consumers[table] = consumers.get(table, 0) + 1
                lowest[table] = min(lowest.get(table, seq), seq)
        return lowest


class Journal:
    """WSGI middleware: changing requests run one at a time and are journalled before they are answered."""

    READ_ONLY_IDP = ("Describe", "List", "Get", "AdminGet", "InitiateAuth", "AdminInitiateAuth", "RevokeToken")
    READ_ONLY_DDB = ("Get", "BatchGet", "Query", "Scan", "Describe", "List", "TransactGet")

    def __init__(self, app: Any, store: Store, *, fsync_seconds: float = 1.0, compact_every: int = 20000):
        self.app = app
        self.store = store
        self.fsync_seconds = fsync_seconds
        self.compact_every = compact_every
        self.lock = threading.RLock()
        self.active = False  # journalling starts after the restore
        self.seq = 0
        self.entries_since_snapshot = 0
        self.file: Any = None
        self.dirty = False
        self.sqs_mirror: dict[str, set[str]] = {}
        self.idp_mirror: dict[tuple[str, str], str] = {}
        self.stats = {"requests": 0, "journalled": 0, "compactions": 0, "last_compaction_ms": 0.0}
        self._stop = threading.Event()
        threading.Thread(target=self._fsync_loop, name="durable-fsync", daemon=True).start()

    # -- WSGI ---------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__durable/"):
            return self._control(path, environ, start_response)
        service = self._service(environ)
        if service is None or not self.active:
            return self.app(environ, start_response)
        with self.lock:
            _tl.touched = {}
            before_streams = self._stream_lengths() if service == "ddb" else {}
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list, exc_info: Any = None) -> Any:
                captured["status"] = status
                return start_response(status, headers, exc_info)

            try:
                body = b"".join(self.app(environ, capture))
                ok = captured.get("status", "500")[:1] in ("2", "3")
                if ok:
                    self._journal(service, before_streams)
            finally:
                _tl.touched = None
            self.stats["requests"] += 1
            if self.entries_since_snapshot >= self.compact_every:
                self.compact()
            return [body]

    def _service(self, environ: dict[str, Any]) -> str | None:
        """The persisted service a request changes, or None (reads, and services that are not kept)."""
        method = environ.get("REQUEST_METHOD", "GET")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth else []
        svc = scope[3] if len(scope) > 3 else ""
        if target.startswith("DynamoDB_"):
            op = target.split(".", 1)[1]
            return None if op.startswith(self.READ_ONLY_DDB) else "ddb"
        if target.startswith("AWSCognitoIdentityProviderService."):
            op = target.split(".", 1)[1]
            return None if op.startswith(self.READ_ONLY_IDP) else "idp"
        if target.startswith("AmazonSQS.") or svc == "sqs":
            op = target.split(".", 1)[1] if "." in target else ""
            # Receiving only changes visibility and receive counts, which a restart resets anyway (every kept message
            # is visible again: at-least-once, as SQS promises). Not taking the lock for a long poll matters: the
            # pumps poll with WaitTimeSeconds and would otherwise hold every other write for up to a second.
            return None if op.startswith(("Get", "List", "ReceiveMessage", "ChangeMessageVisibility")) else "sqs"
        if svc == "s3" or (not svc and method in ("PUT", "POST", "DELETE") and not target):
            return "s3" if method in ("PUT", "POST", "DELETE") else None
        return None

    # -- what a request changed -----------------------------------------------------------------------------------

    def _stream_lengths(self) -> dict[str, tuple[int, int]]:
        return {
            name: (t.stream_shard.starting_sequence_number, len(t.stream_shard.items))
            for name, t in ddb_tables().items()
            if t.stream_shard is not None
        }

    def _journal(self, service: str, before_streams: dict[str, tuple[int, int]]) -> None:
        touched = _touches() or {}
        entries: list[dict[str, Any]] = []
        if service == "ddb" or touched.get("ddb"):
            tables = ddb_tables()
            for table_name, h, r in sorted(touched.get("ddb", ()), key=str):
                table = tables.get(table_name)
                if table is not None:
                    entries.append({"t": "ddb", "table": table_name, "h": h, "r": r,
                                    "item": _item_json(_get_item(table, h, r))})  # fmt: skip
            for name, (start, length) in before_streams.items():
                shard = tables[name].stream_shard if name in tables else None
                if shard is None or shard.starting_sequence_number != start:
                    continue
                for rec in shard.items[length:]:
                    entries.append({"t": "stream", "table": name, "rec": rec.to_json()})
        for bucket_name, key in sorted(touched.get("s3", ())):
            bucket = s3_buckets().get(bucket_name)
            if bucket is not None:
                entries.append({"t": "s3", "bucket": bucket_name, "key": key, "versions": self._versions(bucket, key)})
        for queue_name in sorted(touched.get("sqs", ())):
            entries += self._sqs_changes(queue_name)
        if service == "idp":
            entries += self._idp_changes()
        if entries:
            self._append(entries)

    def _versions(self, bucket: Any, key: str) -> list[dict[str, Any]]:
        from moto.s3.models import FakeDeleteMarker

        out = []
        for v in bucket.keys.getlist(key, []):
            if isinstance(v, FakeDeleteMarker):
                out.append({"delete_marker": True, "version_id": v.version_id, "last_modified": v.last_modified})
                continue
            out.append(
                {
                    "version_id": v.version_id,
                    "blob": self.store.put_blob(v.value),
                    "etag": v.etag,
                    "metadata": dict(v.metadata),
                    "last_modified": v.last_modified,
                    "storage": v.storage_class,
                }
            )
        return out

    def _sqs_changes(self, queue_name: str) -> list[dict[str, Any]]:
        queue = sqs_queues().get(queue_name)
        if queue is None:
            return []
        now = {m.id: m for m in queue._messages}
        known = self.sqs_mirror.setdefault(queue_name, set())
        entries = [
            {"t": "sqs+", "queue": queue_name, "msg": _message_json(m)} for i, m in now.items() if i not in known
        ]
        entries += [{"t": "sqs-", "queue": queue_name, "id": i} for i in sorted(known - now.keys())]
        self.sqs_mirror[queue_name] = set(now)
        return entries

    def _idp_changes(self) -> list[dict[str, Any]]:
        entries = []
        seen = set()
        for pool_name, pool in idp_pools().items():
            for username, user in pool.users.items():
                seen.add((pool_name, username))
                fp = _fingerprint(user)
                if self.idp_mirror.get((pool_name, username)) != fp:
                    self.idp_mirror[(pool_name, username)] = fp
                    entries.append({"t": "idp", "pool": pool_name, "user": _user_json(user)})
        for gone in [k for k in self.idp_mirror if k not in seen]:
            del self.idp_mirror[gone]
            entries.append({"t": "idp-", "pool": gone[0], "username": gone[1]})
        return entries

    def _append(self, entries: list[dict[str, Any]]) -> None:
        if self.file is None:
            self.file = open(self.store.journal_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        lines = []
        for e in entries:
            self.seq += 1
            e["seq"] = self.seq
            lines.append(_dumps(e))
        self.file.write("\n".join(lines) + "\n")
        self.file.flush()  # in the operating system before the answer leaves: a killed process loses nothing
        self.dirty = True
        self.entries_since_snapshot += len(entries)
        self.stats["journalled"] += len(entries)

    def _fsync_loop(self) -> None:
        while not self._stop.wait(self.fsync_seconds):
            with self.lock:
                if self.dirty and self.file is not None:
                    os.fsync(self.file.fileno())
                    self.dirty = False

    # -- snapshot and restore -------------------------------------------------------------------------------------

    def compact(self) -> dict[str, Any]:
        """Write the whole persisted state as a snapshot, then start an empty journal."""
        with self.lock:
            started = time.perf_counter()
            tmp = self.store.snapshot_path.with_suffix(".tmp")
            counts = {"items": 0, "stream_records": 0, "objects": 0, "messages": 0, "users": 0}
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(_dumps({"t": "meta", "format": FORMAT_VERSION, "seq": self.seq,
                                  "written_at": datetime.now(UTC)}) + "\n")  # fmt: skip
                checkpoints = self.store.stream_checkpoints()
                for name, table in ddb_tables().items():
                    for item in table.all_items():
                        out.write(_dumps({"t": "item", "table": name, "item": item.to_json()["Attributes"]}) + "\n")
                        counts["items"] += 1
                    shard = table.stream_shard
                    if shard is not None:
                        last = shard.starting_sequence_number + len(shard.items) - 1
                        keep_after = checkpoints.get(name, shard.starting_sequence_number - 1)
                        kept = [r for r in shard.items if int(r.to_json()["dynamodb"]["SequenceNumber"]) > keep_after]
                        first = int(kept[0].to_json()["dynamodb"]["SequenceNumber"]) if kept else last + 1
                        out.write(_dumps({"t": "stream", "table": name, "starting": first}) + "\n")
                        for rec in kept:
                            out.write(_dumps({"t": "stream_rec", "table": name, "rec": rec.to_json()}) + "\n")
                            counts["stream_records"] += 1
                for bucket_name, bucket in s3_buckets().items():
                    for key in list(bucket.keys.keys()):
                        out.write(_dumps({"t": "s3", "bucket": bucket_name, "key": key,
                                          "versions": self._versions(bucket, key)}) + "\n")  # fmt: skip
                        counts["objects"] += 1
                for queue_name, queue in sqs_queues().items():
                    for m in queue._messages:
                        out.write(_dumps({"t": "sqs+", "queue": queue_name, "msg": _message_json(m)}) + "\n")
                        counts["messages"] += 1
                for pool_name, pool in idp_pools().items():
                    for user in pool.users.values():
                        out.write(_dumps({"t": "idp", "pool": pool_name, "user": _user_json(user)}) + "\n")
                        counts["users"] += 1
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(self.store.snapshot_path)
            if self.file is not None:
                self.file.close()
                self.file = None
            self.store.journal_path.write_text("", "utf-8")  # the snapshot covers every entry up to self.seq
            self.entries_since_snapshot = 0
            self.stats["compactions"] += 1
            self.stats["last_compaction_ms"] = round((time.perf_counter() - started) * 1000, 1)
            return {**counts, "seq": self.seq, "ms": self.stats["last_compaction_ms"]}

    def restore(self) -> dict[str, Any]:
        """Load snapshot + journal into the (freshly bootstrapped) backends; then journal from here on."""
        with self.lock:
            started = time.perf_counter()
            state = State()
            covered = 0
            if self.store.snapshot_path.exists():
                for line in self.store.snapshot_path.open(encoding="utf-8"):
                    doc = json.loads(line)
                    if doc["t"] == "meta":
                        covered = int(doc["seq"])
                    else:
                        state.apply(doc, snapshot=True)
            replayed = 0
            if self.store.journal_path.exists():
                for line in self.store.journal_path.open(encoding="utf-8"):
                    if not line.strip():
                        continue
                    try:
                        doc = json.loads(line)
                    except ValueError:
                        break  # a torn last line (the process died while writing it): nothing after it exists
                    if int(doc["seq"]) <= covered:
                        continue
                    state.apply(doc, snapshot=False)
                    replayed += 1
                    covered = int(doc["seq"])
            counts = state.install(self.store)
            self.seq = covered
            self.sqs_mirror = {name: {m.id for m in q._messages} for name, q in sqs_queues().items()}
            self.idp_mirror = {
                (pool_name, u.username): _fingerprint(u)
                for pool_name, p in idp_pools().items()
                for u in p.users.values()
            }
            self.active = True
            restored_ms = round((time.perf_counter() - started) * 1000, 1)
            compacted = self.compact()  # the restored state becomes the new base (new SQS message ids)
            return {**counts, "journal_entries_replayed": replayed, "restore_ms": restored_ms, "compaction": compacted}

    # -- control -------------------------------------------------------------------------------------------------------

    def _control(self, path: str, environ: dict[str, Any], start_response: Any) -> Any:
        action = path.removeprefix("/__durable/")
        method = environ.get("REQUEST_METHOD")
        try:
            if action == "restore" and method == "POST":
                result = self.restore()
            elif action == "compact" and method == "POST":
                result = self.compact()
            elif action == "status":
                result = {
                    **self.stats,
                    "active": self.active,
                    "seq": self.seq,
                    "entries_since_snapshot": self.entries_since_snapshot,
                    "journal_bytes": self.store.journal_path.stat().st_size if self.store.journal_path.exists() else 0,
                    "snapshot_bytes": self.store.snapshot_path.stat().st_size
                    if self.store.snapshot_path.exists()
                    else 0,
                    "empty": self.store.is_empty(),
                }
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"error": "unknown control action"}']
        except Exception as exc:  # reported to the runtime, which stops with the reason
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [json.dumps({"error": repr(exc)}).encode()]
        body = _dumps(result).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def close(self) -> None:
        self._stop.set()
        with self.lock:
            if self.file is not None:
                self.file.flush()
                os.fsync(self.file.fileno())


class _Record:
    """A stream record as moto's shard serves it (`to_json()`), re-created from the journal."""

    def __init__(self, record: dict[str, Any]):
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


class State:
    """The persisted state while it is read back (last write wins), then installed into the backends."""

    def __init__(self) -> None:
        self.items: dict[str, dict[tuple[str, str | None], dict[str, Any] | None]] = {}
        self.streams: dict[str, dict[int, dict[str, Any]]] = {}
        self.stream_start: dict[str, int] = {}
        self.objects: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.users: dict[tuple[str, str], dict[str, Any] | None] = {}

    def apply(self, doc: dict[str, Any], *, snapshot: bool) -> None:
        t = doc["t"]
        if t == "item":
            item = doc["item"]
            self.items.setdefault(doc["table"], {})[("item", _dumps(item))] = item
        elif t == "ddb":
            self.items.setdefault(doc["table"], {})[(doc["h"], doc["r"])] = doc["item"]
        elif t in ("stream_rec", "stream") and "rec" in doc:
            rec = doc["rec"]
            self.streams.setdefault(doc["table"], {})[int(rec["dynamodb"]["SequenceNumber"])] = rec
        elif t == "stream":
            self.stream_start[doc["table"]] = int(doc["starting"])
        elif t == "s3":
            self.objects[(doc["bucket"], doc["key"])] = doc["versions"]
        elif t == "sqs+":
            self.messages.setdefault(doc["queue"], {})[doc["msg"]["id"]] = doc["msg"]
        elif t == "sqs-":
            self.messages.setdefault(doc["queue"], {}).pop(doc["id"], None)
        elif t == "idp":
            self.users[(doc["pool"], doc["user"]["username"])] = doc["user"]
        elif t == "idp-":
            self.users[(doc["pool"], doc["username"])] = None

    def install(self, store: Store) -> dict[str, Any]:
        counts = {"items": 0, "stream_records": 0, "objects": 0, "messages": 0, "users": 0, "unknown": []}
        tables = ddb_tables()
        for table_name, items in self.items.items():
            table = tables.get(table_name)
            if table is None:
                counts["unknown"].append(f"table {table_name}")
                continue
            shard, table.stream_shard = table.stream_shard, None  # no stream records for restored items
            try:
                by_key: dict[tuple[str, str | None], dict[str, Any] | None] = {}
                for (h, r), item in items.items():
                    if h == "item":  # a snapshot line: its key comes from the item itself
                        key = (_dumps(item[table.hash_key_attr]), _dumps(item[table.range_key_attr])
                               if table.range_key_attr else None)  # fmt: skip
                    else:
                        key = (h, r)
                    by_key[key] = item  # journal entries after the snapshot override its lines
                for (h, r), item in by_key.items():
                    if item is None:
                        existing = _get_item(table, h, r)
                        if existing is not None:
                            table.delete_item(existing.hash_key, existing.range_key)
                        continue
                    table.put_item(item)
                    counts["items"] += 1
            finally:
                table.stream_shard = shard
        for table_name, records in self.streams.items():
            table = tables.get(table_name)
            if table is None or table.stream_shard is None:
                continue
            seqs = sorted(records)
            start = self.stream_start.get(table_name, seqs[0] if seqs else None)
            kept = [s for s in seqs if start is None or s >= start]
            # contiguous from the first kept record: moto serves a shard by index from its starting number
            if kept:
                table.stream_shard.starting_sequence_number = kept[0]
                table.stream_shard.items = [_Record(records[s]) for s in range(kept[0], kept[-1] + 1) if s in records]
                counts["stream_records"] += len(table.stream_shard.items)
        for table_name, start in self.stream_start.items():
            table = tables.get(table_name)
            if table is not None and table.stream_shard is not None and table_name not in self.streams:
                table.stream_shard.starting_sequence_number = start
                table.stream_shard.items = []
        self._install_objects(store, counts)
        self._install_messages(counts)
        self._install_users(counts)
        return counts

    def _install_objects(self, store: Store, counts: dict[str, Any]) -> None:
        from moto.s3.models import FakeDeleteMarker, FakeKey

        buckets = s3_buckets()
        for (bucket_name, key), versions in self.objects.items():
            bucket = buckets.get(bucket_name)
            if bucket is None:
                counts["unknown"].append(f"bucket {bucket_name}")
                continue
            restored = []
            for v in versions:
                if v.get("delete_marker"):
                    marker = FakeDeleteMarker(key=FakeKey(key, b"", bucket.account_id, bucket.region_name))
                    marker._version_id = v["version_id"]
                    restored.append(marker)
                    continue
                fk = FakeKey(
                    name=key,
                    value=store.get_blob(v["blob"]),
                    account_id=bucket.account_id,
                    region_name=bucket.region_name,
                    etag=None,
                    is_versioned=bucket.is_versioned,
                    version_id=v["version_id"],
                    bucket_name=bucket_name,
                )
                fk.set_metadata(v.get("metadata") or {})
                if v.get("last_modified"):
                    fk.last_modified = datetime.fromisoformat(v["last_modified"])
                restored.append(fk)
            if restored:
                bucket.keys.setlist(key, restored)
                counts["objects"] += 1
            elif key in bucket.keys:
                bucket.keys.pop(key)

    def _install_messages(self, counts: dict[str, Any]) -> None:
        from moto.sqs.models import Message

        queues = sqs_queues()
        for queue_name, messages in self.messages.items():
            queue = queues.get(queue_name)
            if queue is None:
                counts["unknown"].append(f"queue {queue_name}")
                continue
            for m in messages.values():
                msg = Message(m["id"], m["body"], m.get("system_attributes") or {})
                msg.message_attributes = m.get("attributes") or {}
                msg.group_id = m.get("group_id")
                msg.deduplication_id = m.get("deduplication_id")
                msg.sent_timestamp = m.get("sent_timestamp")
                queue._messages.append(msg)
                counts["messages"] += 1

    def _install_users(self, counts: dict[str, Any]) -> None:
        from moto.cognitoidp.models import CognitoIdpUser

        pools = idp_pools()
        for (pool_name, username), data in self.users.items():
            pool = pools.get(pool_name)
            if pool is None:
                counts["unknown"].append(f"user pool {pool_name}")
                continue
            old = pool.users.pop(username, None)
            if old is not None:
                for g in list(old.groups):
                    g.users.discard(old)
            if data is None:
                continue
            user = CognitoIdpUser(pool.id, data["username"], data["password"], data["status"], data["attributes"])
            user.id = data["sub"]
            user.update_attributes([{"Name": "sub", "Value": data["sub"]}])
            user.enabled = data["enabled"]
            user.sms_mfa_enabled = data.get("sms_mfa_enabled", False)
            user.software_token_mfa_enabled = data.get("software_token_mfa_enabled", False)
            user.token_verified = data.get("token_verified", False)
            user.preferred_mfa_setting = data.get("preferred_mfa_setting")
            for stamp in ("create_date", "last_modified_date"):
                if data.get(stamp):
                    setattr(user, stamp, datetime.fromisoformat(data[stamp]))
            for name in data.get("groups", []):
                group = pool.groups.get(name)
                if group is not None:
                    group.users.add(user)
                    user.groups.add(group)
            pool.users[user.username] = user
            counts["users"] += 1


# ---- the server -----------------------------------------------------------------------------------------------------


def serve(host: str, port: int, data_dir: Path, *, fsync_seconds: float, compact_every: int) -> None:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request: errors only
    install_hooks()
    store = Store(data_dir)
    journal = Journal(
        DomainDispatcherApplication(create_backend_app), store, fsync_seconds=fsync_seconds, compact_every=compact_every
    )
    server = make_server(host, port, journal, threaded=True, request_handler=MotoRequestHandler)

    def stop(signum: int, frame: Any) -> None:
        # a clean stop: compact, so the next start reads one snapshot instead of replaying the journal
        threading.Thread(target=lambda: (journal.active and journal.compact(), server.shutdown()), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        journal.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", "5050")))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--fsync-seconds", type=float, default=float(os.environ.get("DURABLE_FSYNC_SECONDS", "1")))
    parser.add_argument("--compact-every", type=int, default=int(os.environ.get("DURABLE_COMPACT_EVERY", "20000")))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    serve(args.host, args.port, args.data_dir, fsync_seconds=args.fsync_seconds, compact_every=args.compact_every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
