"""Registry records (enterprise, registered person, project) in the main table.

Items (one per aggregate):
  enterprise  pk = "ENT#{uscc}"        sk = "REC"
  person      pk = "PER#{person_key}"  sk = "ORG#{employer_uscc}"   (one person, one partition, one item per employer)
  project     pk = "PRJ#{prj_num}"     sk = "REC"
Region index (gsi1): gsi1pk = "REG#{T}#{city code}", gsi1sk = "{county code}#{record id}" -- an official's region.
Owner index  (gsi2): gsi2pk = "ORG#{owner uscc}",    gsi2sk = "{T}#{record id}"          -- an enterprise's records.

Imports write new records with BatchWriteItem (25 per call, unprocessed items retried). Before that they need to
know which keys exist; `existing` picks the cheapest complete way: the owner index when every key belongs to one
enterprise, the region index over the whole province for large province-wide imports, BatchGetItem otherwise, and
falls back to BatchGetItem as soon as a scan of the index would cost more requests than it saves.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import DynamoAuditLog
from chalicelib.adapters.dynamo_codec import from_item, to_item, to_value
from chalicelib.domain import codetables, identifiers
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.identity import Principal
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.sheets import AGGREGATES
from chalicelib.services.ports import Existing, ImportScope, Page

REGION_INDEX = "gsi1"
OWNER_INDEX = "gsi2"
TYPE_CODE = {RecordType.ENTERPRISE: "ENT", RecordType.PERSON: "PER", RecordType.PROJECT: "PRJ"}
_INTERNAL = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "entity")
BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25


def item_key(record_type: RecordType, key: tuple[str, ...]) -> tuple[str, str]:
    if record_type == RecordType.PERSON:
        return f"PER#{key[0]}", f"ORG#{key[1]}"
    return f"{TYPE_CODE[record_type]}#{key[0]}", "REC"


def record_key(record: RecordBase) -> tuple[str, ...]:
    if record.RECORD_TYPE == RecordType.PERSON:
        return (record.person_key, record.employer_uscc)  # type: ignore[attr-defined]
    return (record.record_id,)


def _key_from_item(record_type: RecordType, pk: str, sk: str) -> tuple[str, ...]:
    body = pk.split("#", 1)[1]
    if record_type == RecordType.PERSON:
        return (body, sk.split("#", 1)[1])
    return (body,)


def to_record_item(record: RecordBase) -> dict[str, Any]:
    t = TYPE_CODE[record.RECORD_TYPE]
    pk, sk = item_key(record.RECORD_TYPE, record_key(record))
    data = record.model_dump(mode="json")
    data.update(pk=pk, sk=sk, entity=record.RECORD_TYPE.value)
    rid = "#".join(record_key(record))
    if record.region_code:
        city = identifiers.city_of(record.region_code) or record.region_code
        data["gsi1pk"] = f"REG#{t}#{city}"
        data["gsi1sk"] = f"{record.region_code}#{rid}"
    if record.owner_uscc:
        data["gsi2pk"] = f"ORG#{record.owner_uscc}"
        data["gsi2sk"] = f"{t}#{rid}"
    return data


def from_record_item(item: dict[str, Any]) -> RecordBase:
    data = from_item(item)
    record_type = RecordType(data["entity"])
    for k in _INTERNAL:
        data.pop(k, None)
    return AGGREGATES[record_type].model_validate(data)  # type: ignore[return-value]


def _existing_from(item: dict[str, Any]) -> Existing:
    data = from_item(item)
    return Existing(
        state=RecordState(data["state"]),
        version=int(data["version"]),
        owner_uscc=data.get("owner_uscc"),
        source_job=(data.get("provenance") or {}).get("source_job"),
        region_code=data.get("region_code"),
    )


def zhejiang_cities() -> list[str]:
    """Today's 11 设区市: every county code, retired ones included, maps to one of them (identifiers.city_of)."""
    from datetime import date

    return [
        e.code
        for e in codetables.regions().children("330000", on=date.today())
        if (e.extra or {}).get("level") == "city"
    ]


_PROJECTION = "pk, sk, #st, version, owner_uscc, region_code, provenance.source_job"
_PROJECTION_NAMES = {"#st": "state"}


class DynamoRegistryRepository:
    def __init__(self, main_table: str, audit: DynamoAuditLog, *, max_attempts: int = 8):
        self.table = main_table
        self.audit = audit
        self.max_attempts = max_attempts

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def get(self, record_type: RecordType, key: tuple[str, ...]) -> RecordBase | None:
        pk, sk = item_key(record_type, key)
        resp = self._ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        item = resp.get("Item")
        return from_record_item(item) if item else None

    def save(
        self, record: RecordBase, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        put = {
            "Put": {
                "TableName": self.table,
                "Item": to_item(to_record_item(record)),
                "ConditionExpression": "#v = :expected",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":expected": to_value(expected_version)},
            }
        }
        return self.audit.commit([put], draft, actor, meta)

    # ---- existence checks for imports ------------------------------------------------------------------------

    def existing(
        self, record_type: RecordType, keys: list[tuple[str, ...]], scope: ImportScope
    ) -> dict[tuple[str, ...], Existing]:
        wanted = set(keys)
        if not wanted:
            return {}
        budget = math.ceil(len(wanted) / BATCH_GET_MAX)  # what BatchGetItem would cost
        found: dict[tuple[str, ...], Existing] | None = None
        t = TYPE_CODE[record_type]
        if scope.owner_uscc:
            found = self._scan_partitions(
                record_type, OWNER_INDEX, "gsi2pk", [f"ORG#{scope.owner_uscc}"], "gsi2sk", f"{t}#", budget, wanted
            )
        elif scope.province_wide:
            cities = zhejiang_cities()
            if len(cities) < budget:
                found = self._scan_partitions(
                    record_type, REGION_INDEX, "gsi1pk", [f"REG#{t}#{c}" for c in cities], None, None, budget, wanted
                )
        if found is None:
            found = self._batch_get(record_type, list(wanted))
        return found

    def _scan_partitions(
        self,
        record_type: RecordType,
        index: str,
        pk_name: str,
        partitions: list[str],
        sk_name: str | None,
        sk_prefix: str | None,
        budget: int,
        wanted: set[tuple[str, ...]],
    ) -> dict[tuple[str, ...], Existing] | None:
        """Read whole index partitions (projected to what we need); None when that would exceed `budget`."""
        out: dict[tuple[str, ...], Existing] = {}
        requests = 0
        for partition in partitions:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": f"{pk_name} = :p",
                "ExpressionAttributeValues": {":p": {"S": partition}},
                "ProjectionExpression": _PROJECTION,
                "ExpressionAttributeNames": dict(_PROJECTION_NAMES),
            }
            if sk_name and sk_prefix:
                kwargs["KeyConditionExpression"] += f" AND begins_with({sk_name}, :s)"
                kwargs["ExpressionAttributeValues"][":s"] = {"S": sk_prefix}
            while True:
                if requests >= budget:
                    return None
                resp = self._ddb.query(**kwargs)
                requests += 1
                for item in resp.get("Items", []):
                    key = _key_from_item(record_type, item["pk"]["S"], item["sk"]["S"])
                    if key in wanted:
                        out[key] = _existing_from(item)
                lek = resp.get("LastEvaluatedKey")
                if not lek:
                    break
                kwargs["ExclusiveStartKey"] = lek
        return out

    def _batch_get(self, record_type: RecordType, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], Existing]:
        out: dict[tuple[str, ...], Existing] = {}
        for i in range(0, len(keys), BATCH_GET_MAX):
            pending = [
                {"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in (item_key(record_type, k) for k in keys[i : i + 100])
            ]
            attempt = 0
            while pending:
                resp = self._ddb.batch_get_item(
                    RequestItems={
                        self.table: {
                            "Keys": pending,
                            "ProjectionExpression": _PROJECTION,
                            "ExpressionAttributeNames": dict(_PROJECTION_NAMES),
                            "ConsistentRead": True,
                        }
                    }
                )
                for item in resp.get("Responses", {}).get(self.table, []):
                    out[_key_from_item(record_type, item["pk"]["S"], item["sk"]["S"])] = _existing_from(item)
                pending = resp.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                attempt = self._backoff(attempt, bool(pending))
        return out

    def _backoff(self, attempt: int, more: bool) -> int:
        if not more:
            return 0
        if attempt + 1 >= self.max_attempts:
            raise RuntimeError("DynamoDB kept returning unprocessed items; giving up for this attempt")
        time.sleep(min(0.05 * 2**attempt, 2.0) * (0.5 + random.random()))
        return attempt + 1

    # ---- batch insert --------------------------------------------------------------------------------------

    def insert_batch(self, records: list[RecordBase]) -> None:
        items = [{"PutRequest": {"Item": to_item(to_record_item(r))}} for r in records]
        for i in range(0, len(items), BATCH_WRITE_MAX):
            pending = items[i : i + BATCH_WRITE_MAX]
            attempt = 0
            while pending:
                resp = self._ddb.batch_write_item(RequestItems={self.table: pending})
                pending = resp.get("UnprocessedItems", {}).get(self.table, [])
                attempt = self._backoff(attempt, bool(pending))

    # ---- listings ------------------------------------------------------------------------------------------

    def _page(self, kwargs: dict[str, Any], cursor: dict | None) -> Page[RecordBase]:
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[from_record_item(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    def list_by_owner(
        self, record_type: RecordType, owner_uscc: str, *, limit: int, cursor: dict | None
    ) -> Page[RecordBase]:
        return self._page(
            {
                "TableName": self.table,
                "IndexName": OWNER_INDEX,
                "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :t)",
                "ExpressionAttributeValues": {
                    ":o": {"S": f"ORG#{owner_uscc}"},
                    ":t": {"S": f"{TYPE_CODE[record_type]}#"},
                },
                "Limit": limit,
            },
            cursor,
        )

    def list_by_region(
        self, record_type: RecordType, city: str, county: str | None, *, limit: int, cursor: dict | None
    ) -> Page[RecordBase]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": REGION_INDEX,
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"REG#{TYPE_CODE[record_type]}#{city}"}},
            "Limit": limit,
        }
        if county:
            kwargs["KeyConditionExpression"] += " AND begins_with(gsi1sk, :c)"
            kwargs["ExpressionAttributeValues"][":c"] = {"S": f"{county}#"}
        return self._page(kwargs, cursor)
