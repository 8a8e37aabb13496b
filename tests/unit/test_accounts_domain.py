"""Account rules without I/O: password policy, login-failure windows, TOTP, activation codes, who manages whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from chalicelib.domain.accounts import (
    AccountPolicy,
    FailureWindow,
    default_policy,
    ensure_can_issue_code,
    ensure_can_manage,
    hash_secret,
    new_activation_code,
    normalise_code,
    password_problems,
    register_failure,
    temporary_password,
    verify_secret,
    verify_totp,
    wait_text,
)
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.identity import Principal, Role

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def who(role: Role, region: str | None = "330000", username: str = "actor") -> Principal:
    return Principal(subject=f"s-{username}", username=username, role=role, region_code=region)


def test_password_rules_each_named():
    p = default_policy()
    assert password_problems("Zhejiang#2026", "county_yiwu", p) == []
    assert any("长度至少10位" in x for x in password_problems("Ab#1", "u", p))
    assert any("3类" in x for x in password_problems("abcdefghijkl", "u", p))
    assert any("用户名" in x for x in password_problems("XCounty_Yiwu#9", "county_yiwu", p))
    assert any("空格" in x for x in password_problems("Abc def#12345", "u", p))
    history = [hash_secret("Old#Password1")]
    assert any("最近5次" in x for x in password_problems("Old#Password1", "u", p, history))
    assert verify_secret("Old#Password1", history[0]) and not verify_secret("other", history[0])


def test_temporary_passwords_satisfy_the_policy():
    p = default_policy()
    for _ in range(20):
        assert password_problems(temporary_password(p), "anyone", p) == []


def test_failure_window_locks_at_the_limit_and_restarts_after_the_window():
    w = FailureWindow()
    for i in range(4):
        w = register_failure(w, NOW + timedelta(minutes=i), limit=5, window_minutes=30, lock_minutes=30)
    assert w.failures == 4 and not w.locked(NOW + timedelta(minutes=4))
    locked = register_failure(w, NOW + timedelta(minutes=4), limit=5, window_minutes=30, lock_minutes=30)
    assert locked.locked(NOW + timedelta(minutes=5)) and locked.wait_seconds(NOW + timedelta(minutes=5)) == 29 * 60
    later = register_failure(w, NOW + timedelta(minutes=40), limit=5, window_minutes=30, lock_minutes=30)
    assert later.failures == 1  # the old failures fell out of the window
    assert wait_text(1740) == "29分钟" and wait_text(45) == "45秒"


def test_policy_bounds_keep_every_protection():
    raw = default_policy().model_dump()
    for field, value in (("password_min_length", 6), ("lockout_failures", 50), ("idle_minutes", 120)):
        with pytest.raises(ValidationError):
            AccountPolicy.model_validate({**raw, field: value})
    with pytest.raises(ValidationError, match="三员"):
        AccountPolicy.model_validate({**raw, "mfa_required_roles": ["province_official"]})


def test_totp_accepts_one_step_of_drift_and_never_the_same_step_twice():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    code = totp.at(NOW)
    step = verify_totp(secret, code, NOW, None)
    assert step == int(NOW.timestamp()) // 30
    assert verify_totp(secret, code, NOW, step) is None  # replay
    assert verify_totp(secret, totp.at(NOW - timedelta(seconds=30)), NOW, None) == step - 1  # phone 30 s behind
    assert verify_totp(secret, totp.at(NOW - timedelta(seconds=90)), NOW, None) is None
    assert verify_totp(secret, "12a456", NOW, None) is None


def test_activation_codes_are_read_back_as_typed():
    code = new_activation_code()
    assert len(code) == 14 and code.count("-") == 2
    assert not set(code.replace("-", "")) & set("0O1IL")
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code("ABCD-EFGH-IJK0") == ""  # letters the alphabet never prints


@pytest.mark.parametrize(
    ("actor", "role", "region", "allowed"),
    [
        (who(Role.PROVINCE_ADMIN), Role.COUNTY_OFFICIAL, "330782", True),
        (who(Role.PROVINCE_ADMIN), Role.CITY_ADMIN, "330700", True),
        (who(Role.PROVINCE_ADMIN), Role.SECURITY_ADMIN, "330000", False),
        (who(Role.CITY_ADMIN, "330700"), Role.COUNTY_OFFICIAL, "330782", True),
        (who(Role.CITY_ADMIN, "330700"), Role.COUNTY_OFFICIAL, "330106", False),
        (who(Role.CITY_ADMIN, "330700"), Role.CITY_OFFICIAL, "330700", False),
        (who(Role.SECURITY_ADMIN), Role.AUDIT_ADMIN, "330000", True),
        (who(Role.SECURITY_ADMIN), Role.COUNTY_OFFICIAL, "330782", False),
        (who(Role.AUDIT_ADMIN), Role.COUNTY_OFFICIAL, "330782", False),
        (who(Role.PROVINCE_OFFICIAL), Role.COUNTY_OFFICIAL, "330782", False),
    ],
)
def test_who_manages_whom(actor, role, region, allowed):
    if allowed:
        ensure_can_manage(actor, role, region)
    else:
        with pytest.raises(Forbidden):
            ensure_can_manage(actor, role, region)


def test_nobody_manages_their_own_account():
    with pytest.raises(Forbidden, match="本人"):
        ensure_can_manage(who(Role.PROVINCE_ADMIN, username="admin"), Role.COUNTY_OFFICIAL, "330782", username="admin")


def test_activation_codes_are_issued_within_the_issuers_area():
    ensure_can_issue_code(who(Role.COUNTY_OFFICIAL, "330782"), "330782")
    with pytest.raises(Forbidden):
        ensure_can_issue_code(who(Role.COUNTY_OFFICIAL, "330782"), "330783")
    with pytest.raises(Forbidden):
        ensure_can_issue_code(who(Role.CITY_ADMIN, "330700"), "330106")
    with pytest.raises(Forbidden):
        ensure_can_issue_code(who(Role.ENTERPRISE, None), "330782")


def test_the_secret_box_seals_with_a_fresh_nonce_and_detects_tampering():
    from chalicelib.adapters.secret_box import AesSecretBox

    box = AesSecretBox(b"a-test-account-secret-of-some-length")
    a, b = box.seal("JBSWY3DPEHPK3PXP"), box.seal("JBSWY3DPEHPK3PXP")
    assert a != b and box.open(a) == "JBSWY3DPEHPK3PXP"
    import base64

    raw = bytearray(base64.urlsafe_b64decode(a[3:]))
    raw[len(raw) // 2] ^= 0x01  # one bit of the ciphertext
    tampered = "v1." + base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(InvalidTag):
        box.open(tampered)
    assert box.digest("X") == AesSecretBox(b"a-test-account-secret-of-some-length").digest("X")
    assert box.digest("X") != AesSecretBox(b"another-account-secret-of-length").digest("X")
