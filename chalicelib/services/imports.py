"""Import jobs: from an accepted sheet upload to registry records and a per-row error report.

One job per accepted upload (job id = upload id, the upload is pinned to one object version), so the same S3 event
delivered three times makes one job. A job that crashes half-way is simply run again: the file is re-read, records
this job already wrote are recognised by their `source_job`, and batch writes of the same keys are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import identifiers, intake_files
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import beijing_today, utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import (
    PROVINCE_ROLES,
    Principal,
    Role,
    ensure_visible,
    in_region_scope,
    system_principal,
)
from chalicelib.domain.imports import JOB_LIFECYCLE, TERMINAL, ImportJob, IssuePreview, JobCounts, JobEvent, JobState
from chalicelib.domain.intake_files import FileKind, FileRejected
from chalicelib.domain.person import person_key
from chalicelib.domain.records import (
    EDITABLE_STATES,
    RECORD_LIFECYCLE,
    Provenance,
    RecordEvent,
    RecordSource,
    RecordState,
    RecordType,
)
from chalicelib.domain.registry_base import RecordBase, RecordInvalid, validate_input
from chalicelib.domain.sheets import (
    AGGREGATES,
    LAYOUTS,
    SHEET_KINDS,
    Assembled,
    RowIssue,
    assemble,
    headers,
    validate_rows_parallel,
)
from chalicelib.domain.uploads import Upload
from chalicelib.services.ports import BlobStore, ImportJobRepository, ImportScope, JobQueue, Page, RegistryRepository

WORKER = system_principal("import-worker")
REPORT_HEADERS = ["工作表", "行号", "列名", "值", "问题", "级别"]
SEVERITY_LABELS = {"error": "错误", "warning": "提示", "skipped": "未导入"}
PREVIEW_LIMIT = 50
PROGRESS_EVERY = 5000


@dataclass
class Candidate:
    assembled: Assembled
    record: RecordBase
    key: tuple[str, ...]


class ImportService:
    def __init__(
        self,
        jobs: ImportJobRepository,
        registry: RegistryRepository,
        blobs: BlobStore,
        queue: JobQueue,
        *,
        person_key_secret: bytes,
        clock: Callable[[], datetime] = utcnow,
        report_url_ttl: int = 900,
        workers: int = 1,
    ):
        self.workers = workers
        self.jobs = jobs
        self.registry = registry
        self.blobs = blobs
        self.queue = queue
        self.secret = person_key_secret
        self.clock = clock
        self.report_url_ttl = report_url_ttl

    # ---- job creation and dispatch ----------------------------------------------------------------------------

    def ensure_job(self, upload: Upload, meta: RequestMeta) -> ImportJob | None:
        """Create (once) and dispatch the import job of an accepted sheet upload."""
        if upload.kind not in SHEET_KINDS:
            return None
        record_type = SHEET_KINDS[upload.kind] or upload.record_type
        if record_type is None:
            raise InvalidInput("历史数据导出未指定记录类型")
        job = ImportJob(
            job_id=upload.upload_id,
            upload_id=upload.upload_id,
            kind=upload.kind,
            record_type=record_type,
            key=upload.key,
            version_id=upload.version_id,
            etag=upload.etag,
            filename=upload.filename,
            content_type=upload.content_type,
            owner_subject=upload.owner_subject,
            owner_username=upload.owner_username or "",
            owner_role=upload.owner_role or "",
            owner_uscc=upload.owner_uscc,
            region_code=upload.region_code,
            created_at=self.clock().isoformat(),
        )
        created = self.jobs.create(
            job,
            AuditDraft(
                target_type="import_job",
                target_id=job.job_id,
                action=AuditAction.IMPORT_JOB_CREATED,
                target_region=job.region_code,
                target_owner=job.owner_uscc,
                after=job.audit_state(),
            ),
            WORKER,
            meta,
        )
        if not created:
            existing = self.jobs.get(job.job_id)
            if existing is None or existing.state in TERMINAL:
                return existing
            job = existing
        self.queue.send(job.job_id)
        return job

    def redispatch_stale(self, *, older_than_seconds: int, limit: int = 100) -> int:
        """Jobs left PENDING/RUNNING (a lost message, a crashed worker) are sent to the queue again."""
        cutoff = (self.clock() - timedelta(seconds=older_than_seconds)).isoformat()
        count = 0
        for job in self.jobs.list_unfinished_before(cutoff, limit=limit):
            self.queue.send(job.job_id)
            count += 1
        return count

    # ---- reading jobs -----------------------------------------------------------------------------------------

    def get(self, principal: Principal, job_id: str) -> ImportJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound("导入任务不存在")
        if job.owner_subject != principal.subject:
            ensure_visible(principal, owner_uscc=job.owner_uscc, region_code=job.region_code)
        return job

    def list_mine(self, principal: Principal, *, limit: int, cursor: dict | None) -> Page[ImportJob]:
        return self.jobs.list_by_owner(principal.subject, limit=limit, cursor=cursor)

    def report_links(self, job: ImportJob) -> dict[str, str]:
        links = {}
        stem = job.filename.rsplit(".", 1)[0]
        if job.report_csv_key:
            links["csv"] = self.blobs.presign_get(job.report_csv_key, f"{stem}-错误报告.csv", self.report_url_ttl)
        if job.report_xlsx_key:
            links["xlsx"] = self.blobs.presign_get(job.report_xlsx_key, f"{stem}-错误报告.xlsx", self.report_url_ttl)
        return links

    # ---- running a job ----------------------------------------------------------------------------------------

    def _move(
        self, job: ImportJob, event: JobEvent, action: AuditAction, meta: RequestMeta, **changes: Any
    ) -> ImportJob:
        new_state = JOB_LIFECYCLE.next_state(job.state, event)
        updated = job.model_copy(update={**changes, "state": new_state, "version": job.version + 1})
        self.jobs.save(
            updated,
            job.version,
            AuditDraft(
                target_type="import_job",
                target_id=job.job_id,
                action=action,
                target_region=job.region_code,
                target_owner=job.owner_uscc,
                before=job.audit_state(),
                after=updated.audit_state(),
                note=changes.get("file_error"),
            ),
            WORKER,
            meta,
        )
        return updated

    def run(self, job_id: str, meta: RequestMeta) -> JobState:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"导入任务{job_id}不存在")
        if job.state in TERMINAL:
            return job.state  # a redelivered message: the job is done
        try:
            job = self._move(
                job,
                JobEvent.START,
                AuditAction.IMPORT_JOB_STARTED,
                meta,
                attempts=job.attempts + 1,
                started_at=self.clock().isoformat(),
            )
        except Conflict:
            return JobState.RUNNING  # another worker took it in the same instant
        data = self.blobs.get(job.key, job.version_id)
        if data is None:
            return self._reject(job, "上传的文件已被删除，无法导入", meta).state
        layout = LAYOUTS[job.record_type]
        try:
            tables = self._read_tables(data, job, layout)
        except FileRejected as exc:
            return self._reject(job, exc.message, meta).state
        issues: list[RowIssue] = []
        parsed_rows = []
        counts = JobCounts()
        try:
            for spec, table in tables:  # rows are read lazily: a syntax error deep in the file surfaces here
                result = validate_rows_parallel(spec, table.headers, table.rows, workers=self.workers)
                counts.rows += result.total
                issues.extend(result.issues)
                parsed_rows.extend(result.rows)
        except FileRejected as exc:
            return self._reject(job, exc.message, meta).state
        if counts.rows == 0:
            return self._reject(job, "文件中没有数据行（只有表头）", meta).state
        parsed_rows.sort(key=lambda r: (not r.sheet.primary, r.sheet.name, r.row))
        assembled, assembly_issues = assemble(parsed_rows)
        issues.extend(assembly_issues)
        candidates = self._build(job, layout, assembled, issues)
        written_new, updated = self._write(job, candidates, issues, meta)
        counts.records = len(assembled)
        counts.created = written_new
        counts.updated = updated
        counts.rejected_records = counts.records - written_new - updated
        error_rows = {(i.sheet, i.row) for i in issues if i.severity == "error"}
        counts.error_rows = len(error_rows)
        counts.warning_rows = len({(i.sheet, i.row) for i in issues if i.severity == "warning"} - error_rows)
        counts.valid_rows = counts.rows - counts.error_rows
        report = self._write_report(job, issues)
        event = JobEvent.FINISH_WITH_ERRORS if any(i.severity != "warning" for i in issues) else JobEvent.FINISH_CLEAN
        finished = self._move(
            job,
            event,
            AuditAction.IMPORT_JOB_FINISHED,
            meta,
            finished_at=self.clock().isoformat(),
            counts=counts,
            progress_rows=counts.rows,
            issues_preview=[IssuePreview(**i.__dict__) for i in _ordered(issues)[:PREVIEW_LIMIT]],
            **report,
        )
        return finished.state

    def _reject(self, job: ImportJob, reason: str, meta: RequestMeta) -> ImportJob:
        return self._move(
            job,
            JobEvent.REJECT_FILE,
            AuditAction.IMPORT_JOB_FINISHED,
            meta,
            finished_at=self.clock().isoformat(),
            file_error=reason,
        )

    def _read_tables(self, data: bytes, job: ImportJob, layout) -> list[tuple[Any, intake_files.Table]]:
        kind = intake_files.sniff(
            data, filename=job.filename, declared_content_type=job.content_type, allowed={FileKind.CSV, FileKind.XLSX}
        )
        if kind == FileKind.CSV:
            return [(layout.primary, intake_files.read_csv(data, headers(layout.primary)))]
        names = intake_files.sheet_names(data)
        out = []
        primary = layout.primary
        primary_sheet = primary.name if primary.name in names else (names[0] if len(names) == 1 else None)
        if primary_sheet is None:
            raise FileRejected(f"工作簿中没有名为“{primary.name}”的工作表（现有：{'、'.join(names)}）")
        out.append((primary, intake_files.read_xlsx(data, headers(primary), sheet=primary_sheet)))
        for spec in layout.sheets:
            if not spec.primary and spec.name in names:
                out.append((spec, intake_files.read_xlsx(data, headers(spec), sheet=spec.name)))
        return out

    # ---- from assembled rows to records -----------------------------------------------------------------------

    def _uploader(self, job: ImportJob) -> Principal:
        return Principal(
            subject=job.owner_subject,
            username=job.owner_username,
            role=Role(job.owner_role),
            region_code=job.region_code,
            uscc=job.owner_uscc,
        )

    def _scope_problem(self, job: ImportJob, region: str | None, owner: str | None) -> str | None:
        p = self._uploader(job)
        if p.role == Role.ENTERPRISE:
            if owner != p.uscc:
                return "企业只能导入本企业的信息"
            return None
        if not region:
            return "请填写所在地区划代码"
        if p.role in PROVINCE_ROLES:
            return None if region.startswith("33") else "地区不在浙江省范围内"
        if not in_region_scope(p, region):
            return f"地区{region}不在本部门管辖范围内"
        return None

    def _build(self, job: ImportJob, layout, assembled: dict, issues: list[RowIssue]) -> list[Candidate]:
        model = AGGREGATES[job.record_type]
        uploader = self._uploader(job)
        now = self.clock().isoformat()
        enterprise_upload = uploader.role == Role.ENTERPRISE
        provenance = Provenance(
            source=RecordSource.LEGACY_IMPORT
            if job.kind == "legacy_export"
            else RecordSource.ENTERPRISE_UPLOAD
            if enterprise_upload
            else RecordSource.OFFICIAL_UPLOAD,
            source_job=job.job_id,
            entered_by=job.owner_subject,
            entered_by_name=job.owner_username,
            entered_org=uploader.org_key,
            entered_at=now,
        )
        state = RecordState.SUPPLEMENTED if enterprise_upload else RecordState.IMPORTED
        bad_keys = {(i.sheet, i.row) for i in issues if i.severity == "error"}
        out: list[Candidate] = []
        for rec in assembled.values():
            failed_rows = [r for r in rec.rows if r in bad_keys]
            primary_rows = [r for r in rec.rows if r[0] == layout.primary.name]
            if not primary_rows:
                for sheet, row in rec.rows:
                    issues.append(
                        RowIssue(sheet, row, "", "", f"该记录未在“{layout.primary.name}”工作表中填写，不能单独导入")
                    )
                continue
            if failed_rows:
                for sheet, row in rec.rows:
                    if (sheet, row) not in bad_keys:
                        issues.append(RowIssue(sheet, row, "", "", "同一记录的其他行有错误，本记录未导入", "skipped"))
                continue
            data = dict(rec.data)
            extra_region = rec.extra.get("region_code")
            owner, region, key = self._identity(job, data, rec.extra, uploader)
            given = region or extra_region
            # jurisdiction: the county holding the record today (a retired code's successor)
            region = identifiers.jurisdiction_of(given) or given
            problem = self._scope_problem(job, region, owner)
            if problem:
                self._mark(issues, rec, problem)
                continue
            meta_fields = {
                "state": state,
                "version": 1,
                "provenance": provenance,
                "created_at": now,
                "updated_at": now,
                "region_code": region,
                "owner_uscc": owner,
            }
            if job.record_type == RecordType.PERSON:
                data["person_key"] = key[0]
            try:
                record, warnings = validate_input(model, {**data, **meta_fields}, as_of=beijing_today(self.clock()))
            except RecordInvalid as exc:
                self._mark(issues, rec, str(exc))
                continue
            first = rec.rows[0]
            issues.extend(RowIssue(first[0], first[1], "", "", w, "warning") for w in warnings)
            if given and given != region:
                issues.append(
                    RowIssue(
                        first[0],
                        first[1],
                        "",
                        given,
                        f"区划代码{given}已撤销，记录归{region}（{identifiers.region_name(region) or ''}）主管部门管辖",
                        "warning",
                    )
                )
            out.append(Candidate(assembled=rec, record=record, key=key))
        return out

    def _identity(self, job: ImportJob, data: dict, extra: dict, uploader: Principal):
        """(owner USCC, county region, record key) of an assembled record."""
        default_region = uploader.region_code if uploader.role in (Role.ENTERPRISE, Role.COUNTY_OFFICIAL) else None
        if job.record_type == RecordType.ENTERPRISE:
            region = data.get("registered_region") or default_region
            if region and not data.get("registered_region"):
                data["registered_region"] = region
            return data["uscc"], region, (data["uscc"],)
        if job.record_type == RecordType.PERSON:
            pk = person_key(data.get("id_type") or "1", data["id_no"], self.secret)
            return data["employer_uscc"], extra.get("region_code") or default_region, (pk, data["employer_uscc"])
        owner = extra.get("owner_uscc") or (uploader.uscc if uploader.role == Role.ENTERPRISE else None)
        region = data.get("location_region") or default_region
        return owner, region, (data["prj_num"],)

    @staticmethod
    def _mark(issues: list[RowIssue], rec: Assembled, reason: str) -> None:
        for sheet, row in rec.rows:
            issues.append(RowIssue(sheet, row, "", "", reason))

    # ---- writing ----------------------------------------------------------------------------------------------

    def _write(self, job: ImportJob, candidates: list[Candidate], issues: list[RowIssue], meta: RequestMeta):
        uploader = self._uploader(job)
        scope = ImportScope(
            owner_uscc=uploader.uscc
            if uploader.role == Role.ENTERPRISE and job.record_type == RecordType.PERSON
            else None,
            province_wide=uploader.role in PROVINCE_ROLES,
        )
        existing = self.registry.existing(job.record_type, [c.key for c in candidates], scope)
        new: list[RecordBase] = []
        updates: list[tuple[Candidate, RecordBase]] = []
        for c in candidates:
            found = existing.get(c.key)
            if found is None or found.source_job == job.job_id:
                new.append(c.record)  # new, or written by an earlier attempt of this very job (same content)
                continue
            if (
                uploader.role == Role.ENTERPRISE
                and found.owner_uscc == uploader.uscc
                and found.state in EDITABLE_STATES
            ):
                updates.append((c, c.record))
                continue
            self._mark(issues, c.assembled, _duplicate_reason(job.record_type, found.state))
        written = 0
        for i in range(0, len(new), 500):
            chunk = new[i : i + 500]
            self.registry.insert_batch(chunk)
            written += len(chunk)
            if written % PROGRESS_EVERY < len(chunk):
                self.jobs.set_progress(job.job_id, written)
        updated = 0
        for c, record in updates:
            if self._update_existing(job, c, record, uploader, issues, meta):
                updated += 1
        return written, updated

    def _update_existing(self, job, c: Candidate, record: RecordBase, uploader: Principal, issues, meta) -> bool:
        current = self.registry.get(job.record_type, c.key)
        if current is None or current.state not in EDITABLE_STATES or current.owner_uscc != uploader.uscc:
            self._mark(issues, c.assembled, "记录状态已变化，未导入，请刷新后重试")
            return False
        merged = record.model_copy(
            update={
                "state": RECORD_LIFECYCLE.next_state(current.state, RecordEvent.SUPPLEMENT),
                "version": current.version + 1,
                "created_at": current.created_at,
                "provenance": current.provenance,
            }
        )
        try:
            self.registry.save(
                merged,
                current.version,
                AuditDraft(
                    target_type=job.record_type.value,
                    target_id="/".join(c.key),
                    action=AuditAction.RECORD_IMPORTED,
                    target_region=merged.region_code,
                    target_owner=merged.owner_uscc,
                    before={**current.data(), "state": current.state.value, "version": current.version},
                    after={**merged.data(), "state": merged.state.value, "version": merged.version},
                    note=f"导入任务{job.job_id}",
                ),
                uploader,
                meta,
            )
        except Conflict:
            self._mark(issues, c.assembled, "记录正被他人修改，未导入，请稍后重试")
            return False
        return True

    # ---- the error report -------------------------------------------------------------------------------------

    def _write_report(self, job: ImportJob, issues: list[RowIssue]) -> dict[str, str | None]:
        if not issues:
            return {"report_csv_key": None, "report_xlsx_key": None}
        rows = [
            [i.sheet, i.row, i.column, i.value, i.reason, SEVERITY_LABELS.get(i.severity, i.severity)]
            for i in _ordered(issues)
        ]
        base = f"reports/{job.job_id}/a{job.attempts}"
        csv_key, xlsx_key = f"{base}/errors.csv", f"{base}/errors.xlsx"
        self.blobs.put(csv_key, intake_files.write_csv(REPORT_HEADERS, rows), "text/csv; charset=utf-8")
        self.blobs.put(
            xlsx_key,
            intake_files.write_xlsx({"错误报告": (REPORT_HEADERS, rows)}),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        return {"report_csv_key": csv_key, "report_xlsx_key": xlsx_key}


def _ordered(issues: list[RowIssue]) -> list[RowIssue]:
    rank = {"error": 0, "skipped": 1, "warning": 2}
    return sorted(issues, key=lambda i: (i.sheet, i.row, rank.get(i.severity, 3)))


def _duplicate_reason(record_type: RecordType, state: RecordState) -> str:
    from chalicelib.domain.records import RECORD_TYPE_LABELS, STATE_LABELS

    label = RECORD_TYPE_LABELS[record_type]
    return f"{label}库中已存在该记录（状态：{STATE_LABELS[state]}），不能重复导入"


def require_uploader_can_import(principal: Principal, kind: str) -> None:
    if kind == "legacy_export" and principal.role != Role.PROVINCE_ADMIN:
        raise Forbidden("只有系统管理员可以导入历史数据")
