"""Login, token refresh, logout, sessions, who-am-I, and the self-service of one's own account
(password change, second-factor enrolment), plus the public enterprise activation."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.accounts import PENDING_MESSAGES
from chalicelib.domain.clock import in_beijing
from chalicelib.domain.fields import RequiredUscc, Uscc
from chalicelib.domain.identity import ROLE_LABELS, Principal
from chalicelib.entrypoints.http import Ctx, api_route
from chalicelib.wiring import get_account_service, get_account_store, get_auth_service

bp = Blueprint(__name__)


class LoginRequest(BaseModel):
    """登录请求"""

    username: str = Field(min_length=1, max_length=128, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")
    totp_code: str | None = Field(default=None, max_length=12, description="动态口令（已绑定双因素认证的账号）")


class Me(BaseModel):
    """当前用户"""

    subject: str
    username: str
    role: str
    role_label: str
    region_code: str | None = None
    uscc: Uscc = Field(default=None, description="统一社会信用代码（企业用户）")
    display_name: str | None = None
    org_name: str | None = None
    pending: str | None = Field(
        default=None, description="须先完成的事项：PASSWORD_CHANGE 修改密码；MFA_SETUP 绑定动态口令"
    )
    pending_label: str | None = None
    is_main: bool = Field(default=False, description="企业主账号")
    mfa_enrolled: bool = False

    @classmethod
    def of(cls, p: Principal) -> Me:
        account = get_account_store().get(p.username)
        return cls(
            subject=p.subject,
            username=p.username,
            role=p.role.value,
            role_label=ROLE_LABELS[p.role],
            region_code=p.region_code,
            uscc=p.uscc,
            display_name=p.display_name,
            org_name=p.org_name,
            pending=p.pending,
            pending_label=PENDING_MESSAGES.get(p.pending) if p.pending else None,
            is_main=bool(account and account.is_main),
            mfa_enrolled=bool(account and account.mfa_enrolled),
        )


class SessionPolicy(BaseModel):
    """网页端会话规则"""

    idle_minutes: int = Field(description="无操作自动退出（分钟）")
    idle_warning_seconds: int = Field(description="自动退出前提前提醒（秒）")


class LoginResponse(BaseModel):
    """登录结果：使用 id_token 作为 Bearer 令牌"""

    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the token type name, not a secret
    user: Me
    session: SessionPolicy


def _login_response(result) -> LoginResponse:
    t = result.tokens
    return LoginResponse(
        id_token=t.id_token,
        access_token=t.access_token,
        refresh_token=t.refresh_token,
        expires_in=t.expires_in,
        user=Me.of(result.principal),
        session=SessionPolicy(
            idle_minutes=result.policy.idle_minutes, idle_warning_seconds=result.policy.idle_warning_seconds
        ),
    )


@api_route(
    bp,
    "/auth/login",
    "POST",
    summary="用户名密码登录（须双因素认证的账号另加动态口令）",
    tags=["认证"],
    roles=None,
    body=LoginRequest,
    response=LoginResponse,
    errors=(401, 429),
)
def login(ctx: Ctx, req: LoginRequest) -> LoginResponse:
    ua = (bp.current_request.headers.get("user-agent") or "")[:200]
    result = get_auth_service().login(req.username, req.password, ctx.meta, totp_code=req.totp_code, user_agent=ua)
    return _login_response(result)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=8192)


@api_route(
    bp,
    "/auth/refresh",
    "POST",
    summary="用刷新令牌换取新的登录凭证（同一会话）",
    tags=["认证"],
    roles=None,
    body=RefreshRequest,
    response=LoginResponse,
    errors=(401,),
)
def refresh(ctx: Ctx, req: RefreshRequest) -> LoginResponse:
    return _login_response(get_auth_service().refresh(req.refresh_token, ctx.meta))


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=8192)


class Done(BaseModel):
    ok: bool = True
    message: str = "操作成功"


@api_route(
    bp,
    "/auth/logout",
    "POST",
    summary="退出登录（结束本会话，吊销刷新令牌）",
    tags=["认证"],
    body=LogoutRequest,
    response=Done,
    pending_ok=True,
)
def logout(ctx: Ctx, req: LogoutRequest) -> Done:
    get_auth_service().logout(ctx.user, req.refresh_token, ctx.meta)
    return Done(message="已退出登录")


@api_route(bp, "/auth/me", summary="当前登录用户", tags=["认证"], response=Me, pending_ok=True)
def me(ctx: Ctx) -> Me:
    return Me.of(ctx.user)


class SessionView(BaseModel):
    """登录会话"""

    sid: str
    current: bool
    started_at: str = Field(description="登录时间（北京时间）")
    last_seen_at: str = Field(description="最近活动（北京时间）")
    expires_at: str
    source_ip: str
    user_agent: str
    mfa: bool


class Sessions(BaseModel):
    items: list[SessionView]


def _bj(iso: str) -> str:
    return in_beijing(iso).strftime("%Y-%m-%d %H:%M:%S")


@api_route(bp, "/auth/sessions", summary="我的登录会话", tags=["认证"], response=Sessions)
def my_sessions(ctx: Ctx) -> Sessions:
    items = [
        SessionView(
            sid=s.sid,
            current=s.sid == ctx.user.session_id,
            started_at=_bj(s.started_at),
            last_seen_at=_bj(s.last_seen_at),
            expires_at=_bj(s.expires_at),
            source_ip=s.source_ip,
            user_agent=s.user_agent,
            mfa=s.mfa,
        )
        for s in get_auth_service().sessions(ctx.user)
    ]
    return Sessions(items=items)


@api_route(bp, "/auth/sessions/{sid}", "DELETE", summary="结束我的某个登录会话", tags=["认证"], response=Done)
def end_my_session(ctx: Ctx, sid: str) -> Done:
    get_auth_service().end_session(ctx.user, sid, ctx.meta)
    return Done(message="该登录会话已结束")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256, description="当前密码")
    new_password: str = Field(min_length=1, max_length=256, description="新密码")


@api_route(
    bp,
    "/auth/password",
    "POST",
    summary="修改本人密码（其他登录会话随之结束）",
    tags=["认证"],
    body=PasswordChange,
    response=Done,
    pending_ok=True,
)
def change_password(ctx: Ctx, req: PasswordChange) -> Done:
    get_auth_service().change_password(ctx.user, req.current_password, req.new_password, ctx.meta)
    return Done(message="密码已修改")


class MfaSetup(BaseModel):
    """动态口令绑定信息：用手机身份验证器扫描二维码，或手工输入密钥"""

    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="二维码（SVG）")


@api_route(bp, "/auth/mfa/setup", "POST", summary="开始绑定动态口令", tags=["认证"], response=MfaSetup, pending_ok=True)
def mfa_setup(ctx: Ctx) -> MfaSetup:
    import io

    import segno

    secret, uri = get_auth_service().mfa_setup(ctx.user, ctx.meta)
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="svg", scale=5, border=2)
    return MfaSetup(secret=secret, otpauth_uri=uri, qr_svg=buf.getvalue().decode())


class MfaConfirm(BaseModel):
    code: str = Field(min_length=6, max_length=12, description="身份验证器显示的6位动态口令")


@api_route(
    bp,
    "/auth/mfa/confirm",
    "POST",
    summary="确认绑定动态口令",
    tags=["认证"],
    body=MfaConfirm,
    response=Done,
    pending_ok=True,
)
def mfa_confirm(ctx: Ctx, req: MfaConfirm) -> Done:
    get_auth_service().mfa_confirm(ctx.user, req.code, ctx.meta)
    return Done(message="动态口令已绑定，今后登录须输入动态口令")


class ActivationRequest(BaseModel):
    """企业账号激活：统一社会信用代码 + 激活码，设置用户名和密码"""

    uscc: RequiredUscc = Field(description="统一社会信用代码")
    code: str = Field(min_length=1, max_length=32, description="激活码（激活通知书上的12位）")
    username: str = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")
    display_name: str = Field(min_length=1, max_length=64, description="联系人姓名")
    mobile: str | None = Field(default=None, max_length=20, description="手机号码")


class ActivationResult(BaseModel):
    username: str
    org_name: str | None = None
    message: str


@api_route(
    bp,
    "/auth/activate",
    "POST",
    summary="企业凭激活码开通主账号（或重设主账号密码）",
    tags=["认证"],
    roles=None,
    body=ActivationRequest,
    response=ActivationResult,
    errors=(409, 429),
)
def activate(ctx: Ctx, req: ActivationRequest) -> ActivationResult:
    account = get_account_service().activate(
        req.uscc, req.code, req.username.strip(), req.password, req.display_name.strip(), req.mobile, ctx.meta
    )
    return ActivationResult(
        username=account.username, org_name=account.org_name, message="账号已开通，请使用用户名和新密码登录"
    )
