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

    def last_entry_for_target(self, target_type: str, target_id: str) -> AuditEntry | None:
        chain = self._chains.get(target_key(target_type, target_id), [])
        return chain[-1].model_copy() if chain else None

    def entries_for_actor(self, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        mine = [e for e in self.all_entries() if e.actor_subject == subject]
        mine.sort(key=lambda e: (e.at, e.target_key, e.seq), reverse=True)  # newest first, like the GSI query
        items, nxt = _paginate(mine, limit, cursor)
        return Page(items=[e.model_copy() for e in items], cursor=nxt)

    def entries_for_day(self, day: str, *, action: str | None, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        from chalicelib.domain.clock import in_beijing

        mine = [e for e in self.all_entries() if in_beijing(e.at).date().isoformat() == day]
        mine = [e for e in mine if action is None or e.action == action]
        mine.sort(key=lambda e: (e.at, e.target_key, e.seq))
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
    """Implements `TokenVerifier`: a token is valid iff registered; unknown tokens -> Unauthenticated.

    Its claims carry the principal's username, subject, an `origin_jti` session id (the token itself, unless
    registered otherwise in `sessions`) and `iat` (registered in `issued`, default 0)."""

    def __init__(self, tokens: dict[str, Principal] | None = None):
        self.tokens = dict(tokens or {})
        self.sessions: dict[str, str] = {}
        self.issued: dict[str, int] = {}
        self.seen: list[str] = []

    def verify(self, token: str) -> Principal:
        return self.principal_from_claims(self.claims(token))

    def claims(self, token: str) -> dict[str, Any]:
        self.seen.append(token)
        try:
            p = self.tokens[token]
        except KeyError:
            raise Unauthenticated("登录凭证无效") from None
        return {
            "sub": p.subject,
            "cognito:username": p.username,
            "origin_jti": self.sessions.get(token, f"sid-{token}"),
            "iat": self.issued.get(token, 0),
            "_token": token,
        }

    def principal_from_claims(self, claims: dict[str, Any]) -> Principal:
        return self.tokens[claims["_token"]]

    def username(self, claims: dict[str, Any]) -> str:
        return claims["cognito:username"]


class FakeIdentityProvider:
    """Implements `IdentityProvider`: username -> (password, id token); refresh tokens are `refresh-{id token}`."""

    def __init__(self, users: dict[str, tuple[str, str]] | None = None):
        self.users = dict(users or {})
        self.revoked: list[str] = []

    def authenticate(self, username: str, password: str) -> Tokens:
        entry = self.users.get(username)
        if entry is None or entry[0] != password:
            raise Unauthenticated("用户名或密码错误")
        return Tokens(
            id_token=entry[1], access_token=f"access-{username}", refresh_token=f"refresh-{entry[1]}", expires_in=3600
        )

    def refresh(self, refresh_token: str) -> Tokens:
        if refresh_token in self.revoked or not refresh_token.startswith("refresh-"):
            raise Unauthenticated("登录已过期，请重新登录")
        token = refresh_token.removeprefix("refresh-")
        return Tokens(id_token=token, access_token="access", refresh_token=refresh_token, expires_in=3600)

    def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)


class FakeIdentityAdmin:
    """Implements `IdentityAdmin` over a FakeIdentityProvider's users (passwords change what it accepts)."""

    manages_passwords = True

    def __init__(self, idp: FakeIdentityProvider):
        self.idp = idp
        self.signed_out: list[str] = []
        self.updated: list[str] = []

    def create_user(self, account, password):
        if account.username in self.idp.users:
            raise Conflict("用户名已被使用")
        self.idp.users[account.username] = (password or "", f"token-{account.username}")
        return f"sub-{account.username}"

    def delete_user(self, username: str) -> None:
        self.idp.users.pop(username, None)

    def set_password(self, username: str, password: str) -> None:
        self.idp.users[username] = (password, self.idp.users[username][1])

    def update_user(self, account) -> None:
        self.updated.append(account.username)

    def sign_out(self, username: str) -> None:
        self.signed_out.append(username)


class FakeSecretBox:
    """Implements `SecretBox` reversibly (no cryptography: the sealing itself is tested on the real adapter)."""

    def seal(self, plaintext: str) -> str:
        return "sealed:" + plaintext[::-1]

    def open(self, sealed: str) -> str:
        return sealed.removeprefix("sealed:")[::-1]

    def digest(self, value: str) -> str:
        import hashlib

        return hashlib.sha256(b"k" + value.encode()).hexdigest()


class FakeAccountStore:
    """Implements `AccountStore` in memory; writes go through the fake audit log's transactional commit."""

    def __init__(self, audit: FakeAuditLog):
        self.audit = audit
        self.accounts: dict[str, Any] = {}
        self._sessions: dict[tuple[str, str], Any] = {}
        self._failures: dict[str, Any] = {}
        self._codes: dict[str, Any] = {}
        self._current: dict[str, str] = {}
        self._policy = None
        self.batch_reads = 0

    def get(self, username):
        a = self.accounts.get(username)
        return a.model_copy(deep=True) if a else None

    def _put(self, account, expected):
        def check():
            cur = self.accounts.get(account.username)
            if expected is None and cur is not None:
                raise Conflict(f"用户名“{account.username}”已被使用")
            if expected is not None and (cur is None or cur.version != expected):
                raise Conflict("账号已被其他管理员修改，请刷新后重试")

        return Write(check, lambda: self.accounts.__setitem__(account.username, account.model_copy(deep=True)))

    def create(self, account, draft, actor, meta):
        return self.audit.commit([self._put(account, None)], draft, actor, meta)

    def save(self, account, expected_version, draft, actor, meta):
        return self.audit.commit([self._put(account, expected_version)], draft, actor, meta)

    def touch_login(self, account, at, mfa_step):
        cur = self.accounts[account.username]
        if mfa_step is not None and cur.mfa_last_step is not None and cur.mfa_last_step >= mfa_step:
            raise Conflict("动态口令已使用过", code="MFA_CODE_REUSED")
        cur.last_login_at = at
        if mfa_step is not None:
            cur.mfa_last_step = mfa_step
        return cur.model_copy(deep=True)

    def list(self, *, prefix, uscc, role, state, text, limit, cursor):
        items = [
            a
            for a in sorted(self.accounts.values(), key=lambda a: (a.region_code or "000000", a.role, a.username))
            if (a.region_code or "000000").startswith(prefix)
            and (uscc is None or a.uscc == uscc)
            and (role is None or a.role == role)
            and (state is None or a.state == state)
            and (text is None or text in a.username or text in a.display_name)
        ]
        page, nxt = _paginate(items, limit, cursor)
        return Page(items=[a.model_copy(deep=True) for a in page], cursor=nxt)

    def account_and_session(self, username, sid):
        self.batch_reads += 1
        s = self._sessions.get((username, sid))
        return self.get(username), (dataclasses_replace(s) if s else None)

    def put_session(self, session, max_sessions):
        self._sessions[(session.username, session.sid)] = dataclasses_replace(session)
        mine = sorted(self.sessions(session.username), key=lambda s: s.started_at, reverse=True)
        ended = [s.sid for s in mine[max_sessions:]]
        for sid in ended:
            self.delete_session(session.username, sid)
        return ended

    def sessions(self, username):
        return [dataclasses_replace(s) for (u, _), s in self._sessions.items() if u == username]

    def touch_session(self, username, sid, at):
        if (username, sid) in self._sessions:
            self._sessions[(username, sid)].last_seen_at = at

    def delete_session(self, username, sid):
        return self._sessions.pop((username, sid), None) is not None

    def delete_sessions(self, username, *, keep=None):
        ids = [sid for (u, sid) in list(self._sessions) if u == username and sid != keep]
        for sid in ids:
            self.delete_session(username, sid)
        return len(ids)

    def failures(self, key):
        from chalicelib.domain.accounts import FailureWindow

        return self._failures.get(key, FailureWindow()).model_copy()

    def put_failures(self, key, window, *, expires_at):
        self._failures[key] = window.model_copy()

    def clear_failures(self, key):
        self._failures.pop(key, None)

    def lockouts(self, now):
        return [(k, w) for k, w in self._failures.items() if w.locked_until and w.locked_until > now]

    def code(self, code_hash):
        c = self._codes.get(code_hash)
        return c.model_copy() if c else None

    def current_code(self, uscc):
        h = self._current.get(uscc)
        return self.code(h) if h else None

    def issue_code(self, code, previous, draft, actor, meta):
        from chalicelib.domain.accounts import CodeState

        def apply():
            self._codes[code.code_hash] = code.model_copy()
            self._current[code.uscc] = code.code_hash
            if previous is not None and previous.state == CodeState.ISSUED:
                self._codes[previous.code_hash].state = CodeState.VOID

        return self.audit.commit([Write(lambda: None, apply)], draft, actor, meta)

    def activate(self, code, account, expected_version, draft, actor, meta):
        from chalicelib.domain.accounts import CodeState

        def check():
            if self._codes[code.code_hash].state != CodeState.ISSUED:
                raise Conflict("激活码已使用", code="CODE_USED")

        def apply():
            c = self._codes[code.code_hash]
            c.state, c.used_at, c.used_by = CodeState.USED, account.updated_at, account.username

        return self.audit.commit([Write(check, apply), self._put(account, expected_version)], draft, actor, meta)

    def codes_for_county(self, county, *, limit, cursor):
        items = sorted((c for c in self._codes.values() if c.county == county), key=lambda c: c.issued_at, reverse=True)
        page, nxt = _paginate(items, limit, cursor)
        return Page(items=page, cursor=nxt)

    def policy(self):
        return self._policy

    def save_policy(self, policy, expected_version, draft, actor, meta):
        def check():
            if (self._policy[1] if self._policy else 0) != expected_version:
                raise Conflict("安全策略已被他人修改")

        return self.audit.commit(
            [Write(check, lambda: setattr(self, "_policy", (policy, expected_version + 1)))], draft, actor, meta
        )


def dataclasses_replace(obj):
    import dataclasses

    return dataclasses.replace(obj)
