"""Holiday arrangements loaded by the province administrator, in the main table.

  arrangement  pk = "CONFIG#WORKCAL", sk = "Y#{year}"   one item per year, version-checked, audited
All years are one Query (a handful of items); the service caches the merged calendar for a minute.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned, query_all
from chalicelib.domain.audit import AuditDraft, RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.domain.workdays import YearArrangement

PK = "CONFIG#WORKCAL"


class DynamoWorkCalendarStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    def years(self) -> list[tuple[YearArrangement, int]]:
        items = query_all(
            aws.client("dynamodb"),
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PK}},
        )
        out = []
        for item in items:
            data = model_data(item)
            version = int(data.pop("version", 1))
            out.append((YearArrangement.model_validate(data), version))
        return out

    def put_year(
        self,
        arrangement: YearArrangement,
        expected_version: int | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> int:
        version = (expected_version or 0) + 1
        data: dict[str, Any] = {
            **arrangement.model_dump(mode="json", by_alias=True),
            "pk": PK,
            "sk": f"Y#{arrangement.year}",
            "entity": "work_calendar",
            "version": version,
        }
        write = (
            put_new(self.table, data) if expected_version is None else put_versioned(self.table, data, expected_version)
        )
        try:
            self.audit.commit([write], draft, actor, meta)
        except ConditionFailed:
            raise Conflict(f"{arrangement.year}年的节假日安排已被他人修改，请刷新后重试") from None
        return version
