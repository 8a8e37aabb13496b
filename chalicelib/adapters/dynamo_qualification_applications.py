"""Qualification applications (资质申请) in the main table.

application  pk = "QAPP#{id}", sk = "APP"
             gsi2 (the enterprise's own):            "ORG#{uscc}" / "QAPP#{submitted_at}#{id}"
             gsi1 (sparse, waiting on an authority): "QQ#{level}#{region}" / "{since}#{id}"   (oldest first)
             gsi3 (sparse, under public notice 公示): "QNOTICE" / "{notice_until}#{id}"
             gsi4 (sparse, approved, certificate not yet changed): "QEFFECT#PENDING" / "{updated_at}#{id}"
sequence     pk = "SEQ#QUAL#{name}", sk = "{key}"  (ADD n: approval and certificate numbers are never reused)
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned, query_all, query_page
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.domain.qualification_applications import (
    AppState,
    QualificationApplication,
    handling_level,
    level_region,
)
from chalicelib.services.ports import Page


def queue_key(level: str, region: str) -> str:
    return f"QQ#{level}#{region}"


def _item(app: QualificationApplication) -> dict[str, Any]:
    data = app.model_dump(mode="json")
    data.update(
        pk=f"QAPP#{app.application_id}",
        sk="APP",
        entity="qualification_application",
        gsi2pk=f"ORG#{app.uscc}",
        gsi2sk=f"QAPP#{app.submitted_at}#{app.application_id}",
    )
    level = app.waiting_on()
    if level:
        since = app.steps[-1].at if app.steps else app.submitted_at
        data.update(
            gsi1pk=queue_key(handling_level(level), level_region(handling_level(level), app.region_code)),
            gsi1sk=f"{since}#{app.application_id}",
        )
    if app.state == AppState.PUBLIC_NOTICE and app.notice_until:
        data.update(gsi3pk="QNOTICE", gsi3sk=f"{app.notice_until}#{app.application_id}")
    if app.state == AppState.APPROVED and not app.effect_applied:
        data.update(gsi4pk="QEFFECT#PENDING", gsi4sk=f"{app.updated_at}#{app.application_id}")
    return data


def _app(item: dict[str, Any]) -> QualificationApplication:
    return QualificationApplication.model_validate(model_data(item))


class DynamoQualificationApplicationStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def get(self, application_id: str) -> QualificationApplication | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"QAPP#{application_id}"}, "sk": {"S": "APP"}}, ConsistentRead=True
        ).get("Item")
        return _app(item) if item else None

    def create(self, app: QualificationApplication, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        try:
            self.audit.commit([put_new(self.table, _item(app))], draft, actor, meta)
        except ConditionFailed:
            raise Conflict("该资质申请已存在") from None

    def save(
        self, app: QualificationApplication, expected_version: int, draft: AuditDraft, actor: Principal, meta
    ) -> AuditEntry:
        try:
            return self.audit.commit([put_versioned(self.table, _item(app), expected_version)], draft, actor, meta)
        except ConditionFailed:
            raise Conflict("资质申请已被他人处理，请刷新后重试") from None

    def _page(self, kwargs: dict[str, Any], cursor: dict | None) -> Page[QualificationApplication]:
        items, nxt = query_page(self._ddb, kwargs, cursor)
        return Page([_app(i) for i in items], nxt)

    def of_enterprise(self, uscc: str, *, limit: int, cursor: dict | None) -> Page[QualificationApplication]:
        """The enterprise's applications, newest first: one Query on gsi2."""
        return self._page(
            {
                "TableName": self.table,
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :p)",
                "ExpressionAttributeValues": {":o": {"S": f"ORG#{uscc}"}, ":p": {"S": "QAPP#"}},
                "ScanIndexForward": False,
                "Limit": limit,
            },
            cursor,
        )

    def queue(self, level: str, region: str, *, limit: int, cursor: dict | None) -> Page[QualificationApplication]:
        """An authority's waiting applications, oldest first: one Query of the sparse queue index."""
        return self._page(
            {
                "TableName": self.table,
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :q",
                "ExpressionAttributeValues": {":q": {"S": queue_key(level, region)}},
                "Limit": limit,
            },
            cursor,
        )

    def under_notice(self, *, limit: int, cursor: dict | None) -> Page[QualificationApplication]:
        """Applications under public notice (公示), ending soonest first."""
        return self._page(
            {
                "TableName": self.table,
                "IndexName": "gsi3",
                "KeyConditionExpression": "gsi3pk = :n",
                "ExpressionAttributeValues": {":n": {"S": "QNOTICE"}},
                "Limit": limit,
            },
            cursor,
        )

    def pending_effects(self) -> list[QualificationApplication]:
        """Approved applications whose certificate change has not landed (a crash between the two writes)."""
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi4",
            KeyConditionExpression="gsi4pk = :p",
            ExpressionAttributeValues={":p": {"S": "QEFFECT#PENDING"}},
        )
        return [_app(i) for i in items]

    def next_serial(self, name: str, key: str) -> int:
        resp = self._ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"SEQ#QUAL#{name}"}, "sk": {"S": key}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["n"]["N"])
