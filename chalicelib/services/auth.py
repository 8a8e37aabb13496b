"""Login and authentication use cases."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.identity import Principal, Role
from chalicelib.services.ports import AuditLog, IdentityProvider, Tokens, TokenVerifier


@dataclass
class LoginResult:
    tokens: Tokens
    principal: Principal


class AuthService:
    def __init__(self, idp: IdentityProvider, verifier: TokenVerifier, audit: AuditLog):
        self.idp = idp
        self.verifier = verifier
        self.audit = audit

    def login(self, username: str, password: str, meta: RequestMeta) -> LoginResult:
        try:
            tokens = self.idp.authenticate(username, password)
        except Unauthenticated:
            anonymous = Principal(subject=f"anonymous:{username}", username=username, role=Role.PUBLIC)
            self.audit.record(
                AuditDraft(target_type="login", target_id=username, action=AuditAction.USER_LOGIN_FAILED),
                anonymous,
                meta,
            )
            raise
        principal = self.verifier.verify(tokens.id_token)
        self.audit.record(
            AuditDraft(
                target_type="user",
                target_id=principal.subject,
                action=AuditAction.USER_LOGGED_IN,
                target_region=principal.region_code,
                target_owner=principal.uscc,
            ),
            principal,
            meta,
        )
        return LoginResult(tokens=tokens, principal=principal)

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("请先登录（缺少 Authorization 请求头）")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization 请求头格式应为“Bearer <令牌>”")
        return self.verifier.verify(token.strip())
