"""What services need from the outside world. Adapters implement these; tests use the in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.domain.accounts import Account, AccountPolicy, ActivationCode, FailureWindow
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.campaigns import Campaign, Notice
from chalicelib.domain.credit import CreditRecord
from chalicelib.domain.identity import Principal
from chalicelib.domain.imports import ImportJob
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.review import Decision, Snapshot, SupplementRequest
from chalicelib.domain.uploads import ArrivedObject, Upload

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursor: dict[str, Any] | None = field(default=None)


class AuditLog(Protocol):
    def entries_for_target(self, target_type: str, target_id: str) -> list[AuditEntry]: ...

    def last_entry_for_target(self, target_type: str, target_id: str) -> AuditEntry | None:
        """The target's newest entry (one read, whatever the length of its trail)."""
        ...

    def entries_for_actor(self, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]: ...

    def entries_for_day(self, day: str, *, action: str | None, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        """Entries of one Beijing calendar day, oldest first."""
        ...

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

    def presign_get(self, key: str, filename: str, expires_in: int, *, inline: bool = False) -> str: ...

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


@dataclass
class Extras:
    """Everything else a record change writes in the same transaction."""

    snapshot: Snapshot | None = None
    decision: Decision | None = None
    credit: CreditRecord | None = None
    request: SupplementRequest | None = None
    request_expected_version: int | None = None  # None = create
    sla_delta: dict[str, float] | None = None  # counters for statistics: {"official:county": s, "enterprise": s}
    decided: bool = False


@dataclass(frozen=True)
class QueueQuery:
    state: RecordState
    county: str | None = None
    city: str | None = None
    record_type: RecordType | None = None
    waiting_before: str | None = None  # ISO time: only records waiting since before this
    assignee: str | None = None
    escalated_only: bool = False


class RegistryRepository(Protocol):
    def get(self, record_type: RecordType, key: tuple[str, ...]) -> RecordBase | None: ...

    def existing(
        self, record_type: RecordType, keys: list[tuple[str, ...]], scope: ImportScope
    ) -> dict[tuple[str, ...], Existing]: ...

    def insert_batch(self, records: list[RecordBase]) -> None:
        """Write brand-new records in batches; rewriting the same records again (a retried job) is harmless."""
        ...

    def save(
        self,
        record: RecordBase,
        expected_version: int,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
        extras: Extras | None = None,
    ) -> AuditEntry: ...

    def list_by_owner(
        self, record_type: RecordType, owner_uscc: str, *, limit: int, cursor: dict | None
    ) -> Page[RecordBase]: ...

    def create(self, record: RecordBase, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        """A single new record (Conflict if the key exists)."""
        ...

    def person_partition(self, person_key: str) -> list[RecordBase]: ...

    def queue(self, q: QueueQuery, *, limit: int, cursor: dict | None) -> Page[RecordBase]: ...

    def assigned_to(self, subject: str, *, limit: int, cursor: dict | None) -> Page[RecordBase]: ...

    def get_decision(self, decision_id: str) -> Decision | None: ...

    def snapshots(self, record: RecordBase) -> list[Snapshot]: ...

    def get_request(self, request_id: str) -> SupplementRequest | None: ...

    def put_request(
        self,
        request: SupplementRequest,
        expected_version: int | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry: ...

    def requests_for_owner(self, owner_uscc: str, *, limit: int, cursor: dict | None) -> Page[SupplementRequest]: ...

    def requests_for_record(self, record: RecordBase) -> list[SupplementRequest]: ...

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

    def refresh(self, refresh_token: str) -> Tokens:
        """New ID/access tokens for the same login (same session)."""
        ...

    def revoke(self, refresh_token: str) -> None:
        """The refresh token can no longer be used (logout)."""
        ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims (signature, issuer, audience, expiry, token use)."""
        ...

    def principal_from_claims(self, claims: dict[str, Any]) -> Principal: ...

    def username(self, claims: dict[str, Any]) -> str: ...


class IdentityAdmin(Protocol):
    """Administration of the IdP's users. With the province's OIDC login the platform keeps bindings only:
    `manages_passwords` is False and the password operations are not offered."""

    manages_passwords: bool

    def create_user(self, account: Account, password: str | None) -> str:
        """Create the user (password set as permanent: the platform itself forces the first change); its subject."""
        ...

    def delete_user(self, username: str) -> None:
        """Only to undo a creation whose platform record could not be written."""
        ...

    def set_password(self, username: str, password: str) -> None: ...

    def update_user(self, account: Account) -> None:
        """Attributes and group (role) as the account record says."""
        ...

    def sign_out(self, username: str) -> None:
        """Revoke every refresh token of the user."""
        ...


@dataclass
class SessionRecord:
    """A platform session (登录会话): opened by a successful login, ended by logout, an administrator or expiry."""

    username: str
    sid: str
    started_at: str
    last_seen_at: str
    expires_at: str
    source_ip: str = ""
    user_agent: str = ""
    mfa: bool = False


class AccountStore(Protocol):
    """Accounts, their sessions, login-failure windows, activation codes and the account policy."""

    def get(self, username: str) -> Account | None: ...

    def create(self, account: Account, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        """Conflict if the username exists (also a deleted account's: usernames are never reused)."""
        ...

    def save(
        self, account: Account, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry: ...

    def touch_login(self, account: Account, at: str, mfa_step: int | None) -> Account:
        """Record the login on the account (version-checked, not an audited change: the login entry is)."""
        ...

    def list(
        self,
        *,
        prefix: str,
        uscc: str | None,
        role: str | None,
        state: str | None,
        text: str | None,
        limit: int,
        cursor: dict | None,
    ) -> Page[Account]: ...

    def account_and_session(self, username: str, sid: str) -> tuple[Account | None, SessionRecord | None]:
        """Both in one request (every authenticated request reads them)."""
        ...

    def put_session(self, session: SessionRecord, max_sessions: int) -> list[str]:
        """Open a session; the oldest beyond `max_sessions` are ended (their ids returned)."""
        ...

    def sessions(self, username: str) -> list[SessionRecord]: ...

    def touch_session(self, username: str, sid: str, at: str) -> None: ...

    def delete_session(self, username: str, sid: str) -> bool: ...

    def delete_sessions(self, username: str, *, keep: str | None = None) -> int: ...

    def failures(self, key: str) -> FailureWindow: ...

    def put_failures(self, key: str, window: FailureWindow, *, expires_at: datetime) -> None: ...

    def clear_failures(self, key: str) -> None: ...

    def lockouts(self, now: str) -> list[tuple[str, FailureWindow]]:
        """Usernames and source addresses locked at `now` (for the security administrator)."""
        ...

    def code(self, code_hash: str) -> ActivationCode | None: ...

    def current_code(self, uscc: str) -> ActivationCode | None: ...

    def issue_code(
        self,
        code: ActivationCode,
        previous: ActivationCode | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry:
        """Store the new code, void the previous one, in one transaction."""
        ...

    def activate(
        self,
        code: ActivationCode,
        account: Account,
        expected_version: int | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry:
        """Mark the code used (only if still ISSUED) and create (expected_version None) or save the main account."""
        ...

    def codes_for_county(self, county: str, *, limit: int, cursor: dict | None) -> Page[ActivationCode]: ...

    def policy(self) -> tuple[AccountPolicy, int] | None:
        """The security administrator's policy and its version (None: the defaults in data/ apply)."""
        ...

    def save_policy(
        self, policy: AccountPolicy, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry: ...


class SecretBox(Protocol):
    """Symmetric sealing of small secrets at rest (second-factor keys) and keyed digests (activation codes)."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, sealed: str) -> str: ...

    def digest(self, value: str) -> str: ...


class CampaignStore(Protocol):
    def put_campaign(self, campaign: Campaign, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None: ...

    def get_campaign(self, campaign_id: str) -> Campaign | None: ...

    def list_campaigns(self) -> list[Campaign]: ...

    def create_notice(
        self, notice: Notice, credit: CreditRecord | None, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> bool:
        """False when this notice already exists (the job ran before): nothing is written then."""
        ...

    def notices_for_owner(self, uscc: str, *, limit: int, cursor: dict | None) -> Page[Notice]: ...

    def notices_for_region(
        self, campaign_id: str, city: str, county: str | None, *, limit: int, cursor: dict | None
    ) -> Page[Notice]: ...


# ---- national synchronisation ----------------------------------------------------------------------------------


@dataclass
class SourceChange:
    """One changed item of the main table as the change stream delivers it (decoded by the adapter)."""

    source_pk: str
    source_sk: str
    seq: str  # stream sequence number, zero-padded: later changes of one item compare greater
    source: Any | None  # the domain object (None: not a reportable kind, or deleted)


@dataclass
class PushReply:
    """The national side's answer to one push request, reduced to what the push job decides on."""

    kind: str  # "OK" | "RETRY" (429/5xx: nothing processed) | "UNKNOWN" (timeout, connection lost)
    results: list[dict[str, Any]] = field(default_factory=list)  # per record: sync_id, status, code, message
    http_status: int | None = None
    message: str = ""
    retry_after: float | None = None


class NationalUnavailable(Exception):
    """The national platform did not answer usably (status and pull requests)."""


class NationalPlatform(Protocol):
    def push(self, dataset: str, batch_id: str, records: list[dict[str, Any]]) -> PushReply: ...

    def status(self, sync_ids: list[str]) -> dict[str, str]: ...

    def pull(self, dataset: str, cursor: str | None, limit: int) -> dict[str, Any]: ...

    def person_lock(self, id_card: str) -> dict[str, Any] | None: ...


class SyncStore(Protocol):
    def manifest(self, source_pk: str, source_sk: str) -> tuple[dict[str, str], str]: ...

    def save_manifest(self, source_pk: str, source_sk: str, manifest: dict[str, str], seq: str) -> bool: ...

    def mark_changed(self, row: Any, *, source: dict[str, str], region_code: str | None, now: str) -> bool: ...

    def queued_datasets(self) -> dict[str, str]: ...

    def clear_queued(self, dataset: str, token: str) -> None: ...

    def oldest_queued(self, dataset: str) -> str | None: ...

    def due(self, dataset: str, now: str, limit: int) -> list[Any]: ...

    def save_outcome(self, row: Any) -> bool: ...

    def append_request_logs(self, entries: list[dict[str, Any]]) -> None: ...

    def request_logs(self, batch_id: str) -> list[dict[str, Any]]: ...

    def get_row(self, dataset: str, key: str) -> Any | None: ...

    def requeue(self, row: Any, now: str, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> bool: ...

    def dead(self, dataset: str, *, limit: int, cursor: dict | None) -> Page[Any]: ...

    def queue_state(self, dataset: str) -> dict[str, Any]: ...

    def add_stats(self, dataset: str, deltas: dict[str, int], *, run_at: str, hwm: str | None) -> None: ...

    def stats(self) -> dict[str, dict[str, Any]]: ...

    def acquire_lease(self, name: str, owner: str, now: str, until: str) -> bool: ...

    def release_lease(self, name: str, owner: str) -> None: ...

    def pull_cursor(self, dataset: str) -> str | None: ...

    def save_pull_cursor(self, dataset: str, old: str | None, new: str, now: str) -> bool: ...

    def put_mirror(self, dataset: str, key: str, seq: int, data: dict[str, Any], *, subject: str | None) -> bool: ...

    def mirrors(self, dataset: str, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]: ...

    def put_conflict(self, conflict: dict[str, Any]) -> None: ...

    def conflicts(self, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]: ...


class WorkCalendarStore(Protocol):
    """Holiday arrangements loaded by the province administrator after a State Council notice."""

    def years(self) -> list[tuple[Any, int]]:
        """Each stored arrangement with its version."""
        ...

    def put_year(
        self, arrangement: Any, expected_version: int | None, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> int: ...
