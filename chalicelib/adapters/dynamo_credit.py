"""Credit records, blacklist, rectification requests, score snapshots and the public search indexes.

  credit record    pk = "CREDIT#{id}"       (indexes in dynamo_review_items.credit_item, all sorted by publish_end)
  blacklist entry  pk = "BL#{id}", sk = "BL"  gsi1: "BLACKLIST" / "{removal_on}#{uscc}"   gsi2: "ORG#{uscc}" / "BL#{removal_on}"
  rectification    on the credit record itself; while REQUESTED: gsi4 "RECTQ#{city}" / "{county}#{id}" (officials' queue)
  score snapshot   pk = "SCORE#{uscc}", sk = "D#{yyyy-mm-dd}"
  name search      pk = "NG#{T}#{bigram}", sk = record id     (written when a record is confirmed)
  qualification    pk = "QUAL#{code}", sk = USCC              (idem)
"Still public" is always a key condition (sort key >= today), so nothing is swept when a period ends.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import DynamoAuditLog
from chalicelib.adapters.dynamo_codec import put_new, put_versioned, to_item
from chalicelib.adapters.dynamo_review_items import credit_item, strip
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.credit import BlacklistEntry, CreditRecord, CreditScore
from chalicelib.domain.identity import Principal
from chalicelib.services.ports import Page


class DynamoCreditStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    # ---- credit records ---------------------------------------------------------------------------------------

    def add_credit(self, record: CreditRecord, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        return self.audit.commit([put_new(self.table, credit_item(record))], draft, actor, meta)

    def save_credit(
        self,
        record: CreditRecord,
        expected_version: int,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
        extra: list[dict[str, Any]] | None = None,
    ) -> AuditEntry:
        put = put_versioned(self.table, credit_item(record), expected_version)
        return self.audit.commit([put, *(extra or [])], draft, actor, meta)

    def get_credit(self, credit_id: str) -> CreditRecord | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"CREDIT#{credit_id}"}, "sk": {"S": "CREDIT"}}, ConsistentRead=True
        ).get("Item")
        return CreditRecord.model_validate(strip(item)) if item else None

    def _credit_page(self, kwargs: dict[str, Any], cursor: dict | None) -> Page[CreditRecord]:
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(
            items=[CreditRecord.model_validate(strip(i)) for i in resp.get("Items", [])],
            cursor=resp.get("LastEvaluatedKey"),
        )

    def credits_of_owner(self, uscc: str, on: date, *, limit: int, cursor: dict | None) -> Page[CreditRecord]:
        """Records of an enterprise still in their publication period on `on`."""
        return self._credit_page(
            {
                "TableName": self.table,
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :o AND gsi2sk >= :t",
                "FilterExpression": "publish_begin <= :d",
                "ExpressionAttributeValues": {
                    ":o": {"S": f"ORG#{uscc}"},
                    ":t": {"S": f"CREDIT#{on.isoformat()}"},
                    ":d": {"S": on.isoformat()},
                },
                "Limit": limit,
            },
            cursor,
        )

    def credits_of_subject(
        self, subject_type: str, subject_id: str, on: date, *, limit: int, cursor: dict | None
    ) -> Page[CreditRecord]:
        return self._credit_page(
            {
                "TableName": self.table,
                "IndexName": "gsi3",
                "KeyConditionExpression": "gsi3pk = :s AND gsi3sk >= :t",
                "FilterExpression": "publish_begin <= :t",
                "ExpressionAttributeValues": {
                    ":s": {"S": f"SUBJ#{subject_type}#{subject_id}"},
                    ":t": {"S": on.isoformat()},
                },
                "Limit": limit,
            },
            cursor,
        )

    def credits_of_region(
        self, city: str, kind: str, on: date, county: str | None, *, limit: int, cursor: dict | None
    ) -> Page[CreditRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p AND gsi1sk >= :t",
            "FilterExpression": "publish_begin <= :t",
            "ExpressionAttributeValues": {":p": {"S": f"CREDIT#{city}#{kind}"}, ":t": {"S": on.isoformat()}},
            "Limit": limit,
        }
        if county:
            kwargs["FilterExpression"] += " AND region_code = :c"
            kwargs["ExpressionAttributeValues"][":c"] = {"S": county}
        return self._credit_page(kwargs, cursor)

    def credits_of_province(self, kind: str, on: date, *, limit: int, cursor: dict | None) -> Page[CreditRecord]:
        """Every record of a kind still public on `on`, the province over, newest publication end first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi6",
            "KeyConditionExpression": "gsi6pk = :p AND gsi6sk >= :t",
            "FilterExpression": "publish_begin <= :t",
            "ExpressionAttributeValues": {":p": {"S": f"CREDITP#{kind}"}, ":t": {"S": on.isoformat()}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        return self._credit_page(kwargs, cursor)

    # ---- blacklist --------------------------------------------------------------------------------------------

    def add_blacklist(self, entry: BlacklistEntry, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        data = entry.model_dump(mode="json")
        data.update(
            pk=f"BL#{entry.entry_id}",
            sk="BL",
            entity="blacklist",
            gsi1pk="BLACKLIST",
            gsi1sk=f"{entry.removal_on}#{entry.uscc}",
            gsi2pk=f"ORG#{entry.uscc}",
            gsi2sk=f"BL#{entry.removal_on}#{entry.entry_id}",
        )
        self.audit.commit([put_new(self.table, data)], draft, actor, meta)

    def blacklist(self, on: date, *, limit: int, cursor: dict | None) -> Page[BlacklistEntry]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :b AND gsi1sk >= :t",
            "FilterExpression": "listed_on <= :t",
            "ExpressionAttributeValues": {":b": {"S": "BLACKLIST"}, ":t": {"S": on.isoformat()}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(
            items=[BlacklistEntry.model_validate(strip(i)) for i in resp.get("Items", [])],
            cursor=resp.get("LastEvaluatedKey"),
        )

    def blacklist_of(self, uscc: str, on: date) -> list[BlacklistEntry]:
        resp = self._ddb.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :o AND gsi2sk BETWEEN :t AND :z",
            FilterExpression="listed_on <= :d",
            ExpressionAttributeValues={
                ":o": {"S": f"ORG#{uscc}"},
                ":t": {"S": f"BL#{on.isoformat()}"},
                ":z": {"S": "BL#~"},
                ":d": {"S": on.isoformat()},
            },
        )
        return [BlacklistEntry.model_validate(strip(i)) for i in resp.get("Items", [])]

    # ---- score snapshots --------------------------------------------------------------------------------------

    def rectification_queue(self, city: str, county: str | None) -> list[CreditRecord]:
        """Rectification requests waiting for a decision in a city (or one county): the sparse gsi4 queue."""
        from chalicelib.adapters.dynamo_codec import query_all

        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi4",
            "KeyConditionExpression": "gsi4pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"RECTQ#{city}"}},
        }
        if county:
            kwargs["KeyConditionExpression"] += " AND begins_with(gsi4sk, :c)"
            kwargs["ExpressionAttributeValues"][":c"] = {"S": f"{county}#"}
        return [CreditRecord.model_validate(strip(i)) for i in query_all(self._ddb, **kwargs)]

    def put_score_distribution(self, day: str, by_city: dict[str, dict[str, int]]) -> None:
        """Counts of enterprises per score band and city for one day (read by the statistics dashboard)."""
        self._ddb.put_item(
            TableName=self.table,
            Item=to_item({"pk": "STAT#SCORE", "sk": day, "entity": "score_distribution", "by_city": by_city}),
        )

    def put_score(self, score: CreditScore) -> None:
        data = score.model_dump(mode="json")
        data.update(pk=f"SCORE#{score.uscc}", sk=f"D#{score.on}", entity="score")
        self._ddb.put_item(TableName=self.table, Item=to_item(data))

    def scores(self, uscc: str, since: date, until: date) -> list[CreditScore]:
        resp = self._ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": f"SCORE#{uscc}"},
                ":a": {"S": f"D#{since.isoformat()}"},
                ":b": {"S": f"D#{until.isoformat()}"},
            },
        )
        return [CreditScore.model_validate(strip(i)) for i in resp.get("Items", [])]

    # ---- public search ----------------------------------------------------------------------------------------

    def name_search(self, type_code: str, bigram: str, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"NG#{type_code}#{bigram}"}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[strip(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    def qualification_search(self, code: str, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"QUAL#{code}"}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[strip(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))
