"""Account administration (账号管理), activation codes (激活码), security settings (安全管理) and enterprise staff
accounts (企业子账号). Who may do what is decided in services/accounts.py (三员分立)."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.accounts import (
    ACCOUNT_STATE_LABELS,
    Account,
    AccountPolicy,
    ActivationCode,
    mask_mobile,
    may_manage,
)
from chalicelib.domain.clock import in_beijing
from chalicelib.domain.fields import RequiredUscc, Uscc
from chalicelib.domain.identity import ROLE_LABELS, Principal, Role
from chalicelib.entrypoints.http import Ctx, api_route, decode_cursor, encode_cursor
from chalicelib.services.accounts import NewAccount
from chalicelib.wiring import get_account_service

bp = Blueprint(__name__)

MANAGERS = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.SECURITY_ADMIN)
READERS = (*MANAGERS, Role.AUDIT_ADMIN)
CODE_ISSUERS = (Role.COUNTY_OFFICIAL, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)


def _bj(iso: str | None) -> str | None:
    return in_beijing(iso).strftime("%Y-%m-%d %H:%M") if iso else None


class AccountView(BaseModel):
    """账号"""

    username: str
    role: str
    role_label: str
    region_code: str | None = None
    uscc: Uscc = None
    display_name: str
    org_name: str | None = None
    mobile: str | None = Field(default=None, description="手机号码（部分隐藏）")
    is_main: bool
    identity: str
    state: str
    state_label: str
    state_reason: str | None = None
    must_change_password: bool
    mfa_enrolled: bool
    last_login_at: str | None = Field(default=None, description="最近登录（北京时间）")
    created_at: str | None = None
    version: int
    can_manage: bool = Field(default=False, description="当前管理员可以修改、停用、注销此账号")

    @classmethod
    def of(cls, a: Account, actor: Principal | None = None) -> AccountView:
        return cls(
            can_manage=bool(actor) and may_manage(actor, a),
            username=a.username,
            role=a.role.value,
            role_label=ROLE_LABELS[a.role],
            region_code=a.region_code,
            uscc=a.uscc,
            display_name=a.display_name,
            org_name=a.org_name,
            mobile=mask_mobile(a.mobile),
            is_main=a.is_main,
            identity=a.identity,
            state=a.state.value,
            state_label=ACCOUNT_STATE_LABELS[a.state],
            state_reason=a.state_reason,
            must_change_password=a.must_change_password,
            mfa_enrolled=a.mfa_enrolled,
            last_login_at=_bj(a.last_login_at),
            created_at=_bj(a.created_at),
            version=a.version,
        )


class AccountList(BaseModel):
    items: list[AccountView]
    cursor: str | None = None


class AccountQuery(BaseModel):
    region: str | None = Field(default=None, pattern=r"^33\d{0,4}$", description="行政区划代码或其前缀")
    role: str | None = Field(default=None, pattern="^(" + "|".join(r.value for r in Role) + ")$", description="角色")
    state: str | None = Field(default=None, pattern="^(ACTIVE|DISABLED|DELETED)$")
    q: str | None = Field(default=None, max_length=32, description="用户名、姓名或单位包含")
    uscc: Uscc = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


@api_route(
    bp,
    "/accounts",
    summary="账号列表（按辖区）",
    tags=["账号管理"],
    roles=READERS,
    query=AccountQuery,
    response=AccountList,
)
def list_accounts(ctx: Ctx, q: AccountQuery) -> AccountList:
    page = get_account_service().list(
        ctx.user,
        region=q.region,
        role=q.role,
        state=q.state,
        text=q.q,
        uscc=q.uscc,
        limit=q.limit,
        cursor=decode_cursor(q.cursor),
    )
    return AccountList(items=[AccountView.of(a, ctx.user) for a in page.items], cursor=encode_cursor(page.cursor))


class RoleOption(BaseModel):
    value: str
    label: str


class RoleOptions(BaseModel):
    items: list[RoleOption]


@api_route(
    bp, "/accounts/roles", summary="本人可以创建的账号角色", tags=["账号管理"], roles=MANAGERS, response=RoleOptions
)
def assignable(ctx: Ctx) -> RoleOptions:
    roles = get_account_service().roles_for(ctx.user)
    return RoleOptions(items=[RoleOption(value=r.value, label=ROLE_LABELS[r]) for r in roles])


class CreateAccount(BaseModel):
    """新建账号"""

    username: str = Field(min_length=1, max_length=64, description="用户名")
    role: Role = Field(description="角色")
    display_name: str = Field(min_length=1, max_length=64, description="姓名")
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="所属行政区划代码")
    uscc: Uscc = Field(default=None, description="企业账号绑定的统一社会信用代码")
    org_name: str | None = Field(default=None, max_length=64, description="单位名称")
    mobile: str | None = Field(default=None, pattern=r"^1\d{10}$", description="手机号码")
    subject: str | None = Field(default=None, max_length=128, description="省统一身份认证的用户标识（OIDC）")


class CreatedAccount(BaseModel):
    account: AccountView
    temporary_password: str | None = Field(default=None, description="临时密码（只显示这一次，首次登录须修改）")


@api_route(
    bp,
    "/accounts",
    "POST",
    summary="新建账号",
    tags=["账号管理"],
    roles=MANAGERS,
    body=CreateAccount,
    response=CreatedAccount,
    status=201,
)
def create_account(ctx: Ctx, req: CreateAccount) -> CreatedAccount:
    account, temp = get_account_service().create(
        ctx.user,
        NewAccount(
            username=req.username.strip(),
            role=req.role,
            display_name=req.display_name.strip(),
            region_code=req.region_code,
            uscc=req.uscc,
            org_name=req.org_name,
            mobile=req.mobile,
            subject=req.subject,
        ),
        ctx.meta,
    )
    return CreatedAccount(account=AccountView.of(account), temporary_password=temp)


@api_route(bp, "/accounts/{username}", summary="账号详情", tags=["账号管理"], roles=READERS, response=AccountView)
def get_account(ctx: Ctx, username: str) -> AccountView:
    return AccountView.of(get_account_service().get(ctx.user, username), ctx.user)


class ChangeAccount(BaseModel):
    """修改账号（角色、地区变更后该账号须重新登录）"""

    version: int = Field(ge=1, description="读取时的版本号（防止覆盖他人的修改）")
    role: Role | None = None
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    org_name: str | None = Field(default=None, max_length=64)
    mobile: str | None = Field(default=None, pattern=r"^1\d{10}$")


@api_route(
    bp,
    "/accounts/{username}",
    "PATCH",
    summary="修改账号",
    tags=["账号管理"],
    roles=MANAGERS,
    body=ChangeAccount,
    response=AccountView,
)
def change_account(ctx: Ctx, req: ChangeAccount, username: str) -> AccountView:
    changes = req.model_dump(exclude_unset=True, exclude={"version"})
    if "role" in changes and changes["role"] is not None:
        changes["role"] = changes["role"].value
    account = get_account_service().update(ctx.user, username, changes, req.version, ctx.meta)
    return AccountView.of(account)


class StateChange(BaseModel):
    action: str = Field(pattern="^(disable|enable|delete)$", description="disable 停用；enable 启用；delete 注销")
    reason: str | None = Field(default=None, max_length=200, description="原因（停用、注销必填）")


@api_route(
    bp,
    "/accounts/{username}/state",
    "POST",
    summary="停用、启用或注销账号",
    tags=["账号管理"],
    roles=MANAGERS,
    body=StateChange,
    response=AccountView,
)
def change_state(ctx: Ctx, req: StateChange, username: str) -> AccountView:
    return AccountView.of(get_account_service().transition(ctx.user, username, req.action, req.reason, ctx.meta))


class TemporaryPassword(BaseModel):
    temporary_password: str = Field(description="临时密码（只显示这一次，登录后须修改）")


@api_route(
    bp,
    "/accounts/{username}/password-reset",
    "POST",
    summary="重置密码（生成临时密码）",
    tags=["账号管理"],
    roles=MANAGERS,
    response=TemporaryPassword,
)
def reset_password(ctx: Ctx, username: str) -> TemporaryPassword:
    return TemporaryPassword(temporary_password=get_account_service().reset_password(ctx.user, username, ctx.meta))


@api_route(
    bp,
    "/accounts/{username}/mfa-reset",
    "POST",
    summary="重置动态口令（安全管理员）",
    tags=["安全管理"],
    roles=(Role.SECURITY_ADMIN,),
    response=AccountView,
)
def reset_mfa(ctx: Ctx, username: str) -> AccountView:
    return AccountView.of(get_account_service().reset_mfa(ctx.user, username, ctx.meta))


class Ended(BaseModel):
    ended: int
    message: str


@api_route(
    bp,
    "/accounts/{username}/sign-out",
    "POST",
    summary="强制退出该账号的全部登录",
    tags=["账号管理"],
    roles=MANAGERS,
    response=Ended,
)
def sign_out(ctx: Ctx, username: str) -> Ended:
    n = get_account_service().end_sessions(ctx.user, username, ctx.meta)
    return Ended(ended=n, message=f"已结束{n}个登录会话")


# ---- security administrator -------------------------------------------------------------------------------


class Lockout(BaseModel):
    key: str
    kind: str = Field(description="account 账号；source 网络地址")
    kind_label: str
    subject: str
    failures: int
    locked_until: str = Field(description="锁定至（北京时间）")


class Lockouts(BaseModel):
    items: list[Lockout]


@api_route(
    bp,
    "/security/lockouts",
    summary="当前的登录锁定",
    tags=["安全管理"],
    roles=(Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
    response=Lockouts,
)
def lockouts(ctx: Ctx) -> Lockouts:
    items = []
    for key, w in get_account_service().lockouts(ctx.user):
        kind, _, subject = key.partition("#")
        kinds = {"U": ("account", "账号"), "IP": ("source", "网络地址"), "ACT": ("activation", "企业激活")}
        k, label = kinds.get(kind, ("other", kind))
        items.append(
            Lockout(
                key=key,
                kind=k,
                kind_label=label,
                subject=subject,
                failures=w.failures,
                locked_until=_bj(w.locked_until) or "",
            )
        )
    return Lockouts(items=items)


class Unlocked(BaseModel):
    ok: bool = True
    message: str


class UnlockRequest(BaseModel):
    key: str = Field(min_length=3, max_length=200, description="锁定项（如 U#county_yiwu、IP#10.0.0.1）")


@api_route(
    bp,
    "/security/lockouts/unlock",
    "POST",
    summary="解除登录锁定",
    tags=["安全管理"],
    roles=(Role.SECURITY_ADMIN,),
    body=UnlockRequest,
    response=Unlocked,
)
def unlock(ctx: Ctx, req: UnlockRequest) -> Unlocked:
    get_account_service().unlock(ctx.user, req.key, ctx.meta)
    return Unlocked(message="已解除锁定")


class PolicyView(BaseModel):
    policy: AccountPolicy
    version: int
    labels: dict[str, str]


def _policy_view(policy: AccountPolicy, version: int) -> PolicyView:
    labels = {k: f.description or k for k, f in AccountPolicy.model_fields.items()}
    return PolicyView(policy=policy, version=version, labels=labels)


@api_route(
    bp,
    "/security/policy",
    summary="账号安全策略",
    tags=["安全管理"],
    roles=(Role.SECURITY_ADMIN, Role.PROVINCE_ADMIN, Role.AUDIT_ADMIN),
    response=PolicyView,
)
def get_policy(ctx: Ctx) -> PolicyView:
    return _policy_view(*get_account_service().policy(ctx.user))


class PolicyChange(BaseModel):
    version: int = Field(ge=0)
    policy: AccountPolicy


@api_route(
    bp,
    "/security/policy",
    "PUT",
    summary="修改账号安全策略（安全管理员）",
    tags=["安全管理"],
    roles=(Role.SECURITY_ADMIN,),
    body=PolicyChange,
    response=PolicyView,
)
def put_policy(ctx: Ctx, req: PolicyChange) -> PolicyView:
    return _policy_view(*get_account_service().save_policy(ctx.user, req.policy, req.version, ctx.meta))


# ---- activation codes --------------------------------------------------------------------------------------


class CodeView(BaseModel):
    """激活码发放记录（激活码本身只在发放时显示一次）"""

    uscc: RequiredUscc
    enterprise_name: str
    county: str
    state: str
    state_label: str
    purpose: str
    issued_by_name: str | None = None
    issued_org: str
    issued_at: str
    expires_on: str
    used_at: str | None = None
    used_by: str | None = None

    @classmethod
    def of(cls, c: ActivationCode) -> CodeView:
        labels = {"ISSUED": "未使用", "USED": "已使用", "VOID": "已作废"}
        return cls(
            uscc=c.uscc,
            enterprise_name=c.enterprise_name,
            county=c.county,
            state=c.state.value,
            state_label=labels[c.state.value],
            purpose=c.purpose,
            issued_by_name=c.issued_by_name,
            issued_org=c.issued_org,
            issued_at=_bj(c.issued_at) or "",
            expires_on=c.expires_on,
            used_at=_bj(c.used_at),
            used_by=c.used_by,
        )


class IssuedCodeView(BaseModel):
    code: str = Field(description="激活码（只显示这一次，请打印激活通知书交给企业）")
    record: CodeView
    has_account: bool = Field(description="企业已有主账号：激活码用于重设主账号密码")


class IssueCode(BaseModel):
    uscc: RequiredUscc = Field(description="统一社会信用代码")


@api_route(
    bp,
    "/activation-codes",
    "POST",
    summary="为企业发放激活码（原激活码作废）",
    tags=["账号管理"],
    roles=CODE_ISSUERS,
    body=IssueCode,
    response=IssuedCodeView,
    status=201,
)
def issue_code(ctx: Ctx, req: IssueCode) -> IssuedCodeView:
    issued = get_account_service().issue_code(ctx.user, req.uscc, ctx.meta)
    return IssuedCodeView(code=issued.code, record=CodeView.of(issued.record), has_account=issued.has_account)


class BatchIssue(BaseModel):
    county: str = Field(pattern=r"^33\d{4}$", description="县级行政区划代码")
    cursor: str | None = None


class Skipped(BaseModel):
    uscc: RequiredUscc
    reason: str


class BatchIssued(BaseModel):
    items: list[IssuedCodeView]
    skipped: list[Skipped]
    cursor: str | None = Field(default=None, description="还有下一批时的游标")


@api_route(
    bp,
    "/activation-codes/batch",
    "POST",
    summary="批量发放激活码（一个县，每批至多300户）",
    tags=["账号管理"],
    roles=(Role.PROVINCE_ADMIN, Role.CITY_ADMIN),
    body=BatchIssue,
    response=BatchIssued,
)
def issue_batch(ctx: Ctx, req: BatchIssue) -> BatchIssued:
    issued, skipped, cursor = get_account_service().issue_batch(
        ctx.user, req.county, ctx.meta, cursor=decode_cursor(req.cursor)
    )
    return BatchIssued(
        items=[IssuedCodeView(code=i.code, record=CodeView.of(i.record), has_account=i.has_account) for i in issued],
        skipped=[Skipped(uscc=u, reason=r) for u, r in skipped],
        cursor=encode_cursor(cursor),
    )


class CodeQuery(BaseModel):
    county: str = Field(pattern=r"^33\d{4}$")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class CodeList(BaseModel):
    items: list[CodeView]
    cursor: str | None = None


@api_route(
    bp,
    "/activation-codes",
    summary="激活码发放记录（按县）",
    tags=["账号管理"],
    roles=CODE_ISSUERS,
    query=CodeQuery,
    response=CodeList,
)
def list_codes(ctx: Ctx, q: CodeQuery) -> CodeList:
    page = get_account_service().codes(ctx.user, q.county, limit=q.limit, cursor=decode_cursor(q.cursor))
    return CodeList(items=[CodeView.of(c) for c in page.items], cursor=encode_cursor(page.cursor))


# ---- enterprise staff accounts ------------------------------------------------------------------------------


class StaffList(BaseModel):
    items: list[AccountView]


@api_route(
    bp,
    "/me/accounts",
    summary="本企业的账号（主账号）",
    tags=["企业子账号"],
    roles=(Role.ENTERPRISE,),
    response=StaffList,
)
def my_staff(ctx: Ctx) -> StaffList:
    return StaffList(items=[AccountView.of(a) for a in get_account_service().staff(ctx.user)])


class NewStaff(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="用户名")
    display_name: str = Field(min_length=1, max_length=64, description="姓名")
    mobile: str | None = Field(default=None, pattern=r"^1\d{10}$", description="手机号码")


@api_route(
    bp,
    "/me/accounts",
    "POST",
    summary="添加本企业子账号",
    tags=["企业子账号"],
    roles=(Role.ENTERPRISE,),
    body=NewStaff,
    response=CreatedAccount,
    status=201,
)
def add_staff(ctx: Ctx, req: NewStaff) -> CreatedAccount:
    account, temp = get_account_service().add_staff(
        ctx.user, req.username.strip(), req.display_name.strip(), req.mobile, ctx.meta
    )
    return CreatedAccount(account=AccountView.of(account), temporary_password=temp)


@api_route(
    bp,
    "/me/accounts/{username}",
    "DELETE",
    summary="删除本企业子账号",
    tags=["企业子账号"],
    roles=(Role.ENTERPRISE,),
    response=AccountView,
)
def remove_staff(ctx: Ctx, username: str) -> AccountView:
    return AccountView.of(get_account_service().remove_staff(ctx.user, username, ctx.meta))


@api_route(
    bp,
    "/me/accounts/{username}/password-reset",
    "POST",
    summary="重置本企业子账号的密码",
    tags=["企业子账号"],
    roles=(Role.ENTERPRISE,),
    response=TemporaryPassword,
)
def reset_staff_password(ctx: Ctx, username: str) -> TemporaryPassword:
    return TemporaryPassword(temporary_password=get_account_service().reset_password(ctx.user, username, ctx.meta))
