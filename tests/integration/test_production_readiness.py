"""Production readiness: one error shape for everything (signed cursors, unexpected exceptions), settings that
fail fast on a deployed stage, the working-day calendar over HTTP, structured logs with correlation ids."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date

import pytest

from tests.conftest import ROOT
from tests.integration.test_uploads_pipeline import request_upload

JSON = {"Content-Type": "application/json"}


def body(resp):
    return json.loads(resp.body)


def assert_platform_error(resp, status):
    assert resp.status_code == status, resp.body
    err = body(resp)
    assert set(err) == {"code", "message", "details"}, err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err  # Chinese for the user
    return err


def test_a_foreign_cursor_is_a_400_in_the_platform_shape(client):
    # {"a":1} base64url-encoded: syntactically valid, but this platform never issued it
    err = assert_platform_error(client.http.get("/public/blacklist?cursor=eyJhIjoxfQ"), 400)
    assert err["details"][0]["field"] == "cursor"


def test_cursors_are_signed_and_bound_to_caller_and_listing(client, login):
    ent = login("ent_yiwu")
    for i in range(3):
        request_upload(client, ent, filename=f"企业信息表{i}.csv")
    first = body(client.http.get("/uploads?limit=1", headers=ent))
    cursor = first["cursor"]
    assert cursor and "." in cursor
    second = client.http.get(f"/uploads?limit=1&cursor={cursor}", headers=ent)
    assert second.status_code == 200 and body(second)["items"][0]["upload_id"] != first["items"][0]["upload_id"]
    # tampered: one character of the payload changed
    payload, mac = cursor.split(".")
    flipped = ("A" if payload[5] != "A" else "B").join([payload[:5], payload[6:]])
    assert_platform_error(client.http.get(f"/uploads?limit=1&cursor={flipped}.{mac}", headers=ent), 400)
    # another enterprise's user cannot page through this listing with it
    assert_platform_error(client.http.get(f"/uploads?limit=1&cursor={cursor}", headers=login("ent_hangzhou")), 400)
    # nor can it be used on another listing of the same user
    assert_platform_error(client.http.get(f"/imports?limit=1&cursor={cursor}", headers=ent), 400)


@pytest.fixture
def captured_logs():
    """The structured (JSON) lines the Powertools logger writes, as dicts."""
    from chalicelib.observability import logger

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logger().registered_formatter)
    logger().addHandler(handler)
    yield lambda: [json.loads(line) for line in lines]
    logger().removeHandler(handler)


def test_an_unexpected_exception_in_a_route_is_the_platforms_500_with_a_request_id(client, monkeypatch, captured_logs):
    from chalicelib import wiring

    service = wiring.get_public_service()

    def broken(**kwargs):
        raise RuntimeError("injected failure for the test")

    monkeypatch.setattr(service, "blacklist", broken)
    resp = client.http.get("/public/blacklist", headers={"X-Request-Id": "req-injected-1"})
    err = assert_platform_error(resp, 500)
    assert err == {
        "code": "INTERNAL_ERROR",
        "message": "系统内部错误，请稍后重试",
        "details": {"request_id": "req-injected-1"},
    }
    assert resp.headers["X-Request-Id"] == "req-injected-1"
    assert "injected failure" not in resp.body.decode()  # no stack trace, no internals for the client
    [line] = [e for e in captured_logs() if e["message"] == "unhandled error"]
    assert line["level"] == "ERROR" and line["correlation_id"] == "req-injected-1"
    assert line["route"] == "public_blacklist" and "RuntimeError: injected failure" in line["exception"]


def test_chalice_own_errors_are_reshaped(client, login):
    # a POST route with a body of the wrong content type: Chalice answers 415 itself
    resp = client.http.post("/uploads", headers={"Content-Type": "text/plain", **login("ent_yiwu")}, body="x")
    err = assert_platform_error(resp, 415)
    assert err["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_home_leads_to_the_web_ui(client):
    resp = client.http.get("/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/ui/"


def test_work_calendar_status_and_loading_a_year(client, login):
    status = body(client.http.get("/system/work-calendar", headers=login("county_yiwu")))
    assert status["covered_through"] >= 2026
    target = int(status["today"][:4]) + 1  # next year: never shipped, always loadable
    assert target in status["missing_years"] or status["today"][5:7] < "10"
    year = {
        "notice": f"测试：国务院办公厅关于{target}年部分节假日安排的通知",
        "holidays": [{"name": "元旦", "from": f"{target}-01-01", "to": f"{target}-01-03"}],
        "workdays": [],
    }
    url = f"/system/work-calendar/{target}"
    h = {**JSON, **login("county_yiwu")}
    assert_platform_error(client.http.put(url, headers=h, body=json.dumps(year)), 403)
    wednesday = next(f"{target}-01-{d:02d}" for d in range(4, 11) if date(target, 1, d).weekday() == 2)
    bad = {**year, "workdays": [{"date": wednesday, "for": "元旦"}]}  # a Wednesday is no make-up day
    admin = {**JSON, **login("admin")}
    err = assert_platform_error(client.http.put(url, headers=admin, body=json.dumps(bad)), 400)
    assert "本来就是工作日" in json.dumps(err, ensure_ascii=False)
    resp = client.http.put(url, headers=admin, body=json.dumps(year))
    assert resp.status_code == 200, resp.body
    assert body(resp) == {"year": target, "version": 1}
    assert_platform_error(client.http.put(url, headers=admin, body=json.dumps(year)), 409)  # no silent overwrite
    after = body(client.http.get("/system/work-calendar", headers=login("province")))
    assert target not in after["missing_years"]
    assert next(y for y in after["years"] if y["year"] == target)["origin"] == "管理员载入"
    trail = body(client.http.get(f"/audit/targets/work_calendar/{target}", headers=login("province")))
    assert [e["action"] for e in trail["items"]] == ["WORK_CALENDAR_LOADED"]


def test_a_deployed_stage_without_its_secrets_refuses_to_start():
    """`import app` inside a Lambda function of stage prod with no configuration: the init fails and says why."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": "cmsp-prod-api",
        "STAGE": "prod",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "SettingsError" in proc.stderr
    for name in (
        "PERSON_KEY_SECRET_ARN",
        "CURSOR_SECRET_ARN",
        "ACCOUNT_SECRET_ARN",
        "PUBLIC_BASE_URL",
        "NATIONAL_API_SECRET_ARN",
    ):
        assert name in proc.stderr


def test_a_deployed_stage_with_a_loopback_certificate_address_is_refused(monkeypatch):
    from chalicelib.settings import SettingsError, get_settings

    full = {
        "STAGE": "prod",
        "MAIN_TABLE": "m",
        "AUDIT_TABLE": "a",
        "UPLOAD_BUCKET": "u",
        "PERMIT_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:p",
        "PERSON_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:p",
        "CURSOR_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:c",
        "ACCOUNT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k",
        "PUBLIC_BASE_URL": "https://jzsc.zj.example.cn",
        "NATIONAL_API_URL": "https://national.example.cn",
        "NATIONAL_API_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:n",
        "OIDC_ISSUER": "https://issuer",
        "OIDC_AUDIENCE": "client",
        "COGNITO_USER_POOL_ID": "pool",
        "COGNITO_CLIENT_ID": "client",
    }
    for k, v in full.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        s = get_settings()
        assert s.person_key_secret == "" and s.public_base_url == "https://jzsc.zj.example.cn"  # no dev fallback
        monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="not a loopback one"):
            get_settings()
        monkeypatch.delenv("CURSOR_SECRET_ARN")
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://jzsc.zj.example.cn")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="CURSOR_SECRET_ARN or CURSOR_SECRET"):
            get_settings()
    finally:
        get_settings.cache_clear()
