"""Password login against a generic OIDC provider's token endpoint (resource-owner password grant).

For regions without Cognito (AWS China): the province plugs in its own identity service. Configure
`IDENTITY_PROVIDER=oidc`, `OIDC_TOKEN_URL`, `OIDC_AUDIENCE` (client id) and optionally `OIDC_CLIENT_SECRET`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from chalicelib.domain.errors import Unauthenticated
from chalicelib.services.ports import Tokens


class OidcPasswordIdentityProvider:
    def __init__(self, token_url: str, client_id: str, client_secret: str | None = None, timeout: float = 10.0):
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout

    def authenticate(self, username: str, password: str) -> Tokens:
        form = {
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": self.client_id,
            "scope": "openid",
        }
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
                raise Unauthenticated("用户名或密码错误") from None
            raise
        if "id_token" not in body:
            raise Unauthenticated("身份认证服务未返回ID令牌")
        return Tokens(
            id_token=body["id_token"],
            access_token=body.get("access_token", ""),
            refresh_token=body.get("refresh_token"),
            expires_in=int(body.get("expires_in", 3600)),
        )
