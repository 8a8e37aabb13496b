"""Campaigns and late-reporting notices in the main table.

  campaign  pk = "CAMPAIGN#{id}", sk = "CAMPAIGN"     gsi1: "CAMPAIGNS" / "{deadline}#{id}"  (all campaigns)
  notice    pk = "NOTICE#{id}",   sk = "NOTICE"       gsi2: "ORG#{uscc}" / "NOTICE#{created_at}#{id}" (my notices)
                                                      gsi1: "LATE#{campaign}#{city}" / "{county}#{uscc}#{kind}"
A notice's id is derived from (campaign, enterprise, kind) and written with attribute_not_exists, together with its
credit record and audit entry: running the job again changes nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import put_new, query_all
from chalicelib.adapters.dynamo_review_items import credit_item, strip
from chalicelib.domain import identifiers
from chalicelib.domain.audit import AuditDraft, RequestMeta
from chalicelib.domain.campaigns import Campaign, Notice
from chalicelib.domain.credit import CreditRecord
from chalicelib.domain.identity import Principal
from chalicelib.services.ports import Page


class DynamoCampaignStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def put_campaign(self, campaign: Campaign, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        data = campaign.model_dump(mode="json")
        data.update(
            pk=f"CAMPAIGN#{campaign.campaign_id}",
            sk="CAMPAIGN",
            entity="campaign",
            gsi1pk="CAMPAIGNS",
            gsi1sk=f"{campaign.deadline.isoformat()}#{campaign.campaign_id}",
        )
        self.audit.commit([put_new(self.table, data)], draft, actor, meta)

    def get_campaign(self, campaign_id: str) -> Campaign | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"CAMPAIGN#{campaign_id}"}, "sk": {"S": "CAMPAIGN"}}
        ).get("Item")
        return Campaign.model_validate(strip(item)) if item else None

    def list_campaigns(self) -> list[Campaign]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :c",
            ExpressionAttributeValues={":c": {"S": "CAMPAIGNS"}},
            ScanIndexForward=False,
        )
        return [Campaign.model_validate(strip(i)) for i in items]

    def create_notice(
        self, notice: Notice, credit: CreditRecord | None, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> bool:
        data = notice.model_dump(mode="json")
        data.update(
            pk=f"NOTICE#{notice.notice_id}",
            sk="NOTICE",
            entity="notice",
            gsi2pk=f"ORG#{notice.uscc}",
            gsi2sk=f"NOTICE#{notice.created_at}#{notice.notice_id}",
        )
        if notice.region_code:
            city = identifiers.city_of(notice.region_code) or notice.region_code
            data.update(
                gsi1pk=f"LATE#{notice.campaign_id}#{city}",
                gsi1sk=f"{notice.region_code}#{notice.uscc}#{notice.kind.value}",
            )
        writes = [put_new(self.table, data)]
        if credit is not None:
            writes.append(put_new(self.table, credit_item(credit)))
        try:
            self.audit.commit(writes, draft, actor, meta)
        except ConditionFailed:
            return False
        return True

    def _notice_page(self, kwargs: dict[str, Any], cursor: dict | None) -> Page[Notice]:
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(
            items=[Notice.model_validate(strip(i)) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey")
        )

    def notices_for_owner(self, uscc: str, *, limit: int, cursor: dict | None) -> Page[Notice]:
        return self._notice_page(
            {
                "TableName": self.table,
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :n)",
                "ExpressionAttributeValues": {":o": {"S": f"ORG#{uscc}"}, ":n": {"S": "NOTICE#"}},
                "ScanIndexForward": False,
                "Limit": limit,
            },
            cursor,
        )

    def notices_for_region(
        self, campaign_id: str, city: str, county: str | None, *, limit: int, cursor: dict | None
    ) -> Page[Notice]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"LATE#{campaign_id}#{city}"}},
            "Limit": limit,
        }
        if county:
            kwargs["KeyConditionExpression"] += " AND begins_with(gsi1sk, :c)"
            kwargs["ExpressionAttributeValues"][":c"] = {"S": f"{county}#"}
        return self._notice_page(kwargs, cursor)
