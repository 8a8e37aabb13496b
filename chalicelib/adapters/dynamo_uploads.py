"""Upload requests in the main table.

Item: pk = "UPLOAD#{id}", sk = "UPLOAD".
GSI1 (status index, sparse): gsi1pk = "UPLOAD#REQUESTED#{shard}", gsi1sk = "{expires_at}#{id}" -- present only
while the upload waits, so the expiry sweep reads exactly the waiting uploads. Sharded 4 ways so one hot
partition key does not take every upload request of the province.
GSI2 (owner index): gsi2pk = "OWNER#{subject}", gsi2sk = "UPLOAD#{requested_at}".
"""

from __future__ import annotations

import zlib
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.identity import Principal
from chalicelib.domain.uploads import Upload, UploadState
from chalicelib.services.ports import Page

SHARDS = 4
STATUS_INDEX = "gsi1"
OWNER_INDEX = "gsi2"


def _shard(upload_id: str) -> int:
    return zlib.crc32(upload_id.encode()) % SHARDS


def _item(u: Upload) -> dict[str, Any]:
    data = u.model_dump(mode="json")
    data.update(pk=f"UPLOAD#{u.upload_id}", sk="UPLOAD", entity="upload")
    data["gsi2pk"] = f"OWNER#{u.owner_subject}"
    data["gsi2sk"] = f"UPLOAD#{u.requested_at}"
    if u.state == UploadState.REQUESTED:
        data["gsi1pk"] = f"UPLOAD#REQUESTED#{_shard(u.upload_id)}"
        data["gsi1sk"] = f"{u.expires_at}#{u.upload_id}"
    return data


def _upload(item: dict[str, Any]) -> Upload:
    return Upload.model_validate(model_data(item))


class DynamoUploadRepository:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def get(self, upload_id: str) -> Upload | None:
        resp = self._ddb.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"UPLOAD#{upload_id}"}, "sk": {"S": "UPLOAD"}},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return _upload(item) if item else None

    def add(self, upload: Upload, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        put = put_new(self.table, _item(upload))
        return self.audit.commit([put], draft, actor, meta)

    def save(
        self, upload: Upload, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        put = put_versioned(self.table, _item(upload), expected_version)
        return self.audit.commit([put], draft, actor, meta)

    def list_by_owner(self, owner_subject: str, *, limit: int, cursor: dict | None) -> Page[Upload]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :p)",
            "ExpressionAttributeValues": {":o": {"S": f"OWNER#{owner_subject}"}, ":p": {"S": "UPLOAD#"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_upload(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    def list_requested_expiring_before(self, before_iso: str, *, limit: int) -> list[Upload]:
        out: list[Upload] = []
        for shard in range(SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "gsi1pk = :s AND gsi1sk < :t",
                "ExpressionAttributeValues": {
                    ":s": {"S": f"UPLOAD#REQUESTED#{shard}"},
                    ":t": {"S": before_iso},
                },
                "Limit": limit,
            }
            resp = self._ddb.query(**kwargs)
            out.extend(_upload(i) for i in resp.get("Items", []))
        return out[:limit]
