"""Audit trail (谁录入、谁负责): one entry per state change, append-only, hash-chained per target.

Every entry stores the hash of the previous entry of the same target, so deleting, reordering or editing any
stored entry breaks the chain at that point; `verify_chain` reports where.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain.clock import in_beijing, utcnow
from chalicelib.domain.identity import Principal

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """The closed vocabulary of audited actions. Extend it here, never with free text."""

    USER_LOGGED_IN = "USER_LOGGED_IN"
    USER_LOGIN_FAILED = "USER_LOGIN_FAILED"
    UPLOAD_REQUESTED = "UPLOAD_REQUESTED"
    UPLOAD_RECEIVED = "UPLOAD_RECEIVED"
    UPLOAD_REJECTED = "UPLOAD_REJECTED"
    UPLOAD_EXPIRED = "UPLOAD_EXPIRED"
    IMPORT_JOB_CREATED = "IMPORT_JOB_CREATED"
    IMPORT_JOB_STARTED = "IMPORT_JOB_STARTED"
    IMPORT_JOB_FINISHED = "IMPORT_JOB_FINISHED"
    RECORD_IMPORTED = "RECORD_IMPORTED"
    RECORD_SUPPLEMENTED = "RECORD_SUPPLEMENTED"
    RECORD_SUBMITTED = "RECORD_SUBMITTED"
    RECORD_CREATED = "RECORD_CREATED"
    RECORD_DECIDED = "RECORD_DECIDED"
    RECORD_REOPENED = "RECORD_REOPENED"
    RECORD_ESCALATED = "RECORD_ESCALATED"
    REVIEW_CLAIMED = "REVIEW_CLAIMED"
    REVIEW_ASSIGNED = "REVIEW_ASSIGNED"
    REVIEW_RELEASED = "REVIEW_RELEASED"
    SUPPLEMENT_DRAFTED = "SUPPLEMENT_DRAFTED"
    SUPPLEMENT_REQUESTED = "SUPPLEMENT_REQUESTED"
    SUPPLEMENT_WITHDRAWN = "SUPPLEMENT_WITHDRAWN"
    SUPPLEMENT_ANSWERED = "SUPPLEMENT_ANSWERED"
    CAMPAIGN_CREATED = "CAMPAIGN_CREATED"
    NOTICE_ISSUED = "NOTICE_ISSUED"
    CREDIT_RECORDED = "CREDIT_RECORDED"
    CREDIT_RECTIFICATION_REQUESTED = "CREDIT_RECTIFICATION_REQUESTED"
    CREDIT_RECTIFICATION_DECIDED = "CREDIT_RECTIFICATION_DECIDED"
    CREDIT_EXTENDED = "CREDIT_EXTENDED"
    BLACKLISTED = "BLACKLISTED"
    PERMIT_APPLIED = "PERMIT_APPLIED"
    PERMIT_CHECKED = "PERMIT_CHECKED"
    PERMIT_WAITING = "PERMIT_WAITING"
    PERMIT_RESUBMITTED = "PERMIT_RESUBMITTED"
    PERMIT_DECIDED = "PERMIT_DECIDED"
    PERMIT_ISSUED = "PERMIT_ISSUED"
    PERMIT_PRINTED = "PERMIT_PRINTED"
    PERMIT_COMPLETED = "PERMIT_COMPLETED"
    PERMIT_STARTED = "PERMIT_STARTED"
    PERMIT_EXTENSION_REQUESTED = "PERMIT_EXTENSION_REQUESTED"
    PERMIT_EXTENSION_DECIDED = "PERMIT_EXTENSION_DECIDED"
    PERMIT_SUSPENDED = "PERMIT_SUSPENDED"
    PERMIT_RESUMED = "PERMIT_RESUMED"
    PERMIT_LAPSED = "PERMIT_LAPSED"
    STAGE_FILED = "STAGE_FILED"
    STAGE_CORRECTED = "STAGE_CORRECTED"
    STAGE_CHECKED = "STAGE_CHECKED"
    SYNC_RESENT = "SYNC_RESENT"
    QUALIFICATION_REVIEWED = "QUALIFICATION_REVIEWED"
    QUALIFICATION_APPLIED = "QUALIFICATION_APPLIED"
    QUALIFICATION_APPLICATION_REFUSED = "QUALIFICATION_APPLICATION_REFUSED"
    QUALIFICATION_APPLICATION_STEP = "QUALIFICATION_APPLICATION_STEP"
    QUALIFICATION_CERT_CHANGED = "QUALIFICATION_CERT_CHANGED"
    VERIFICATION_ANSWERED = "VERIFICATION_ANSWERED"
    WORK_CALENDAR_LOADED = "WORK_CALENDAR_LOADED"
    USER_LOGGED_OUT = "USER_LOGGED_OUT"
    SESSION_ENDED = "SESSION_ENDED"
    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    ACCOUNT_CHANGED = "ACCOUNT_CHANGED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    ACCOUNT_ENABLED = "ACCOUNT_ENABLED"
    ACCOUNT_DELETED = "ACCOUNT_DELETED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_UNLOCKED = "ACCOUNT_UNLOCKED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 - an action name
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 - an action name
    MFA_ENROLLED = "MFA_ENROLLED"
    MFA_RESET = "MFA_RESET"
    ACTIVATION_CODE_ISSUED = "ACTIVATION_CODE_ISSUED"
    ACCOUNT_ACTIVATED = "ACCOUNT_ACTIVATED"
    ACTIVATION_FAILED = "ACTIVATION_FAILED"
    ACCOUNT_POLICY_CHANGED = "ACCOUNT_POLICY_CHANGED"
    AUDIT_EXPORTED = "AUDIT_EXPORTED"


# What an audit entry is about (审计对象类型), by name.
TARGET_TYPE_LABELS: dict[str, str] = {
    "account": "账号",
    "account_policy": "安全策略",
    "audit_export": "留痕导出",
    "blacklist": "黑名单",
    "campaign": "专项工作",
    "credit": "诚信记录",
    "enterprise": "企业",
    "person": "注册人员",
    "project": "工程项目",
    "enterprise_account": "企业账号开通",
    "import_job": "导入任务",
    "login": "登录",
    "notice": "通知",
    "permit_application": "施工许可申请",
    "qualification_application": "资质申请",
    "stage_record": "项目阶段",
    "supplement_request": "补正通知",
    "upload": "上传文件",
    "verification": "核验",
    "work_calendar": "节假日安排",
    "user": "用户",
}

ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.USER_LOGGED_IN: "用户登录",
    AuditAction.USER_LOGIN_FAILED: "登录失败",
    AuditAction.UPLOAD_REQUESTED: "申请上传",
    AuditAction.UPLOAD_RECEIVED: "文件已接收",
    AuditAction.UPLOAD_REJECTED: "文件被拒收",
    AuditAction.UPLOAD_EXPIRED: "上传已过期",
    AuditAction.IMPORT_JOB_CREATED: "创建导入任务",
    AuditAction.IMPORT_JOB_STARTED: "开始导入",
    AuditAction.IMPORT_JOB_FINISHED: "导入结束",
    AuditAction.RECORD_IMPORTED: "导入更新记录",
    AuditAction.RECORD_SUPPLEMENTED: "补充信息",
    AuditAction.RECORD_SUBMITTED: "提交审核",
    AuditAction.RECORD_CREATED: "新建记录",
    AuditAction.RECORD_DECIDED: "作出确认决定",
    AuditAction.RECORD_REOPENED: "上级重新审核",
    AuditAction.RECORD_ESCALATED: "提交上级审核",
    AuditAction.REVIEW_CLAIMED: "认领审核",
    AuditAction.REVIEW_ASSIGNED: "分派审核",
    AuditAction.REVIEW_RELEASED: "释放认领",
    AuditAction.SUPPLEMENT_DRAFTED: "起草补正通知",
    AuditAction.SUPPLEMENT_REQUESTED: "发送补正通知",
    AuditAction.SUPPLEMENT_WITHDRAWN: "撤回补正通知",
    AuditAction.SUPPLEMENT_ANSWERED: "答复补正通知",
    AuditAction.CAMPAIGN_CREATED: "创建专项工作",
    AuditAction.NOTICE_ISSUED: "发出逾期通知",
    AuditAction.CREDIT_RECORDED: "录入诚信记录",
    AuditAction.CREDIT_RECTIFICATION_REQUESTED: "申请信用修复",
    AuditAction.CREDIT_RECTIFICATION_DECIDED: "审核信用修复",
    AuditAction.CREDIT_EXTENDED: "延长公开期限",
    AuditAction.BLACKLISTED: "列入黑名单",
    AuditAction.PERMIT_APPLIED: "申请施工许可",
    AuditAction.PERMIT_CHECKED: "施工许可条件检查",
    AuditAction.PERMIT_WAITING: "等待办理",
    AuditAction.PERMIT_RESUBMITTED: "补正后重新提交",
    AuditAction.PERMIT_DECIDED: "作出许可决定",
    AuditAction.PERMIT_ISSUED: "核发施工许可证",
    AuditAction.PERMIT_PRINTED: "打印施工许可证",
    AuditAction.PERMIT_COMPLETED: "竣工验收备案",
    AuditAction.PERMIT_STARTED: "开工报告",
    AuditAction.PERMIT_EXTENSION_REQUESTED: "申请施工许可延期",
    AuditAction.PERMIT_EXTENSION_DECIDED: "施工许可延期审核",
    AuditAction.PERMIT_SUSPENDED: "中止施工报告",
    AuditAction.PERMIT_RESUMED: "恢复施工",
    AuditAction.PERMIT_LAPSED: "施工许可证自行废止",
    AuditAction.STAGE_FILED: "填报环节信息",
    AuditAction.STAGE_CORRECTED: "修改环节信息",
    AuditAction.STAGE_CHECKED: "核查环节信息",
    AuditAction.SYNC_RESENT: "重新上报国家平台",
    AuditAction.QUALIFICATION_REVIEWED: "资质申请平台数据审查",
    AuditAction.QUALIFICATION_APPLIED: "提交资质申请",
    AuditAction.QUALIFICATION_APPLICATION_REFUSED: "资质申请未通过平台数据审查",
    AuditAction.QUALIFICATION_APPLICATION_STEP: "资质申请办理",
    AuditAction.QUALIFICATION_CERT_CHANGED: "资质证书依许可决定变更",
    AuditAction.VERIFICATION_ANSWERED: "招投标监管核验",
    AuditAction.WORK_CALENDAR_LOADED: "载入节假日安排",
    AuditAction.USER_LOGGED_OUT: "退出登录",
    AuditAction.SESSION_ENDED: "终止登录会话",
    AuditAction.ACCOUNT_CREATED: "创建账号",
    AuditAction.ACCOUNT_CHANGED: "修改账号",
    AuditAction.ACCOUNT_DISABLED: "停用账号",
    AuditAction.ACCOUNT_ENABLED: "启用账号",
    AuditAction.ACCOUNT_DELETED: "注销账号",
    AuditAction.ACCOUNT_LOCKED: "账号锁定",
    AuditAction.ACCOUNT_UNLOCKED: "解除锁定",
    AuditAction.PASSWORD_CHANGED: "修改密码",
    AuditAction.PASSWORD_RESET: "重置密码",
    AuditAction.MFA_ENROLLED: "绑定动态口令",
    AuditAction.MFA_RESET: "解除动态口令",
    AuditAction.ACTIVATION_CODE_ISSUED: "发放激活码",
    AuditAction.ACCOUNT_ACTIVATED: "激活企业账号",
    AuditAction.ACTIVATION_FAILED: "激活失败",
    AuditAction.ACCOUNT_POLICY_CHANGED: "修改安全策略",
    AuditAction.AUDIT_EXPORTED: "导出操作留痕",
}


class RequestMeta(BaseModel):
    """Where a change came from: the API request or the event that caused it."""

    request_id: str = ""
    source_ip: str = ""


# The fields an entry's hash covers, fixed for good: a stored entry is verified with exactly these, so a field added
# to the model later (a display name, a label) does not break the verification of any entry written before it.
# Changing this tuple invalidates every stored chain; tests/unit/test_audit_chain.py pins it with a golden hash.
HASHED_FIELDS: tuple[str, ...] = (
    "target_type",
    "target_id",
    "seq",
    "action",
    "actor_subject",
    "actor_username",
    "actor_role",
    "actor_org",
    "actor_region",
    "target_region",
    "target_owner",
    "at",
    "request_id",
    "source_ip",
    "before_digest",
    "after_digest",
    "note",
    "prev_hash",
)


class AuditEntry(BaseModel):
    target_type: str
    target_id: str
    seq: int = Field(ge=1)
    action: AuditAction
    actor_subject: str
    actor_username: str
    actor_role: str
    actor_org: str
    actor_region: str | None = None
    target_region: str | None = None
    target_owner: str | None = None
    at: str  # ISO 8601, UTC
    request_id: str = ""
    source_ip: str = ""
    before_digest: str | None = None
    after_digest: str | None = None
    note: str | None = None
    prev_hash: str
    hash: str = ""

    @property
    def target_key(self) -> str:
        return target_key(self.target_type, self.target_id)

    def at_shanghai(self) -> str:
        return in_beijing(self.at).isoformat()

    def compute_hash(self) -> str:
        payload = self.model_dump(mode="json", include=set(HASHED_FIELDS))
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AuditDraft(BaseModel):
    """What a service knows about a change; the writer adds sequence and chain when it commits."""

    target_type: str
    target_id: str
    action: AuditAction
    target_region: str | None = None
    target_owner: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None


def target_key(target_type: str, target_id: str) -> str:
    return f"{target_type}#{target_id}"


def digest(state: dict[str, Any] | None) -> str | None:
    if state is None:
        return None
    raw = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def utcnow_iso() -> str:
    return utcnow().isoformat(timespec="microseconds")


def seal(draft: AuditDraft, *, actor: Principal, meta: RequestMeta, seq: int, prev_hash: str, at: str) -> AuditEntry:
    """Turn a draft into the next chained entry of its target."""
    entry = AuditEntry(
        target_type=draft.target_type,
        target_id=draft.target_id,
        seq=seq,
        action=draft.action,
        actor_subject=actor.subject,
        actor_username=actor.username,
        actor_role=actor.role.value,
        actor_org=actor.org_key,
        actor_region=actor.region_code,
        target_region=draft.target_region,
        target_owner=draft.target_owner,
        at=at,
        request_id=meta.request_id,
        source_ip=meta.source_ip,
        before_digest=digest(draft.before),
        after_digest=digest(draft.after),
        note=draft.note,
        prev_hash=prev_hash,
    )
    return entry.model_copy(update={"hash": entry.compute_hash()})


class ChainBreak(BaseModel):
    seq: int
    reason: str


class ChainReport(BaseModel):
    target_type: str
    target_id: str
    entries: int
    intact: bool
    breaks: list[ChainBreak]


def verify_chain(target_type: str, target_id: str, entries: list[AuditEntry]) -> ChainReport:
    """Check sequence continuity, each stored hash, and each link to the previous entry."""
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for e in sorted(entries, key=lambda x: x.seq):
        if e.seq != expected_seq:
            breaks.append(ChainBreak(seq=e.seq, reason=f"序号不连续：应为{expected_seq}"))
        if e.prev_hash != prev_hash:
            breaks.append(ChainBreak(seq=e.seq, reason="与前一条记录的哈希链接断开"))
        if e.compute_hash() != e.hash:
            breaks.append(ChainBreak(seq=e.seq, reason="记录内容与其哈希不符（可能被篡改）"))
        prev_hash = e.hash
        expected_seq = e.seq + 1
    return ChainReport(
        target_type=target_type, target_id=target_id, entries=len(entries), intact=not breaks, breaks=breaks
    )
