"""The embedded platform keeps its data: the runtime and its local AWS are killed with SIGKILL (as a crash would) and
started again on the same data folder; everything acknowledged before is there, workflows continue, an import
interrupted by the crash finishes once. Over HTTP only, plus the consistency command against the local AWS."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.test_local_runtime import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
PRJ = "3307822603150001"
BUILDER = "91330782MA2F00063N"
# who takes each contract: the builder holds 建筑业 certificates only, survey and design go to institutes outside the
# registry (a construction company named on a survey or design contract is refused)
CONTRACTOR = {
    "survey": {"contractor_uscc": "91330100MA2F0K017F", "contractor_name": "浙江省工程勘察院"},
    "design": {"contractor_uscc": "91330100MA2F0J014Y", "contractor_name": "浙江省建筑设计研究院"},
    "construction": {"contractor_uscc": BUILDER},
}


class Platform:
    """`python -m infra.local.runtime` on free ports and a data folder, startable again on the same folder."""

    def __init__(self, data_dir: Path, log_dir: Path):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.port, self.moto_port, self.national_port = free_port(), free_port(), free_port()
        self.starts += 1
        self.log = self.log_dir / f"runtime-{self.starts}.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "PORT": str(self.port),
            "MOTO_PORT": str(self.moto_port),
            "NATIONAL_PORT": str(self.national_port),
            "DATA_DIR": str(self.data_dir),
            "SCHEDULE_SPEEDUP": "1",
        }
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "infra.local.runtime"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"runtime exited:\n{self.log.read_text(errors='replace')[-4000:]}")
            if "Stop with Ctrl-C" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.3)
        pytest.fail(f"runtime did not come up:\n{self.log.read_text(errors='replace')[-4000:]}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill9(self) -> None:
        """SIGKILL the runtime and its local AWS at once: nothing gets to flush, compact or say goodbye."""
        pids = [int((self.data_dir / "run" / f).read_text()) for f in ("runtime.pid", "moto.pid")]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=20)
        for pid in pids:
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=180)

    def login(self, username: str) -> dict[str, str]:
        from infra.local.demo import http_login

        return {"Authorization": f"Bearer {http_login(self.base, username)['id_token']}"}

    def call(self, method, path, headers, payload=None, expect=200):
        r = requests.request(method, f"{self.base}{path}", headers=headers, json=payload, timeout=20)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text[:800]}"
        return r.json()

    def consistency(self) -> dict:
        """`make check-data`'s command against this platform's local AWS."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        proc = subprocess.run(
            [sys.executable, "-m", "infra.consistency", "--local", "--moto-port", str(self.moto_port)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return {"rc": proc.returncode, **json.loads(proc.stdout)}


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path / "data", tmp_path)
    yield p
    if p.proc is not None and p.proc.poll() is None:
        p.proc.send_signal(signal.SIGINT)
        try:
            p.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.proc.kill()


def upload_sheet(p: Platform, headers, kind: str, filename: str, content: bytes) -> str:
    ticket = p.call(
        "POST",
        "/uploads",
        headers,
        {"kind": kind, "filename": filename, "content_type": "text/csv", "size": len(content)},
        201,
    )
    post = ticket["post"]
    requests.post(post["url"], data=post["fields"], files={"file": (filename, content, "text/csv")}, timeout=20)
    return ticket["upload"]["upload_id"]


def enterprise_csv(p: Platform, headers, rows: list[dict[str, str]]) -> bytes:
    templates = p.call("GET", "/templates", headers)["items"]
    tpl = next(t for t in templates if t["name"] == "enterprise")
    header = requests.get(tpl["csv_url"], timeout=10).content.decode("utf-8-sig").splitlines()[0].split(",")
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(r.get(h, "") for h in header))
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def usccs(n: int, start: int = 0) -> list[str]:
    from infra.local.demo import _uscc

    return [_uscc("91330782", f"MA2K{i:04d}") for i in range(start, start + n)]


def job_done(p: Platform, headers, job_id: str):
    r = requests.get(f"{p.base}/imports/{job_id}", headers=headers, timeout=10)
    return r.json() if r.status_code == 200 and r.json()["state"] not in ("PENDING", "RUNNING") else None


def test_a_crash_loses_nothing_acknowledged_and_workflows_continue(platform):
    from pypdf import PdfReader

    p = platform
    p.start()
    county, ent, province = p.login("county_yiwu"), p.login("ent_jiangong"), p.login("province")
    # 1. an import job with an error report (one good row, one bad row)
    good, bad = usccs(1)[0], "91330782677204726E"
    csv = enterprise_csv(
        p,
        county,
        [
            {"统一社会信用代码": good, "企业名称": "义乌市持久化测试建设有限公司"},
            {"统一社会信用代码": bad, "企业名称": "校验码错误的企业"},
        ],
    )
    job_id = upload_sheet(p, county, "enterprise_sheet", "企业.csv", csv)
    job = wait_for(lambda: job_done(p, county, job_id), timeout=60)
    assert job["state"] == "COMPLETED_WITH_ERRORS" and job["counts"]["created"] == 1, job
    # 2. a confirmed record (a demo enterprise waiting in the county's queue), with its audit trail
    queue = p.call("GET", "/reviews/queue?record_type=enterprise", county)["enterprises"]["items"]
    target = next(r for r in queue if r["record"]["state"] == "SUBMITTED")
    uscc = target["record_id"]
    p.call(
        "POST",
        f"/reviews/enterprises/{uscc}/decision",
        county,
        {"version": target["record"]["version"], "outcome": "CONFIRMED", "reason": "经核实，信息真实"},
    )
    # 3. a credit record
    credit = p.call(
        "POST",
        "/credit/records",
        county,
        {
            "uscc": BUILDER,
            "behaviour_code": "C1-2-05",
            "content": "将部分工程违法分包给无资质个人",
            "happened_on": "2026-10-08",
            "penalty_number": "义建罚〔2026〕31号",
            "penalty_date": "2026-10-20",
        },
        201,
    )
    # 4. a permit application waiting for the county's decision
    for i, ctype in enumerate(("survey", "design", "construction"), start=1):
        rec = p.call("POST", f"/projects/{PRJ}/stages", ent, {"data": {
            "kind": "contract", "number": f"{PRJ}-02-00{i}", "contract_no": f"HT-{i}", "contract_type": ctype,
            "money": "18000", "contract_date": "2026-03-20", "employer_uscc": BUILDER, **CONTRACTOR[ctype],
        }}, 201)["record"]  # fmt: skip
        p.call("POST", f"/projects/{PRJ}/stages/contract/{rec['number']}/check", county,
               {"version": rec["version"], "confirmed": True, "note": "与原件一致"})  # fmt: skip
    for data in (
        {"kind": "drawing_review", "number": f"{PRJ}-03-001", "review_org_uscc": "91330700MA2F00071Q",
         "review_org_name": "金华市建设工程施工图审查中心", "finished_on": "2026-04-01", "first_pass": True,
         "violations": 0},
        {"kind": "supervision_registration", "number": f"JD-{PRJ}", "station": "义乌市建设工程质量安全监督站",
         "registered_on": "2026-04-03"},
    ):  # fmt: skip
        rec = p.call("POST", f"/projects/{PRJ}/stages", ent, {"data": data}, 201)["record"]
        p.call("POST", f"/projects/{PRJ}/stages/{data['kind']}/{rec['number']}/check", county,
               {"version": rec["version"], "confirmed": True, "note": "核查无误"})  # fmt: skip
    staff = {x["record"]["name"]: x["record"]["person_key"] for x in p.call("GET", "/me/personnel", ent)["items"]}
    app = p.call("POST", f"/projects/{PRJ}/permit-applications", ent, {
        "construction_uscc": BUILDER, "project_manager": staff["何志远"],
        "safety_persons": [staff["楼国华"], staff["吴安平"]], "contract_price": "18000", "area": "48000",
        "site_ready": True, "funds_committed": True,
    }, 201)["application"]  # fmt: skip
    path = f"/permit-applications/{app['application_id']}"
    waiting = wait_for(
        lambda: (v := p.call("GET", path, county)) and v["application"]["task_step"] == "review" and v, 60
    )
    trail_before = p.call("GET", f"/audit/targets/enterprise/{uscc}", province)["items"]
    # the stream consumers have counted every change made so far (the counters equal a recount of the records):
    # what the dashboard shows now is what it must show after the crash
    wait_for(lambda: p.consistency()["differences"] == [], 90, 2)
    overview_before = p.call("GET", "/statistics/overview?region=330782", county)
    # an electronic licence sealed before the crash (the demo permit, printed by its city)
    city = p.login("city_jinhua")
    sealed = requests.get(
        p.call("GET", "/permit-applications/demo-permit-0001/certificate?copy=正本", city)["url"], timeout=10
    ).content

    # ---- crash -------------------------------------------------------------------------------------------------
    p.kill9()
    p.start()
    log = p.log.read_text()
    # the seal keys came back with the data: the file sealed before the crash still verifies
    import base64

    again = p.call("POST", "/public/licences/verify", {}, {"pdf_base64": base64.b64encode(sealed).decode()})
    assert again["genuine"] is True and again["status"] == "VALID", again
    assert "Data folder" in log and "restored" in log and "demo data seeded" not in log
    county, ent, province = p.login("county_yiwu"), p.login("ent_jiangong"), p.login("province")
    # the import job, its report file and the imported record
    again = p.call("GET", f"/imports/{job_id}", county)
    assert again["state"] == "COMPLETED_WITH_ERRORS" and again["counts"] == job["counts"]
    report = requests.get(again["report"]["csv"], timeout=10)
    assert report.status_code == 200 and "校验码" in report.content.decode("utf-8-sig")
    assert p.call("GET", f"/registry/enterprises/{good}", county)["record"]["state"] == "IMPORTED"
    # the decision, the credit record, the audit trail and its hash chain
    assert p.call("GET", f"/registry/enterprises/{uscc}", county)["record"]["state"] == "CONFIRMED"
    assert p.call("GET", f"/credit/records/{credit['credit_id']}", county)["penalty_number"] == "义建罚〔2026〕31号"
    trail_after = p.call("GET", f"/audit/targets/enterprise/{uscc}", province)["items"]
    assert trail_after == trail_before
    assert p.call("GET", f"/audit/targets/enterprise/{uscc}/verify", province)["intact"] is True
    # counters: as before the crash, and equal to a recount from the records
    time.sleep(2)
    assert p.call("GET", "/statistics/overview?region=330782", county)["registry"] == overview_before["registry"]
    check = p.consistency()
    assert check["rc"] == 0 and check["differences"] == [] and check["records_counted"] > 10, check
    # the permit waiting for the county: its workflow was driven again and can be decided and printed
    assert "Workflows" in log
    v = wait_for(lambda: (x := p.call("GET", path, county)) and x["application"]["task_step"] == "review" and x, 60)
    assert v["application"]["execution"].endswith("-r1")
    assert v["application"]["decision_deadline"] == waiting["application"]["decision_deadline"]
    p.call("POST", f"{path}/decision", county,
           {"version": v["application"]["version"], "approved": True, "reason": "符合条件"})  # fmt: skip
    issued = wait_for(lambda: (x := p.call("GET", path, county)) and x["application"]["state"] == "ISSUED" and x, 60)
    link = p.call("GET", f"{path}/certificate?copy=正本", ent)
    pdf = PdfReader(io.BytesIO(requests.get(link["url"], timeout=10).content)).pages[0].extract_text()
    assert issued["application"]["permit_no"] in pdf


def test_a_clean_stop_and_a_crash_during_an_import_lose_nothing_and_duplicate_nothing(platform):
    p = platform
    p.start()
    county = p.login("county_yiwu")
    # a clean stop (Ctrl-C): the journal is compacted into a snapshot, the next start reads it
    assert p.stop() == 0
    assert (p.data_dir / "snapshot.jsonl").stat().st_size > 0 and (p.data_dir / "journal.jsonl").stat().st_size == 0
    p.start()
    county = p.login("county_yiwu")
    # a bigger import, killed while it runs
    codes = usccs(1500, start=100)
    csv = enterprise_csv(
        p, county, [{"统一社会信用代码": c, "企业名称": f"义乌市批量{i}建设有限公司"} for i, c in enumerate(codes)]
    )
    job_id = upload_sheet(p, county, "enterprise_sheet", "批量企业.csv", csv)

    def started():
        r = requests.get(f"{p.base}/imports/{job_id}", headers=county, timeout=10)
        return r.status_code == 200 and r.json()["state"] != "PENDING" and r.json()

    at_kill = wait_for(started, timeout=60, interval=0.05)
    assert at_kill["state"] == "RUNNING", at_kill  # the crash must land inside the import, not after it
    p.kill9()
    p.start()
    county = p.login("county_yiwu")
    job = wait_for(lambda: job_done(p, county, job_id), timeout=240, interval=1)
    assert job["state"] == "COMPLETED" and job["counts"]["created"] + job["counts"].get("updated", 0) == len(codes), job
    # every row exactly once: the county's listing holds each code once
    seen: dict[str, int] = {}
    cursor = None
    while True:
        q = "/registry/enterprises?county=330782&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = p.call("GET", q, county)
        for r in page["items"]:
            seen[r["record_id"]] = seen.get(r["record_id"], 0) + 1
        cursor = page.get("cursor")
        if not cursor:
            break
    assert all(seen.get(c) == 1 for c in codes), [c for c in codes if seen.get(c) != 1][:5]
    trail = p.call("GET", f"/audit/targets/import_job/{job_id}", p.login("province"))["items"]
    assert [e["action"] for e in trail].count("IMPORT_JOB_FINISHED") == 1
