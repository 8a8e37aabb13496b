"""Upload use cases: request a presigned POST, take the object's arrival, expire abandoned requests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.identity import Principal, ensure_visible, system_principal
from chalicelib.domain.intake_files import FileKind, FileRejected, sniff
from chalicelib.domain.uploads import (
    UPLOAD_LIFECYCLE,
    ArrivedObject,
    Upload,
    UploadEvent,
    UploadState,
    check_arrival,
    new_upload,
    upload_id_from_key,
)
from chalicelib.observability import logger
from chalicelib.services.ports import BlobStore, Page, UploadRepository

INTAKE = system_principal("upload-intake")
SWEEPER = system_principal("upload-expiry")


@dataclass
class UploadTicket:
    upload: Upload
    post: dict[str, Any]


class ArrivalOutcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    DUPLICATE = "DUPLICATE"  # already handled: a redelivered message has no second effect
    REPLACED = "REPLACED"  # the presigned POST was reused after acceptance; the accepted version stays authoritative
    LATE = "LATE"  # arrived after the request expired; the object is not used
    FOREIGN = "FOREIGN"  # written under a key the upload request did not grant (another owner's prefix)
    IGNORED = "IGNORED"  # not an upload key of ours


class UploadService:
    def __init__(
        self,
        repo: UploadRepository,
        blobs: BlobStore,
        *,
        ttl_seconds: int,
        grace_seconds: int,
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        on_received: Callable[[Upload, RequestMeta], object] | None = None,
    ):
        self.repo = repo
        self.blobs = blobs
        self.on_received = on_received
        # A presigned URL never lives longer than 15 minutes, whatever the settings say.
        self.ttl = min(ttl_seconds, 900)
        self.grace = grace_seconds
        self.clock = clock
        self.new_id = new_id

    def request(
        self,
        principal: Principal,
        meta: RequestMeta,
        *,
        kind: str,
        filename: str,
        content_type: str,
        size: int,
        record_type: str | None = None,
    ) -> UploadTicket:
        upload = new_upload(
            record_type=record_type,
            upload_id=self.new_id(),
            principal=principal,
            kind=kind,
            filename=filename,
            content_type=content_type,
            size=size,
            now=self.clock(),
            ttl_seconds=self.ttl,
        )
        self.repo.add(
            upload,
            AuditDraft(
                target_type="upload",
                target_id=upload.upload_id,
                action=AuditAction.UPLOAD_REQUESTED,
                target_region=upload.region_code,
                target_owner=upload.owner_uscc,
                after=upload.audit_state(),
            ),
            principal,
            meta,
        )
        post = self.blobs.presign_post(upload.key, upload.content_type, upload.max_bytes, self.ttl)
        return UploadTicket(upload=upload, post=post)

    def get(self, principal: Principal, upload_id: str) -> Upload:
        upload = self.repo.get(upload_id)
        if upload is None:
            raise NotFound("上传记录不存在")
        if upload.owner_subject != principal.subject:
            ensure_visible(principal, owner_uscc=upload.owner_uscc, region_code=upload.region_code)
        return upload

    def download_link(self, principal: Principal, upload_id: str) -> dict[str, str]:
        """A short-lived link to a received file (attachment preview): the uploader, the owning enterprise or an
        official of its region; anyone else gets 404. Only files that passed the intake checks are served."""
        upload = self.get(principal, upload_id)
        if upload.state != UploadState.RECEIVED:
            raise Conflict("文件尚未通过接收检查，不能查看")
        return {
            "url": self.blobs.presign_get(upload.key, upload.filename, 300, inline=True),
            "filename": upload.filename,
            "content_type": upload.content_type,
        }

    def list_mine(self, principal: Principal, *, limit: int, cursor: dict | None) -> Page[Upload]:
        return self.repo.list_by_owner(principal.subject, limit=limit, cursor=cursor)

    def _transition(
        self, upload: Upload, event: UploadEvent, action: AuditAction, actor: Principal, meta: RequestMeta, **changes
    ) -> Upload:
        new_state = UPLOAD_LIFECYCLE.next_state(upload.state, event)
        updated = upload.model_copy(update={**changes, "state": new_state, "version": upload.version + 1})
        self.repo.save(
            updated,
            upload.version,
            AuditDraft(
                target_type="upload",
                target_id=upload.upload_id,
                action=action,
                target_region=upload.region_code,
                target_owner=upload.owner_uscc,
                before=upload.audit_state(),
                after=updated.audit_state(),
                note=changes.get("reject_reason"),
            ),
            actor,
            meta,
        )
        return updated

    def object_arrived(self, key: str, meta: RequestMeta) -> ArrivalOutcome:
        """Handle one S3 ObjectCreated notification. Safe to call any number of times for the same object."""
        upload_id = upload_id_from_key(key)
        if upload_id is None:
            logger().warning("object outside the upload layout", extra={"key": key})
            return ArrivalOutcome.IGNORED
        for _ in range(3):
            upload = self.repo.get(upload_id)
            if upload is None:
                # An object whose request we never issued: an error worth a human look (DLQ), not a silent drop.
                raise NotFound(f"对象 {key} 没有对应的上传申请")
            if key != upload.key:
                # Not the key this request granted (S3 enforces it on AWS; moto does not): never let it touch the
                # upload, whose rightful file may still arrive.
                logger().warning(
                    "object does not match the key of its upload", extra={"key": key, "upload_id": upload_id}
                )
                return ArrivalOutcome.FOREIGN
            obj = self.blobs.head(key)
            if upload.state != UploadState.REQUESTED:
                outcome = self._after_the_fact(upload, obj)
                if outcome == ArrivalOutcome.DUPLICATE and upload.state == UploadState.RECEIVED and self.on_received:
                    self.on_received(upload, meta)  # idempotent: finishes what a crashed delivery began
                return outcome
            if obj is None:
                reasons = ["上传的文件已被删除"]
                obj = ArrivedObject(key=key, size=0)
            else:
                reasons = check_arrival(upload, obj) or self._content_problems(upload, obj)
            now = self.clock().isoformat()
            try:
                if reasons:
                    self._transition(
                        upload,
                        UploadEvent.OBJECT_REFUSED,
                        AuditAction.UPLOAD_REJECTED,
                        INTAKE,
                        meta,
                        received_at=now,
                        size=obj.size,
                        reject_reason="；".join(reasons),
                    )
                    return ArrivalOutcome.REJECTED
                received = self._transition(
                    upload,
                    UploadEvent.OBJECT_ACCEPTED,
                    AuditAction.UPLOAD_RECEIVED,
                    INTAKE,
                    meta,
                    received_at=now,
                    size=obj.size,
                    etag=obj.etag,
                    version_id=obj.version_id,
                )
            except Conflict:
                continue  # a concurrent delivery moved it; re-read and most likely report DUPLICATE
            if self.on_received:
                self.on_received(received, meta)
            return ArrivalOutcome.ACCEPTED
        raise Conflict("上传记录并发更新失败")

    def _content_problems(self, upload: Upload, obj: ArrivedObject) -> list[str]:
        """Scans must really be PDF/JPEG/PNG (magic bytes), whatever name and type the browser claimed. Sheets are
        sniffed in full by the import job, which also guards against zip bombs and macros."""
        if upload.kind != "attachment":
            return []
        head = self.blobs.head_bytes(obj.key, obj.version_id, 16)
        if head is None:
            return ["上传的文件已被删除"]
        try:
            sniff(
                head,
                filename=upload.filename,
                declared_content_type=upload.content_type,
                allowed={FileKind.PDF, FileKind.JPEG, FileKind.PNG},
            )
        except FileRejected as exc:
            return [exc.message]
        return []

    @staticmethod
    def _after_the_fact(upload: Upload, obj) -> ArrivalOutcome:
        if upload.state == UploadState.EXPIRED and obj is not None:
            logger().warning("object arrived after its request expired", extra={"key": upload.key})
            return ArrivalOutcome.LATE
        if upload.state == UploadState.RECEIVED and obj is not None and upload.etag and obj.etag != upload.etag:
            logger().warning(
                "object replaced after acceptance",
                extra={"key": upload.key, "accepted_etag": upload.etag, "etag": obj.etag},
            )
            return ArrivalOutcome.REPLACED
        return ArrivalOutcome.DUPLICATE

    def expire_overdue(self, meta: RequestMeta, *, limit: int = 200) -> int:
        now = self.clock()
        cutoff = (now - timedelta(seconds=self.grace)).isoformat()
        expired = 0
        for candidate in self.repo.list_requested_expiring_before(cutoff, limit=limit):
            upload = self.repo.get(candidate.upload_id)  # the index is eventually consistent; the item is not
            if upload is None or upload.state != UploadState.REQUESTED:
                continue
            if self.blobs.head(upload.key) is not None:
                continue  # arrived but its notification is still in flight: intake decides, not the sweeper
            try:
                self._transition(upload, UploadEvent.URL_EXPIRED, AuditAction.UPLOAD_EXPIRED, SWEEPER, meta)
                expired += 1
            except Conflict:
                continue
        return expired
