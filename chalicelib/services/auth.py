"""Login, the per-request gate, sessions and the self-service parts of an account (password, second factor).

The identity provider proves a password (or the province's login proves a person); the platform's account record
and session decide everything else, on every request:
- the account must exist and be ACTIVE, and the token must be newer than the account's revocation epoch
  (`revoked_before`, moved forward by disable, delete, role or region change, password reset);
- with the platform's own accounts (Cognito) the token's session (`origin_jti`) must still exist: logout, an
  administrator, the idle timeout or the session limit delete it, and the very next request is refused;
- an account that must first change its password or enrol its second factor gets a principal marked `pending`,
  which only the routes that let it do so accept.
Lookups are cached per process for `cache_seconds` (default 5 s) and forgotten at once by the process that changes
the account, so revocation holds within seconds everywhere and immediately where it was made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.accounts import (
    Account,
    AccountPolicy,
    AccountState,
    FailureWindow,
    account_draft,
    default_policy,
    hash_secret,
    new_totp_secret,
    password_problems,
    register_failure,
    totp_uri,
    verify_totp,
    wait_text,
)
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, TooManyRequests, Unauthenticated
from chalicelib.domain.identity import Principal, Role
from chalicelib.services.ports import (
    AccountStore,
    AuditLog,
    IdentityAdmin,
    IdentityProvider,
    SecretBox,
    SessionRecord,
    Tokens,
    TokenVerifier,
)

TOUCH_EVERY = timedelta(seconds=60)  # a session's last-seen time is written at most once a minute


@dataclass
class LoginResult:
    tokens: Tokens
    principal: Principal
    policy: AccountPolicy


class GateCache:
    """What one process remembers about accounts and sessions, for a few seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._items: dict[tuple[str, str], tuple[float, Account | None, SessionRecord | None]] = {}
        self._lock = threading.Lock()

    def get(self, username: str, sid: str):
        with self._lock:
            hit = self._items.get((username, sid))
        if hit and hit[0] > self.clock():
            return hit[1], hit[2]
        return None

    def put(self, username: str, sid: str, account: Account | None, session: SessionRecord | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[(username, sid)] = (self.clock() + self.ttl, account, session)

    def forget(self, username: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == username]:
                del self._items[key]


def _account_failure_key(username: str) -> str:
    return f"U#{username.strip().lower()}"


def _source_failure_key(ip: str) -> str:
    return f"IP#{ip}"


def session_id_of(claims: dict) -> str:
    """The login a token belongs to: Cognito's origin_jti survives refreshes; OIDC providers say sid."""
    return str(claims.get("origin_jti") or claims.get("sid") or claims.get("jti") or "")


class AuthService:
    def __init__(
        self,
        idp: IdentityProvider,
        verifier: TokenVerifier,
        audit: AuditLog,
        accounts: AccountStore,
        admin: IdentityAdmin,
        box: SecretBox,
        *,
        identity: str = "cognito",
        clock: Callable[[], datetime] = utcnow,
        cache_seconds: float = 5.0,
    ):
        self.idp = idp
        self.verifier = verifier
        self.audit = audit
        self.accounts = accounts
        self.admin = admin
        self.box = box
        self.identity = identity
        self.clock = clock
        self.cache = GateCache(cache_seconds)
        self._policy: tuple[float, AccountPolicy] | None = None

    # ---- policy ---------------------------------------------------------------------------------------------

    def policy(self, *, fresh: bool = False) -> AccountPolicy:
        if not fresh and self._policy and self._policy[0] > time.monotonic():
            return self._policy[1]
        stored = self.accounts.policy()
        policy = stored[0] if stored else default_policy()
        self._policy = (time.monotonic() + 30.0, policy)
        return policy

    def forget_policy(self) -> None:
        self._policy = None

    # ---- login ----------------------------------------------------------------------------------------------

    def _check_locks(self, username: str, meta: RequestMeta, now: datetime, policy: AccountPolicy) -> None:
        if meta.source_ip:
            w = self.accounts.failures(_source_failure_key(meta.source_ip))
            if w.locked(now):
                wait = w.wait_seconds(now)
                raise TooManyRequests(
                    f"该网络地址登录失败次数过多，已暂停登录，请{wait_text(wait)}后再试",
                    code="SOURCE_LOCKED",
                    details={"retry_after_seconds": wait},
                )
        w = self.accounts.failures(_account_failure_key(username))
        if w.locked(now):
            wait = w.wait_seconds(now)
            raise TooManyRequests(
                f"账号已锁定：连续{policy.lockout_failures}次登录失败。请{wait_text(wait)}后再试，或联系安全管理员解锁",
                code="ACCOUNT_LOCKED",
                details={"retry_after_seconds": wait},
            )

    def count_failure(self, key: str, meta: RequestMeta, now: datetime, policy: AccountPolicy) -> FailureWindow:
        """One more failure for `key` (a username, an enterprise's activation) and for the request's source
        address; each locks when its limit is reached. Returns the key's window."""
        w = register_failure(
            self.accounts.failures(key),
            now,
            limit=policy.lockout_failures,
            window_minutes=policy.failure_window_minutes,
            lock_minutes=policy.lockout_minutes,
        )
        keep = timedelta(minutes=max(policy.failure_window_minutes, policy.lockout_minutes) + 1)
        self.accounts.put_failures(key, w, expires_at=now + keep)
        if meta.source_ip:
            skey = _source_failure_key(meta.source_ip)
            sw = register_failure(
                self.accounts.failures(skey),
                now,
                limit=policy.source_failures,
                window_minutes=policy.source_window_minutes,
                lock_minutes=policy.source_window_minutes,
            )
            self.accounts.put_failures(skey, sw, expires_at=now + timedelta(minutes=policy.source_window_minutes + 1))
        return w

    def _failed(self, username: str, reason: str, meta: RequestMeta, now: datetime, policy: AccountPolicy) -> None:
        """Count the failure (account and source), audit it, and lock when the limit is reached."""
        anonymous = Principal(subject=f"anonymous:{username}", username=username, role=Role.PUBLIC)
        w = self.count_failure(_account_failure_key(username), meta, now, policy)
        self.audit.record(
            AuditDraft(
                target_type="login",
                target_id=username,
                action=AuditAction.USER_LOGIN_FAILED,
                note=f"{reason}（连续第{w.failures}次）",
            ),
            anonymous,
            meta,
        )
        if w.locked_until and w.failures == policy.lockout_failures:
            self.audit.record(
                AuditDraft(
                    target_type="login",
                    target_id=username,
                    action=AuditAction.ACCOUNT_LOCKED,
                    note=f"连续{w.failures}次登录失败，锁定{policy.lockout_minutes}分钟",
                ),
                anonymous,
                meta,
            )

    def login(
        self, username: str, password: str, meta: RequestMeta, *, totp_code: str | None = None, user_agent: str = ""
    ) -> LoginResult:
        username = username.strip()
        now = self.clock()
        policy = self.policy()
        self._check_locks(username, meta, now, policy)
        try:
            tokens = self.idp.authenticate(username, password)
        except Unauthenticated:
            self._failed(username, "用户名或密码错误", meta, now, policy)
            raise
        claims = self.verifier.claims(tokens.id_token)
        account = self.accounts.get(self.verifier.username(claims))
        if account is None:
            if self.identity == "cognito":
                self._failed(username, "平台无此账号", meta, now, policy)
                raise Unauthenticated("用户名或密码错误")
            principal = self.verifier.principal_from_claims(claims)  # province login without a local binding
            self._audit_login(principal, meta, "省统一身份认证")
            return LoginResult(tokens, principal, policy)
        self._refuse_state(account)
        step = None
        if account.identity == "cognito" and account.mfa_enrolled and account.mfa_secret:
            if not (totp_code or "").strip():
                raise Unauthenticated("请输入动态口令（手机身份验证器上的6位数字）", code="MFA_REQUIRED")
            step = verify_totp(self.box.open(account.mfa_secret), totp_code, now, account.mfa_last_step)
            if step is None:
                self._failed(username, "动态口令不正确或已使用", meta, now, policy)
                raise Unauthenticated("动态口令不正确或已使用，请输入身份验证器上的当前口令", code="MFA_INVALID")
        try:
            account = self.accounts.touch_login(account, now.isoformat(), step)
        except Conflict:
            raise Unauthenticated("动态口令已使用过，请等待下一个口令", code="MFA_INVALID") from None
        self.accounts.clear_failures(_account_failure_key(username))
        sid = session_id_of(claims)
        session = SessionRecord(
            username=account.username,
            sid=sid,
            started_at=now.isoformat(),
            last_seen_at=now.isoformat(),
            expires_at=(now + timedelta(hours=policy.session_hours)).isoformat(),
            source_ip=meta.source_ip,
            user_agent=user_agent[:200],
            mfa=step is not None,
        )
        ended = self.accounts.put_session(session, policy.max_sessions)
        self.cache.forget(account.username)
        principal = account.principal(session_id=sid, pending=self._pending(account, now, policy))
        note = "动态口令" if step is not None else None
        if ended:
            note = "；".join(filter(None, [note, f"超过{policy.max_sessions}个会话，结束最早的{len(ended)}个"]))
        self._audit_login(principal, meta, note)
        return LoginResult(tokens, principal, policy)

    def _audit_login(self, principal: Principal, meta: RequestMeta, note: str | None) -> None:
        self.audit.record(
            AuditDraft(
                # on the account's own trail (created, logged in, password changed, disabled ... in one chain)
                target_type="account",
                target_id=principal.username,
                action=AuditAction.USER_LOGGED_IN,
                target_region=principal.region_code,
                target_owner=principal.uscc,
                note=note,
            ),
            principal,
            meta,
        )

    def _pending(self, account: Account, now: datetime, policy: AccountPolicy) -> str | None:
        pending = account.pending_for(policy, now)
        return pending.value if pending else None

    @staticmethod
    def _refuse_state(account: Account) -> None:
        if account.state == AccountState.DISABLED:
            raise Unauthenticated("账号已停用，请联系管理员", code="ACCOUNT_DISABLED")
        if account.state == AccountState.DELETED:
            raise Unauthenticated("账号已注销", code="ACCOUNT_DELETED")

    # ---- the gate -------------------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("请先登录（缺少 Authorization 请求头）")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization 请求头格式应为“Bearer <令牌>”")
        return self.principal_for(self.verifier.claims(token.strip()))

    def principal_for(self, claims: dict) -> Principal:
        username = self.verifier.username(claims)
        sid = session_id_of(claims)
        now = self.clock()
        hit = self.cache.get(username, sid)
        if hit is None:
            account, session = self.accounts.account_and_session(username, sid)
            self.cache.put(username, sid, account, session)
        else:
            account, session = hit
        if account is None:
            if self.identity == "cognito":
                raise Unauthenticated("账号不存在或已注销", code="ACCOUNT_UNKNOWN")
            return self.verifier.principal_from_claims(claims)
        self._refuse_state(account)
        if account.subject and str(claims.get("sub")) != account.subject:
            raise Unauthenticated("登录凭证与账号不符，请重新登录")
        if account.revoked_before and int(claims.get("iat", 0)) < account.revoked_before:
            raise Unauthenticated("登录已失效（账号已变更或被强制退出），请重新登录", code="SESSION_REVOKED")
        policy = self.policy()
        if account.identity == "cognito":
            if session is None:
                raise Unauthenticated("登录会话已结束，请重新登录", code="SESSION_ENDED")
            if datetime.fromisoformat(session.expires_at) <= now:
                raise Unauthenticated("登录已超过最长有效时间，请重新登录", code="SESSION_EXPIRED")
            idle = now - datetime.fromisoformat(session.last_seen_at)
            if idle > timedelta(minutes=policy.idle_minutes):
                self.accounts.delete_session(username, sid)
                self.cache.forget(username)
                raise Unauthenticated(
                    f"超过{policy.idle_minutes}分钟未操作，已自动退出，请重新登录", code="SESSION_IDLE"
                )
            if idle > TOUCH_EVERY:
                self.accounts.touch_session(username, sid, now.isoformat())
                session.last_seen_at = now.isoformat()
        return account.principal(session_id=sid, pending=self._pending(account, now, policy))

    # ---- sessions -------------------------------------------------------------------------------------------

    def refresh(self, refresh_token: str, meta: RequestMeta) -> LoginResult:
        tokens = self.idp.refresh(refresh_token)
        principal = self.principal_for(self.verifier.claims(tokens.id_token))
        return LoginResult(tokens, principal, self.policy())

    def logout(self, principal: Principal, refresh_token: str | None, meta: RequestMeta) -> None:
        if principal.session_id:
            self.accounts.delete_session(principal.username, principal.session_id)
        if refresh_token:
            self.idp.revoke(refresh_token)
        account = self.accounts.get(principal.username)
        if account is not None and account.identity == "oidc":
            # no platform session for tokens of the province's login: end them all by the revocation epoch
            self._save(
                account,
                {"revoked_before": int(self.clock().timestamp())},
                AuditAction.USER_LOGGED_OUT,
                principal,
                meta,
                "退出登录",
            )
        else:
            self._record(principal, AuditAction.USER_LOGGED_OUT, principal, meta, None)
        self.cache.forget(principal.username)

    def sessions(self, principal: Principal) -> list[SessionRecord]:
        now = self.clock().isoformat()
        live = [s for s in self.accounts.sessions(principal.username) if s.expires_at > now]
        return sorted(live, key=lambda s: s.started_at, reverse=True)

    def end_session(self, principal: Principal, sid: str, meta: RequestMeta) -> None:
        if not self.accounts.delete_session(principal.username, sid):
            raise InvalidInput("该登录会话已结束", details=[{"field": "sid"}])
        self.cache.forget(principal.username)
        self._record(principal, AuditAction.SESSION_ENDED, principal, meta, "本人结束登录会话")

    # ---- self-service ---------------------------------------------------------------------------------------

    def _own_account(self, principal: Principal) -> Account:
        account = self.accounts.get(principal.username)
        if account is None:
            raise Forbidden("该账号由省统一身份认证平台管理，请在该平台操作")
        return account

    def change_password(self, principal: Principal, current: str, new: str, meta: RequestMeta) -> None:
        if not self.admin.manages_passwords:
            raise InvalidInput("密码由省统一身份认证平台管理，请在该平台修改")
        account = self._own_account(principal)
        now = self.clock()
        policy = self.policy()
        self._check_locks(account.username, meta, now, policy)
        try:
            self.idp.authenticate(account.username, current)
        except Unauthenticated:
            self._failed(account.username, "修改密码时当前密码错误", meta, now, policy)
            raise InvalidInput(
                "当前密码不正确", details=[{"field": "current_password", "message": "当前密码不正确"}]
            ) from None
        problems = password_problems(new, account.username, policy, account.password_history)
        if new == current and not problems:
            problems = ["新密码不能与当前密码相同"]
        if problems:
            raise InvalidInput(
                "新密码不符合密码策略：" + "；".join(problems),
                details=[{"field": "new_password", "message": p} for p in problems],
            )
        self.admin.set_password(account.username, new)
        history = [hash_secret(new), *account.password_history][: policy.password_history]
        self._save(
            account,
            {"must_change_password": False, "password_changed_at": now.isoformat(), "password_history": history},
            AuditAction.PASSWORD_CHANGED,
            principal,
            meta,
            "本人修改密码",
        )
        self.accounts.delete_sessions(account.username, keep=principal.session_id)  # other logins end
        self.cache.forget(account.username)

    def mfa_setup(self, principal: Principal, meta: RequestMeta) -> tuple[str, str]:
        account = self._own_account(principal)
        if account.mfa_enrolled:
            raise Conflict("已绑定动态口令；如需更换手机，请联系安全管理员重置", code="MFA_ALREADY_ENROLLED")
        secret = new_totp_secret()
        self._save(
            account,
            {"mfa_pending": self.box.seal(secret)},
            AuditAction.ACCOUNT_CHANGED,
            principal,
            meta,
            "开始绑定动态口令",
        )
        return secret, totp_uri(secret, account.username)

    def mfa_confirm(self, principal: Principal, code: str, meta: RequestMeta) -> None:
        account = self._own_account(principal)
        if account.mfa_enrolled:
            raise Conflict("已绑定动态口令", code="MFA_ALREADY_ENROLLED")
        if not account.mfa_pending:
            raise InvalidInput("请先获取绑定二维码", details=[{"field": "code"}])
        secret = self.box.open(account.mfa_pending)
        step = verify_totp(secret, code, self.clock(), None)
        if step is None:
            raise InvalidInput(
                "动态口令不正确：请核对手机时间并输入身份验证器上当前显示的6位数字",
                details=[{"field": "code", "message": "动态口令不正确"}],
            )
        self._save(
            account,
            {"mfa_enrolled": True, "mfa_secret": account.mfa_pending, "mfa_pending": None, "mfa_last_step": step},
            AuditAction.MFA_ENROLLED,
            principal,
            meta,
            "绑定动态口令",
        )

    # ---- shared ---------------------------------------------------------------------------------------------

    def _save(
        self,
        account: Account,
        changes: dict,
        action: AuditAction,
        actor: Principal,
        meta: RequestMeta,
        note: str | None,
    ) -> Account:
        after = account.model_copy(
            update={**changes, "updated_at": self.clock().isoformat(), "version": account.version + 1}
        )
        self.accounts.save(after, account.version, self._draft(after, action, account, note), actor, meta)
        self.cache.forget(account.username)
        return after

    _draft = staticmethod(account_draft)

    def _record(self, target: Principal, action: AuditAction, actor: Principal, meta: RequestMeta, note) -> None:
        self.audit.record(
            AuditDraft(
                target_type="account",
                target_id=target.username,
                action=action,
                target_region=target.region_code,
                target_owner=target.uscc,
                note=note,
            ),
            actor,
            meta,
        )


__all__ = ["AuthService", "GateCache", "LoginResult", "session_id_of"]
