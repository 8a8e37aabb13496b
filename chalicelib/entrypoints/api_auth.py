"""Login (POST /auth/login) and who-am-I."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.domain.fields import Uscc
from chalicelib.domain.identity import ROLE_LABELS, Principal
from chalicelib.entrypoints.http import Ctx, api_route
from chalicelib.wiring import get_auth_service

bp = Blueprint(__name__)


class LoginRequest(BaseModel):
    """登录请求"""

    username: str = Field(min_length=1, max_length=128, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


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

    @classmethod
    def of(cls, p: Principal) -> Me:
        return cls(
            subject=p.subject,
            username=p.username,
            role=p.role.value,
            role_label=ROLE_LABELS[p.role],
            region_code=p.region_code,
            uscc=p.uscc,
            display_name=p.display_name,
            org_name=p.org_name,
        )


class LoginResponse(BaseModel):
    """登录结果：使用 id_token 作为 Bearer 令牌"""

    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the token type name, not a secret
    user: Me


@api_route(
    bp,
    "/auth/login",
    "POST",
    summary="用户名密码登录",
    tags=["认证"],
    roles=None,
    body=LoginRequest,
    response=LoginResponse,
    errors=(401, 429),
)
def login(ctx: Ctx, req: LoginRequest) -> LoginResponse:
    result = get_auth_service().login(req.username, req.password, ctx.meta)
    t = result.tokens
    return LoginResponse(
        id_token=t.id_token,
        access_token=t.access_token,
        refresh_token=t.refresh_token,
        expires_in=t.expires_in,
        user=Me.of(result.principal),
    )


@api_route(bp, "/auth/me", summary="当前登录用户", tags=["认证"], response=Me)
def me(ctx: Ctx) -> Me:
    return Me.of(ctx.user)
