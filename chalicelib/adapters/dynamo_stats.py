"""Counters maintained from the main table's change stream, and the reads of the dashboard.

  counter     pk = "STAT#{city}", sk = "{county}#{kind}#..."      (n, or event fields; ADD only)
              pk = "STAT#SYNC",  sk = "{dataset}#{status}"
  marker      pk = "STATSRC#{source pk}", sk = source sk          (seq, buckets, events of the item as last counted)
  scores      pk = "STAT#SCORE", sk = "{yyyy-mm-dd}"              (distribution written by the daily score job)
  assessment  pk = "ASSESS#{yyyy-mm}", sk = region                (monthly snapshot of the scorecards)

Each change is one TransactWriteItems: the marker (conditioned on an older stream sequence number) and the ADDs.
A replayed stream record fails the marker's condition and changes nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_codec import count_all, from_item, query_all, to_item, to_value
from chalicelib.domain import statistics
from chalicelib.domain.statistics import Classified


class DynamoStatsStore:
    def __init__(self, main_table: str):
        self.table = main_table

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def apply(self, source_pk: str, source_sk: str, seq: str, now: Classified) -> bool:
        """Count one change (idempotent per stream sequence number). False: already counted (a replay)."""
        from botocore.exceptions import ClientError

        key = {"pk": {"S": f"STATSRC#{source_pk}"}, "sk": {"S": source_sk}}
        for _ in range(5):
            item = self._ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            old = from_item(item) if item else {}
            if old and old.get("seq", "") >= seq:
                return False
            d = statistics.delta(list(old.get("buckets") or []), list(old.get("events") or []), now)
            marker = {
                "pk": f"STATSRC#{source_pk}",
                "sk": source_sk,
                "entity": "stat_marker",
                "seq": seq,
                "buckets": d.marker_buckets,
                "events": d.marker_events[-50:],
            }
            cond = "attribute_not_exists(pk)" if not old else "seq = :old"
            put: dict[str, Any] = {"TableName": self.table, "Item": to_item(marker), "ConditionExpression": cond}
            if old:
                put["ExpressionAttributeValues"] = {":old": {"S": old["seq"]}}
            writes: list[dict[str, Any]] = [{"Put": put}]
            for bucket, fields in d.adds.items():
                names = {f"#f{i}": f for i, f in enumerate(fields)}
                values = {f":v{i}": to_value(v) for i, v in enumerate(fields.values())}
                writes.append(
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": {"pk": {"S": bucket.pk}, "sk": {"S": bucket.sk}},
                            "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(fields))),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    }
                )
            if len(writes) == 1 and old.get("buckets") == d.marker_buckets:
                return True  # nothing to count, and the marker would only move its sequence number
            try:
                self._ddb.transact_write_items(TransactItems=writes)
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                # Another writer moved the marker (a concurrent batch): read it again.
        raise RuntimeError(f"statistics for {source_pk}/{source_sk}: too many concurrent writers")

    def counters(self, partition: str, prefix: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
        }
        if prefix:
            kwargs["KeyConditionExpression"] += " AND begins_with(sk, :p)"
            kwargs["ExpressionAttributeValues"][":p"] = {"S": prefix}
        return [from_item(i) for i in query_all(self._ddb, **kwargs)]

    def latest_score_distribution(self) -> dict[str, Any] | None:
        items = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "STAT#SCORE"}},
            ScanIndexForward=False,
            Limit=1,
        ).get("Items", [])
        return from_item(items[0]) if items else None

    def oldest_waiting(self, region: str, state: str) -> str | None:
        """The longest-waiting record of a review queue: county queue (gsi4) or city roll-up (gsi5), Limit 1."""
        county = not region.endswith("00")
        index, attr, value = (
            ("gsi4", "gsi4pk", f"RQ#{region}#{state}")
            if county
            else (
                "gsi5",
                "gsi5pk",
                f"RQC#{region}#{state}",
            )
        )
        items = self._ddb.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=f"{attr} = :v",
            ExpressionAttributeValues={":v": {"S": value}},
            Limit=1,
        ).get("Items", [])
        return items[0][f"{index}sk"]["S"].split("#", 1)[0] if items else None

    def put_assessment(self, month: str, region: str, card: dict[str, Any]) -> None:
        """Monthly snapshot: rewritten by the daily job during the month, so the month keeps its last state."""
        self._ddb.put_item(
            TableName=self.table,
            Item=to_item({**card, "pk": f"ASSESS#{month}", "sk": region, "entity": "assessment"}),
        )

    def late_count(self, campaign_id: str, city: str) -> int:
        """Late or missing reports of a campaign in a city (the late list's index, counted)."""
        return count_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": f"LATE#{campaign_id}#{city}"}},
        )

    def assessments(self, month: str) -> list[dict[str, Any]]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ASSESS#{month}"}},
        )
        out = []
        for i in items:
            d = from_item(i)
            for k in ("pk", "entity"):
                d.pop(k, None)
            out.append(d)
        return out


STAT_PREFIXES = ("ENT#", "PER#", "PRJ#", "PERMIT#", "CREDIT#", "SYNC#")


def stat_change(
    keys: dict[str, Any], new_image: dict[str, Any] | None
) -> tuple[str, str, str | None, dict | None] | None:
    """(pk, sk, entity, data) of a stream record the statistics look at; None for everything else."""
    pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
    if not pk.startswith(STAT_PREFIXES):
        return None
    if pk.startswith("SYNC#") and sk != "ROW":
        return None
    if pk.startswith(("ENT#", "PER#", "PRJ#")) and sk.startswith("SNAP#"):
        return None
    if new_image is None:
        return pk, sk, None, None
    data = from_item(new_image)
    entity = data.get("entity")
    if entity not in ("enterprise", "person", "project", "permit_application", "credit", "sync_row"):
        return None
    return pk, sk, entity, data


def _record_id(data: dict) -> str:
    """The search entries' sort key: the record key joined by # (person key#employer, else the record's number)."""
    if data["entity"] == "person":
        return f"{data['person_key']}#{data['employer_uscc']}"
    return data["uscc"] if data["entity"] == "enterprise" else data["prj_num"]


class DynamoRecordScan:
    """Whole-table reads for the consistency check (maintenance only: the request paths never Scan)."""

    def __init__(self, main_table: str):
        self.table = main_table

    def _items(self):
        paginator = aws.client("dynamodb").get_paginator("scan")
        for page in paginator.paginate(TableName=self.table):
            yield from page.get("Items", [])

    def stat_sources(self):
        for raw in self._items():
            change = stat_change({"pk": raw.get("pk", {}), "sk": raw.get("sk", {})}, raw)
            if change is not None and change[2] is not None:
                yield change[2], change[3]

    def search_entries_expected(self) -> set[tuple[str, str]]:
        from chalicelib.adapters.dynamo_review_items import index_entries

        out: set[tuple[str, str]] = set()
        for raw in self._items():
            data = from_item(raw)
            if data.get("entity") in ("enterprise", "person", "project") and data.get("state") == "CONFIRMED":
                rid = _record_id(data)
                out |= {(e["pk"], e["sk"]) for e in index_entries(data["entity"], rid, data, data.get("region_code"))}
        return out

    def search_entries_stored(self) -> set[tuple[str, str]]:
        return {
            (raw["pk"]["S"], raw["sk"]["S"]) for raw in self._items() if raw.get("entity", {}).get("S") == "name_index"
        }

    def state_counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for raw in self._items():
            pk = raw.get("pk", {}).get("S", "")
            if pk.startswith("STAT#") and "n" in raw and pk not in ("STAT#SCORE",):
                n = int(raw["n"]["N"])
                if n:
                    out[f"{pk}|{raw['sk']['S']}"] = n
        return out
