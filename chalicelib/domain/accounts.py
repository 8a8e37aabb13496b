"""Accounts (账号): who may log in, bound to which role, region or enterprise, and the rules of their life cycle.

Pure rules only (no I/O): the account record, the password and lockout policy (GB/T 22239-2019 第三级 身份鉴别:
complexity, periodic change, login-failure handling, idle logout, two factors for administrators; the numbers are
the platform's defaults, data in `chalicelib/data/account_policy.json`, adjustable by the security administrator
within bounds), who may manage whose account (三员分立), one-time activation codes for enterprises and TOTP.

The platform's account record is the authority on role, region, enterprise and state; the identity provider
(Cognito, or the province's OIDC login) only proves who is knocking. A token is accepted only while its account is
active and its platform session (opened by POST /auth/login) exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from chalicelib.domain.errors import Forbidden, InvalidInput
from chalicelib.domain.fields import Uscc
from chalicelib.domain.identity import (
    ADMIN_ROLES,
    ROLE_LABELS,
    Principal,
    Role,
    check_principal_shape,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "account_policy.json"


class AccountState(StrEnum):
    ACTIVE = "ACTIVE"  # 正常
    DISABLED = "DISABLED"  # 已停用（可重新启用）
    DELETED = "DELETED"  # 已注销（保留记录：审计留痕仍指向该账号）


ACCOUNT_STATE_LABELS = {AccountState.ACTIVE: "正常", AccountState.DISABLED: "已停用", AccountState.DELETED: "已注销"}

# Which transitions an administrator may make (one shared mechanism: transition + version + audit).
ACCOUNT_TRANSITIONS: dict[str, tuple[frozenset[AccountState], AccountState]] = {
    "disable": (frozenset({AccountState.ACTIVE}), AccountState.DISABLED),
    "enable": (frozenset({AccountState.DISABLED}), AccountState.ACTIVE),
    "delete": (frozenset({AccountState.ACTIVE, AccountState.DISABLED}), AccountState.DELETED),
}


class Pending(StrEnum):
    """What an account must do before it may use anything else."""

    PASSWORD_CHANGE = "PASSWORD_CHANGE"  # noqa: S105 - a state name, not a secret. 首次登录、管理员重置或密码过期：须先修改密码
    MFA_SETUP = "MFA_SETUP"  # 本角色须使用双因素认证：须先绑定动态口令


PENDING_MESSAGES = {
    Pending.PASSWORD_CHANGE: "请先修改密码（首次登录、密码被重置或已过期）",
    Pending.MFA_SETUP: "请先绑定动态口令（本角色须使用双因素认证）",
}


class AccountPolicy(BaseModel):
    """Password, lockout, session and second-factor rules. Bounds keep every protection switched on."""

    password_min_length: int = Field(ge=8, le=64, description="密码最小长度")
    password_min_classes: int = Field(ge=3, le=4, description="至少包含的字符类别数（大写、小写、数字、符号）")
    password_history: int = Field(ge=1, le=24, description="不得与最近几次使用过的密码相同")
    password_max_age_days: int = Field(ge=30, le=180, description="密码最长使用天数，到期须修改")
    lockout_failures: int = Field(ge=3, le=10, description="连续登录失败几次锁定账号")
    lockout_minutes: int = Field(ge=5, le=1440, description="账号锁定时长（分钟）")
    failure_window_minutes: int = Field(ge=5, le=1440, description="连续失败的计数时间窗（分钟）")
    source_failures: int = Field(ge=10, le=1000, description="同一网络地址在时间窗内失败几次暂停其登录")
    source_window_minutes: int = Field(ge=5, le=1440, description="网络地址失败计数时间窗（分钟），也是暂停时长")
    idle_minutes: int = Field(ge=1, le=30, description="无操作自动退出（分钟）")
    idle_warning_seconds: int = Field(ge=10, le=300, description="自动退出前提前提醒（秒）")
    session_hours: int = Field(ge=1, le=24, description="一次登录的最长有效时间（小时）")
    max_sessions: int = Field(ge=1, le=20, description="每个账号同时有效的登录会话数")
    activation_code_days: int = Field(ge=1, le=90, description="企业激活码有效天数")
    mfa_required_roles: list[Role] = Field(description="必须使用双因素认证（动态口令）的角色")

    @model_validator(mode="after")
    def _admins_need_two_factors(self) -> AccountPolicy:
        missing = {Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN} - set(self.mfa_required_roles)
        if missing:
            names = "、".join(ROLE_LABELS[r] for r in sorted(missing))
            raise ValueError(f"三员（系统、安全、审计管理员）必须使用双因素认证，不能取消：{names}")
        if self.idle_warning_seconds >= self.idle_minutes * 60:
            raise ValueError("自动退出提醒时间必须短于无操作退出时间")
        return self


@cache
def default_policy() -> AccountPolicy:
    raw = json.loads(DATA.read_text("utf-8"))
    return AccountPolicy.model_validate({k: v for k, v in raw.items() if not k.startswith("_")})


# ---- usernames and passwords -----------------------------------------------------------------------------------

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{3,31}$")
_CLASSES = (
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda c: c in string.punctuation),
)


def username_problems(username: str) -> list[str]:
    if not _USERNAME.match(username or ""):
        return ["用户名须为4-32位，以字母开头，只能包含字母、数字、下划线、点和短横线"]
    return []


def password_problems(password: str, username: str, policy: AccountPolicy, history: list[str] = ()) -> list[str]:
    """Every rule the password breaks, in Chinese (empty = acceptable)."""
    problems = []
    if len(password) < policy.password_min_length:
        problems.append(f"密码长度至少{policy.password_min_length}位")
    if len(password) > 128:
        problems.append("密码长度不能超过128位")
    present = [name for name, test in _CLASSES if any(test(c) for c in password)]
    if len(present) < policy.password_min_classes:
        problems.append(
            f"密码须至少包含大写字母、小写字母、数字、符号中的{policy.password_min_classes}类（当前{len(present)}类）"
        )
    if any(c.isspace() for c in password) or not password.isprintable():
        problems.append("密码不能包含空格或不可见字符")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if any(verify_secret(password, h) for h in history[: policy.password_history]):
        problems.append(f"不能与最近{policy.password_history}次使用过的密码相同")
    return problems


def hash_secret(value: str, *, salt: bytes | None = None) -> str:
    """scrypt (N=2^14, r=8, p=1) with a random salt: how the platform keeps past passwords for the history rule."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(value.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_secret(value: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hashlib.scrypt(value.encode(), salt=base64.b64decode(salt), n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(expected, base64.b64decode(digest))


def temporary_password(policy: AccountPolicy) -> str:
    """A random password that satisfies the policy, handed over once (the account must change it at first login)."""
    alphabet = string.ascii_letters + string.digits + "#%+=@"
    length = max(policy.password_min_length, 12)
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(pw, "", policy.model_copy(update={"password_min_classes": 4})):
            return pw


# ---- login failures (登录失败处理) ------------------------------------------------------------------------------


class FailureWindow(BaseModel):
    """Consecutive failed logins of one username (or one source address) and the lock they caused."""

    failures: int = 0
    first_at: str | None = None
    locked_until: str | None = None

    def locked(self, now: datetime) -> bool:
        return bool(self.locked_until) and datetime.fromisoformat(self.locked_until) > now

    def wait_seconds(self, now: datetime) -> int:
        if not self.locked(now):
            return 0
        return max(1, int((datetime.fromisoformat(self.locked_until) - now).total_seconds()))


def register_failure(
    w: FailureWindow, now: datetime, *, limit: int, window_minutes: int, lock_minutes: int
) -> FailureWindow:
    """One more failure; the window restarts when it is older than `window_minutes`; reaching `limit` locks."""
    fresh = w.first_at is None or now - datetime.fromisoformat(w.first_at) > timedelta(minutes=window_minutes)
    if w.locked_until and not w.locked(now):
        fresh = True  # the lock ran out: counting starts again
    failures = 1 if fresh else w.failures + 1
    first = now.isoformat() if fresh else w.first_at
    locked_until = (now + timedelta(minutes=lock_minutes)).isoformat() if failures >= limit else None
    return FailureWindow(failures=failures, first_at=first, locked_until=locked_until)


def wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{minutes}分钟" if minutes > 1 or seconds > 59 else f"{seconds}秒"


# ---- the account record -----------------------------------------------------------------------------------------


class Account(BaseModel):
    """账号: one person's (or one machine client's) access to the platform."""

    username: str = Field(description="用户名（登录名，唯一）")
    subject: str | None = Field(default=None, description="身份提供方的用户标识（sub）")
    role: Role = Field(description="角色")
    region_code: str | None = Field(default=None, description="所属行政区划（主管部门、管理员；企业为注册地）")
    uscc: Uscc = Field(default=None, description="绑定企业的统一社会信用代码（企业账号）")
    display_name: str = Field(min_length=1, max_length=64, description="姓名")
    org_name: str | None = Field(default=None, max_length=64, description="单位名称")
    mobile: str | None = Field(default=None, max_length=20, description="手机号码（不公开）")
    is_main: bool = Field(default=False, description="企业主账号（可管理本企业子账号）")
    identity: str = Field(default="cognito", description="身份提供方：cognito（平台账号）或 oidc（省统一身份认证）")
    state: AccountState = AccountState.ACTIVE
    state_reason: str | None = Field(default=None, description="停用、注销的原因")
    must_change_password: bool = False
    password_changed_at: str | None = None
    password_history: list[str] = Field(default_factory=list, description="最近使用过的密码（scrypt 散列，不外传）")
    mfa_enrolled: bool = False
    mfa_secret: str | None = Field(default=None, description="动态口令密钥（加密保存，不外传）")
    mfa_pending: str | None = Field(default=None, description="待确认的动态口令密钥（加密保存，不外传）")
    mfa_last_step: int | None = Field(default=None, description="最近一次使用的动态口令时间片（防重放）")
    revoked_before: int | None = Field(default=None, description="此时刻（Unix 秒）之前签发的令牌一律失效")
    last_login_at: str | None = None
    created_by: str
    created_at: str
    updated_at: str
    version: int = 1

    def principal(self, session_id: str | None = None, pending: str | None = None) -> Principal:
        return Principal(
            subject=self.subject or f"account:{self.username}",
            username=self.username,
            role=self.role,
            region_code=self.region_code,
            uscc=self.uscc,
            display_name=self.display_name,
            org_name=self.org_name,
            session_id=session_id,
            pending=pending,
        )

    def pending_for(self, policy: AccountPolicy, now: datetime) -> Pending | None:
        if self.identity == "cognito":
            if self.must_change_password:
                return Pending.PASSWORD_CHANGE
            if self.password_changed_at and now - datetime.fromisoformat(self.password_changed_at) > timedelta(
                days=policy.password_max_age_days
            ):
                return Pending.PASSWORD_CHANGE
            if self.role in policy.mfa_required_roles and not self.mfa_enrolled:
                return Pending.MFA_SETUP
        return None

    def audit_view(self) -> dict[str, Any]:
        """What an audit entry's before/after digest covers (no secrets)."""
        return self.model_dump(
            mode="json",
            include={
                "username",
                "role",
                "region_code",
                "uscc",
                "display_name",
                "org_name",
                "is_main",
                "state",
                "must_change_password",
                "mfa_enrolled",
                "revoked_before",
            },
        )


def account_draft(after: Account, action: Any, before: Account | None, note: str | None):
    """The audit entry of an account change: on the account's own trail, with before/after digests (no secrets)."""
    from chalicelib.domain.audit import AuditDraft

    return AuditDraft(
        target_type="account",
        target_id=after.username,
        action=action,
        target_region=after.region_code,
        target_owner=after.uscc,
        before=before.audit_view() if before else None,
        after=after.audit_view(),
        note=note,
    )


def describe_changes(before: Account, after: Account) -> str:
    """A Chinese one-liner of what changed, for the audit note: 角色：县级主管部门→市级主管部门；……"""
    labels = {
        "role": "角色",
        "region_code": "地区",
        "display_name": "姓名",
        "org_name": "单位",
        "mobile": "手机",
        "state": "状态",
        "is_main": "主账号",
    }
    parts = []
    for f, label in labels.items():
        a, b = getattr(before, f), getattr(after, f)
        if a != b:
            if f == "role":
                a, b = ROLE_LABELS[a], ROLE_LABELS[b]
            elif f == "state":
                a, b = ACCOUNT_STATE_LABELS[a], ACCOUNT_STATE_LABELS[b]
            elif f == "mobile":
                a, b = mask_mobile(a), mask_mobile(b)
            elif f == "is_main":
                a, b = ("是" if a else "否"), ("是" if b else "否")
            parts.append(f"{label}：{a or '（无）'}→{b or '（无）'}")
    return "；".join(parts) or "无变化"


def mask_mobile(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def check_binding(role: Role, region_code: str | None, uscc: str | None) -> None:
    """The role's binding must fit (a county official to a county code, an enterprise to a USCC...)."""
    p = Principal(subject="check", username="check", role=role, region_code=region_code, uscc=uscc)
    try:
        check_principal_shape(p)
    except Forbidden as exc:
        raise InvalidInput(
            exc.message.replace("请联系管理员", "").rstrip("，"), details=[{"field": "region_code"}]
        ) from None
    if role in (Role.MINISTRY_SYNC,) and region_code:
        raise InvalidInput("住建部同步客户端不绑定地区", details=[{"field": "region_code"}])
    if role == Role.TENDER_SUPERVISION and not (region_code and region_code.startswith("33")):
        raise InvalidInput("招投标监管机构须绑定浙江省行政区划代码", details=[{"field": "region_code"}])


# ---- who manages whose account (三员分立) -------------------------------------------------------------------------

BUSINESS_ROLES = frozenset(
    {
        Role.COUNTY_OFFICIAL,
        Role.CITY_OFFICIAL,
        Role.PROVINCE_OFFICIAL,
        Role.TENDER_SUPERVISION,
        Role.MINISTRY_SYNC,
        Role.ENTERPRISE,
    }
)

# actor role -> roles whose accounts it may create, change, disable, enable and delete
MANAGES: dict[Role, frozenset[Role]] = {
    Role.PROVINCE_ADMIN: BUSINESS_ROLES | {Role.CITY_ADMIN},
    Role.CITY_ADMIN: frozenset({Role.COUNTY_OFFICIAL, Role.ENTERPRISE}),
    # The security administrator holds the administrator roles (and may stop any account in an incident).
    Role.SECURITY_ADMIN: ADMIN_ROLES,
}
ISSUES_ACTIVATION_CODES = frozenset({Role.COUNTY_OFFICIAL, Role.CITY_ADMIN, Role.PROVINCE_ADMIN})


def _in_scope(actor: Principal, region_code: str | None) -> bool:
    if actor.role in (Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN):
        return True
    if actor.role == Role.CITY_ADMIN:
        return bool(region_code) and region_code.startswith(actor.region_code[:4]) and not region_code.endswith("00")
    if actor.role == Role.COUNTY_OFFICIAL:
        return region_code == actor.region_code
    return False


def ensure_can_manage(actor: Principal, role: Role, region_code: str | None, *, username: str | None = None) -> None:
    """Raise Forbidden unless `actor` may manage an account with this role and region."""
    if username is not None and username == actor.username:
        raise Forbidden("不能由本人对本人的账号执行管理操作，请由其他管理员办理")
    allowed = MANAGES.get(actor.role, frozenset())
    if role not in allowed:
        raise Forbidden(f"{ROLE_LABELS[actor.role]}不能管理“{ROLE_LABELS[role]}”账号")
    if not _in_scope(actor, region_code):
        raise Forbidden(f"{ROLE_LABELS[actor.role]}只能管理本辖区的账号")


def may_manage(actor: Principal, account: Account) -> bool:
    """Whether the administrator's screen offers changes of this account (the service decides again on each)."""
    try:
        ensure_can_manage(actor, account.role, account.region_code, username=account.username)
    except Forbidden:
        return False
    return account.state != AccountState.DELETED


def can_see_account(actor: Principal, account: Account) -> bool:
    """Listing and reading accounts: the managers in their scope, the security and audit administrators all."""
    if actor.role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.PROVINCE_ADMIN):
        return True
    if actor.role == Role.CITY_ADMIN:
        return bool(account.region_code) and account.region_code.startswith(actor.region_code[:4])
    return False


def assignable_roles(actor: Principal) -> list[Role]:
    return sorted(MANAGES.get(actor.role, frozenset()), key=lambda r: list(Role).index(r))


def ensure_can_issue_code(actor: Principal, county: str) -> None:
    if actor.role not in ISSUES_ACTIVATION_CODES:
        raise Forbidden("只有县级主管部门或系统管理员可以发放企业账号激活码")
    if actor.role == Role.COUNTY_OFFICIAL and county != actor.region_code:
        raise Forbidden("只能为本县（市、区）注册的企业发放激活码")
    if actor.role == Role.CITY_ADMIN and not county.startswith(actor.region_code[:4]):
        raise Forbidden("只能为本市所辖县（市、区）的企业发放激活码")


# ---- activation codes (企业账号激活码) ----------------------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read from paper and typed by hand


class CodeState(StrEnum):
    ISSUED = "ISSUED"
    USED = "USED"
    VOID = "VOID"  # replaced by a newer code for the same enterprise


class ActivationCode(BaseModel):
    """激活码: one-time proof that a person acts for the enterprise; only its HMAC is stored."""

    code_hash: str
    uscc: Uscc
    enterprise_name: str
    county: str
    state: CodeState = CodeState.ISSUED
    issued_by: str
    issued_by_name: str | None = None
    issued_org: str
    issued_at: str
    expires_on: str = Field(description="有效期至（含当日，北京时间）")
    used_at: str | None = None
    used_by: str | None = None
    purpose: str = Field(default="activate", description="activate 开通主账号；reset 主账号重置密码")


def new_activation_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def normalise_code(raw: str) -> str:
    """What the person typed (lower case, spaces, without dashes, O for 0...) to the printed form."""
    cleaned = re.sub(r"[\s\-—_]", "", raw or "").upper()
    if len(cleaned) != 12 or any(c not in CODE_ALPHABET for c in cleaned):
        return ""
    return f"{cleaned[0:4]}-{cleaned[4:8]}-{cleaned[8:12]}"


def code_digest(code: str, key: bytes) -> str:
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


# ---- second factor: TOTP (RFC 6238, 30 s, 6 digits) --------------------------------------------------------------

TOTP_ISSUER = "浙江省建筑市场监管平台"


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(now: datetime) -> int:
    return int(now.timestamp()) // 30


def verify_totp(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to (one step of clock drift either way), or None. A step already used is
    refused, so a code seen over someone's shoulder cannot be replayed within its 30 seconds."""
    import pyotp

    code = (code or "").strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp_step(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * 30), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None
