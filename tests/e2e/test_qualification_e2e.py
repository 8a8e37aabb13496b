"""资质升级 end to end, over HTTP only, on the local runtime: an upgrade one registered constructor short is refused
with exactly that reason; the enterprise adds the constructor through the registry (sheet upload → submit → county
confirms), applies again; the county accepts and passes it up, the city passes it up, the province asks for 补正
(the clock stops), the enterprise answers, the province publishes (公示) and approves after the notice period;
the certificate changes in the registry, the national sync pushes it, and the public API shows the new grade."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.test_local_runtime import login, start_runtime, wait_for

SHIZHENG = "91330782MA2F00880W"
OUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    # the 公示 lasts 3 seconds instead of 7 days (a development-stage setting)
    yield from start_runtime(tmp_path_factory.mktemp("qualification"), QUALIFICATION_NOTICE_SECONDS="3")


def test_an_upgrade_from_refusal_to_the_new_certificate_over_http(runtime):
    base = runtime["base"]
    ent = login(runtime, "ent_shizheng")
    county, city, province = (login(runtime, u) for u in ("county_yiwu", "city_jinhua", "province"))

    def call(method, path, headers, payload=None, expect=200):
        r = requests.request(method, f"{base}{path}", headers=headers, json=payload, timeout=20)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    upgrade = {"kind": "UPGRADE", "target": "D110B", "statement": "申请市政公用工程施工总承包二级"}
    # 1. one constructor short: refused with exactly that reason, the 11 counted persons as its evidence
    refused = call("POST", "/qualification-applications", ent, upgrade, 400)
    [reason] = refused["details"]
    assert reason["key"] == "personnel:JZS1/JZS2:市政公用工程"
    assert "不少于12人（平台数据为11）" in refused["message"] and len(reason["evidence"]) == 11

    # 2. the twelfth constructor through the registry: a sheet upload, submitted, confirmed by the county
    templates = call("GET", "/templates", ent)["items"]
    person = next(t for t in templates if t["name"] == "person")
    header = requests.get(person["csv_url"], timeout=10).content.decode("utf-8-sig").splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        {
            "证件类型": "1",
            "证件号码": "330782199003120017",
            "姓名": "金振华",
            "性别": "1",
            "出生日期": "1990-03-12",
            "注册单位统一社会信用代码": SHIZHENG,
            "注册单位名称": "义乌市城建市政工程有限公司",
            "注册类别": "二级注册建造师",
            "注册专业": "市政公用工程",
            "注册证书编号": "浙2332010000012",
            "注册有效期至": "2029-06-30",
        }
    )
    content = (",".join(header) + "\r\n" + ",".join(row[h] for h in header) + "\r\n").encode("gb18030")
    ticket = call(
        "POST",
        "/uploads",
        ent,
        {"kind": "personnel_sheet", "filename": "新增人员.csv", "content_type": "text/csv", "size": len(content)},
        201,
    )
    post = ticket["post"]
    requests.post(post["url"], data=post["fields"], files={"file": ("新增人员.csv", content, "text/csv")}, timeout=10)
    job_id = ticket["upload"]["upload_id"]

    def finished():
        r = requests.get(f"{base}/imports/{job_id}", headers=ent, timeout=5)
        return r.json() if r.status_code == 200 and r.json()["state"] not in ("PENDING", "RUNNING") else None

    job = wait_for(finished, timeout=40)
    assert job["state"] == "COMPLETED", json.dumps(job, ensure_ascii=False)
    people = call("GET", "/me/personnel?limit=50", ent)["items"]
    new = next(p["record"] for p in people if p["record"]["name"] == "金振华")
    key = f"{new['person_key']}/{SHIZHENG}"
    submitted = call("POST", f"/registry/persons/{key}/submit", ent, {"version": new["version"]})
    call(
        "POST",
        f"/reviews/persons/{key}/decision",
        county,
        {"version": submitted["record"]["version"], "outcome": "CONFIRMED", "reason": "与注册证书原件核对一致"},
    )

    # 3. applied again: accepted by the county (县级受理), routed county → city → province by the table
    v = call("POST", "/qualification-applications", ent, upgrade, 201)
    app = v["application"]
    path = f"/qualification-applications/{app['application_id']}"
    assert (v["accept_label"], v["decide_label"], v["current_label"]) == (
        "义乌市住房和城乡建设局",
        "浙江省住房和城乡建设厅",
        "义乌市住房和城乡建设局",
    )
    assert [r["met"] for r in app["reviews"][0]["requirements"]] == [True] * len(app["reviews"][0]["requirements"])
    assert app["application_id"] in [
        x["application"]["application_id"] for x in call("GET", "/qualification-queue", county)["items"]
    ]
    # the city cannot act before the county passed it up
    call("POST", f"{path}/actions", city, {"version": app["version"], "event": "ACCEPT", "note": ""}, 403)

    def act(who, event, note="", **more):
        current = call("GET", path, who)["application"]
        return call(
            "POST", f"{path}/actions", who, {"version": current["version"], "event": event, "note": note, **more}
        )

    v = act(county, "ACCEPT", "材料齐全，予以受理")
    assert v["decision_due"] and v["working_days_left"] > 0
    left = v["working_days_left"]
    act(county, "REFER_UP", "初审通过，报金华市住房和城乡建设局")
    assert call("GET", path, ent)["current_label"] == "金华市住房和城乡建设局"
    act(city, "REFER_UP", "审查通过，报省住房和城乡建设厅")
    queued = call("GET", "/qualification-queue", province)["items"]
    assert app["application_id"] in [x["application"]["application_id"] for x in queued]

    # 4. 补正: the clock stops while the enterprise holds it, and runs again after its answer
    v = act(province, "REQUEST_SUPPLEMENT", "请补充业绩项目竣工验收资料", items=["城中路改造提升工程竣工验收报告"])
    assert v["state_label"] == "待企业补正" and v["clock_paused"] is True and v["working_days_left"] == left
    assert app["application_id"] not in [
        x["application"]["application_id"] for x in call("GET", "/qualification-queue", province)["items"]
    ]
    mine = call("GET", path, ent)
    assert [a["event"] for a in mine["actions"]] == ["ANSWER", "WITHDRAW"]
    v = call("POST", f"{path}/answer", ent, {"version": mine["application"]["version"], "answer": "已上传竣工验收报告"})
    assert v["state_label"] == "已受理审查中" and v["clock_paused"] is False

    # 5. 公示, then the approval (not before the notice period ends); the review runs again at the decision
    v = act(province, "START_NOTICE", "拟准予许可，公示")
    assert v["state_label"] == "公示中" and v["notice_until_label"]
    notices = call("GET", "/public/qualification-notices", {})["items"]
    assert [(n["enterprise_name"], n["target_label"]) for n in notices] == [
        ("义乌市城建市政工程有限公司", "市政公用工程施工总承包二级")
    ]
    early = requests.post(
        f"{base}{path}/actions",
        headers=province,
        json={"version": v["application"]["version"], "event": "APPROVE", "note": "公示无异议"},
        timeout=10,
    )
    assert early.status_code == 409 and "公示期满后方可准予许可" in early.json()["message"]
    time.sleep(3.5)
    v = act(province, "APPROVE", "公示期满无异议，准予许可")
    approved = v["application"]
    assert v["state_label"] == "准予许可" and approved["effect_applied"] is True
    assert [r["stage"] for r in approved["reviews"]] == ["submission", "notice", "decision"]
    new_cert = approved["new_certificate_no"]
    assert new_cert.startswith("D233") and approved["approval_no"].startswith("浙建资许〔")

    # 6. the registry: the new certificate holds 二级, the city's 三级 certificate has ended
    me = call("GET", "/me/enterprise", ent)["record"]
    certs = {c["cert_no"]: c for c in me["qualifications"]}
    assert [i["code"] for i in certs[new_cert]["items"]] == ["D110B"]
    assert certs[new_cert]["issuing_authority"] == "浙江省住房和城乡建设厅"
    assert certs["D333061208"]["items"][0]["status"] == "注销"
    trail = call("GET", f"/audit/targets/enterprise/{SHIZHENG}", province)["items"]
    assert "QUALIFICATION_CERT_CHANGED" in [x["action"] for x in trail]

    # the printable certificate (副本): the new grade, its approval number, the issuer
    from pypdf import PdfReader

    OUT.mkdir(exist_ok=True)
    link = call("GET", f"{path}/certificate", ent)
    pdf = requests.get(link["url"], timeout=10).content
    (OUT / "qualification-certificate.pdf").write_bytes(pdf)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for words in (
        new_cert,
        "市政公用工程施工总承包二级",
        approved["approval_no"],
        "浙江省住房和城乡建设厅",
        "义乌市城建市政工程有限公司",
    ):
        assert words in text, words

    # 7. the national platform receives the new certificate and its item, without a manual step
    nat = runtime["national"]
    for dataset, key in (("TBCorpCertInfo", new_cert), ("TBCorpCertDetailInfo", f"{new_cert}:D110B")):
        assert wait_for(
            lambda d=dataset, k=key: requests.get(f"{nat}/__control/accepted/{d}/{k}", timeout=5).status_code == 200,
            timeout=60,
            interval=1,
        ), f"{dataset} {key} not pushed"

    # 8. the public credit network shows the new grade
    public = call("GET", f"/public/enterprises/{SHIZHENG}", {})
    assert "市政公用工程施工总承包二级" in str(public)
