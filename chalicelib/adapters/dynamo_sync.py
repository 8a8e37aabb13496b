"""National synchronisation state in the main table: the outbox of national rows, push logs, cursors, mirrors.

  sync row      pk = "SYNC#{dataset}#{key}", sk = "ROW"
                gsi1 (due, sparse while PENDING/UNKNOWN): "SYNCQ#{dataset}#{shard}" / "{next_attempt_at}#{key}"
                gsi2 (age, sparse while PENDING/UNKNOWN): "SYNCAGE#{dataset}" / "{changed_at}#{key}"
                gsi3 (dead letters, sparse while DEAD):   "SYNCDEAD#{dataset}" / "{dead_at}#{key}"
  row's log     inside the row (`history`, newest 20 entries: request id, status, server code and message)
  request log   pk = "SYNCBATCH#{batch id}", sk = "TRY#{nn}#{push|status}"   (what was sent, the full answer; TTL)
  queued marker pk = "SYNC#QUEUED", sk = dataset   (token renewed whenever a row is queued; cleared when empty)
  manifest      pk = "SYNCSRC#{source pk}", sk = source sk     (row id -> digest reported for that source, stream seq)
  stats / HWM   pk = "SYNC#STATS", sk = dataset                  (ADD counters per run; high-water mark)
  lease         pk = "SYNC#LEASE", sk = job name                 (one push run at a time)
  pull cursor   pk = "SYNC#PULL", sk = dataset
  mirror        pk = "NAT#{dataset}#{key}", sk = "REC"  gsi1: "NAT#{dataset}" / "{national seq:012d}#{key}"
                                                        gsi2: "ORG#{uscc}" / "NAT#{dataset}#{key}" (a provincial subject)
  conflict      pk = "SYNCCONF#{dataset}#{key}", sk = "C"  gsi1: "SYNCCONF#OPEN" / "{detected_at}#{dataset}#{key}"

The push job reads only gsi1 (key condition `next_attempt_at <= now`): unchanged records cost nothing.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import count_all, from_item, model_data, query_page, to_item, to_value
from chalicelib.domain import national
from chalicelib.domain.audit import AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.identity import Principal
from chalicelib.domain.national import NationalRow, Op, SyncRow, SyncStatus
from chalicelib.services.ports import Page, SourceChange


def _row_pk(dataset: str, key: str) -> str:
    return f"SYNC#{dataset}#{key}"


def _decode_row(item: dict[str, Any]) -> SyncRow:
    d = from_item(item)
    return SyncRow(
        dataset=d["dataset"],
        key=d["row_key"],
        op=Op(d["op"]),
        data=d.get("data") or {},
        digest=d["digest"],
        change_no=int(d["change_no"]),
        changed_at=d["changed_at"],
        status=SyncStatus(d["sync_status"]),
        attempts=int(d.get("attempts", 0)),
        next_attempt_at=d.get("next_attempt_at", ""),
        last_error=d.get("last_error"),
        source=d.get("source") or {},
        region_code=d.get("region_code"),
        pushed_change_no=int(d.get("pushed_change_no", 0)),
        accepted_at=d.get("accepted_at"),
        dead_at=d.get("dead_at"),
        queued_at=d.get("queued_at"),
        rev=int(d.get("rev", 0)),
        history=list(d.get("history") or []),
    )


def _marker(dataset: str) -> dict[str, Any]:
    """ "Something of this data set is queued": a fresh token on every queueing, so clearing it is race-free."""
    return {"pk": "SYNC#QUEUED", "sk": dataset, "entity": "sync_marker", "token": uuid.uuid4().hex}


def _encode_row(row: SyncRow, shards: int) -> dict[str, Any]:
    """The stored item of a row, with the sparse index keys its status calls for."""
    item: dict[str, Any] = {
        "pk": _row_pk(row.dataset, row.key),
        "sk": "ROW",
        "entity": "sync_row",
        "dataset": row.dataset,
        "row_key": row.key,
        "op": row.op.value,
        "data": row.data,
        "digest": row.digest,
        "change_no": row.change_no,
        "changed_at": row.changed_at,
        "sync_status": row.status.value,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "source": row.source,
        "region_code": row.region_code,
        "pushed_change_no": row.pushed_change_no,
        "accepted_at": row.accepted_at,
        "dead_at": row.dead_at,
        "queued_at": row.queued_at,
        "rev": row.rev,
        "history": row.history,
    }
    if row.status in national.QUEUED:
        item["gsi1pk"] = f"SYNCQ#{row.dataset}#{national.shard_of(row.key, shards)}"
        item["gsi1sk"] = f"{row.next_attempt_at}#{row.key}"
        item["gsi2pk"] = f"SYNCAGE#{row.dataset}"
        item["gsi2sk"] = f"{row.queued_at or row.changed_at}#{row.key}"
    elif row.status == SyncStatus.DEAD:
        item["gsi3pk"] = f"SYNCDEAD#{row.dataset}"
        item["gsi3sk"] = f"{row.dead_at}#{row.key}"
    return item


class DynamoSyncStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit
        p = national.config()["push"]
        self.shards = int(p["queue_shards"])
        self.log_days = int(p["log_retention_days"])

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    # ---- change capture -------------------------------------------------------------------------------------------

    def manifest(self, source_pk: str, source_sk: str) -> tuple[dict[str, str], str]:
        item = self._ddb.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"SYNCSRC#{source_pk}"}, "sk": {"S": source_sk}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return {}, ""
        d = from_item(item)
        return dict(d.get("rows") or {}), d.get("seq", "")

    def save_manifest(self, source_pk: str, source_sk: str, manifest: dict[str, str], seq: str) -> bool:
        try:
            self._ddb.put_item(
                TableName=self.table,
                Item=to_item(
                    {
                        "pk": f"SYNCSRC#{source_pk}",
                        "sk": source_sk,
                        "entity": "sync_manifest",
                        "rows": manifest,
                        "seq": seq,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR seq < :seq",
                ExpressionAttributeValues={":seq": {"S": seq}},
            )
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False

    def mark_changed(self, row: NationalRow, *, source: dict[str, str], region_code: str | None, now: str) -> bool:
        """已修改，未上报: store the row's new content and queue it, unless this exact content is already stored.

        Read, then a conditional Put on the row's revision (a concurrent writer makes us read again)."""
        for _ in range(8):
            current = self.get_row(row.dataset, row.key)
            if current is not None and current.digest == row.digest:
                return False
            new = SyncRow.changed(row, current, now=now, source=source, region=region_code)
            if self._put(new, expected_rev=current.rev if current else None):
                self._ddb.put_item(TableName=self.table, Item=to_item(_marker(row.dataset)))
                return True
        raise RuntimeError(f"sync row {row.dataset}/{row.key}: too many concurrent writers")

    def _put(self, row: SyncRow, *, expected_rev: int | None) -> bool:
        row.rev = (expected_rev or 0) + 1
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": to_item(_encode_row(row, self.shards))}
        if expected_rev is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            kwargs["ConditionExpression"] = "rev = :rev"
            kwargs["ExpressionAttributeValues"] = {":rev": {"N": str(expected_rev)}}
        try:
            self._ddb.put_item(**kwargs)
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            row.rev = expected_rev or 0
            return False

    # ---- push -----------------------------------------------------------------------------------------------------

    def queued_datasets(self) -> dict[str, str]:
        """Data sets with something queued since their marker was last cleared (one Query), with the marker token."""
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "SYNC#QUEUED"}},
            ConsistentRead=True,
        )
        return {i["sk"]["S"]: i["token"]["S"] for i in resp.get("Items", [])}

    def _delete_if(self, pk: str, sk: str, attribute: str, value: str) -> None:
        """Delete an item only while `attribute` still has `value` (someone else's newer write wins)."""
        with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
            self._ddb.delete_item(
                TableName=self.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                ConditionExpression="#a = :v",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )

    def clear_queued(self, dataset: str, token: str) -> None:
        """Drop a data set's marker, unless a row was queued after it was read (the token changed)."""
        self._delete_if("SYNC#QUEUED", dataset, "token", token)

    def oldest_queued(self, dataset: str) -> str | None:
        """When the oldest row still queued entered the queue (one Query, Limit 1, on the age index)."""
        items = self._ddb.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :v",
            ExpressionAttributeValues={":v": {"S": f"SYNCAGE#{dataset}"}},
            Limit=1,
        ).get("Items", [])
        return items[0]["gsi2sk"]["S"].rsplit("#", 1)[0] if items else None

    def has_queued(self, dataset: str) -> bool:
        return self.oldest_queued(dataset) is not None

    def due(self, dataset: str, now: str, limit: int) -> list[SyncRow]:
        """Rows due now, oldest schedule first: one Query per shard, key condition only (no filter, no Scan)."""
        rows: list[SyncRow] = []
        for shard in range(self.shards):
            resp = self._ddb.query(
                TableName=self.table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :q AND gsi1sk < :upper",
                ExpressionAttributeValues={":q": {"S": f"SYNCQ#{dataset}#{shard}"}, ":upper": {"S": now + "~"}},
                Limit=limit,
            )
            rows.extend(_decode_row(i) for i in resp.get("Items", []))
        rows.sort(key=lambda r: (r.next_attempt_at, r.key))
        return rows[:limit]

    def save_outcome(self, row: SyncRow) -> bool:
        """Write a delivery outcome, only if the row was not changed meanwhile (else only note what was pushed)."""
        if self._put(row, expected_rev=row.rev):
            return True
        if row.status == SyncStatus.ACCEPTED:
            # Changed during the push: the older version is at the ministry, the new one stays queued.
            with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
                self._ddb.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": _row_pk(row.dataset, row.key)}, "sk": {"S": "ROW"}},
                    UpdateExpression="SET pushed_change_no = :n",
                    ConditionExpression="change_no > :n AND pushed_change_no < :n",
                    ExpressionAttributeValues={":n": {"N": str(row.change_no)}},
                )
        return False

    def append_request_logs(self, entries: list[dict[str, Any]]) -> None:
        """One item per request to the national side: what was sent and everything that came back."""
        expires = int(time.time()) + self.log_days * 86400
        requests = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "pk": f"SYNCBATCH#{e['batch_id']}",
                            "sk": f"TRY#{e['try']:02d}#{e['kind']}",
                            "entity": "sync_request_log",
                            "expires_at_epoch": expires,
                            **e,
                        }
                    )
                }
            }
            for e in entries
        ]
        for i in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[i : i + 25]}
            for attempt in range(8):
                resp = self._ddb.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))

    def request_logs(self, batch_id: str) -> list[dict[str, Any]]:
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SYNCBATCH#{batch_id}"}},
        )
        out = []
        for i in resp.get("Items", []):
            d = from_item(i)
            for k in ("pk", "sk", "entity", "expires_at_epoch"):
                d.pop(k, None)
            out.append(d)
        return out

    # ---- officials' views -----------------------------------------------------------------------------------------

    def get_row(self, dataset: str, key: str) -> SyncRow | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": _row_pk(dataset, key)}, "sk": {"S": "ROW"}}, ConsistentRead=True
        ).get("Item")
        return _decode_row(item) if item else None

    def requeue(self, row: SyncRow, now: str, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> bool:
        """A dead-lettered row back into the queue, audited in the same transaction (conditional on its revision)."""
        expected = row.rev
        row.rev = expected + 1
        put = {
            "Put": {
                "TableName": self.table,
                "Item": to_item(_encode_row(row, self.shards)),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": {"N": str(expected)}},
            }
        }
        try:
            self.audit.commit(
                [put, {"Put": {"TableName": self.table, "Item": to_item(_marker(row.dataset))}}], draft, actor, meta
            )
            return True
        except ConditionFailed:
            row.rev = expected
            return False

    def dead(self, dataset: str, *, limit: int, cursor: dict | None) -> Page[SyncRow]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi3",
            "KeyConditionExpression": "gsi3pk = :d",
            "ExpressionAttributeValues": {":d": {"S": f"SYNCDEAD#{dataset}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, nxt = query_page(self._ddb, kwargs, cursor)
        return Page([_decode_row(i) for i in items], nxt)

    def _count(self, index: str, pk_attr: str, value: str) -> int:
        return count_all(
            self._ddb,
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=f"{pk_attr} = :v",
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def queue_state(self, dataset: str) -> dict[str, Any]:
        """Pending and dead-lettered counts and the oldest pending change (index reads only)."""
        return {
            "pending": self._count("gsi2", "gsi2pk", f"SYNCAGE#{dataset}"),
            "dead": self._count("gsi3", "gsi3pk", f"SYNCDEAD#{dataset}"),
            "oldest_pending_change": self.oldest_queued(dataset),
        }

    def add_stats(self, dataset: str, deltas: dict[str, int], *, run_at: str, hwm: str | None) -> None:
        values: dict[str, Any] = {":run": run_at}
        adds = []
        for i, (name, value) in enumerate(sorted(deltas.items())):
            if value:
                adds.append(f"{name} :d{i}")
                values[f":d{i}"] = value
        expr = "SET last_run_at = :run"
        if adds:
            expr += " ADD " + ", ".join(adds)
        key = {"pk": {"S": "SYNC#STATS"}, "sk": {"S": dataset}}
        self._ddb.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression=expr,
            ExpressionAttributeValues={k: to_value(v) for k, v in values.items()},
        )
        if hwm:
            # The high-water mark only moves forward: every change captured before it reached a final state.
            with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
                self._ddb.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression="SET hwm = :h",
                    ConditionExpression="attribute_not_exists(hwm) OR hwm < :h",
                    ExpressionAttributeValues={":h": {"S": hwm}},
                )

    def stats(self) -> dict[str, dict[str, Any]]:
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "SYNC#STATS"}},
            ConsistentRead=True,
        )
        out = {}
        for i in resp.get("Items", []):
            d = from_item(i)
            out[d["sk"]] = {k: v for k, v in d.items() if k not in ("pk", "sk")}
        return out

    # ---- lease ----------------------------------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, now: str, until: str) -> bool:
        try:
            self._ddb.put_item(
                TableName=self.table,
                Item=to_item({"pk": "SYNC#LEASE", "sk": name, "owner": owner, "until": until}),
                ConditionExpression="attribute_not_exists(pk) OR #u < :now",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues={":now": {"S": now}},
            )
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False

    def release_lease(self, name: str, owner: str) -> None:
        self._delete_if("SYNC#LEASE", name, "owner", owner)

    # ---- pull -----------------------------------------------------------------------------------------------------

    def pull_cursor(self, dataset: str) -> str | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": "SYNC#PULL"}, "sk": {"S": dataset}}, ConsistentRead=True
        ).get("Item")
        return from_item(item).get("cursor") if item else None

    def save_pull_cursor(self, dataset: str, old: str | None, new: str, now: str) -> bool:
        """The durable high-water mark of the pull: advanced only from the value this run started from."""
        cond = "attribute_not_exists(#c)" if old is None else "#c = :old"
        values: dict[str, Any] = {":new": {"S": new}, ":now": {"S": now}}
        if old is not None:
            values[":old"] = {"S": old}
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key={"pk": {"S": "SYNC#PULL"}, "sk": {"S": dataset}},
                UpdateExpression="SET #c = :new, pulled_at = :now",
                ConditionExpression=cond,
                ExpressionAttributeNames={"#c": "cursor"},
                ExpressionAttributeValues=values,
            )
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False

    def put_mirror(self, dataset: str, key: str, seq: int, data: dict[str, Any], *, subject: str | None) -> bool:
        item: dict[str, Any] = {
            "pk": f"NAT#{dataset}#{key}",
            "sk": "REC",
            "entity": "national_mirror",
            "dataset": dataset,
            "key": key,
            "national_seq": seq,
            "data": data,
            "pulled_at": utcnow().isoformat(timespec="seconds"),
            "gsi1pk": f"NAT#{dataset}",
            "gsi1sk": f"{seq:012d}#{key}",
        }
        if subject:
            item.update(gsi2pk=f"ORG#{subject}", gsi2sk=f"NAT#{dataset}#{key}", subject=subject)
        try:
            self._ddb.put_item(
                TableName=self.table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR national_seq < :s",
                ExpressionAttributeValues={":s": {"N": str(seq)}},
            )
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False

    def mirrors(self, dataset: str, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"NAT#{dataset}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        raw, nxt = query_page(self._ddb, kwargs, cursor)
        items = []
        for i in raw:
            d = from_item(i)
            items.append({k: d.get(k) for k in ("dataset", "key", "national_seq", "data", "pulled_at", "subject")})
        return Page(items, nxt)

    def put_conflict(self, conflict: dict[str, Any]) -> None:
        item = {
            "pk": f"SYNCCONF#{conflict['dataset']}#{conflict['key']}",
            "sk": "C",
            "entity": "sync_conflict",
            "gsi1pk": "SYNCCONF#OPEN",
            "gsi1sk": f"{conflict['detected_at']}#{conflict['dataset']}#{conflict['key']}",
            **conflict,
        }
        # An older national version of the same conflict fails the condition: the stored one is newer.
        with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
            self._ddb.put_item(
                TableName=self.table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR national_seq < :s",
                ExpressionAttributeValues={":s": {"N": str(conflict["national_seq"])}},
            )

    def conflicts(self, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "SYNCCONF#OPEN"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        raw, nxt = query_page(self._ddb, kwargs, cursor)
        items = []
        for i in raw:
            d = from_item(i)
            for k in ("pk", "sk", "entity", "gsi1pk", "gsi1sk"):
                d.pop(k, None)
            items.append(d)
        return Page(items, nxt)


# ---- the change stream -------------------------------------------------------------------------------------------

_SOURCE_PREFIXES = ("ENT#", "PER#", "PRJ#", "STAGE#", "PERMIT#", "CREDIT#")


def source_change(keys: dict[str, Any], new_image: dict[str, Any] | None, seq: str) -> SourceChange | None:
    """A DynamoDB stream record of the main table as a `SourceChange`; None for items sync never looks at."""
    pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
    if not pk.startswith(_SOURCE_PREFIXES) or sk.startswith(("SNAP#", "PERMITAPP#")):
        return None
    padded = seq.zfill(40)
    entity = (new_image or {}).get("entity", {}).get("S")
    if entity in ("enterprise", "person", "project"):
        from chalicelib.adapters.dynamo_registry import from_record_item

        return SourceChange(pk, sk, padded, from_record_item(new_image or {}))
    if entity == "stage_record":
        from chalicelib.domain.stages import StageRecord

        return SourceChange(pk, sk, padded, StageRecord.model_validate(model_data(new_image or {})))
    if entity == "permit_application":
        from chalicelib.domain.permits import PermitApplication

        return SourceChange(pk, sk, padded, PermitApplication.model_validate(model_data(new_image or {})))
    if entity == "credit":
        from chalicelib.domain.credit import CreditRecord

        return SourceChange(pk, sk, padded, CreditRecord.model_validate(model_data(new_image or {})))
    return None


class RegistryResolver:
    """What national rows need besides their source: enterprises (names), persons (names, ID numbers), the project
    and its stage records (a licence's planning permits, drawing review, survey and design enterprises)."""

    def __init__(self, registry: Any, stages: Any = None):
        self.registry = registry
        self.stage_store = stages

    def project(self, prj_num: str):
        from chalicelib.domain.records import RecordType

        return self.registry.get(RecordType.PROJECT, (prj_num,))

    def stages(self, prj_num: str) -> list:
        return self.stage_store.for_project(prj_num) if self.stage_store is not None else []

    def enterprise(self, uscc: str):
        from chalicelib.domain.records import RecordType

        return self.registry.get(RecordType.ENTERPRISE, (uscc,))

    def person(self, person_key: str, employer_uscc: str | None):
        from chalicelib.domain.records import RecordType

        if employer_uscc:
            found = self.registry.get(RecordType.PERSON, (person_key, employer_uscc))
            if found is not None:
                return found
        partition = self.registry.person_partition(person_key)
        return partition[0] if partition else None
