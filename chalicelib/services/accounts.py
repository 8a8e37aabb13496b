"""Account administration (账号管理) and enterprise activation (企业账号激活).

- Officials' accounts: created by the system administrator (a city administrator for its own counties only),
  changed, disabled, re-enabled and deleted (soft: the record stays, audit entries keep naming it).
- Enterprise accounts: one main account per enterprise, opened with a one-time activation code that the county
  (or the province in bulk) issues; the main account adds and removes its own staff accounts.
- The security administrator holds the administrators' accounts, the account policy, lockouts and second factors.
Every change is one transaction with its audit entry (before/after digests and a Chinese note of what changed);
every change that narrows access ends the account's sessions and moves its revocation epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.accounts import (
    ACCOUNT_STATE_LABELS,
    ACCOUNT_TRANSITIONS,
    Account,
    AccountPolicy,
    AccountState,
    ActivationCode,
    CodeState,
    account_draft,
    assignable_roles,
    can_see_account,
    check_binding,
    describe_changes,
    ensure_can_issue_code,
    ensure_can_manage,
    hash_secret,
    new_activation_code,
    normalise_code,
    password_problems,
    temporary_password,
    username_problems,
    wait_text,
)
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import beijing_today, utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooManyRequests
from chalicelib.domain.identity import ROLE_LABELS, Principal, Role, system_principal
from chalicelib.domain.records import RecordType
from chalicelib.services.auth import AuthService
from chalicelib.services.ports import AccountStore, IdentityAdmin, Page, RegistryRepository, SecretBox

BATCH_LIMIT = 300  # activation codes per bulk call (a county's legacy enterprises come in pages)

_TRANSITION_ACTIONS = {
    "disable": AuditAction.ACCOUNT_DISABLED,
    "enable": AuditAction.ACCOUNT_ENABLED,
    "delete": AuditAction.ACCOUNT_DELETED,
}


@dataclass
class NewAccount:
    username: str
    role: Role
    display_name: str
    region_code: str | None = None
    uscc: str | None = None
    org_name: str | None = None
    mobile: str | None = None
    is_main: bool = False
    subject: str | None = None  # OIDC variant: the province login's subject


@dataclass
class IssuedCode:
    code: str
    record: ActivationCode
    has_account: bool


def _scope_prefix(region: str) -> str:
    """The code prefix a region covers: 330000 → 33, 330700 → 3307 (the city and its counties), 330782 itself."""
    while len(region) > 2 and region.endswith("00"):
        region = region[:-2]
    return region


def _problems(field: str, problems: list[str], summary: str) -> InvalidInput:
    return InvalidInput(
        summary + "：" + "；".join(problems), details=[{"field": field, "message": p} for p in problems]
    )


class AccountService:
    def __init__(
        self,
        store: AccountStore,
        admin: IdentityAdmin,
        auth: AuthService,
        registry: RegistryRepository,
        box: SecretBox,
        *,
        identity: str = "cognito",
        clock: Callable[[], datetime] = utcnow,
    ):
        self.store = store
        self.admin = admin
        self.auth = auth
        self.registry = registry
        self.box = box
        self.identity = identity
        self.clock = clock

    # ---- reading --------------------------------------------------------------------------------------------

    def get(self, actor: Principal, username: str) -> Account:
        account = self.store.get(username)
        if account is None or not (can_see_account(actor, account) or self._is_own_staff(actor, account)):
            raise NotFound("账号不存在")
        return account

    def list(
        self,
        actor: Principal,
        *,
        region: str | None,
        role: str | None,
        state: str | None,
        text: str | None,
        uscc: str | None,
        limit: int,
        cursor: dict | None,
    ) -> Page[Account]:
        if actor.role in (Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
            prefix = region or ""
        elif actor.role == Role.CITY_ADMIN:
            mine = actor.region_code[:4]
            if region and not region.startswith(mine):
                raise Forbidden("市级系统管理员只能查看本市的账号")
            prefix = region or mine
        else:
            raise Forbidden("只有管理员可以查看账号列表")
        return self.store.list(
            prefix=_scope_prefix(prefix),
            uscc=uscc,
            role=role,
            state=state,
            text=(text or "").strip() or None,
            limit=limit,
            cursor=cursor,
        )

    def roles_for(self, actor: Principal) -> list[Role]:
        return assignable_roles(actor)

    # ---- creating -------------------------------------------------------------------------------------------

    def _enterprise(self, uscc: str):
        record = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        if record is None:
            raise InvalidInput(
                f"企业库中没有统一社会信用代码为{uscc}的企业", details=[{"field": "uscc", "message": "企业不存在"}]
            )
        return record

    def _new(self, req: NewAccount, actor: Principal, *, check_registry: bool = True) -> Account:
        problems = username_problems(req.username)
        if problems:
            raise _problems("username", problems, "用户名不符合要求")
        if req.role == Role.ENTERPRISE:
            if not req.uscc:
                raise InvalidInput("企业账号须绑定统一社会信用代码", details=[{"field": "uscc"}])
            if check_registry:
                ent = self._enterprise(req.uscc)
                req.region_code = ent.region_code or req.region_code
                req.org_name = req.org_name or ent.name
        elif req.uscc:
            raise InvalidInput("只有企业账号绑定统一社会信用代码", details=[{"field": "uscc"}])
        check_binding(req.role, req.region_code, req.uscc)
        now = self.clock().isoformat()
        return Account(
            username=req.username,
            subject=req.subject,
            role=req.role,
            region_code=req.region_code,
            uscc=req.uscc,
            display_name=req.display_name,
            org_name=req.org_name,
            mobile=req.mobile,
            is_main=req.is_main,
            identity=self.identity,
            created_by=actor.subject,
            created_at=now,
            updated_at=now,
        )

    def _open(
        self,
        account: Account,
        password: str | None,
        must_change: bool,
        actor: Principal,
        meta: RequestMeta,
        note: str,
        *,
        password_hash: str | None = None,
    ) -> Account:
        """Create the IdP user and the platform record; undo the first if the second fails."""
        if password is not None and self.admin.manages_passwords:
            account.password_history = [password_hash or hash_secret(password)]
            account.password_changed_at = account.created_at
            account.must_change_password = must_change
        subject = self.admin.create_user(account, password if self.admin.manages_passwords else None)
        account.subject = subject
        try:
            self.store.create(account, self._draft(account, AuditAction.ACCOUNT_CREATED, None, note), actor, meta)
        except Exception:
            if self.admin.manages_passwords:
                self.admin.delete_user(account.username)
            raise
        return account

    def create(self, actor: Principal, req: NewAccount, meta: RequestMeta) -> tuple[Account, str | None]:
        """A new account and its temporary password (shown once; changed at first login)."""
        if req.role == Role.ENTERPRISE and actor.role not in (Role.PROVINCE_ADMIN, Role.CITY_ADMIN):
            raise Forbidden("企业账号由企业凭激活码开通，或由系统管理员创建")
        if req.role not in assignable_roles(actor):
            raise Forbidden(f"{ROLE_LABELS[actor.role]}不能创建“{ROLE_LABELS[req.role]}”账号")
        account = self._new(req, actor)
        ensure_can_manage(actor, account.role, account.region_code)
        temp = temporary_password(self.auth.policy()) if self.admin.manages_passwords else None
        note = f"创建{ROLE_LABELS[account.role]}账号（{account.region_code or '不限地区'}）"
        return self._open(account, temp, True, actor, meta, note), temp

    # ---- changing -------------------------------------------------------------------------------------------

    def _managed(self, actor: Principal, username: str) -> Account:
        account = self.get(actor, username)
        if account.state == AccountState.DELETED:
            raise InvalidTransition("账号已注销，不能再修改")
        return account

    def update(
        self, actor: Principal, username: str, changes: dict, expected_version: int, meta: RequestMeta
    ) -> Account:
        account = self._managed(actor, username)
        ensure_can_manage(actor, account.role, account.region_code, username=username)
        if expected_version != account.version:
            raise Conflict(f"账号已被修改（当前版本{account.version}），请刷新后重试")
        role = Role(changes.get("role") or account.role)
        region = changes.get("region_code", account.region_code)
        if Role.ENTERPRISE in (role, account.role) and (role != account.role or region != account.region_code):
            raise InvalidInput("企业账号的角色和地区随所绑定的企业，不能修改", details=[{"field": "role"}])
        check_binding(role, region, account.uscc)
        ensure_can_manage(actor, role, region)
        update = {k: v for k, v in changes.items() if k in ("display_name", "org_name", "mobile")}
        update.update(role=role, region_code=region)
        narrowed = role != account.role or region != account.region_code
        if narrowed:
            update["revoked_before"] = int(self.clock().timestamp())
        after = account.model_copy(update=update)
        note = describe_changes(account, after)
        saved = self._save(account, after, AuditAction.ACCOUNT_CHANGED, actor, meta, note)
        self.admin.update_user(saved)
        if narrowed:
            self._end_all(saved)
        return saved

    def transition(
        self, actor: Principal, username: str, action: str, reason: str | None, meta: RequestMeta
    ) -> Account:
        account = self.get(actor, username)
        if action not in ACCOUNT_TRANSITIONS:
            raise InvalidInput("不支持的操作", details=[{"field": "action"}])
        if actor.role == Role.SECURITY_ADMIN and action == "disable" and account.username != actor.username:
            pass  # 安全管理员 may stop any account in an incident (its re-enabling stays with the account's manager)
        else:
            ensure_can_manage(actor, account.role, account.region_code, username=username)
        allowed_from, target = ACCOUNT_TRANSITIONS[action]
        if account.state not in allowed_from:
            raise InvalidTransition(f"账号当前状态为“{ACCOUNT_STATE_LABELS[account.state]}”，不能执行此操作")
        if action in ("disable", "delete") and not (reason or "").strip():
            raise InvalidInput("请填写停用或注销的原因", details=[{"field": "reason"}])
        update: dict = {"state": target, "state_reason": (reason or "").strip() or None}
        if target != AccountState.ACTIVE:
            update["revoked_before"] = int(self.clock().timestamp())
        after = account.model_copy(update=update)
        note = f"{ACCOUNT_STATE_LABELS[account.state]}→{ACCOUNT_STATE_LABELS[target]}" + (
            f"：{reason.strip()}" if reason and reason.strip() else ""
        )
        saved = self._save(account, after, _TRANSITION_ACTIONS[action], actor, meta, note)
        if target != AccountState.ACTIVE:
            self._end_all(saved)
        return saved

    def reset_password(self, actor: Principal, username: str, meta: RequestMeta) -> str:
        if not self.admin.manages_passwords:
            raise InvalidInput("密码由省统一身份认证平台管理，请在该平台重置")
        account = self._managed(actor, username)
        if actor.role == Role.ENTERPRISE:
            self._ensure_main(actor)
        if not (actor.role == Role.ENTERPRISE and self._is_own_staff(actor, account)):
            ensure_can_manage(actor, account.role, account.region_code, username=username)
        policy = self.auth.policy()
        temp = temporary_password(policy)
        self.admin.set_password(account.username, temp)
        after = account.model_copy(
            update={
                "must_change_password": True,
                "password_changed_at": self.clock().isoformat(),
                "password_history": [hash_secret(temp), *account.password_history][: policy.password_history],
                "revoked_before": int(self.clock().timestamp()),
            }
        )
        saved = self._save(
            account, after, AuditAction.PASSWORD_RESET, actor, meta, "管理员重置密码（须在下次登录时修改）"
        )
        self._end_all(saved)
        return temp

    def reset_mfa(self, actor: Principal, username: str, meta: RequestMeta) -> Account:
        if actor.role != Role.SECURITY_ADMIN:
            raise Forbidden("只有安全管理员可以重置动态口令")
        account = self._managed(actor, username)
        if account.username == actor.username:
            raise Forbidden("不能由本人对本人的账号执行管理操作，请由其他管理员办理")
        after = account.model_copy(
            update={
                "mfa_enrolled": False,
                "mfa_secret": None,
                "mfa_pending": None,
                "revoked_before": int(self.clock().timestamp()),
            }
        )
        saved = self._save(account, after, AuditAction.MFA_RESET, actor, meta, "重置动态口令（须在下次登录后重新绑定）")
        self._end_all(saved)
        return saved

    def end_sessions(self, actor: Principal, username: str, meta: RequestMeta) -> int:
        account = self._managed(actor, username)
        if actor.role != Role.SECURITY_ADMIN:
            ensure_can_manage(actor, account.role, account.region_code, username=username)
        after = account.model_copy(update={"revoked_before": int(self.clock().timestamp())})
        saved = self._save(account, after, AuditAction.SESSION_ENDED, actor, meta, "管理员强制退出全部登录")
        return self._end_all(saved)

    def _end_all(self, account: Account) -> int:
        n = self.store.delete_sessions(account.username)
        self.admin.sign_out(account.username)
        self.auth.cache.forget(account.username)
        return n

    def _save(
        self, before: Account, after: Account, action: AuditAction, actor: Principal, meta: RequestMeta, note: str
    ) -> Account:
        after = after.model_copy(update={"updated_at": self.clock().isoformat(), "version": before.version + 1})
        self.store.save(after, before.version, self._draft(after, action, before, note), actor, meta)
        self.auth.cache.forget(before.username)
        return after

    _draft = staticmethod(account_draft)

    # ---- lockouts and policy (安全管理员) ---------------------------------------------------------------------

    def lockouts(self, actor: Principal):
        if actor.role not in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
            raise Forbidden("只有安全管理员可以查看登录锁定")
        return self.store.lockouts(self.clock().isoformat())

    def unlock(self, actor: Principal, key: str, meta: RequestMeta) -> None:
        if actor.role != Role.SECURITY_ADMIN:
            raise Forbidden("只有安全管理员可以解除登录锁定")
        window = self.store.failures(key)
        if not window.locked(self.clock()):
            raise InvalidInput("该账号或网络地址当前没有被锁定", details=[{"field": "key"}])
        self.store.clear_failures(key)
        kind, _, value = key.partition("#")
        self.auth.audit.record(
            AuditDraft(
                target_type="login",
                target_id=value,
                action=AuditAction.ACCOUNT_UNLOCKED,
                note=("解除账号登录锁定" if kind == "U" else "解除网络地址登录暂停") + f"（{window.failures}次失败）",
            ),
            actor,
            meta,
        )

    def policy(self, actor: Principal) -> tuple[AccountPolicy, int]:
        if actor.role not in (Role.SECURITY_ADMIN, Role.PROVINCE_ADMIN, Role.AUDIT_ADMIN):
            raise Forbidden("只有管理员可以查看安全策略")
        stored = self.store.policy()
        return stored if stored else (self.auth.policy(fresh=True), 0)

    def save_policy(self, actor: Principal, policy: AccountPolicy, expected_version: int, meta: RequestMeta):
        if actor.role != Role.SECURITY_ADMIN:
            raise Forbidden("只有安全管理员可以修改安全策略")
        before, version = self.policy(actor)
        if version != expected_version:
            raise Conflict("安全策略已被他人修改，请刷新后重试")
        labels = {name: f.description for name, f in AccountPolicy.model_fields.items()}
        changed = [
            f"{labels[k]}：{getattr(before, k)}→{getattr(policy, k)}"
            for k in AccountPolicy.model_fields
            if getattr(before, k) != getattr(policy, k)
        ]
        self.store.save_policy(
            policy,
            version,
            AuditDraft(
                target_type="account_policy",
                target_id="default",
                action=AuditAction.ACCOUNT_POLICY_CHANGED,
                before=before.model_dump(mode="json"),
                after=policy.model_dump(mode="json"),
                note="；".join(changed) or "无变化",
            ),
            actor,
            meta,
        )
        self.auth.forget_policy()
        return policy, version + 1

    # ---- enterprise activation codes ------------------------------------------------------------------------

    def issue_code(self, actor: Principal, uscc: str, meta: RequestMeta) -> IssuedCode:
        ent = self._enterprise(uscc)
        county = ent.region_code or ""
        ensure_can_issue_code(actor, county)
        previous = self.store.current_code(uscc)
        code = new_activation_code()
        days = self.auth.policy().activation_code_days
        record = ActivationCode(
            code_hash=self.box.digest(code),
            uscc=uscc,
            enterprise_name=ent.name or uscc,
            county=county,
            issued_by=actor.subject,
            issued_by_name=actor.display_name,
            issued_org=actor.org_name or actor.region_code or "",
            issued_at=self.clock().isoformat(),
            expires_on=(beijing_today(self.clock()) + timedelta(days=days)).isoformat(),
            purpose="reset" if self._main_account(uscc) else "activate",
        )
        note = f"发放激活码（有效期至{record.expires_on}）" + (
            "，原激活码作废" if previous and previous.state == CodeState.ISSUED else ""
        )
        self.store.issue_code(
            record,
            previous,
            AuditDraft(
                target_type="enterprise_account",
                target_id=uscc,
                action=AuditAction.ACTIVATION_CODE_ISSUED,
                target_region=county,
                target_owner=uscc,
                note=note,
            ),
            actor,
            meta,
        )
        return IssuedCode(code=code, record=record, has_account=record.purpose == "reset")

    def issue_batch(
        self, actor: Principal, county: str, meta: RequestMeta, *, cursor: dict | None, limit: int = BATCH_LIMIT
    ) -> tuple[list[IssuedCode], list[tuple[str, str]], dict | None]:
        """Codes for the county's enterprises that have neither an account nor a valid code (one page)."""
        ensure_can_issue_code(actor, county)
        if actor.role == Role.COUNTY_OFFICIAL:
            raise Forbidden("批量发放激活码由系统管理员办理；县级主管部门可逐户发放")
        city = county[:4] + "00"
        page = self.registry.list_by_region(
            RecordType.ENTERPRISE, city, county, limit=min(limit, BATCH_LIMIT), cursor=cursor
        )
        issued, skipped = [], []
        today = beijing_today(self.clock()).isoformat()
        for ent in page.items:
            uscc = ent.uscc
            if self._main_account(uscc):
                skipped.append((uscc, "已开通主账号"))
                continue
            current = self.store.current_code(uscc)
            if current and current.state == CodeState.ISSUED and current.expires_on >= today:
                skipped.append((uscc, f"已有有效激活码（有效期至{current.expires_on}）"))
                continue
            issued.append(self.issue_code(actor, uscc, meta))
        return issued, skipped, page.cursor

    def codes(self, actor: Principal, county: str, *, limit: int, cursor: dict | None) -> Page[ActivationCode]:
        ensure_can_issue_code(actor, county)
        return self.store.codes_for_county(county, limit=limit, cursor=cursor)

    def _main_account(self, uscc: str) -> Account | None:
        page = self.store.list(prefix="", uscc=uscc, role=None, state=None, text=None, limit=50, cursor=None)
        return next((a for a in page.items if a.is_main and a.state != AccountState.DELETED), None)

    # ---- activation (public) --------------------------------------------------------------------------------

    def activate(
        self,
        uscc: str,
        raw_code: str,
        username: str,
        password: str,
        display_name: str,
        mobile: str | None,
        meta: RequestMeta,
    ) -> Account:
        now = self.clock()
        policy = self.auth.policy()
        fail_key = f"ACT#{uscc}"
        for key in filter(None, [fail_key, f"IP#{meta.source_ip}" if meta.source_ip else None]):
            w = self.store.failures(key)
            if w.locked(now):
                wait = w.wait_seconds(now)
                raise TooManyRequests(
                    f"激活尝试失败次数过多，请{wait_text(wait)}后再试",
                    code="ACTIVATION_LOCKED",
                    details={"retry_after_seconds": wait},
                )
        try:
            code = self._valid_code(uscc, raw_code, now)
        except InvalidInput as exc:
            self._activation_failed(uscc, fail_key, exc.message, meta, now, policy)
            raise
        main = self._main_account(uscc)
        problems = [] if main else username_problems(username)
        if problems:
            raise _problems("username", problems, "用户名不符合要求")
        if main and username != main.username:
            raise InvalidInput(
                f"本企业已开通主账号“{main.username}”，激活码用于重设其密码，请填写该用户名",
                details=[{"field": "username", "message": f"应为{main.username}"}],
            )
        problems = password_problems(password, username, policy, main.password_history if main else [])
        if problems:
            raise _problems("password", problems, "密码不符合密码策略")
        actor = Principal(
            subject=f"activation:{uscc}", username=username, role=Role.PUBLIC, display_name=display_name, uscc=uscc
        )
        draft_note = "凭激活码开通企业主账号" if not main else "凭激活码重设企业主账号密码"
        if main:
            self.admin.set_password(main.username, password)
            after = main.model_copy(
                update={
                    "must_change_password": False,
                    "password_changed_at": now.isoformat(),
                    "password_history": [hash_secret(password), *main.password_history][: policy.password_history],
                    "revoked_before": int(now.timestamp()),
                    "state": AccountState.ACTIVE if main.state == AccountState.ACTIVE else main.state,
                    "updated_at": now.isoformat(),
                    "version": main.version + 1,
                }
            )
            self.store.activate(
                code,
                after,
                main.version,
                self._draft(after, AuditAction.ACCOUNT_ACTIVATED, main, draft_note),
                actor,
                meta,
            )
            self._end_all(after)
            account = after
        else:
            ent = self._enterprise(uscc)
            account = Account(
                username=username,
                role=Role.ENTERPRISE,
                region_code=ent.region_code,
                uscc=uscc,
                display_name=display_name,
                org_name=ent.name,
                mobile=mobile,
                is_main=True,
                identity=self.identity,
                created_by=actor.subject,
                created_at=now.isoformat(),
                updated_at=now.isoformat(),
                password_history=[hash_secret(password)],
                password_changed_at=now.isoformat(),
            )
            account.subject = self.admin.create_user(account, password)
            try:
                self.store.activate(
                    code,
                    account,
                    None,
                    self._draft(account, AuditAction.ACCOUNT_ACTIVATED, None, draft_note),
                    actor,
                    meta,
                )
            except Exception:
                self.admin.delete_user(username)
                raise
        self.store.clear_failures(fail_key)
        return account

    def _valid_code(self, uscc: str, raw: str, now: datetime) -> ActivationCode:
        normal = normalise_code(raw)
        code = self.store.code(self.box.digest(normal)) if normal else None
        if code is None:
            raise InvalidInput(
                "激活码不正确，请核对激活通知书上的12位激活码", details=[{"field": "code", "message": "激活码不正确"}]
            )
        if code.uscc != uscc:
            raise InvalidInput(
                "激活码与统一社会信用代码不匹配：请核对企业的统一社会信用代码",
                details=[{"field": "uscc", "message": "与激活码不匹配"}],
            )
        if code.state == CodeState.USED:
            raise InvalidInput(
                "激活码已使用，如需重新开通请联系主管部门重新发放", details=[{"field": "code", "message": "已使用"}]
            )
        if code.state == CodeState.VOID:
            raise InvalidInput(
                "激活码已作废（主管部门已发放新的激活码），请使用最新的激活通知书",
                details=[{"field": "code", "message": "已作废"}],
            )
        if code.expires_on < beijing_today(now).isoformat():
            raise InvalidInput(
                f"激活码已过期（有效期至{code.expires_on}），请联系主管部门重新发放",
                details=[{"field": "code", "message": "已过期"}],
            )
        return code

    def _activation_failed(self, uscc: str, key: str, reason: str, meta: RequestMeta, now: datetime, policy) -> None:
        w = self.auth.count_failure(key, meta, now, policy)
        self.auth.audit.record(
            AuditDraft(
                target_type="enterprise_account",
                target_id=uscc,
                action=AuditAction.ACTIVATION_FAILED,
                target_owner=uscc,
                note=f"{reason}（连续第{w.failures}次）",
            ),
            Principal(subject=f"anonymous:{uscc}", username=uscc, role=Role.PUBLIC),
            meta,
        )

    # ---- enterprise staff (企业子账号) ------------------------------------------------------------------------

    def _is_own_staff(self, actor: Principal, account: Account) -> bool:
        return actor.role == Role.ENTERPRISE and account.uscc == actor.uscc and not account.is_main

    def _ensure_main(self, actor: Principal) -> Account:
        me = self.store.get(actor.username)
        if actor.role != Role.ENTERPRISE or me is None or not me.is_main:
            raise Forbidden("只有企业主账号可以管理本企业的子账号")
        return me

    def staff(self, actor: Principal) -> list[Account]:
        self._ensure_main(actor)
        page = self.store.list(prefix="", uscc=actor.uscc, role=None, state=None, text=None, limit=200, cursor=None)
        return [a for a in page.items if a.state != AccountState.DELETED]

    def add_staff(self, actor: Principal, username: str, display_name: str, mobile: str | None, meta: RequestMeta):
        me = self._ensure_main(actor)
        req = NewAccount(
            username=username,
            role=Role.ENTERPRISE,
            display_name=display_name,
            uscc=me.uscc,
            region_code=me.region_code,
            org_name=me.org_name,
            mobile=mobile,
        )
        account = self._new(req, actor, check_registry=False)  # the main account's binding is the authority
        temp = temporary_password(self.auth.policy()) if self.admin.manages_passwords else None
        return self._open(account, temp, True, actor, meta, "企业主账号添加子账号"), temp

    def remove_staff(self, actor: Principal, username: str, meta: RequestMeta) -> Account:
        self._ensure_main(actor)
        account = self.store.get(username)
        if account is None or not self._is_own_staff(actor, account) or account.state == AccountState.DELETED:
            raise NotFound("账号不存在")
        after = account.model_copy(
            update={
                "state": AccountState.DELETED,
                "state_reason": "企业主账号删除子账号",
                "revoked_before": int(self.clock().timestamp()),
            }
        )
        saved = self._save(account, after, AuditAction.ACCOUNT_DELETED, actor, meta, "企业主账号删除子账号")
        self._end_all(saved)
        return saved

    # ---- the platform's own accounts (demo seed, first administrator) ---------------------------------------

    def provision(
        self,
        req: NewAccount,
        password: str,
        meta: RequestMeta,
        *,
        mfa_secret: str | None = None,
        password_hash: str | None = None,
    ) -> Account:
        """An account with a known password, by the platform itself (the first administrators at installation and
        the local demo accounts). Not reachable over HTTP."""
        actor = system_principal("provisioning")
        account = self._new(req, actor, check_registry=False)
        if mfa_secret:
            account.mfa_enrolled = True
            account.mfa_secret = self.box.seal(mfa_secret)
        return self._open(account, password, False, actor, meta, "平台初始化账号", password_hash=password_hash)
