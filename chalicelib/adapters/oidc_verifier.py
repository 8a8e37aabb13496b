"""Verify bearer tokens ourselves: signature against the issuer's JWKS, issuer, audience, expiry, token use.

`chalice local` does not enforce Cognito authorizers and API Gateway authorizers are not available in every
partition, so the application never trusts a token it has not verified. Only asymmetric algorithms are
accepted: `alg: none` and HS256 tokens (signed with a public key as an HMAC secret) are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt

from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.identity import Principal, check_principal_shape, pick_role
from chalicelib.settings import OidcSettings

ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]

KeyResolver = Callable[[str], Any]  # kid -> public key


def jwks_url_resolver(url: str) -> KeyResolver:
    """Keys fetched from the JWKS address and cached (PyJWKClient refetches on an unknown kid).

    A `file://` address pins the keys from a local JWKS document instead (air-gapped set-ups, tests).
    """
    if url.startswith("file://"):
        import json
        from pathlib import Path

        return static_jwks_resolver(json.loads(Path(url.removeprefix("file://")).read_text("utf-8")))
    client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)

    def resolve(kid: str) -> Any:
        try:
            return client.get_signing_key(kid).key
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("登录凭证的签名密钥无法识别") from exc

    return resolve


def static_jwks_resolver(jwks: dict[str, Any]) -> KeyResolver:
    keyset = jwt.PyJWKSet.from_dict(jwks)

    def resolve(kid: str) -> Any:
        for k in keyset.keys:
            if k.key_id == kid:
                return k.key
        raise Unauthenticated("登录凭证的签名密钥无法识别")

    return resolve


def _claim_str(value: Any) -> str | None:
    """Claims from a generic OIDC IdP may be numbers; empty values count as absent."""
    if value is None or value == "" or isinstance(value, dict | list | bool):
        return None
    return str(value).strip() or None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return [str(v) for v in value]


class OidcTokenVerifier:
    def __init__(self, settings: OidcSettings, resolve_key: KeyResolver):
        self.s = settings
        self.resolve_key = resolve_key

    def claims(self, token: str) -> dict[str, Any]:
        if not self.s.issuer or not self.s.audience:
            raise Unauthenticated("身份认证未配置（缺少签发者或受众）")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("登录凭证格式错误") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthenticated("登录凭证的签名算法不被接受")
        kid = header.get("kid")
        if not kid:
            raise Unauthenticated("登录凭证缺少密钥标识")
        key = self.resolve_key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.s.audience,
                issuer=self.s.issuer,
                leeway=self.s.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("登录已过期，请重新登录") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("登录凭证不属于本平台") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("登录凭证的签发者不被信任") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("登录凭证签名无效") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            # Includes a header algorithm of another key family than the key's (PyJWT raises TypeError then).
            raise Unauthenticated("登录凭证无效") from None
        if self.s.token_use and claims.get("token_use") != self.s.token_use:
            raise Unauthenticated("登录凭证类型不正确")
        return claims

    def verify(self, token: str) -> Principal:
        return self.principal_from_claims(self.claims(token))

    def username(self, claims: dict[str, Any]) -> str:
        return _claim_str(claims.get(self.s.claim_username)) or str(claims["sub"])

    def principal_from_claims(self, claims: dict[str, Any]) -> Principal:
        role = pick_role(_as_list(claims.get(self.s.claim_roles)), self.s.role_map)
        if role is None:
            raise Forbidden("账号未分配平台角色，请联系管理员")
        p = Principal(
            subject=str(claims["sub"]),
            username=_claim_str(claims.get(self.s.claim_username)) or str(claims["sub"]),
            role=role,
            region_code=_claim_str(claims.get(self.s.claim_region)),
            uscc=_claim_str(claims.get(self.s.claim_uscc)),
            display_name=_claim_str(claims.get(self.s.claim_display_name)),
            org_name=_claim_str(claims.get(self.s.claim_org_name)),
        )
        check_principal_shape(p)
        return p
