"""Bearer token verification against a static JWKS (chalicelib.adapters.oidc_verifier). No network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chalicelib.adapters.oidc_verifier import OidcTokenVerifier, static_jwks_resolver
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.identity import Role
from chalicelib.settings import OidcSettings

ISSUER = "https://issuer.test/pool"
AUDIENCE = "client-1"
KID = "test-key-1"

SETTINGS = OidcSettings(
    issuer=ISSUER,
    jwks_url="",
    audience=AUDIENCE,
    token_use="id",
    claim_roles="cognito:groups",
    claim_region="custom:region_code",
    claim_uscc="custom:uscc",
    claim_username="cognito:username",
    claim_display_name="name",
    claim_org_name="custom:org_name",
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(key) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid=KID, alg="RS256", use="sig")
    return {"keys": [jwk]}


@pytest.fixture(scope="module")
def verifier(jwks) -> OidcTokenVerifier:
    return OidcTokenVerifier(SETTINGS, static_jwks_resolver(jwks))


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    c = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f0c7a8e-1111-2222-3333-444455556666",
        "iat": now,
        "exp": now + 600,
        "token_use": "id",
        "cognito:username": "county-yiwu",
        "cognito:groups": ["county_official"],
        "custom:region_code": "330782",
        "name": "义乌市住建局",
        "custom:org_name": "义乌市住房和城乡建设局",
    }
    c.update(overrides)
    return {k: v for k, v in c.items() if v is not None}


def sign(payload: dict[str, Any], key: Any, *, kid: str | None = KID, alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


# ---- accepted ---------------------------------------------------------------------------------------------------


def test_good_token_gives_principal(verifier, key):
    p = verifier.verify(sign(claims(), key))
    assert p.role == Role.COUNTY_OFFICIAL
    assert p.region_code == "330782"
    assert p.subject == "5f0c7a8e-1111-2222-3333-444455556666"
    assert p.username == "county-yiwu"
    assert p.display_name == "义乌市住建局"
    assert p.org_name == "义乌市住房和城乡建设局"
    assert p.uscc is None


def test_enterprise_token(verifier, key):
    token = sign(
        claims(**{"cognito:groups": ["enterprise"], "custom:uscc": "91330782MA2D000028", "custom:region_code": None}),
        key,
    )
    p = verifier.verify(token)
    assert p.role == Role.ENTERPRISE
    assert p.uscc == "91330782MA2D000028"
    assert p.region_code is None


def test_username_falls_back_to_sub(verifier, key):
    p = verifier.verify(sign(claims(**{"cognito:username": None}), key))
    assert p.username == p.subject


def test_groups_claim_as_space_or_comma_separated_string(verifier, key):
    p = verifier.verify(sign(claims(**{"cognito:groups": "staff, county_official"}), key))
    assert p.role == Role.COUNTY_OFFICIAL


def test_several_groups_narrowest_wins(verifier, key):
    token = sign(claims(**{"cognito:groups": ["province_admin", "county_official"]}), key)
    assert verifier.verify(token).role == Role.COUNTY_OFFICIAL


def test_role_map_from_settings(jwks, key):
    v = OidcTokenVerifier(replace(SETTINGS, role_map={"JH-Admins": "city_official"}), static_jwks_resolver(jwks))
    p = v.verify(sign(claims(**{"cognito:groups": ["JH-Admins"], "custom:region_code": "330700"}), key))
    assert p.role == Role.CITY_OFFICIAL


def test_expiry_within_leeway_is_accepted(verifier, key):
    now = int(time.time())
    p = verifier.verify(sign(claims(iat=now - 700, exp=now - 10), key))
    assert p.role == Role.COUNTY_OFFICIAL


def test_token_use_check_can_be_disabled(jwks, key):
    v = OidcTokenVerifier(replace(SETTINGS, token_use=""), static_jwks_resolver(jwks))
    assert v.verify(sign(claims(token_use=None), key)).role == Role.COUNTY_OFFICIAL


# ---- refused: 401 -----------------------------------------------------------------------------------------------


def test_expired_token(verifier, key):
    now = int(time.time())
    with pytest.raises(Unauthenticated, match="过期"):
        verifier.verify(sign(claims(iat=now - 4000, exp=now - 3600), key))


def test_expired_just_beyond_leeway(verifier, key):
    now = int(time.time())
    with pytest.raises(Unauthenticated, match="过期"):
        verifier.verify(sign(claims(iat=now - 700, exp=now - 120), key))


def test_not_yet_valid_token(verifier, key):
    now = int(time.time())
    with pytest.raises(Unauthenticated):
        verifier.verify(sign(claims(nbf=now + 3600), key))


def test_wrong_audience(verifier, key):
    with pytest.raises(Unauthenticated, match="不属于本平台"):
        verifier.verify(sign(claims(aud="another-client"), key))


def test_wrong_issuer(verifier, key):
    with pytest.raises(Unauthenticated, match="签发者"):
        verifier.verify(sign(claims(iss="https://evil.test/pool"), key))


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "sub", "aud"])
def test_required_claims(verifier, key, missing):
    with pytest.raises(Unauthenticated):
        verifier.verify(sign(claims(**{missing: None}), key))


def test_signed_by_another_key_with_same_kid(verifier, other_key):
    with pytest.raises(Unauthenticated, match="签名无效"):
        verifier.verify(sign(claims(), other_key))


def test_tampered_payload(verifier, key):
    header, _, signature = sign(claims(), key).split(".")
    forged = b64json(claims(**{"cognito:groups": ["province_admin"], "custom:region_code": "330000"}))
    with pytest.raises(Unauthenticated):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_alg_none(verifier):
    token = f"{b64json({'alg': 'none', 'typ': 'JWT', 'kid': KID})}.{b64json(claims())}."
    with pytest.raises(Unauthenticated, match="算法"):
        verifier.verify(token)


@pytest.mark.parametrize("alg", ["None", "NONE", "HS512", "PS256", ""])
def test_other_unaccepted_algorithms(verifier, alg):
    token = f"{b64json({'alg': alg, 'typ': 'JWT', 'kid': KID})}.{b64json(claims())}.c2ln"
    with pytest.raises(Unauthenticated):
        verifier.verify(token)


def test_hs256_signed_with_public_key_pem(verifier, key):
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': KID})}.{b64json(claims())}"
    mac = hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    with pytest.raises(Unauthenticated, match="算法"):
        verifier.verify(f"{signing_input}.{b64url(mac)}")


def test_access_token_refused_where_id_token_expected(verifier, key):
    with pytest.raises(Unauthenticated, match="类型"):
        verifier.verify(sign(claims(token_use="access"), key))
    with pytest.raises(Unauthenticated, match="类型"):
        verifier.verify(sign(claims(token_use=None), key))


def test_missing_kid(verifier, key):
    with pytest.raises(Unauthenticated, match="密钥标识"):
        verifier.verify(sign(claims(), key, kid=None))


def test_unknown_kid(verifier, key):
    with pytest.raises(Unauthenticated, match="无法识别"):
        verifier.verify(sign(claims(), key, kid="rotated-away"))


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "Bearer x.y.z", "....", "eyJhbGciOiJSUzI1NiJ9"])
def test_garbage(verifier, garbage):
    with pytest.raises(Unauthenticated):
        verifier.verify(garbage)


def test_unconfigured_issuer_or_audience(jwks, key):
    for s in (replace(SETTINGS, issuer=""), replace(SETTINGS, audience="")):
        with pytest.raises(Unauthenticated, match="未配置"):
            OidcTokenVerifier(s, static_jwks_resolver(jwks)).verify(sign(claims(), key))


def test_algorithm_of_wrong_key_family_is_unauthenticated(verifier):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(Unauthenticated):
        verifier.verify(sign(claims(), ec_key, alg="ES256"))


# ---- refused: 403 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [None, [], ["staff"], ["public"], ["system"]])
def test_no_platform_role_is_forbidden(verifier, key, groups):
    with pytest.raises(Forbidden, match="未分配平台角色"):
        verifier.verify(sign(claims(**{"cognito:groups": groups}), key))


def test_county_official_with_city_code_is_forbidden(verifier, key):
    with pytest.raises(Forbidden, match="县级"):
        verifier.verify(sign(claims(**{"custom:region_code": "330700"}), key))


def test_official_without_region_is_forbidden(verifier, key):
    with pytest.raises(Forbidden, match="行政区划代码"):
        verifier.verify(sign(claims(**{"custom:region_code": None}), key))


def test_enterprise_without_uscc_is_forbidden(verifier, key):
    with pytest.raises(Forbidden, match="统一社会信用代码"):
        verifier.verify(sign(claims(**{"cognito:groups": ["enterprise"]}), key))


def test_numeric_region_claim_is_not_a_server_error(verifier, key):
    try:
        p = verifier.verify(sign(claims(**{"custom:region_code": 330782}), key))
    except (Forbidden, Unauthenticated):
        return
    assert p.region_code == "330782"
