"""What services need from the outside world. Adapters implement these; tests use the in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.identity import Principal
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
