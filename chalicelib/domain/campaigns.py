"""Campaigns (专项工作) with deadlines, and the notices sent to enterprises that report late or not at all.

The 2015 notice is the model: enterprises supplement their data from 2015-01 and authorities confirm it by
2015-04-15; projects of the last three years are filed 2015-03-01 to 04-14 and screened by 05-30; late, missing
or false reporting is warned, ordered to be corrected and recorded as bad behaviour (§三(三)6).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from chalicelib.domain.fields import RequiredUscc
from chalicelib.domain.records import RecordState, RecordType


class CampaignKind(StrEnum):
    SUPPLEMENT = "SUPPLEMENT"  # 企业补充完善信息并提交
    PROJECT_FILING = "PROJECT_FILING"  # 近三年工程项目备案


class Campaign(BaseModel):
    campaign_id: str
    name: str = Field(min_length=2, max_length=100)
    kind: CampaignKind
    record_type: RecordType = RecordType.ENTERPRISE
    region_prefix: str = Field(default="33", pattern=r"^33(\d{2}){0,2}$", description="适用地区（区划代码前缀）")
    starts_on: date
    deadline: date
    grace_days: int = Field(default=15, ge=0, le=365, description="警告后至记录不良行为的宽限天数")
    description: str = ""
    created_by: str
    created_at: str
    version: int = 1

    @model_validator(mode="after")
    def _window(self) -> Campaign:
        if self.deadline < self.starts_on:
            raise ValueError("截止日期不能早于开始日期")
        return self

    def applies_to(self, region_code: str | None) -> bool:
        return bool(region_code) and region_code.startswith(self.region_prefix)

    def stage(self, today: date) -> str:
        """before | open | late (warnings) | overdue (bad-behaviour records)."""
        if today < self.starts_on:
            return "before"
        if today <= self.deadline:
            return "open"
        if today <= self.deadline + timedelta(days=self.grace_days):
            return "late"
        return "overdue"


# Record states that count as "reported" for a supplement campaign (submitted at least once).
REPORTED_STATES = frozenset(
    {
        RecordState.SUBMITTED,
        RecordState.SUPPLEMENT_REQUESTED,
        RecordState.CONFIRMED,
        RecordState.FALSE,
        RecordState.IN_DOUBT,
    }
)


class NoticeKind(StrEnum):
    WARNING = "WARNING"  # 警告，责令限期整改
    BAD_RECORD = "BAD_RECORD"  # 记入不良行为


NOTICE_LABELS = {NoticeKind.WARNING: "逾期未报送警告", NoticeKind.BAD_RECORD: "迟报漏报不良行为记录"}


class Notice(BaseModel):
    notice_id: str
    campaign_id: str
    campaign_name: str
    kind: NoticeKind
    uscc: RequiredUscc
    enterprise_name: str | None = None
    region_code: str | None = None
    message: str
    created_at: str
    credit_id: str | None = None


def notice_id(campaign_id: str, uscc: str, kind: NoticeKind) -> str:
    """One notice per enterprise, campaign and kind: the id is derived, so re-running the job adds nothing."""
    return "N" + hashlib.sha256(f"{campaign_id}|{uscc}|{kind.value}".encode()).hexdigest()[:31]


def notice_message(c: Campaign, kind: NoticeKind, today: date) -> str:
    if kind == NoticeKind.WARNING:
        last = c.deadline + timedelta(days=c.grace_days)
        return (
            f"贵单位未在{c.deadline.isoformat()}前完成“{c.name}”要求的信息报送。请于{last.isoformat()}前完成，"
            f"逾期将记入不良行为记录并在平台公示。"
        )
    return f"贵单位逾期未完成“{c.name}”要求的信息报送，已记入不良行为记录（{today.isoformat()}）。"
