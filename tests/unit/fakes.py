"""In-memory fakes of the service ports (`chalicelib.services.ports`) for fast unit tests.

They mirror the contracts of the DynamoDB / S3 adapters closely enough for service tests:

* `FakeAuditLog.commit` is the analogue of `DynamoAuditLog.commit`: the caller's writes and one chained audit
  entry (sealed with `domain.audit.seal`, seq = tail + 1, prev_hash = tail hash or GENESIS_HASH) happen atomically.
  A write whose condition fails raises `Conflict` and nothing at all is written.
* `FakeUploadRepository.save` applies optimistic locking on `version`, like the adapter's condition expression.
* `FakeBlobStore` holds "uploaded" objects; tests call `put()` to simulate a browser POSTing the file.

Every read returns copies, so a test (or the code under test) cannot change stored state by mutating a result.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditDraft,
    AuditEntry,
    RequestMeta,
    seal,
    target_key,
    utcnow_iso,
)
from chalicelib.domain.errors import Conflict, Unauthenticated
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.uploads import ArrivedObject, Upload, UploadState
from chalicelib.services.ports import Page, Tokens

# --------------------------------------------------------------------------------------------------------------
# Time and ids
# --------------------------------------------------------------------------------------------------------------

DEFAULT_START = datetime(2026, 11, 29, 4, 0, 0, tzinfo=UTC)  # 12:00 in Shanghai


class FakeClock:
    """An injectable clock: `clock()` -> aware UTC datetime; `clock.iso()` -> the audit log's string form."""

    def __init__(self, start: datetime = DEFAULT_START):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def iso(self) -> str:
        return self.now.isoformat(timespec="microseconds")

    def advance(self, seconds: float) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


def sequential_ids(start: int = 1) -> Callable[[], str]:
    """Deterministic upload ids: 32 hex digits like uuid4().hex, counting up."""
    counter = itertools.count(start)
    return lambda: f"{next(counter):032x}"


def _paginate(items: list[Any], limit: int, cursor: dict | None) -> tuple[list[Any], dict | None]:
    start = int(cursor["offset"]) if cursor else 0
    end = start + limit
    return items[start:end], ({"offset": end} if end < len(items) else None)


# --------------------------------------------------------------------------------------------------------------
# Principals
# --------------------------------------------------------------------------------------------------------------


def enterprise(
    uscc: str = "91330782MA2D000028", region: str | None = "330782", subject: str | None = None
) -> Principal:
    return Principal(
        subject=subject or f"sub-ent-{uscc}",
        username=f"ent-{uscc[-4:]}",
        role=Role.ENTERPRISE,
        region_code=region,
        uscc=uscc,
        org_name="测试建筑有限公司",
    )


def official(role: Role, region: str, subject: str | None = None) -> Principal:
    return Principal(
        subject=subject or f"sub-{role.value}-{region}",
        username=f"{role.value}-{region}",
        role=role,
        region_code=region,
        display_name="主管部门人员",
    )


def county(region: str = "330782", subject: str | None = None) -> Principal:
    return official(Role.COUNTY_OFFICIAL, region, subject)


def city(region: str = "330700", subject: str | None = None) -> Principal:
    return official(Role.CITY_OFFICIAL, region, subject)


def province(subject: str | None = None) -> Principal:
    return official(Role.PROVINCE_OFFICIAL, "330000", subject)


def province_admin(subject: str | None = None) -> Principal:
    return official(Role.PROVINCE_ADMIN, "330000", subject)


META = RequestMeta(request_id="req-test", source_ip="203.0.113.9")


# --------------------------------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Write:
    """One conditional write of a commit: `check` raises Conflict (and must not mutate); `apply` mutates."""

    check: Callable[[], None]
    apply: Callable[[], None]


class FakeAuditLog:
    """Implements `AuditLog` plus `commit(writes, draft, actor, meta)` (the transactional writer)."""

    def __init__(self, clock: Callable[[], str] = utcnow_iso):
        self.clock = clock
        self._chains: dict[str, list[AuditEntry]] = {}

    # -- writer ------------------------------------------------------------------------------------------------
    def commit(self, writes: Iterable[Write], draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        writes = list(writes)
        for w in writes:  # all conditions first: a failed one leaves nothing written (transaction semantics)
            w.check()
        key = target_key(draft.target_type, draft.target_id)
        chain = self._chains.get(key, [])
        seq, prev = (chain[-1].seq, chain[-1].hash) if chain else (0, GENESIS_HASH)
        entry = seal(draft, actor=actor, meta=meta, seq=seq + 1, prev_hash=prev, at=self.clock())
        for w in writes:
            w.apply()
        self._chains.setdefault(key, []).append(entry)
        return entry.model_copy()

    def record(self, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        return self.commit([], draft, actor, meta)

    # -- reader (AuditLog protocol) ----------------------------------------------------------------------------
    def entries_for_target(self, target_type: str, target_id: str) -> list[AuditEntry]:
        return [e.model_copy() for e in self._chains.get(target_key(target_type, target_id), [])]

    def entries_for_actor(self, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        mine = [e for e in self.all_entries() if e.actor_subject == subject]
        mine.sort(key=lambda e: (e.at, e.target_key, e.seq), reverse=True)  # newest first, like the GSI query
        items, nxt = _paginate(mine, limit, cursor)
        return Page(items=[e.model_copy() for e in items], cursor=nxt)

    # -- test helpers ------------------------------------------------------------------------------------------
    def all_entries(self) -> list[AuditEntry]:
        return [e.model_copy() for chain in self._chains.values() for e in chain]

    def actions(self, target_type: str, target_id: str) -> list[AuditAction]:
        return [e.action for e in self._chains.get(target_key(target_type, target_id), [])]

    def stored(self, target_type: str, target_id: str) -> list[AuditEntry]:
        """The live stored list (not a copy): lets a test tamper with, drop or reorder stored entries."""
        return self._chains.setdefault(target_key(target_type, target_id), [])

    def count(self) -> int:
        """Number of stored entries. (Deliberately not `__len__`: an empty log must stay truthy.)"""
        return sum(len(c) for c in self._chains.values())


# --------------------------------------------------------------------------------------------------------------
# Upload repository
# --------------------------------------------------------------------------------------------------------------


class FakeUploadRepository:
    """Implements `UploadRepository` over a dict, every change committed together with its audit entry."""

    def __init__(self, audit: FakeAuditLog):
        self.audit = audit
        self._items: dict[str, Upload] = {}
        # Called with the upload about to be saved, before the version check: simulate a concurrent writer.
        self.before_save: Callable[[Upload], None] | None = None
        self.saves = 0

    def get(self, upload_id: str) -> Upload | None:
        u = self._items.get(upload_id)
        return u.model_copy(deep=True) if u else None

    def add(self, upload: Upload, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        stored = upload.model_copy(deep=True)

        def check() -> None:
            if upload.upload_id in self._items:
                raise Conflict(details={"upload_id": upload.upload_id})

        def apply() -> None:
            self._items[upload.upload_id] = stored

        return self.audit.commit([Write(check, apply)], draft, actor, meta)

    def save(
        self, upload: Upload, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        # The port's contract: `upload` is already at expected_version + 1.
        assert upload.version == expected_version + 1, (upload.version, expected_version)
        self.saves += 1
        if self.before_save is not None:
            self.before_save(upload)
        stored = upload.model_copy(deep=True)

        def check() -> None:
            current = self._items.get(upload.upload_id)
            if current is None or current.version != expected_version:
                raise Conflict(details={"write_index": 0})

        def apply() -> None:
            self._items[upload.upload_id] = stored

        return self.audit.commit([Write(check, apply)], draft, actor, meta)

    def list_by_owner(self, owner_subject: str, *, limit: int, cursor: dict | None) -> Page[Upload]:
        mine = [u for u in self._items.values() if u.owner_subject == owner_subject]
        mine.sort(key=lambda u: u.requested_at, reverse=True)
        items, nxt = _paginate(mine, limit, cursor)
        return Page(items=[u.model_copy(deep=True) for u in items], cursor=nxt)

    def list_requested_expiring_before(self, before_iso: str, *, limit: int) -> list[Upload]:
        before = datetime.fromisoformat(before_iso)
        waiting = [
            u
            for u in self._items.values()
            if u.state == UploadState.REQUESTED and datetime.fromisoformat(u.expires_at) < before
        ]
        waiting.sort(key=lambda u: u.expires_at)
        return [u.model_copy(deep=True) for u in waiting[:limit]]

    # -- test helpers ------------------------------------------------------------------------------------------
    def force(self, upload: Upload) -> None:
        """Overwrite the stored item without an audit entry (an out-of-band / concurrent writer)."""
        self._items[upload.upload_id] = upload.model_copy(deep=True)

    def all(self) -> list[Upload]:
        return [u.model_copy(deep=True) for u in self._items.values()]


# --------------------------------------------------------------------------------------------------------------
# Blob store
# --------------------------------------------------------------------------------------------------------------


@dataclass
class PresignCall:
    key: str
    content_type: str
    max_bytes: int
    expires_in: int


@dataclass
class FakeBlobStore:
    """Implements `BlobStore`; `put()` is the test's stand-in for the browser's POST to S3."""

    bucket: str = "cmsp-uploads-test"
    objects: dict[str, ArrivedObject] = field(default_factory=dict)
    presigned: list[PresignCall] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        self.presigned.append(PresignCall(key, content_type, max_bytes, expires_in))
        return {
            "url": f"https://{self.bucket}.s3.amazonaws.com/",
            "fields": {
                "key": key,
                "Content-Type": content_type,
                "policy": "ZmFrZS1wb2xpY3k=",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-signature": "fake-signature",
            },
        }

    contents: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, size: int, content_type: str | None = None, data: bytes | None = None) -> ArrivedObject:
        obj = ArrivedObject(key=key, size=size, content_type=content_type)
        self.objects[key] = obj
        # What the test's "browser" sent; by default the magic bytes of the declared type.
        magic = {"application/pdf": b"%PDF-1.7\n", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff\xe0"}
        self.contents[key] = data if data is not None else magic.get(content_type or "", b"") + b"\x00" * 16
        return obj

    def head_bytes(self, key: str, version_id: str | None, length: int) -> bytes | None:
        if key not in self.objects:
            return None
        return self.contents.get(key, b"")[:length]

    def head(self, key: str) -> ArrivedObject | None:
        self.heads.append(key)
        obj = self.objects.get(key)
        return obj.model_copy() if obj else None


# --------------------------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------------------------


class FakeTokenVerifier:
    """Implements `TokenVerifier`: a token is valid iff registered; unknown tokens -> Unauthenticated."""

    def __init__(self, tokens: dict[str, Principal] | None = None):
        self.tokens = dict(tokens or {})
        self.seen: list[str] = []

    def verify(self, token: str) -> Principal:
        self.seen.append(token)
        try:
            return self.tokens[token]
        except KeyError:
            raise Unauthenticated("登录凭证无效") from None


class FakeIdentityProvider:
    """Implements `IdentityProvider`: username -> (password, id token)."""

    def __init__(self, users: dict[str, tuple[str, str]] | None = None):
        self.users = dict(users or {})

    def authenticate(self, username: str, password: str) -> Tokens:
        entry = self.users.get(username)
        if entry is None or entry[0] != password:
            raise Unauthenticated("用户名或密码错误")
        return Tokens(id_token=entry[1], access_token=f"access-{username}", refresh_token=None, expires_in=3600)
