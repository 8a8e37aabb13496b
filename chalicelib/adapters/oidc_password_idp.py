"""Password login against a generic OIDC provider's token endpoint (resource-owner password grant).

For regions without Cognito (AWS China): the province plugs in its own identity service. Configure
`IDENTITY_PROVIDER=oidc`, `OIDC_TOKEN_URL`, `OIDC_AUDIENCE` (client id) and optionally `OIDC_CLIENT_SECRET`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import InvalidInput, Unauthenticated
from chalicelib.services.ports import Tokens


class OidcPasswordIdentityProvider:
    def __init__(self, token_url: str, client_id: str, client_secret: str | None = None, timeout: float = 10.0):
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout

    def authenticate(self, username: str, password: str) -> Tokens:
        return self._token(
            {"grant_type": "password", "username": username, "password": password, "scope": "openid"},
            "用户名或密码错误",
        )

    def refresh(self, refresh_token: str) -> Tokens:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, "登录已过期，请重新登录")

    def revoke(self, refresh_token: str) -> None:
        # The platform session is deleted on logout, which is what refuses the tokens; the provincial login's own
        # revocation endpoint (RFC 7009), where it has one, is not configured here.
        return None

    def _token(self, form: dict[str, str], refused: str) -> Tokens:
        form = {**form, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if not self.token_url.startswith(("https://", "http://")):
            raise Unauthenticated("身份认证服务地址配置错误")
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured https URL
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401):
                raise Unauthenticated(refused) from None
            raise
        if "id_token" not in body:
            raise Unauthenticated("身份认证服务未返回ID令牌")
        return Tokens(
            id_token=body["id_token"],
            access_token=body.get("access_token", ""),
            refresh_token=body.get("refresh_token"),
            expires_in=int(body.get("expires_in", 3600)),
        )


class BindingsOnlyIdentityAdmin:
    """The province's unified login (OIDC) owns people and passwords; the platform keeps bindings only."""

    manages_passwords = False

    def create_user(self, account: Account, password: str | None) -> str:
        return account.subject or account.username

    def delete_user(self, username: str) -> None:
        return None

    def set_password(self, username: str, password: str) -> None:
        raise InvalidInput("密码由省统一身份认证平台管理，请在该平台修改")

    def update_user(self, account: Account) -> None:
        return None

    def sign_out(self, username: str) -> None:
        return None
