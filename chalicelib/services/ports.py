"""What services need from the outside world. Adapters implement these; tests use the in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.identity import Principal
from chalicelib.domain.imports import ImportJob
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.uploads import ArrivedObject, Upload

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursor: dict[str, Any] | None = field(default=None)


class AuditLog(Protocol):
    def entries_for_target(self, target_type: str, target_id: str) -> list[AuditEntry]: ...

    def entries_for_actor(self, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]: ...

    def record(self, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        """An audited event with no other data change (a login, a failed login)."""
        ...


class UploadRepository(Protocol):
    def get(self, upload_id: str) -> Upload | None: ...

    def add(self, upload: Upload, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry: ...

    def save(
        self, upload: Upload, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        """Write `upload` (already at expected_version + 1) if the stored version is still expected_version."""
        ...

    def list_by_owner(self, owner_subject: str, *, limit: int, cursor: dict | None) -> Page[Upload]: ...

    def list_requested_expiring_before(self, before_iso: str, *, limit: int) -> list[Upload]: ...


class BlobStore(Protocol):
    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]: ...

    def head(self, key: str) -> ArrivedObject | None: ...

    def get(self, key: str, version_id: str | None = None) -> bytes | None:
        """The object's bytes (that exact version when given), or None if it no longer exists."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def head_bytes(self, key: str, version_id: str | None, length: int) -> bytes | None:
        """The first `length` bytes of the object (a ranged GET), or None if it no longer exists."""
        ...

    def presign_get(self, key: str, filename: str, expires_in: int) -> str: ...

    def exists(self, key: str) -> bool: ...


class JobQueue(Protocol):
    def send(self, job_id: str) -> None: ...


@dataclass(frozen=True)
class Existing:
    """What an import needs to know about a record that already exists."""

    state: RecordState
    version: int
    owner_uscc: str | None
    source_job: str | None
    region_code: str | None


@dataclass(frozen=True)
class ImportScope:
    """Where the records an import may touch can live: the basis for cheap existence checks."""

    owner_uscc: str | None = None  # an enterprise's own records (its key is part of every person key)
    province_wide: bool = False


class RegistryRepository(Protocol):
    def get(self, record_type: RecordType, key: tuple[str, ...]) -> RecordBase | None: ...

    def existing(
        self, record_type: RecordType, keys: list[tuple[str, ...]], scope: ImportScope
    ) -> dict[tuple[str, ...], Existing]: ...

    def insert_batch(self, records: list[RecordBase]) -> None:
        """Write brand-new records in batches; rewriting the same records again (a retried job) is harmless."""
        ...

    def save(
        self, record: RecordBase, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry: ...

    def list_by_owner(
        self, record_type: RecordType, owner_uscc: str, *, limit: int, cursor: dict | None
    ) -> Page[RecordBase]: ...

    def list_by_region(
        self, record_type: RecordType, city: str, county: str | None, *, limit: int, cursor: dict | None
    ) -> Page[RecordBase]: ...


class ImportJobRepository(Protocol):
    def get(self, job_id: str) -> ImportJob | None: ...

    def create(self, job: ImportJob, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> bool:
        """False if a job with this id already exists (one job per accepted upload)."""
        ...

    def save(
        self, job: ImportJob, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry: ...

    def set_progress(self, job_id: str, rows: int) -> None: ...

    def list_by_owner(self, owner_subject: str, *, limit: int, cursor: dict | None) -> Page[ImportJob]: ...

    def list_unfinished_before(self, before_iso: str, *, limit: int) -> list[ImportJob]: ...


@dataclass
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


class IdentityProvider(Protocol):
    """Password login against the configured IdP (Cognito on AWS, an OIDC service in aws-cn)."""

    def authenticate(self, username: str, password: str) -> Tokens: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...
