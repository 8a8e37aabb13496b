"""What every registry record (enterprise, registered person, project) shares: its lifecycle and provenance.

The 2015 notice (§三(一)) sets the life of imported data: the province loads existing data (导入), enterprises
supplement what is missing (补充) and submit, authorities confirm each record as true (基础库), false (诚信记录,
public) or not yet confirmable (存疑库). Every move goes through `RECORD_LIFECYCLE`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from chalicelib.domain.lifecycle import TransitionTable


class RecordType(StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    PERSON = "person"  # 注册人员（按注册单位）
    PROJECT = "project"  # 工程项目


RECORD_TYPE_LABELS = {RecordType.ENTERPRISE: "企业", RecordType.PERSON: "注册人员", RecordType.PROJECT: "工程项目"}


class RecordState(StrEnum):
    IMPORTED = "IMPORTED"  # 导入：from the province's existing systems, not yet touched by the enterprise
    SUPPLEMENTED = "SUPPLEMENTED"  # 已补充：the enterprise changed it, not yet submitted
    SUBMITTED = "SUBMITTED"  # 已提交：waiting for the authority's confirmation
    SUPPLEMENT_REQUESTED = "SUPPLEMENT_REQUESTED"  # 补正中：the authority asked the enterprise for more
    CONFIRMED = "CONFIRMED"  # 已确认（真实）：part of the base registry 基础库
    FALSE = "FALSE"  # 虚假：a bad-behaviour credit record is published
    IN_DOUBT = "IN_DOUBT"  # 存疑：cannot be confirmed for now (存疑库)


class RecordEvent(StrEnum):
    SUPPLEMENT = "SUPPLEMENT"  # the enterprise edits fields
    SUBMIT = "SUBMIT"  # the enterprise submits for confirmation
    CONFIRM = "CONFIRM"  # 确认真实
    MARK_FALSE = "MARK_FALSE"  # 确认虚假
    DOUBT = "DOUBT"  # 暂时无法确认
    REOPEN = "REOPEN"  # the level above reopens a decision
    REQUEST_SUPPLEMENT = "REQUEST_SUPPLEMENT"  # 要求补正
    ESCALATE = "ESCALATE"  # 提交上级审核
    AMEND_BY_DECISION = "AMEND_BY_DECISION"  # 依行政许可决定变更（资质证书升级、增项、延续、变更、注销…）


STATE_LABELS = {
    RecordState.IMPORTED: "已导入",
    RecordState.SUPPLEMENTED: "已补充未提交",
    RecordState.SUBMITTED: "已提交待确认",
    RecordState.SUPPLEMENT_REQUESTED: "补正中",
    RecordState.CONFIRMED: "已确认（基础库）",
    RecordState.FALSE: "虚假",
    RecordState.IN_DOUBT: "存疑",
    RecordEvent.SUPPLEMENT: "补充信息",
    RecordEvent.SUBMIT: "提交审核",
    RecordEvent.CONFIRM: "确认真实",
    RecordEvent.MARK_FALSE: "确认虚假",
    RecordEvent.DOUBT: "列入存疑",
    RecordEvent.REOPEN: "重新审核",
    RecordEvent.REQUEST_SUPPLEMENT: "要求补正",
    RecordEvent.ESCALATE: "提交上级审核",
    RecordEvent.AMEND_BY_DECISION: "依许可决定变更",
}

RECORD_LIFECYCLE: TransitionTable[RecordState, RecordEvent] = TransitionTable(
    "registry-record",
    {
        (RecordState.IMPORTED, RecordEvent.SUPPLEMENT): RecordState.SUPPLEMENTED,
        (RecordState.SUPPLEMENTED, RecordEvent.SUPPLEMENT): RecordState.SUPPLEMENTED,
        (RecordState.IMPORTED, RecordEvent.SUBMIT): RecordState.SUBMITTED,
        (RecordState.SUPPLEMENTED, RecordEvent.SUBMIT): RecordState.SUBMITTED,
        (RecordState.SUBMITTED, RecordEvent.CONFIRM): RecordState.CONFIRMED,
        (RecordState.SUBMITTED, RecordEvent.MARK_FALSE): RecordState.FALSE,
        (RecordState.SUBMITTED, RecordEvent.DOUBT): RecordState.IN_DOUBT,
        (RecordState.IN_DOUBT, RecordEvent.CONFIRM): RecordState.CONFIRMED,
        (RecordState.IN_DOUBT, RecordEvent.MARK_FALSE): RecordState.FALSE,
        (RecordState.CONFIRMED, RecordEvent.REOPEN): RecordState.SUBMITTED,
        (RecordState.FALSE, RecordEvent.REOPEN): RecordState.SUBMITTED,
        (RecordState.IN_DOUBT, RecordEvent.REOPEN): RecordState.SUBMITTED,
        (RecordState.SUBMITTED, RecordEvent.REQUEST_SUPPLEMENT): RecordState.SUPPLEMENT_REQUESTED,
        (RecordState.IN_DOUBT, RecordEvent.REQUEST_SUPPLEMENT): RecordState.SUPPLEMENT_REQUESTED,
        (RecordState.SUPPLEMENT_REQUESTED, RecordEvent.SUPPLEMENT): RecordState.SUPPLEMENT_REQUESTED,
        (RecordState.SUPPLEMENT_REQUESTED, RecordEvent.SUBMIT): RecordState.SUBMITTED,
        (RecordState.SUBMITTED, RecordEvent.ESCALATE): RecordState.SUBMITTED,
        (RecordState.IN_DOUBT, RecordEvent.ESCALATE): RecordState.IN_DOUBT,
        # an authority's licensing decision changes a base-registry record; it stays in the base registry
        (RecordState.CONFIRMED, RecordEvent.AMEND_BY_DECISION): RecordState.CONFIRMED,
    },
    labels=STATE_LABELS,
)

# States in which the enterprise may change the record itself (through the portal or a re-upload).
EDITABLE_STATES = frozenset({RecordState.IMPORTED, RecordState.SUPPLEMENTED, RecordState.SUPPLEMENT_REQUESTED})
# States in which the record waits in an official queue (or, for SUPPLEMENT_REQUESTED, on the enterprise).
QUEUE_STATES = frozenset({RecordState.SUBMITTED, RecordState.IN_DOUBT, RecordState.SUPPLEMENT_REQUESTED})
DECISIONS = {
    RecordEvent.CONFIRM: RecordState.CONFIRMED,
    RecordEvent.MARK_FALSE: RecordState.FALSE,
    RecordEvent.DOUBT: RecordState.IN_DOUBT,
}


class RecordSource(StrEnum):
    LEGACY_IMPORT = "LEGACY_IMPORT"  # 省平台历史数据（2014年导入）
    ENTERPRISE_UPLOAD = "ENTERPRISE_UPLOAD"  # 企业上传表格
    OFFICIAL_UPLOAD = "OFFICIAL_UPLOAD"  # 主管部门上传表格
    PORTAL = "PORTAL"  # 企业门户在线填报
    NATIONAL = "NATIONAL"  # 全国平台同步


class Provenance(BaseModel):
    """谁录入、谁负责: who entered the record, for which organisation, from which source."""

    source: RecordSource
    source_job: str | None = Field(default=None, description="导入任务编号")
    entered_by: str = Field(description="录入人（用户标识）")
    entered_by_name: str = ""
    entered_org: str = Field(description="录入单位（统一社会信用代码或行政区划代码）")
    entered_at: str
