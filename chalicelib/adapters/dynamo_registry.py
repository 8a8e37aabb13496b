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
from chalicelib.adapters import dynamo_review_items as review_items
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import from_item, model_data, put_new, put_versioned, to_item
from chalicelib.domain import codetables, identifiers
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.clock import beijing_today
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.domain.records import QUEUE_STATES, RecordState, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.review import Decision, Snapshot, SupplementRequest
from chalicelib.domain.sheets import AGGREGATES
from chalicelib.services.ports import Existing, Extras, ImportScope, Page, QueueQuery

REGION_INDEX = "gsi1"
OWNER_INDEX = "gsi2"
TYPE_CODE = {RecordType.ENTERPRISE: "ENT", RecordType.PERSON: "PER", RecordType.PROJECT: "PRJ"}
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
    review = record.review
    if record.state in QUEUE_STATES and record.region_code:
        # Review queues (sparse: only while waiting): by county, and rolled up by city.
        since = review.waiting_since or record.updated_at
        city = identifiers.city_of(record.region_code) or record.region_code
        data["gsi4pk"] = f"RQ#{record.region_code}#{record.state.value}"
        data["gsi4sk"] = f"{since}#{t}#{rid}"
        data["gsi5pk"] = f"RQC#{city}#{record.state.value}"
        data["gsi5sk"] = f"{since}#{t}#{rid}"
        data["gsi6pk"] = f"RQP#{record.state.value}"  # the province's whole queue, oldest first
        data["gsi6sk"] = f"{since}#{t}#{rid}"
    if review.assignee:
        data["gsi3pk"] = f"ASG#{review.assignee}"
        data["gsi3sk"] = f"{review.assigned_at}#{t}#{rid}"
    return data


def from_record_item(item: dict[str, Any]) -> RecordBase:
    record_type = RecordType(item["entity"]["S"])
    return AGGREGATES[record_type].model_validate(model_data(item))  # type: ignore[return-value]


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

    return [
        e.code
        for e in codetables.regions().children("330000", on=beijing_today())
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
        self,
        record: RecordBase,
        expected_version: int,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
        extras: Extras | None = None,
    ) -> AuditEntry:
        put = put_versioned(self.table, to_record_item(record), expected_version)
        writes = [
            put,
            *review_items.search_index_writes(self.table, record, draft.before),
            *(review_items.extra_writes(self.table, record, extras) if extras else []),
        ]
        return self.audit.commit(writes, draft, actor, meta)

    def create(self, record: RecordBase, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        put = put_new(self.table, to_record_item(record))
        try:
            return self.audit.commit(
                [put, *review_items.search_index_writes(self.table, record, None)], draft, actor, meta
            )
        except ConditionFailed:
            raise Conflict("该记录已存在") from None

    def person_partition(self, person_key: str) -> list[RecordBase]:
        """Every employer's record of one person: a single Query on the person's partition."""
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :o)",
            ExpressionAttributeValues={":p": {"S": f"PER#{person_key}"}, ":o": {"S": "ORG#"}},
        )
        return [from_record_item(i) for i in resp.get("Items", [])]

    # ---- review -------------------------------------------------------------------------------------------------

    def queue(self, q: QueueQuery, *, limit: int, cursor: dict | None) -> Page[RecordBase]:
        return self._page(review_items.queue_query(self.table, q, limit), cursor)

    def assigned_to(self, subject: str, *, limit: int, cursor: dict | None) -> Page[RecordBase]:
        return self._page(
            {
                "TableName": self.table,
                "IndexName": "gsi3",
                "KeyConditionExpression": "gsi3pk = :a",
                "ExpressionAttributeValues": {":a": {"S": f"ASG#{subject}"}},
                "ScanIndexForward": False,
                "Limit": limit,
            },
            cursor,
        )

    def get_decision(self, decision_id: str) -> Decision | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"DEC#{decision_id}"}, "sk": {"S": "DEC"}}, ConsistentRead=True
        ).get("Item")
        return Decision.model_validate(review_items.strip(item)) if item else None

    def snapshots(self, record: RecordBase) -> list[Snapshot]:
        pk, sk = item_key(record.RECORD_TYPE, record_key(record))
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": pk}, ":s": {"S": f"SNAP#{sk}#"}},
            ConsistentRead=True,
        )
        return [Snapshot.model_validate(review_items.strip(i)) for i in resp.get("Items", [])]

    def get_request(self, request_id: str) -> SupplementRequest | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"REQ#{request_id}"}, "sk": {"S": "REQ"}}, ConsistentRead=True
        ).get("Item")
        return SupplementRequest.model_validate(review_items.strip(item)) if item else None

    def put_request(
        self,
        request: SupplementRequest,
        expected_version: int | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry:
        return self.audit.commit(
            [review_items.request_write(self.table, request, expected_version)], draft, actor, meta
        )

    def requests_for_owner(self, owner_uscc: str, *, limit: int, cursor: dict | None) -> Page[SupplementRequest]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :p)",
            "ExpressionAttributeValues": {":o": {"S": f"ORG#{owner_uscc}"}, ":p": {"S": "REQ#"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(
            items=[SupplementRequest.model_validate(review_items.strip(i)) for i in resp.get("Items", [])],
            cursor=resp.get("LastEvaluatedKey"),
        )

    def requests_for_record(self, record: RecordBase) -> list[SupplementRequest]:
        rid = "#".join(record_key(record))
        resp = self._ddb.query(
            TableName=self.table,
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :r",
            ExpressionAttributeValues={":r": {"S": f"REQREC#{TYPE_CODE[record.RECORD_TYPE]}#{rid}"}},
        )
        return [SupplementRequest.model_validate(review_items.strip(i)) for i in resp.get("Items", [])]

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
        for r in records:  # new records: the search entries of those that arrive confirmed (same mechanism as save)
            items.extend(
                {"PutRequest": {"Item": w["Put"]["Item"]}}
                for w in review_items.search_index_writes(self.table, r, None)
            )
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
