"""Runtime settings: one pydantic-settings model, read lazily from the environment and validated once.

Nothing here is read at import time: `chalice.test.Client` and the local runtime set the stage's variables just
before a call. On AWS the variables come from `.chalice/config.json` (plain settings) and from the merge template
generated from `infra/` (resource names, secret ARNs, addresses); `app.py` validates them at cold start, so a
function whose configuration is incomplete refuses to start with a message naming every missing variable.

Development stages (`local`, `test`) may fall back to development values; every other stage must be given each
secret and address explicitly: a key that pseudonymises ID numbers or signs pagination cursors never defaults to a
literal on AWS, and the certificate QR code never points at 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_STAGES = frozenset({"local", "test"})
# Development stages only (deployed stages are refused without an explicit secret).
_DEV_PERSON_KEY = "local-development-person-key"
_DEV_CURSOR_KEY = "local-development-cursor-key"
_DEV_ACCOUNT_KEY = "local-development-account-key"


class SettingsError(RuntimeError):
    """The configuration of a deployed stage is incomplete: the function must not start."""


@dataclass(frozen=True)
class OidcSettings:
    """Token verification is OIDC-generic: Cognito is only one possible issuer."""

    issuer: str
    jwks_url: str
    audience: str
    token_use: str  # expected `token_use` claim ("id" for Cognito ID tokens; "" disables the check)
    claim_roles: str
    claim_region: str
    claim_uscc: str
    claim_username: str
    claim_display_name: str
    claim_org_name: str
    role_map: dict[str, str] = field(default_factory=dict)  # IdP group/role name -> platform role value
    leeway_seconds: int = 30


class Settings(BaseSettings):
    """Every environment variable the application reads. Field name = variable name in upper case."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = "local"
    aws_region: str = ""
    aws_default_region: str = ""
    # resources (set by the template / the local bootstrap)
    main_table: str = "cmsp-main"
    audit_table: str = "cmsp-audit"
    upload_bucket: str = "cmsp-uploads"
    permit_state_machine_arn: str = ""
    upload_url_ttl_seconds: int = 900
    upload_grace_seconds: int = 300
    # identity
    identity_provider: str = Field(default="cognito", pattern="^(cognito|oidc)$")
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    # RevokeToken on logout (moto does not implement it: the local stage turns it off; the platform session,
    # deleted on logout, is what refuses the tokens either way)
    cognito_revoke_tokens: bool = True
    oidc_token_url: str = ""
    oidc_client_secret: str = ""
    oidc_issuer: str = ""
    oidc_jwks_url: str = ""
    oidc_audience: str = ""
    oidc_token_use: str = "id"  # noqa: S105 - a claim value, not a password
    oidc_claim_roles: str = "cognito:groups"
    oidc_claim_region: str = "custom:region_code"
    oidc_claim_uscc: str = "custom:uscc"
    oidc_claim_username: str = "cognito:username"
    oidc_claim_display_name: str = "name"
    oidc_claim_org_name: str = "custom:org_name"
    oidc_role_map: str = ""
    oidc_leeway_seconds: int = 30
    # observability
    powertools_metrics_namespace: str = "CMSP"
    powertools_service_name: str = "zj-cmsp"
    # secrets: the value itself (development) or the Secrets Manager ARN holding it (deployed stages)
    person_key_secret: str = ""
    person_key_secret_arn: str = ""
    cursor_secret: str = ""
    cursor_secret_arn: str = ""
    # seals second-factor keys at rest and keys the activation-code digests
    account_secret: str = ""
    account_secret_arn: str = ""
    # How long one process trusts an account/session lookup (revocation holds within this many seconds across
    # processes; the process that made the change forgets at once).
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=30)
    # public API limits
    public_rate_per_second: float = 10.0
    public_burst: int = 60
    # Large sheets are validated in this many forked processes (the import function has 2 vCPUs).
    intake_workers: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1))
    # printed into every certificate's QR code
    public_base_url: str = ""
    # Seconds overrides of the statutory waits (demos and tests); 0 = the statutory working days.
    permit_review_seconds: int = 0
    permit_escalation_seconds: int = 0
    permit_completion_seconds: int = 0
    # The 公示 of a qualification application in seconds instead of days (development stages only; 0 = the days of
    # the routing table).
    qualification_notice_seconds: int = 0
    # Secrets Manager names of the issuing authorities' seal keys (`{prefix}/{region}`) and trust roots
    # (`{prefix}/trust-roots`); provisioned by the province's CA on AWS, generated as a test CA on development stages.
    licence_seal_keys_prefix: str = "cmsp/licence-seal"  # a name, not a secret
    # The local platform keeps its test CA and seal keys in its data folder instead (development stages only).
    licence_seal_keys_dir: str = ""
    # The national (MOHURD) interface; on deployed stages the key is in Secrets Manager.
    national_api_url: str = ""
    national_api_key: str = ""
    national_api_secret_arn: str = ""
    national_timeout_seconds: float = 20.0

    @property
    def development(self) -> bool:
        return self.stage in DEVELOPMENT_STAGES

    @property
    def region(self) -> str:
        return self.aws_region or self.aws_default_region or "us-east-1"

    @property
    def metrics_namespace(self) -> str:
        return self.powertools_metrics_namespace

    @property
    def service_name(self) -> str:
        return self.powertools_service_name

    @property
    def permit_timeouts(self) -> dict[str, int]:
        values = {
            "review": self.permit_review_seconds,
            "escalation": self.permit_escalation_seconds,
            "completion": self.permit_completion_seconds,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def oidc(self) -> OidcSettings:
        pool = self.cognito_user_pool_id
        default_issuer = f"https://cognito-idp.{self.region}.amazonaws.com/{pool}" if pool else ""
        issuer = self.oidc_issuer or default_issuer
        return OidcSettings(
            issuer=issuer,
            jwks_url=self.oidc_jwks_url or (f"{issuer}/.well-known/jwks.json" if issuer else ""),
            audience=self.oidc_audience or self.cognito_client_id,
            token_use=self.oidc_token_use,
            claim_roles=self.oidc_claim_roles,
            claim_region=self.oidc_claim_region,
            claim_uscc=self.oidc_claim_uscc,
            claim_username=self.oidc_claim_username,
            claim_display_name=self.oidc_claim_display_name,
            claim_org_name=self.oidc_claim_org_name,
            role_map=json.loads(self.oidc_role_map) if self.oidc_role_map else {},
            leeway_seconds=self.oidc_leeway_seconds,
        )

    @model_validator(mode="after")
    def _deployed_stages_are_complete(self) -> Settings:
        missing = missing_settings(self)
        if missing:
            raise ValueError(
                f"stage {self.stage!r} is not fully configured; set: {', '.join(missing)} "
                "(the template generated by infra/template.py provides all of them)"
            )
        if self.oidc_role_map:
            try:
                json.loads(self.oidc_role_map)
            except ValueError:
                raise ValueError("OIDC_ROLE_MAP is not valid JSON") from None
        return self


# What a deployed stage must be given (one of the names in each group).
REQUIRED_ON_AWS: tuple[tuple[str, ...], ...] = (
    ("MAIN_TABLE",),
    ("AUDIT_TABLE",),
    ("UPLOAD_BUCKET",),
    ("PERMIT_STATE_MACHINE_ARN",),
    ("PERSON_KEY_SECRET_ARN", "PERSON_KEY_SECRET"),
    ("CURSOR_SECRET_ARN", "CURSOR_SECRET"),
    ("ACCOUNT_SECRET_ARN", "ACCOUNT_SECRET"),
    ("PUBLIC_BASE_URL",),
    ("NATIONAL_API_URL",),
    ("NATIONAL_API_SECRET_ARN", "NATIONAL_API_KEY"),
    ("OIDC_ISSUER",),
    ("OIDC_AUDIENCE",),
)
REQUIRED_FOR_COGNITO = (("COGNITO_USER_POOL_ID",), ("COGNITO_CLIENT_ID",))
REQUIRED_FOR_OIDC = (("OIDC_TOKEN_URL",), ("OIDC_JWKS_URL",))


def required_groups(identity_provider: str) -> tuple[tuple[str, ...], ...]:
    return REQUIRED_ON_AWS + (REQUIRED_FOR_COGNITO if identity_provider == "cognito" else REQUIRED_FOR_OIDC)


def missing_settings(s: Settings) -> list[str]:
    if s.development:
        return []
    explicit = {k.upper() for k in s.model_fields_set}
    values = {name.upper(): getattr(s, name) for name in type(s).model_fields}
    missing = []
    for group in required_groups(s.identity_provider):
        if not any(name in explicit and values[name] not in ("", None) for name in group):
            missing.append(" or ".join(group))
    if s.public_base_url.startswith(("http://127.", "http://localhost")) and "PUBLIC_BASE_URL" in explicit:
        missing.append("PUBLIC_BASE_URL (a public https address, not a loopback one)")
    return missing


def development_defaults(s: Settings) -> dict[str, Any]:
    """Values only development stages fall back to (the local runtime and tests)."""
    return {
        "person_key_secret": s.person_key_secret or _DEV_PERSON_KEY,
        "cursor_secret": s.cursor_secret or _DEV_CURSOR_KEY,
        "account_secret": s.account_secret or _DEV_ACCOUNT_KEY,
        "public_base_url": s.public_base_url or "http://127.0.0.1:8000",
        "national_api_url": s.national_api_url or "http://127.0.0.1:8600",
        "national_api_key": s.national_api_key or "local-national-key",
    }


@cache
def get_settings() -> Settings:
    """The settings of this process. Cached; tests call `get_settings.cache_clear()` after changing env.
    Raises SettingsError (naming what is missing) on a deployed stage whose configuration is incomplete."""
    try:
        s = Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) + ': ' if e['loc'] else ''}{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise SettingsError(f"invalid configuration: {reasons}") from None
    if s.development:
        s = s.model_copy(update=development_defaults(s))
    return s


def validate_at_cold_start() -> None:
    """In a Lambda function (deployed stages), read and check the settings before the first event: a function whose
    configuration is incomplete fails its initialisation with the SettingsError message instead of serving."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and os.environ.get("STAGE", "local") not in DEVELOPMENT_STAGES:
        get_settings()
