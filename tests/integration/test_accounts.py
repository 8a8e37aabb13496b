"""Accounts, activation, lockout, password policy, second factor, sessions and revocation over the API
(in-process moto: Cognito, DynamoDB; the platform's own account records decide)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pyotp
import pytest

from infra.local.demo import DEMO_PASSWORD

JSON = {"Content-Type": "application/json"}
NEW_PASSWORD = "Yiwu#Build2026"


def body(resp):
    return json.loads(resp.body)


def post(client, path, payload, headers=None):
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=json.dumps(payload))


def raw_login(client, username, password, totp=None):
    payload = {"username": username, "password": password}
    if totp:
        payload["totp_code"] = totp
    return post(client, "/auth/login", payload)


def bearer(resp) -> dict[str, str]:
    assert resp.status_code == 200, resp.body
    return {"Authorization": f"Bearer {body(resp)['id_token']}"}


class Clock:
    """The services' clock, moved by the test (lockout waits, code expiry)."""

    def __init__(self, monkeypatch):
        from chalicelib import wiring
        from chalicelib.domain.clock import utcnow

        self.offset = timedelta()
        now = lambda: utcnow() + self.offset  # noqa: E731
        monkeypatch.setattr(wiring.get_auth_service(), "clock", now)
        monkeypatch.setattr(wiring.get_account_service(), "clock", now)

    def advance(self, **kw):
        self.offset += timedelta(**kw)


@pytest.fixture
def clock(platform, monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def registry(platform):
    from infra.local.demo import seed_registry

    seed_registry()


def yiwu_without_account():
    """Two Yiwu enterprises of the demo registry that have no account yet."""
    from chalicelib import wiring
    from chalicelib.domain.records import RecordType

    page = wiring.get_registry_repository().list_by_region(
        RecordType.ENTERPRISE, "330700", "330782", limit=50, cursor=None
    )
    taken = {"91330782677204726D", "91330782MA2F00063N"}
    return [r.uscc for r in page.items if r.uscc not in taken][:2]


def activate(client, uscc, code, username="yiwu_main", password=NEW_PASSWORD):
    return post(
        client,
        "/auth/activate",
        {"uscc": uscc, "code": code, "username": username, "password": password, "display_name": "张三"},
    )


# ---- enterprise activation ------------------------------------------------------------------------------------


def test_activation_code_flow_valid_reused_expired_void_and_wrong_uscc(client, login, registry, clock):
    first, second = yiwu_without_account()
    county = login("county_yiwu")
    issued = post(client, "/activation-codes", {"uscc": first}, county)
    assert issued.status_code == 201, issued.body
    code = body(issued)["code"]
    assert body(issued)["record"]["state_label"] == "未使用" and len(code) == 14

    # another county cannot issue for a Yiwu enterprise
    assert post(client, "/activation-codes", {"uscc": first}, login("county_xihu")).status_code == 403

    wrong = activate(client, first, "ABCD-EFGH-JKMN")
    assert wrong.status_code == 400 and body(wrong)["message"].startswith("激活码不正确")
    mismatch = activate(client, second, code)
    assert mismatch.status_code == 400 and "不匹配" in body(mismatch)["message"]
    weak = activate(client, first, code, password="yiwu_mainabc")
    assert weak.status_code == 400
    problems = [d["message"] for d in body(weak)["details"]]
    assert any("至少包含" in p for p in problems) and any("不能包含用户名" in p for p in problems), problems

    # typed in lower case without dashes: still the printed code
    ok = activate(client, first, code.replace("-", "").lower())
    assert ok.status_code == 200, ok.body
    me = body(client.http.get("/auth/me", headers=bearer(raw_login(client, "yiwu_main", NEW_PASSWORD))))
    assert me["role"] == "enterprise" and me["uscc"] == first and me["is_main"] and me["pending"] is None

    reused = activate(client, first, code, username="yiwu_other")
    assert reused.status_code == 400 and "已使用" in body(reused)["message"]

    # a replaced code is void; an old code is expired
    old = body(post(client, "/activation-codes", {"uscc": second}, county))["code"]
    new = body(post(client, "/activation-codes", {"uscc": second}, county))["code"]
    void = activate(client, second, old, username="yiwu_two")
    assert void.status_code == 400 and "已作废" in body(void)["message"]
    clock.advance(days=31)
    expired = activate(client, second, new, username="yiwu_two")
    assert expired.status_code == 400 and "已过期" in body(expired)["message"]
    clock.offset = timedelta()  # back to today (the officials' sessions would be a month idle otherwise)

    # every attempt is in the enterprise's audit trail
    trail = body(client.http.get(f"/audit/targets/enterprise_account/{first}", headers=county))["items"]
    actions = [e["action"] for e in trail]
    assert actions[0] == "ACTIVATION_CODE_ISSUED" and "ACTIVATION_FAILED" in actions
    assert "ACCOUNT_ACTIVATED" not in actions  # that entry is on the account itself
    acct_trail = body(client.http.get("/audit/targets/account/yiwu_main", headers=login("auditor")))["items"]
    assert [e["action"] for e in acct_trail] == ["ACCOUNT_ACTIVATED", "USER_LOGGED_IN"]


def test_a_main_account_adds_and_removes_its_staff(client, login):
    main = login("ent_yiwu")
    created = post(client, "/me/accounts", {"username": "yiwu_staff1", "display_name": "李四"}, main)
    assert created.status_code == 201, created.body
    temp = body(created)["temporary_password"]
    staff = bearer(raw_login(client, "yiwu_staff1", temp))
    me = body(client.http.get("/auth/me", headers=staff))
    assert me["uscc"] == "91330782677204726D" and not me["is_main"] and me["pending"] == "PASSWORD_CHANGE"
    # a staff account cannot manage staff, and another enterprise cannot see them
    assert (
        post(client, "/auth/password", {"current_password": temp, "new_password": NEW_PASSWORD}, staff).status_code
        == 200
    )
    assert client.http.get("/me/accounts", headers=staff).status_code == 403
    assert client.http.delete("/me/accounts/yiwu_staff1", headers=login("ent_hangzhou")).status_code == 404
    names = [a["username"] for a in body(client.http.get("/me/accounts", headers=main))["items"]]
    assert "yiwu_staff1" in names and "ent_yiwu" in names
    assert client.http.delete("/me/accounts/yiwu_staff1", headers=main).status_code == 200
    assert client.http.get("/auth/me", headers=staff).status_code == 401


# ---- passwords and login ----------------------------------------------------------------------------------------


def test_lockout_after_the_configured_failures_and_unlock_after_the_wait(client, clock):
    for i in range(5):
        resp = raw_login(client, "county_yiwu", "wrong-password")
        assert resp.status_code == 401, (i, resp.body)
    locked = raw_login(client, "county_yiwu", DEMO_PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    err = body(locked)
    assert err["code"] == "ACCOUNT_LOCKED" and "连续5次登录失败" in err["message"] and "30分钟" in err["message"]
    assert int(locked.headers["Retry-After"]) == err["details"]["retry_after_seconds"] > 1700
    clock.advance(minutes=29)
    assert raw_login(client, "county_yiwu", DEMO_PASSWORD).status_code == 429
    clock.advance(minutes=2)
    assert raw_login(client, "county_yiwu", DEMO_PASSWORD).status_code == 200


def test_the_security_administrator_sees_and_lifts_a_lockout(client, login):
    for _ in range(5):
        raw_login(client, "county_xihu", "wrong-password")
    security = login("security")
    locks = body(client.http.get("/security/lockouts", headers=security))["items"]
    mine = [x for x in locks if x["subject"] == "county_xihu"]
    assert mine and mine[0]["kind_label"] == "账号" and mine[0]["failures"] == 5
    # the system administrator cannot (三员分立)
    assert post(client, "/security/lockouts/unlock", {"key": "U#county_xihu"}, login("admin")).status_code == 403
    assert post(client, "/security/lockouts/unlock", {"key": "U#county_xihu"}, security).status_code == 200
    assert raw_login(client, "county_xihu", DEMO_PASSWORD).status_code == 200
    trail = body(client.http.get("/audit/targets/login/county_xihu", headers=login("auditor")))["items"]
    assert [e["action"] for e in trail].count("USER_LOGIN_FAILED") == 5
    assert "ACCOUNT_LOCKED" in [e["action"] for e in trail] and trail[-1]["action"] == "ACCOUNT_UNLOCKED"


def test_a_source_address_is_paused_after_many_failures_across_usernames(client):
    for i in range(30):
        raw_login(client, f"nobody{i}", "wrong-password")
    paused = raw_login(client, "county_yiwu", DEMO_PASSWORD)
    assert paused.status_code == 429 and body(paused)["code"] == "SOURCE_LOCKED"
    assert "网络地址" in body(paused)["message"]


def test_password_policy_rejections_name_every_rule(client, login):
    headers = login("county_yiwu")
    cases = {
        "short": "Ab#1",
        "classes": "abcdefghijkl",
        "username": "County_yiwu#2026",
        "current": DEMO_PASSWORD,
        "space": "Abc def#12345",
    }
    expected = {
        "short": "长度至少10位",
        "classes": "至少包含",
        "username": "不能包含用户名",
        "current": "最近5次",
        "space": "空格",
    }
    for case, pw in cases.items():
        resp = post(client, "/auth/password", {"current_password": DEMO_PASSWORD, "new_password": pw}, headers)
        assert resp.status_code == 400, case
        assert any(expected[case] in d["message"] for d in body(resp)["details"]), (case, body(resp))
    wrong = post(client, "/auth/password", {"current_password": "nope", "new_password": NEW_PASSWORD}, headers)
    assert wrong.status_code == 400 and body(wrong)["details"][0]["field"] == "current_password"
    # a change, then the previous password is refused by the history rule
    assert (
        post(
            client, "/auth/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}, headers
        ).status_code
        == 200
    )
    back = post(client, "/auth/password", {"current_password": NEW_PASSWORD, "new_password": DEMO_PASSWORD}, headers)
    assert back.status_code == 400 and "最近5次" in body(back)["message"]


def test_forced_change_at_first_login_and_after_an_administrator_reset(client, login):
    admin = login("admin")
    created = post(
        client,
        "/accounts",
        {
            "username": "county_dongyang",
            "role": "county_official",
            "display_name": "东阳审核员",
            "region_code": "330783",
        },
        admin,
    )
    assert created.status_code == 201, created.body
    temp = body(created)["temporary_password"]
    assert body(created)["account"]["must_change_password"] is True
    headers = bearer(raw_login(client, "county_dongyang", temp))
    refused = client.http.get("/auth/sessions", headers=headers)
    assert refused.status_code == 403 and body(refused)["code"] == "PASSWORD_CHANGE"
    assert "修改密码" in body(refused)["message"]
    assert (
        post(client, "/auth/password", {"current_password": temp, "new_password": NEW_PASSWORD}, headers).status_code
        == 200
    )
    assert client.http.get("/auth/sessions", headers=headers).status_code == 200  # same session, now free
    # an administrator's reset ends the sessions and forces the change again
    reset = post(client, "/accounts/county_dongyang/password-reset", {}, admin)
    assert reset.status_code == 200
    assert client.http.get("/auth/me", headers=headers).status_code == 401
    again = bearer(raw_login(client, "county_dongyang", body(reset)["temporary_password"]))
    assert body(client.http.get("/auth/me", headers=again))["pending"] == "PASSWORD_CHANGE"
    trail = body(client.http.get("/audit/targets/account/county_dongyang", headers=login("auditor")))["items"]
    assert [e["action"] for e in trail] == [
        "ACCOUNT_CREATED",
        "USER_LOGGED_IN",
        "PASSWORD_CHANGED",
        "PASSWORD_RESET",
        "USER_LOGGED_IN",
    ]
    assert all(e["actor_username"] in ("admin", "county_dongyang") for e in trail)


# ---- second factor ----------------------------------------------------------------------------------------------


def test_province_roles_need_their_dynamic_code_and_a_code_works_once(client, platform):
    from infra.local.demo import demo_totp

    no_code = raw_login(client, "province", DEMO_PASSWORD)
    assert no_code.status_code == 401 and body(no_code)["code"] == "MFA_REQUIRED"
    bad = raw_login(client, "province", DEMO_PASSWORD, "000000")
    assert bad.status_code == 401 and body(bad)["code"] == "MFA_INVALID"
    code = demo_totp("province")
    assert raw_login(client, "province", DEMO_PASSWORD, code).status_code == 200
    replay = raw_login(client, "province", DEMO_PASSWORD, code)
    assert replay.status_code == 401 and body(replay)["code"] == "MFA_INVALID"


def test_a_new_province_official_changes_the_password_then_enrols_the_second_factor(client, login):
    created = post(
        client,
        "/accounts",
        {"username": "province_wang", "role": "province_official", "display_name": "王审核", "region_code": "330000"},
        login("admin"),
    )
    temp = body(created)["temporary_password"]
    headers = bearer(raw_login(client, "province_wang", temp))
    assert (
        post(client, "/auth/password", {"current_password": temp, "new_password": NEW_PASSWORD}, headers).status_code
        == 200
    )
    assert body(client.http.get("/auth/me", headers=headers))["pending"] == "MFA_SETUP"
    refused = client.http.get("/reviews/queue?city=330700", headers=headers)
    assert refused.status_code == 403 and body(refused)["code"] == "MFA_SETUP"
    setup = body(post(client, "/auth/mfa/setup", {}, headers))
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and setup["qr_svg"].lstrip().startswith("<?xml")
    totp = pyotp.TOTP(setup["secret"])
    assert (
        post(
            client, "/auth/mfa/confirm", {"code": "123456" if totp.now() != "123456" else "654321"}, headers
        ).status_code
        == 400
    )
    assert post(client, "/auth/mfa/confirm", {"code": totp.now()}, headers).status_code == 200
    assert body(client.http.get("/auth/me", headers=headers))["pending"] is None
    assert raw_login(client, "province_wang", NEW_PASSWORD).status_code == 401  # the code is now required


# ---- revocation ------------------------------------------------------------------------------------------------


def test_disable_delete_and_logout_refuse_the_very_next_request(client, login):
    admin = login("admin")
    county = login("county_yiwu")
    assert client.http.get("/auth/me", headers=county).status_code == 200
    no_reason = post(client, "/accounts/county_yiwu/state", {"action": "disable"}, admin)
    assert no_reason.status_code == 400
    assert (
        post(client, "/accounts/county_yiwu/state", {"action": "disable", "reason": "调离岗位"}, admin).status_code
        == 200
    )
    refused = client.http.get("/auth/me", headers=county)
    assert refused.status_code == 401 and body(refused)["code"] == "ACCOUNT_DISABLED"
    assert body(raw_login(client, "county_yiwu", DEMO_PASSWORD))["message"] == "账号已停用，请联系管理员"
    # re-enabled: the old token stays dead (revocation epoch), a new login works
    assert post(client, "/accounts/county_yiwu/state", {"action": "enable"}, admin).status_code == 200
    assert client.http.get("/auth/me", headers=county).status_code == 401
    fresh = bearer(raw_login(client, "county_yiwu", DEMO_PASSWORD))
    assert client.http.get("/auth/me", headers=fresh).status_code == 200

    # delete: soft (the record stays for the audit trail), refused at once
    xihu = login("county_xihu")
    assert (
        post(client, "/accounts/county_xihu/state", {"action": "delete", "reason": "机构调整"}, admin).status_code
        == 200
    )
    gone = client.http.get("/auth/me", headers=xihu)
    assert gone.status_code == 401 and body(gone)["code"] == "ACCOUNT_DELETED"
    assert body(client.http.get("/accounts/county_xihu", headers=admin))["state_label"] == "已注销"

    # logout ends this session only
    ent = login("ent_yiwu")
    other = bearer(raw_login(client, "ent_yiwu", DEMO_PASSWORD))
    assert post(client, "/auth/logout", {}, ent).status_code == 200
    ended = client.http.get("/auth/me", headers=ent)
    assert ended.status_code == 401 and body(ended)["code"] == "SESSION_ENDED"
    assert client.http.get("/auth/me", headers=other).status_code == 200


def test_a_role_or_region_change_ends_the_old_tokens(client, login):
    admin = login("admin")
    city = login("city_jinhua")
    acct = body(client.http.get("/accounts/city_jinhua", headers=admin))
    changed = client.http.patch(
        "/accounts/city_jinhua",
        headers={**JSON, **admin},
        body=json.dumps({"version": acct["version"], "region_code": "330100"}),
    )
    assert changed.status_code == 200, changed.body
    assert client.http.get("/auth/me", headers=city).status_code == 401
    stale = client.http.patch(
        "/accounts/city_jinhua",
        headers={**JSON, **admin},
        body=json.dumps({"version": acct["version"], "display_name": "x"}),
    )
    assert stale.status_code == 409
    trail = body(client.http.get("/audit/targets/account/city_jinhua", headers=login("auditor")))["items"]
    assert trail[-1]["note"] == "地区：330700→330100"


def test_refresh_keeps_the_session_and_stops_with_it(client):
    resp = raw_login(client, "county_yiwu", DEMO_PASSWORD)
    tokens = body(resp)
    refreshed = post(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.body
    headers = bearer(refreshed)
    assert client.http.get("/auth/me", headers=headers).status_code == 200
    assert post(client, "/auth/logout", {"refresh_token": tokens["refresh_token"]}, headers).status_code == 200
    assert post(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_the_idle_timeout_ends_a_session(client, clock):
    headers = bearer(raw_login(client, "county_yiwu", DEMO_PASSWORD))
    clock.advance(minutes=16)
    from chalicelib import wiring

    wiring.get_auth_service().cache.forget("county_yiwu")
    idle = client.http.get("/auth/me", headers=headers)
    assert idle.status_code == 401 and body(idle)["code"] == "SESSION_IDLE" and "15分钟未操作" in body(idle)["message"]


# ---- scope and separation of duties ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role", "region", "status"),
    [
        ("admin_jinhua", "county_official", "330782", 201),  # 义乌: one of Jinhua's counties
        ("admin_jinhua", "county_official", "330106", 403),  # 西湖区: another city's
        ("admin_jinhua", "city_official", "330700", 403),  # not a county account
        ("admin_jinhua", "province_official", "330000", 403),
        ("admin", "city_admin", "330100", 201),
        ("admin", "security_admin", "330000", 403),  # administrators belong to the security administrator
        ("security", "audit_admin", "330000", 201),
        ("security", "county_official", "330782", 403),
        ("auditor", "county_official", "330782", 403),
        ("province", "county_official", "330782", 403),
        ("county_yiwu", "county_official", "330782", 403),
    ],
)
def test_who_may_create_which_account(client, login, actor, role, region, status):
    resp = post(
        client,
        "/accounts",
        {"username": f"new_{role}_{region}", "role": role, "display_name": "新账号", "region_code": region},
        login(actor),
    )
    assert resp.status_code == status, resp.body


def test_a_city_administrator_lists_only_its_own_city(client, login):
    headers = login("admin_jinhua")
    items = body(client.http.get("/accounts?limit=200", headers=headers))["items"]
    assert items and all(a["region_code"].startswith("3307") for a in items)
    assert client.http.get("/accounts?region=3301", headers=headers).status_code == 403
    # a city's code covers its counties too, for every administrator
    by_city = body(client.http.get("/accounts?region=330700&limit=200", headers=login("admin")))["items"]
    assert {a["region_code"] for a in by_city} >= {"330700", "330782"}


def test_the_audit_administrator_reads_and_exports_but_decides_nothing(client, login):
    from tests.conftest import today_in_beijing

    auditor = login("auditor")
    day = today_in_beijing().isoformat()
    page = body(client.http.get(f"/audit/days/{day}?limit=500", headers=auditor))
    assert any(e["action"] == "USER_LOGGED_IN" for e in page["items"])
    export = client.http.get(f"/audit/days/{day}/export", headers=auditor)
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    text = export.body.decode("utf-8-sig")
    assert "时间（北京时间）" in text
    # people, roles, units and objects by name; Beijing time as people write it, never a code or an ISO instant
    rows = list(csv.DictReader(io.StringIO(text)))
    login_row = next(r for r in rows if r["操作"] == "用户登录" and r["操作人账号"] == "auditor")
    assert login_row["角色"] == "审计管理员" and login_row["操作人"] == "冯洁（省住建厅）", login_row
    assert login_row["单位"] == "浙江省住房和城乡建设厅" and not re.search(
        r"\d{4}-\d{2}-\d{2}T", login_row["时间（北京时间）"]
    )
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}", login_row["时间（北京时间）"])
    exports = body(client.http.get(f"/audit/targets/audit_export/{day}", headers=auditor))["items"]
    assert exports[-1]["action"] == "AUDIT_EXPORTED" and exports[-1]["actor_username"] == "auditor"
    # nothing else: no decision, no account change, no policy change
    decide = post(client, "/reviews/enterprise/91330782677204726D/decision", {"verdict": "TRUE"}, auditor)
    assert decide.status_code in (403, 404) and decide.status_code != 200
    assert post(client, "/accounts/county_yiwu/state", {"action": "disable", "reason": "x"}, auditor).status_code == 403
    assert client.http.put("/security/policy", headers={**JSON, **auditor}, body="{}").status_code in (400, 403)


def test_no_route_deletes_or_changes_an_audit_entry():
    from app import app  # noqa: F401 - registers every route
    from chalicelib.entrypoints.http import REGISTRY

    audit_writes = [e for e in REGISTRY.endpoints if e.path.startswith("/audit") and e.method != "GET"]
    assert audit_writes == []
    from chalicelib.adapters.dynamo_audit import DynamoAuditLog

    assert not [m for m in dir(DynamoAuditLog) if m.startswith(("delete", "update", "remove", "put_entry"))]


def test_the_security_policy_is_changed_by_the_security_administrator_only_and_audited(client, login):
    security = login("security")
    view = body(client.http.get("/security/policy", headers=security))
    policy = {**view["policy"], "lockout_failures": 3}
    assert (
        client.http.put(
            "/security/policy",
            headers={**JSON, **login("admin")},
            body=json.dumps({"version": view["version"], "policy": policy}),
        ).status_code
        == 403
    )
    weaker = {**view["policy"], "mfa_required_roles": ["province_official"]}
    refused = client.http.put(
        "/security/policy",
        headers={**JSON, **security},
        body=json.dumps({"version": view["version"], "policy": weaker}),
    )
    assert refused.status_code == 400 and "三员" in json.dumps(body(refused), ensure_ascii=False)
    ok = client.http.put(
        "/security/policy",
        headers={**JSON, **security},
        body=json.dumps({"version": view["version"], "policy": policy}),
    )
    assert ok.status_code == 200, ok.body
    for _ in range(3):
        raw_login(client, "tender_yiwu", "wrong-password")
    assert raw_login(client, "tender_yiwu", DEMO_PASSWORD).status_code == 429  # the new limit holds
    trail = body(client.http.get("/audit/targets/account_policy/default", headers=login("auditor")))["items"]
    assert trail[-1]["action"] == "ACCOUNT_POLICY_CHANGED" and "连续登录失败几次锁定账号：5→3" in trail[-1]["note"]


def test_a_data_folder_from_before_accounts_gets_its_demo_accounts(client, platform):
    """Local data kept from before the platform's account records (Cognito users only): the runtime adopts the
    demo accounts once, so the README's logins keep working; with any account present it changes nothing."""
    from chalicelib import wiring
    from chalicelib.adapters import aws
    from infra.local.demo import DEMO_ACCOUNTS, adopt_demo_accounts

    assert adopt_demo_accounts() == 0  # accounts exist: nothing to do
    ddb = aws.client("dynamodb")
    for page in ddb.get_paginator("scan").paginate(TableName=platform["env"]["MAIN_TABLE"]):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("ACCOUNT#"):
                ddb.delete_item(TableName=platform["env"]["MAIN_TABLE"], Key={"pk": item["pk"], "sk": item["sk"]})
    wiring.get_auth_service().cache.ttl = 0
    assert raw_login(client, "county_yiwu", DEMO_PASSWORD).status_code == 401  # a Cognito user without an account
    assert adopt_demo_accounts() == len(DEMO_ACCOUNTS)
    assert raw_login(client, "county_yiwu", DEMO_PASSWORD).status_code == 200
