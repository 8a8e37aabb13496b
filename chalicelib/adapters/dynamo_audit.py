"""The audit table, and the one way to change data: a DynamoDB transaction that carries its audit entry.

Audit items: pk = "{target_type}#{target_id}", sk = seq (N, 1, 2, ...). The next entry is written with
`attribute_not_exists(pk)`, so two writers that read the same chain tail cannot both append: one transaction is
cancelled and retried on the new tail. The domain writes in the same transaction carry their own conditions
(version numbers); if one of those fails the whole change is a conflict (409) and nothing is written.

Actor index (GSI `by_actor`): actor_pk = "ACTOR#{subject}", actor_sk = "{at}#{target_key}#{seq}".
Day index (GSI `by_day`): day_pk = "DAY#{Beijing date}", day_sk = "{at}#{target_key}#{seq}" (the audit
administrator's search and export by day).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_codec import from_item, to_item
from chalicelib.domain.audit import GENESIS_HASH, AuditDraft, AuditEntry, RequestMeta, seal, target_key, utcnow_iso
from chalicelib.domain.clock import in_beijing
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.services.ports import Page

ACTOR_INDEX = "by_actor"
DAY_INDEX = "by_day"
_INDEX_ATTRS = ("pk", "sk", "actor_pk", "actor_sk", "day_pk", "day_sk")


class ConditionFailed(Conflict):
    """One of the caller's own conditions failed (index in `details`)."""


def _entry_item(e: AuditEntry) -> dict[str, Any]:
    data = e.model_dump(mode="json")
    data["pk"] = e.target_key
    data["sk"] = e.seq
    data["actor_pk"] = f"ACTOR#{e.actor_subject}"
    data["actor_sk"] = f"{e.at}#{e.target_key}#{e.seq:010d}"
    data["day_pk"] = f"DAY#{in_beijing(e.at).date().isoformat()}"
    data["day_sk"] = data["actor_sk"]
    return data


def _entry_from_item(item: dict[str, Any]) -> AuditEntry:
    data = from_item(item)
    for k in _INDEX_ATTRS:
        data.pop(k, None)
    return AuditEntry.model_validate(data)


class DynamoAuditLog:
    """Transactional writer + audit reader over the audit table."""

    def __init__(self, audit_table: str, *, clock: Callable[[], str] = utcnow_iso, max_attempts: int = 6):
        self.table = audit_table
        self.clock = clock
        self.max_attempts = max_attempts

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def _tail(self, key: str) -> tuple[int, str]:
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": key}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ProjectionExpression="seq, #h",
            ExpressionAttributeNames={"#h": "hash"},
        )
        items = resp.get("Items", [])
        if not items:
            return 0, GENESIS_HASH
        return int(items[0]["seq"]["N"]), items[0]["hash"]["S"]

    def commit(
        self, writes: list[dict[str, Any]], draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        """Execute `writes` (low-level TransactItems) and append one audit entry, atomically."""
        from botocore.exceptions import ClientError

        key = target_key(draft.target_type, draft.target_id)
        for attempt in range(self.max_attempts):
            seq, prev = self._tail(key)
            entry = seal(draft, actor=actor, meta=meta, seq=seq + 1, prev_hash=prev, at=self.clock())
            put = {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(_entry_item(entry)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            try:
                self._ddb.transact_write_items(TransactItems=[*writes, put])
                return entry
            except ClientError as exc:
                err = exc.response.get("Error", {}).get("Code")
                if err != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                own = reasons[: len(writes)]
                for i, code in enumerate(own):
                    if code == "ConditionalCheckFailed":
                        raise ConditionFailed(details={"write_index": i}) from None
                # The audit append lost a race, or DynamoDB saw a conflicting transaction: read the tail again.
                time.sleep(min(0.05 * 2**attempt, 0.8) * random.random())
        raise Conflict("系统繁忙，请稍后重试（审计链写入冲突）")

    def record(self, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        return self.commit([], draft, actor, meta)

    def last_entry_for_target(self, target_type: str, target_id: str) -> AuditEntry | None:
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": target_key(target_type, target_id)}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        return _entry_from_item(items[0]) if items else None

    def entries_for_target(self, target_type: str, target_id: str) -> list[AuditEntry]:
        key = target_key(target_type, target_id)
        out: list[AuditEntry] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": key}},
            "ConsistentRead": True,
        }
        while True:
            resp = self._ddb.query(**kwargs)
            out.extend(_entry_from_item(i) for i in resp.get("Items", []))
            lek = resp.get("LastEvaluatedKey")
            if not lek:
                return out
            kwargs["ExclusiveStartKey"] = lek

    def entries_for_actor(self, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": ACTOR_INDEX,
            "KeyConditionExpression": "actor_pk = :a",
            "ExpressionAttributeValues": {":a": {"S": f"ACTOR#{subject}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_entry_from_item(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    def entries_for_day(self, day: str, *, action: str | None, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": DAY_INDEX,
            "KeyConditionExpression": "day_pk = :d",
            "ExpressionAttributeValues": {":d": {"S": f"DAY#{day}"}},
            "Limit": limit,
        }
        if action:
            kwargs["FilterExpression"] = "#a = :a"
            kwargs["ExpressionAttributeNames"] = {"#a": "action"}
            kwargs["ExpressionAttributeValues"][":a"] = {"S": action}
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_entry_from_item(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))
