"""Import jobs: one per accepted sheet upload (per object version), with counts and a per-row error report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from chalicelib.domain.fields import Uscc
from chalicelib.domain.lifecycle import TransitionTable
from chalicelib.domain.records import RecordType


class JobState(StrEnum):
    PENDING = "PENDING"  # 排队中
    RUNNING = "RUNNING"  # 处理中
    COMPLETED = "COMPLETED"  # 已完成（所有行有效）
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"  # 已完成（部分行有错误，有效行已导入）
    REJECTED = "REJECTED"  # 文件被拒收（类型、编码、表头…），未导入任何数据


class JobEvent(StrEnum):
    START = "START"
    FINISH_CLEAN = "FINISH_CLEAN"
    FINISH_WITH_ERRORS = "FINISH_WITH_ERRORS"
    REJECT_FILE = "REJECT_FILE"


JOB_STATE_LABELS = {
    JobState.PENDING: "排队中",
    JobState.RUNNING: "处理中",
    JobState.COMPLETED: "已完成",
    JobState.COMPLETED_WITH_ERRORS: "已完成（有错误行）",
    JobState.REJECTED: "文件被拒收",
}

JOB_LIFECYCLE: TransitionTable[JobState, JobEvent] = TransitionTable(
    "import-job",
    {
        (JobState.PENDING, JobEvent.START): JobState.RUNNING,
        # A retried attempt after a crash starts again from the file; writes are idempotent (see ImportService).
        (JobState.RUNNING, JobEvent.START): JobState.RUNNING,
        (JobState.RUNNING, JobEvent.FINISH_CLEAN): JobState.COMPLETED,
        (JobState.RUNNING, JobEvent.FINISH_WITH_ERRORS): JobState.COMPLETED_WITH_ERRORS,
        (JobState.RUNNING, JobEvent.REJECT_FILE): JobState.REJECTED,
    },
    labels={**JOB_STATE_LABELS},
)

TERMINAL = frozenset({JobState.COMPLETED, JobState.COMPLETED_WITH_ERRORS, JobState.REJECTED})


class JobCounts(BaseModel):
    rows: int = 0  # data rows read (all sheets)
    valid_rows: int = 0
    error_rows: int = 0
    warning_rows: int = 0
    records: int = 0  # distinct records in the file
    created: int = 0  # new records written
    updated: int = 0  # existing editable records of the uploader updated
    rejected_records: int = 0  # records not imported (any invalid row, duplicate, out of scope)


class IssuePreview(BaseModel):
    sheet: str
    row: int
    column: str
    value: str
    reason: str
    severity: str = "error"


class ImportJob(BaseModel):
    job_id: str
    upload_id: str
    kind: str
    record_type: RecordType
    key: str
    version_id: str | None = None
    etag: str | None = None
    filename: str
    content_type: str
    owner_subject: str
    owner_username: str
    owner_role: str
    owner_uscc: Uscc = None
    region_code: str | None = None
    state: JobState = JobState.PENDING
    version: int = 1
    attempts: int = 0
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    progress_rows: int = 0
    counts: JobCounts = Field(default_factory=JobCounts)
    file_error: str | None = None
    issues_preview: list[IssuePreview] = Field(default_factory=list)
    report_csv_key: str | None = None
    report_xlsx_key: str | None = None

    def audit_state(self) -> dict:
        return self.model_dump(mode="json", exclude={"issues_preview"})
