"""Import jobs in the main table.

Item: pk = "JOB#{job_id}", sk = "JOB".
Owner index (gsi2): gsi2pk = "OWNER#{subject}", gsi2sk = "JOB#{created_at}" -- "my import jobs", newest first.
Status index (gsi1, sparse): gsi1pk = "JOB#ACTIVE#{shard}", gsi1sk = "{started_at or created_at}#{job_id}" -- only
while PENDING/RUNNING, so the re-dispatch schedule reads exactly the unfinished jobs.
"""

from __future__ import annotations

import zlib
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.identity import Principal
from chalicelib.domain.imports import TERMINAL, ImportJob
from chalicelib.services.ports import Page

SHARDS = 4


def _item(job: ImportJob) -> dict[str, Any]:
    data = job.model_dump(mode="json")
    data.update(pk=f"JOB#{job.job_id}", sk="JOB", entity="import_job")
    data["gsi2pk"] = f"OWNER#{job.owner_subject}"
    data["gsi2sk"] = f"JOB#{job.created_at}"
    if job.state not in TERMINAL:
        data["gsi1pk"] = f"JOB#ACTIVE#{zlib.crc32(job.job_id.encode()) % SHARDS}"
        data["gsi1sk"] = f"{job.started_at or job.created_at}#{job.job_id}"
    return data


def _job(item: dict[str, Any]) -> ImportJob:
    return ImportJob.model_validate(model_data(item))


class DynamoImportJobRepository:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def get(self, job_id: str) -> ImportJob | None:
        resp = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}, ConsistentRead=True
        )
        return _job(resp["Item"]) if "Item" in resp else None

    def create(self, job: ImportJob, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> bool:
        put = put_new(self.table, _item(job))
        try:
            self.audit.commit([put], draft, actor, meta)
        except ConditionFailed:
            return False
        return True

    def save(
        self, job: ImportJob, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        put = put_versioned(self.table, _item(job), expected_version)
        return self.audit.commit([put], draft, actor, meta)

    def set_progress(self, job_id: str, rows: int) -> None:
        """Progress is bookkeeping, not a state change: no version bump, no audit entry."""
        self._ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
            UpdateExpression="SET progress_rows = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":r": {"N": str(rows)}},
        )

    def list_by_owner(self, owner_subject: str, *, limit: int, cursor: dict | None) -> Page[ImportJob]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :p)",
            "ExpressionAttributeValues": {":o": {"S": f"OWNER#{owner_subject}"}, ":p": {"S": "JOB#"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_job(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    def list_unfinished_before(self, before_iso: str, *, limit: int) -> list[ImportJob]:
        out: list[ImportJob] = []
        for shard in range(SHARDS):
            resp = self._ddb.query(
                TableName=self.table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :s AND gsi1sk < :t",
                ExpressionAttributeValues={":s": {"S": f"JOB#ACTIVE#{shard}"}, ":t": {"S": before_iso}},
                Limit=limit,
            )
            out.extend(_job(i) for i in resp.get("Items", []))
        return out[:limit]
