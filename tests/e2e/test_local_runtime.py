"""End to end: start the local runtime (`make run`'s program) on free ports and use it over HTTP only."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import record_figure

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Demo#2015zj"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_runtime(workdir: Path, **overrides: str):
    """Start `make run`'s program on free ports with its data under `workdir`; yield where it answers; stop it
    cleanly. `overrides` are extra environment variables (e.g. a short upload lifetime for the expiry test)."""
    port, moto_port, national_port = free_port(), free_port(), free_port()
    log = workdir / "runtime.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "NATIONAL_PORT": str(national_port),
        "SCHEDULE_SPEEDUP": "300",  # rate(5 minutes) fires every second
        "PUBLIC_BURST": "1000000",  # schemathesis below sends hundreds of requests from one client
        "PUBLIC_RATE_PER_SECOND": "1000000",
        "DATA_DIR": str(workdir / "data"),  # never the developer's own .local/data
        **overrides,
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local.runtime"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"runtime exited early:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200 and "Stop with Ctrl-C" in log.read_text():
                break
        except requests.RequestException:
            pass
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"runtime did not come up:\n{log.read_text(errors='replace')[-4000:]}")
    yield {
        "base": base,
        "proc": proc,
        "log": log,
        "moto_port": moto_port,
        "national": f"http://127.0.0.1:{national_port}",
    }
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)  # a clean stop compacts the journal
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    # an upload ticket lives one second here, so that the expiry schedule has something to expire (a browser is
    # slower than that between ticket and upload: the browser tests start theirs with the normal lifetime)
    yield from start_runtime(tmp_path_factory.mktemp("runtime"), UPLOAD_URL_TTL_SECONDS="1", UPLOAD_GRACE_SECONDS="0")


def login(rt, username: str) -> dict[str, str]:
    from infra.local.demo import http_login

    return {"Authorization": f"Bearer {http_login(rt['base'], username)['id_token']}"}


def wait_for(fn, timeout=30.0, interval=0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def test_banner_health_and_openapi(runtime):
    text = runtime["log"].read_text()
    assert runtime["base"] in text and "/ui/" in text and "province_official" in text
    assert requests.get(f"{runtime['base']}/health", timeout=5).json()["status"] == "ok"
    doc = requests.get(f"{runtime['base']}/openapi.json", timeout=5).json()
    assert "/uploads" in doc["paths"]


def test_two_roles_log_in_and_a_forbidden_call_is_refused(runtime):
    ent = login(runtime, "ent_yiwu")
    official = login(runtime, "county_yiwu")
    me = requests.get(f"{runtime['base']}/auth/me", headers=official, timeout=5).json()
    assert me["role"] == "county_official" and me["region_code"] == "330782"
    resp = requests.get(f"{runtime['base']}/audit/actors/{me['subject']}", headers=ent, timeout=5)
    assert resp.status_code == 403
    assert resp.json()["code"] == "FORBIDDEN"
    assert requests.get(f"{runtime['base']}/auth/me", timeout=5).status_code == 401


def test_presigned_upload_reaches_the_handler_and_the_change_is_audited(runtime):
    ent = login(runtime, "ent_yiwu")
    content = "统一社会信用代码,企业名称\n91330782677204726D,义乌市示范建设有限公司\n".encode("gb18030")
    ticket = requests.post(
        f"{runtime['base']}/uploads",
        headers=ent,
        json={
            "kind": "enterprise_sheet",
            "filename": "企业信息表.csv",
            "content_type": "text/csv",
            "size": len(content),
        },
        timeout=10,
    )
    assert ticket.status_code == 201, ticket.text
    post = ticket.json()["post"]
    upload_id = ticket.json()["upload"]["upload_id"]
    s3 = requests.post(
        post["url"], data=post["fields"], files={"file": ("企业信息表.csv", content, "text/csv")}, timeout=10
    )
    assert s3.status_code in (200, 204), s3.text

    def received():
        u = requests.get(f"{runtime['base']}/uploads/{upload_id}", headers=ent, timeout=5).json()
        return u if u["state"] == "RECEIVED" else None

    upload = wait_for(received)
    assert upload["size"] == len(content)

    province = login(runtime, "province")
    trail = requests.get(f"{runtime['base']}/audit/targets/upload/{upload_id}", headers=province, timeout=5).json()
    assert [e["action"] for e in trail["items"]] == ["UPLOAD_REQUESTED", "UPLOAD_RECEIVED"]
    assert trail["items"][0]["actor_username"] == "ent_yiwu"
    verify = requests.get(f"{runtime['base']}/audit/targets/upload/{upload_id}/verify", headers=province, timeout=5)
    assert verify.json()["intact"] is True


def test_a_schedule_fires(runtime):
    ent = login(runtime, "ent_yiwu")
    ticket = requests.post(
        f"{runtime['base']}/uploads",
        headers=ent,
        json={"kind": "attachment", "filename": "扫描件.pdf", "content_type": "application/pdf", "size": 100},
        timeout=10,
    ).json()
    upload_id = ticket["upload"]["upload_id"]

    def expired():
        u = requests.get(f"{runtime['base']}/uploads/{upload_id}", headers=ent, timeout=5).json()
        return u if u["state"] == "EXPIRED" else None

    wait_for(expired, timeout=30)
    trail = requests.get(
        f"{runtime['base']}/audit/targets/upload/{upload_id}", headers=login(runtime, "province"), timeout=5
    ).json()
    assert trail["items"][-1]["action"] == "UPLOAD_EXPIRED"
    assert trail["items"][-1]["actor_subject"] == "system:upload-expiry"


def test_a_sheet_upload_becomes_registry_records(runtime):
    """The whole intake over HTTP: template -> presigned POST -> S3 -> SQS -> import job -> the enterprise portal."""
    ent = login(runtime, "ent_yiwu")
    templates = requests.get(f"{runtime['base']}/templates", headers=ent, timeout=10).json()["items"]
    person = next(t for t in templates if t["name"] == "person")
    header = requests.get(person["csv_url"], timeout=10).content.decode("utf-8-sig").splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        {
            "证件号码": "11010519491231002X",
            "姓名": "赵六",
            "注册单位统一社会信用代码": "91330782677204726D",
            "注册类别": "一级注册建造师",
            "注册专业": "建筑工程",
        }
    )
    content = (",".join(header) + "\r\n" + ",".join(row[h] for h in header) + "\r\n").encode("gb18030")
    ticket = requests.post(
        f"{runtime['base']}/uploads",
        headers=ent,
        json={"kind": "personnel_sheet", "filename": "人员.csv", "content_type": "text/csv", "size": len(content)},
        timeout=10,
    ).json()
    post = ticket["post"]
    requests.post(post["url"], data=post["fields"], files={"file": ("人员.csv", content, "text/csv")}, timeout=10)
    job_id = ticket["upload"]["upload_id"]

    def finished():
        r = requests.get(f"{runtime['base']}/imports/{job_id}", headers=ent, timeout=5)
        return r.json() if r.status_code == 200 and r.json()["state"] not in ("PENDING", "RUNNING") else None

    job = wait_for(finished, timeout=40)
    assert job["state"] == "COMPLETED", job
    people = requests.get(f"{runtime['base']}/me/personnel", headers=ent, timeout=5).json()["items"]
    assert "赵六" in [p["record"]["name"] for p in people]


def _start_fuzz(runtime, tmp_path, name: str, spec: str, *extra: str) -> tuple[subprocess.Popen, Path]:
    """One schemathesis run over HTTP, started in the background; every response is checked against the documented
    status codes, content types and schemas (errors included: `{code, message, details}`)."""
    st = Path(sys.executable).parent / "schemathesis"
    report = tmp_path / f"report-{name}"
    out = tmp_path / f"{name}.out"
    cmd = [
        str(st),
        "run",
        f"{runtime['base']}{spec}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--seed",
        "2015",
        "--report",
        "har",
        "--report-dir",
        str(report),
        *extra,
    ]
    with open(out, "w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path)
    return proc, out


def _figures(proc: subprocess.Popen, out: Path) -> dict[str, int]:
    proc.wait(timeout=900)
    text = out.read_text()
    assert proc.returncode == 0, text[-8000:]
    failures = re.search(r"(\d+) found (\d+) unique failure", text)
    report = out.with_suffix("").parent / f"report-{out.stem}"
    return {
        "operations": int(re.search(r"Tested: (\d+)", text).group(1)),
        "cases": int(re.search(r"(\d+) generated", text).group(1)),
        "requests": sum(len(json.loads(f.read_text())["log"]["entries"]) for f in report.glob("har-*.json")),
        "outside": int(failures.group(2)) if failures else 0,
    }


def test_fuzzing_finds_no_response_outside_the_documented_shapes(runtime, tmp_path):
    """Property-based testing of every operation against its own OpenAPI description, over HTTP: the public API with
    every method and no token; the whole API (reads) as a province official and as an enterprise, with the cursor,
    the path segments, the query values and the X-Request-Id header fuzzed. The three runs go in parallel."""

    def bearer(user: str) -> str:
        return "Authorization: " + login(runtime, user)["Authorization"]

    started = {
        "public": _start_fuzz(runtime, tmp_path, "public", "/public/openapi.json", "-n", "8"),
        "province": _start_fuzz(
            runtime,
            tmp_path,
            "province",
            "/openapi.json",
            "--include-method",
            "GET",
            "-n",
            "3",
            "-H",
            bearer("province"),
        ),
        "enterprise": _start_fuzz(
            runtime,
            tmp_path,
            "enterprise",
            "/openapi.json",
            "--include-method",
            "GET",
            "--phases",
            "examples,fuzzing",
            "-n",
            "4",
            "-H",
            bearer("ent_jiangong"),
        ),
    }
    runs = {name: _figures(*run) for name, run in started.items()}
    for name, r in runs.items():
        assert r["outside"] == 0 and r["requests"] >= r["cases"] > 0, (name, r)
    record_figure(
        "fuzz",
        "; ".join(
            f"{n}: {r['operations']} operations, {r['cases']} cases, {r['requests']} requests, "
            f"{r['outside']} responses outside the documented shapes"
            for n, r in runs.items()
        ),
    )


def test_unknown_routes_answer_the_platforms_404_and_echo_nothing(runtime):
    secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2ln"
    for path in ("/no/such/route", "/public/nothing-here", "/ui/../../etc"):
        resp = requests.get(f"{runtime['base']}{path}", headers={"Authorization": f"Bearer {secret}"}, timeout=5)
        if path.startswith("/ui/"):
            continue  # the web UI shell answers its own paths
        assert resp.status_code == 404, (path, resp.status_code, resp.text)
        body = resp.json()
        assert body["code"] == "NOT_FOUND" and body["message"] == "请求的地址不存在"
        assert secret not in resp.text and "Authorization" not in resp.text
    home = requests.get(f"{runtime['base']}/", allow_redirects=False, timeout=5)
    assert home.status_code == 302 and home.headers["Location"] == "/ui/"


def test_confirmed_demo_data_reaches_the_national_simulator(runtime):
    """Stream poller -> change capture -> scheduled push -> the MOHURD simulator, with no manual step."""
    accepted = wait_for(
        lambda: (
            requests.get(
                f"{runtime['national']}/__control/accepted/TBCorpBasicInfo/91330782MA2F00063N", timeout=5
            ).status_code
            == 200
        ),
        timeout=60,
        interval=1,
    )
    assert accepted
    assert "National sim" in runtime["log"].read_text()
    province = login(runtime, "province")
    report = requests.get(f"{runtime['base']}/sync/report", headers=province, timeout=10).json()
    basic = next(d for d in report["datasets"] if d["dataset"] == "TBCorpBasicInfo")
    assert basic["accepted"] >= 1
    stats = requests.get(f"{runtime['national']}/__control/stats", timeout=5).json()
    assert stats["duplicates"] == 0


def _consistency(runtime) -> tuple[int, dict]:
    import json

    out = subprocess.run(
        [sys.executable, "-m", "infra.consistency", "--local", "--moto-port", str(runtime["moto_port"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    return out.returncode, json.loads(out.stdout)


def test_confirmed_records_are_found_by_name_whatever_path_wrote_them(runtime):
    """The demo seed writes its confirmed records as an import does (no review decision): the public search finds
    them by name, and the consistency check finds the search entries equal to a recount — then a planted one."""
    base = runtime["base"]
    found = requests.get(f"{base}/public/enterprises", params={"name": "建工"}, timeout=10).json()
    assert "义乌市建工集团有限公司" in [e["name"] for e in found["items"]], found
    found = requests.get(f"{base}/public/projects", params={"name": "双江湖"}, timeout=10).json()
    assert {p["name"] for p in found["items"]} >= {"义乌市双江湖科创园一期工程"}, found
    found = requests.get(f"{base}/public/persons", params={"name": "何志远", "reg_type": "JZS1"}, timeout=10).json()
    assert [p["name"] for p in found["items"]] == ["何志远"], found
    rc, report = _consistency(runtime)
    assert rc == 0 and report["search_differences"] == [] and report["search_entries_checked"] > 10, report
    import boto3

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{runtime['moto_port']}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    planted = {"pk": {"S": "NG#ENT#旧名"}, "sk": {"S": "91330782MA2F00063N"}, "entity": {"S": "name_index"}}
    ddb.put_item(TableName="cmsp-main", Item=planted)
    try:
        rc, report = _consistency(runtime)
        assert rc == 1 and report["search_differences"] == [
            {"entry": "NG#ENT#旧名|91330782MA2F00063N", "problem": "stale"}
        ], report
    finally:
        ddb.delete_item(TableName="cmsp-main", Key={"pk": planted["pk"], "sk": planted["sk"]})


def test_ctrl_c_stops_everything(runtime):
    proc = runtime["proc"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert "stopped." in runtime["log"].read_text()
    with socket.socket() as s:  # moto's port is free again: the child was stopped too
        # SO_REUSEADDR tolerates connections in TIME_WAIT, but still fails if anything is listening.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", runtime["moto_port"]))
