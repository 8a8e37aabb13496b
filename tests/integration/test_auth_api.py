"""Login and token checks through the real app, on in-process moto's Cognito."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.conftest import moto_private_jwk

JSON = {"Content-Type": "application/json"}


def body(resp):
    return json.loads(resp.body)


def test_login_returns_tokens_and_the_principal(client):
    resp = client.http.post(
        "/auth/login", headers=JSON, body=json.dumps({"username": "county_yiwu", "password": "Demo#2015zj"})
    )
    assert resp.status_code == 200
    data = body(resp)
    assert data["token_type"] == "Bearer"
    assert data["user"]["role"] == "county_official"
    assert data["user"]["region_code"] == "330782"
    assert data["user"]["role_label"] == "县级主管部门"


def test_wrong_password_is_401_in_chinese_and_audited(client, platform, login):
    resp = client.http.post("/auth/login", headers=JSON, body=json.dumps({"username": "province", "password": "wrong"}))
    assert resp.status_code == 401
    assert body(resp) == {"code": "UNAUTHENTICATED", "message": "用户名或密码错误", "details": None}
    trail = client.http.get("/audit/targets/login/province", headers=login("province"))
    assert trail.status_code == 200
    assert [e["action"] for e in body(trail)["items"]] == ["USER_LOGIN_FAILED"]


def test_login_body_is_validated_with_field_details(client):
    resp = client.http.post("/auth/login", headers=JSON, body=json.dumps({"username": ""}))
    assert resp.status_code == 400
    details = body(resp)["details"]
    fields = {d["field"]: d["message"] for d in details}
    assert fields["password"] == "缺少必填字段"
    assert fields["username"] == "内容过短"


def test_me_requires_a_token(client):
    resp = client.http.get("/auth/me")
    assert resp.status_code == 401
    assert body(resp)["code"] == "UNAUTHENTICATED"
    assert "WWW-Authenticate" in resp.headers


def test_me_with_a_valid_token(client, login):
    resp = client.http.get("/auth/me", headers=login("ent_yiwu"))
    assert resp.status_code == 200
    assert body(resp)["uscc"] == "91330782677204726D"


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _claims(platform, **over):
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{platform['user_pool']['pool_id']}",
        "aud": platform["user_pool"]["client_id"],
        "sub": "forged-sub",
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        "cognito:username": "forged",
        "cognito:groups": ["province_admin"],
        "custom:region_code": "330000",
    }
    claims.update(over)
    return claims


def _moto_signed(claims) -> str:
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(moto_private_jwk()))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def _live_session(client, login, username="ent_yiwu"):
    """The claims of a real login of `username` (subject, session id), to forge tokens around."""
    token = login(username)["Authorization"].split()[1]
    return jwt.decode(token, options={"verify_signature": False})


def test_a_correctly_signed_token_of_a_live_session_is_accepted(client, platform, login):
    # Sanity check of the forging helper: with every claim right and the session open, the token is accepted...
    real = _live_session(client, login)
    claims = _claims(platform, sub=real["sub"], origin_jti=real["origin_jti"], **{"cognito:username": "ent_yiwu"})
    resp = client.http.get("/auth/me", headers={"Authorization": f"Bearer {_moto_signed(claims)}"})
    assert resp.status_code == 200, resp.body
    # ...and the role, region and enterprise come from the platform's account, never from the token's claims:
    # the forged "province_admin" group and region 330000 changed nothing
    me = body(resp)
    assert me["role"] == "enterprise" and me["uscc"] == "91330782677204726D" and me["region_code"] == "330782"


def test_a_correctly_signed_token_that_no_login_opened_is_401(client, platform, login):
    """Even someone holding the IdP's signing key cannot mint access: the token must belong to an open platform
    session of an existing account."""
    real = _live_session(client, login)
    for over, code in (
        ({"cognito:username": "forged"}, "ACCOUNT_UNKNOWN"),
        ({"cognito:username": "ent_yiwu", "sub": real["sub"], "origin_jti": "no-such-login"}, "SESSION_ENDED"),
        ({"cognito:username": "ent_yiwu", "sub": "another-sub", "origin_jti": real["origin_jti"]}, "UNAUTHENTICATED"),
    ):
        token = _moto_signed(_claims(platform, **over))
        resp = client.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, (over, resp.body)
        assert body(resp)["code"] == code, (over, body(resp))


@pytest.mark.parametrize(
    "case",
    ["expired", "wrong_audience", "wrong_issuer", "access_token", "wrong_signature", "alg_none", "hs256"],
)
def test_bad_tokens_are_rejected_with_401(client, platform, case):
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = int(time.time())
    if case == "expired":
        token = _moto_signed(_claims(platform, iat=now - 7200, exp=now - 3600))
    elif case == "wrong_audience":
        token = _moto_signed(_claims(platform, aud="another-client"))
    elif case == "wrong_issuer":
        token = _moto_signed(_claims(platform, iss="https://evil.example/pool"))
    elif case == "access_token":
        token = _moto_signed(_claims(platform, token_use="access"))
    elif case == "wrong_signature":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(_claims(platform), other, algorithm="RS256", headers={"kid": "dummy"})
    elif case == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'dummy'})}.{_b64(_claims(platform))}."
    else:  # HS256 keyed with the public key: the classic algorithm-confusion attack
        import hashlib
        import hmac

        secret = json.dumps(moto_private_jwk()).encode()
        signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'dummy'})}.{_b64(_claims(platform))}"
        sig = base64.urlsafe_b64encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
        token = f"{signing_input}.{sig.decode().rstrip('=')}"
    resp = client.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401, (case, resp.body)
    assert body(resp)["code"] == "UNAUTHENTICATED"


def test_malformed_authorization_header_is_401(client):
    for header in ("Basic abc", "Bearer", "Bearer not.a.jwt", "token"):
        resp = client.http.get("/auth/me", headers={"Authorization": header})
        assert resp.status_code == 401, header


def test_successful_login_is_audited_on_the_account(client, login):
    client.http.post(
        "/auth/login", headers=JSON, body=json.dumps({"username": "city_jinhua", "password": "Demo#2015zj"})
    )
    login("city_jinhua")
    trail = client.http.get("/audit/targets/account/city_jinhua", headers=login("province"))
    assert trail.status_code == 200
    actions = [e["action"] for e in body(trail)["items"]]
    assert actions == ["ACCOUNT_CREATED", "USER_LOGGED_IN", "USER_LOGGED_IN"]


def test_the_audit_trail_of_a_person_is_found_by_login_name_and_shows_names(client, login):
    login("city_jinhua")
    by_name = client.http.get("/audit/actors/city_jinhua", headers=login("province"))
    assert by_name.status_code == 200
    items = body(by_name)["items"]
    assert items and all(e["actor_username"] == "city_jinhua" for e in items)
    assert items[0]["actor_name"] == "周敏（金华市建设局）"  # people by name (谁录入、谁负责)
