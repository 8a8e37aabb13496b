"""Accounts over HTTP against the local runtime: activation with a code issued by the county, lockout, and
revocation holding on the very next request (disable, delete, logout)."""

from __future__ import annotations

import requests

from infra.local.demo import DEMO_PASSWORD, _uscc, http_login
from tests.e2e.test_local_runtime import login, runtime  # noqa: F401 - the module-scoped runtime fixture


def _post(rt, path, payload, headers=None, expect=200):
    r = requests.post(f"{rt['base']}{path}", json=payload, headers=headers or {}, timeout=20)
    assert r.status_code == expect, f"{path}: {r.status_code} {r.text[:400]}"
    return r.json()


def test_activation_over_http_valid_then_reused(runtime):  # noqa: F811
    county = login(runtime, "county_yiwu")
    uscc = _uscc("91330782", "MA2F0003")  # 浙江佛堂古建园林有限公司, no account yet
    code = _post(runtime, "/activation-codes", {"uscc": uscc}, county, expect=201)["code"]
    form = {
        "uscc": uscc,
        "code": code,
        "username": "fotang_main",
        "password": "Fotang#Yuan2026",
        "display_name": "吴园",
    }
    wrong = _post(runtime, "/auth/activate", {**form, "uscc": _uscc("91330782", "MA2F0001")}, expect=400)
    assert "不匹配" in wrong["message"]
    assert _post(runtime, "/auth/activate", form)["username"] == "fotang_main"
    again = _post(runtime, "/auth/activate", {**form, "username": "fotang_two"}, expect=400)
    assert "已使用" in again["message"]
    token = http_login(runtime["base"], "fotang_main", "Fotang#Yuan2026")["id_token"]
    me = requests.get(f"{runtime['base']}/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert me["uscc"] == uscc and me["is_main"] is True


def test_revocation_holds_on_the_next_request_over_http(runtime):  # noqa: F811
    admin = login(runtime, "admin")
    victim = login(runtime, "county_xihu")
    base = runtime["base"]
    assert requests.get(f"{base}/auth/me", headers=victim, timeout=10).status_code == 200
    _post(runtime, "/accounts/county_xihu/state", {"action": "disable", "reason": "离岗"}, admin)
    refused = requests.get(f"{base}/auth/me", headers=victim, timeout=10)
    assert refused.status_code == 401 and refused.json()["code"] == "ACCOUNT_DISABLED"
    _post(runtime, "/accounts/county_xihu/state", {"action": "enable"}, admin)
    assert requests.get(f"{base}/auth/me", headers=victim, timeout=10).status_code == 401  # the old token stays dead

    ent = login(runtime, "ent_hangzhou")
    _post(runtime, "/auth/logout", {}, ent)
    ended = requests.get(f"{base}/auth/me", headers=ent, timeout=10)
    assert ended.status_code == 401 and ended.json()["code"] == "SESSION_ENDED"


def test_lockout_over_http_names_the_wait(runtime):  # noqa: F811
    base = runtime["base"]
    for _ in range(5):
        r = requests.post(f"{base}/auth/login", json={"username": "city_hangzhou", "password": "x"}, timeout=10)
        assert r.status_code == 401
    locked = requests.post(
        f"{base}/auth/login", json={"username": "city_hangzhou", "password": DEMO_PASSWORD}, timeout=10
    )
    assert locked.status_code == 429 and "请30分钟后再试" in locked.json()["message"]
    assert int(locked.headers["Retry-After"]) > 1700
    security = login(runtime, "security")
    _post(runtime, "/security/lockouts/unlock", {"key": "U#city_hangzhou"}, security)
    assert http_login(base, "city_hangzhou")["user"]["username"] == "city_hangzhou"
