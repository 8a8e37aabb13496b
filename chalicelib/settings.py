"""Runtime settings, read lazily from the environment.

Nothing here is read at import time: `chalice.test.Client` and the local runtime set the stage's variables
just before a call, and Lambda cold starts should not pay for settings a handler never uses.
On AWS the variables come from `.chalice/config.json` (plain settings) and from the merge template generated
from `infra/` (resource names, identity-provider addresses). Locally the runtime's bootstrap sets them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


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


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    main_table: str
    audit_table: str
    upload_bucket: str
    upload_url_ttl_seconds: int
    upload_grace_seconds: int
    identity_provider: str  # "cognito" or "oidc"
    cognito_user_pool_id: str
    cognito_client_id: str
    oidc_token_url: str
    oidc: OidcSettings
    metrics_namespace: str
    service_name: str
    person_key_secret: bytes
    public_rate_per_second: float
    public_burst: int
    intake_workers: int
    permit_state_machine_arn: str
    public_base_url: str
    permit_timeouts: dict[str, int]
    national_api_url: str
    national_api_key: str
    national_api_secret_arn: str
    national_timeout_seconds: float


def _oidc_settings() -> OidcSettings:
    pool = _env("COGNITO_USER_POOL_ID")
    region = _env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1"
    default_issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}" if pool else ""
    issuer = _env("OIDC_ISSUER", default_issuer)
    role_map_raw = _env("OIDC_ROLE_MAP")
    return OidcSettings(
        issuer=issuer,
        jwks_url=_env("OIDC_JWKS_URL") or (f"{issuer}/.well-known/jwks.json" if issuer else ""),
        audience=_env("OIDC_AUDIENCE") or _env("COGNITO_CLIENT_ID"),
        token_use=_env("OIDC_TOKEN_USE", "id"),
        claim_roles=_env("OIDC_CLAIM_ROLES", "cognito:groups"),
        claim_region=_env("OIDC_CLAIM_REGION", "custom:region_code"),
        claim_uscc=_env("OIDC_CLAIM_USCC", "custom:uscc"),
        claim_username=_env("OIDC_CLAIM_USERNAME", "cognito:username"),
        claim_display_name=_env("OIDC_CLAIM_DISPLAY_NAME", "name"),
        claim_org_name=_env("OIDC_CLAIM_ORG_NAME", "custom:org_name"),
        role_map=json.loads(role_map_raw) if role_map_raw else {},
        leeway_seconds=_int("OIDC_LEEWAY_SECONDS", 30),
    )


@cache
def get_settings() -> Settings:
    """The settings of this process. Cached; tests call `get_settings.cache_clear()` after changing env."""
    return Settings(
        stage=_env("STAGE", "local"),
        region=_env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1",
        main_table=_env("MAIN_TABLE", "cmsp-main"),
        audit_table=_env("AUDIT_TABLE", "cmsp-audit"),
        upload_bucket=_env("UPLOAD_BUCKET", "cmsp-uploads"),
        upload_url_ttl_seconds=_int("UPLOAD_URL_TTL_SECONDS", 900),
        upload_grace_seconds=_int("UPLOAD_GRACE_SECONDS", 300),
        identity_provider=_env("IDENTITY_PROVIDER", "cognito"),
        cognito_user_pool_id=_env("COGNITO_USER_POOL_ID"),
        cognito_client_id=_env("COGNITO_CLIENT_ID"),
        oidc_token_url=_env("OIDC_TOKEN_URL"),
        oidc=_oidc_settings(),
        metrics_namespace=_env("POWERTOOLS_METRICS_NAMESPACE", "CMSP"),
        service_name=_env("POWERTOOLS_SERVICE_NAME", "zj-cmsp"),
        # HMAC key turning ID-card numbers into person keys. On AWS it comes from the secret the template creates;
        # the default only serves local runs and tests (keys made with it are not secret).
        person_key_secret=_env("PERSON_KEY_SECRET", "local-development-person-key").encode(),
        public_rate_per_second=float(_env("PUBLIC_RATE_PER_SECOND", "10")),
        public_burst=_int("PUBLIC_BURST", 60),
        # Large sheets are validated in this many forked processes (the import function has 2 vCPUs).
        intake_workers=_int("INTAKE_WORKERS", min(2, os.cpu_count() or 1)),
        permit_state_machine_arn=_env("PERMIT_STATE_MACHINE_ARN"),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        # Seconds overrides of the statutory waits (demos and tests); empty = the statutory working days.
        permit_timeouts={
            k: _int(f"PERMIT_{k.upper()}_SECONDS", 0)
            for k in ("review", "escalation", "completion")
            if _int(f"PERMIT_{k.upper()}_SECONDS", 0)
        },
        # The national (MOHURD) interface. On AWS the key is in Secrets Manager (NATIONAL_API_SECRET_ARN); the
        # defaults address the simulator the local runtime starts.
        national_api_url=_env("NATIONAL_API_URL", "http://127.0.0.1:8600"),
        national_api_key=_env("NATIONAL_API_KEY", "local-national-key"),
        national_api_secret_arn=_env("NATIONAL_API_SECRET_ARN"),
        national_timeout_seconds=float(_env("NATIONAL_TIMEOUT_SECONDS", "20")),
    )
