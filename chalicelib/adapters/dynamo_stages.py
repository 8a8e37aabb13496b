"""Project stage records in the main table.

stage record  pk = "STAGE#{prj_num}", sk = "{kind}#{number}"   (one Query lists a project's stages)
              gsi1 (officials, sparse while SUBMITTED): "SQ#{county}" / "{updated_at}#{prj_num}#{kind}#{number}"
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned, query_all
from chalicelib.domain.audit import AuditDraft, RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.domain.stages import StageRecord, StageState
from chalicelib.services.ports import Page


def _item(r: StageRecord) -> dict[str, Any]:
    data = r.model_dump(mode="json")
    data.update(pk=f"STAGE#{r.prj_num}", sk=f"{r.kind.value}#{r.number}", entity="stage_record")
    if r.state == StageState.SUBMITTED:
        data.update(gsi1pk=f"SQ#{r.region_code}", gsi1sk=f"{r.updated_at}#{r.prj_num}#{r.kind.value}#{r.number}")
    return data


class DynamoStageStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def for_project(self, prj_num: str) -> list[StageRecord]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"STAGE#{prj_num}"}},
            ConsistentRead=True,
        )
        return [
            StageRecord.model_validate(model_data(i))
            for i in items
            if i.get("entity", {}).get("S") == "stage_record"  # the partition also indexes permit applications
        ]

    def get(self, prj_num: str, kind: str, number: str) -> StageRecord | None:
        item = self._ddb.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"STAGE#{prj_num}"}, "sk": {"S": f"{kind}#{number}"}},
            ConsistentRead=True,
        ).get("Item")
        return StageRecord.model_validate(model_data(item)) if item else None

    def create(self, r: StageRecord, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        try:
            self.audit.commit([put_new(self.table, _item(r))], draft, actor, meta)
        except ConditionFailed:
            raise Conflict(f"编号{r.number}的记录已存在") from None

    def save(self, r: StageRecord, expected: int, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        try:
            self.audit.commit([put_versioned(self.table, _item(r), expected)], draft, actor, meta)
        except ConditionFailed:
            raise Conflict("记录已被修改，请刷新后重试") from None

    def pending(self, county: str, *, limit: int, cursor: dict | None) -> Page[StageRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"SQ#{county}"}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(
            items=[StageRecord.model_validate(model_data(i)) for i in resp.get("Items", [])],
            cursor=resp.get("LastEvaluatedKey"),
        )
