"""The construction-permit lifecycle end to end, over HTTP only, on the local runtime (Step Functions in moto,
the task queue pumped by the runtime): contract filings -> drawing review -> application -> a failing
precondition reported -> fixed -> approved -> PDF -> QR id verifies -> completion filing -> locks released."""

from __future__ import annotations

import io
import re

import requests

from tests.e2e.test_local_runtime import login, runtime, wait_for  # noqa: F401 - the module-scoped runtime fixture

PRJ = "3307822603150001"
PRJ2 = "3307822604010001"
BUILDER = "91330782MA2F00063N"
# who takes each contract: the builder holds 建筑业 certificates only, survey and design go to institutes outside the
# registry (a construction company named on a survey or design contract is refused)
CONTRACTOR = {
    "survey": {"contractor_uscc": "91330100MA2F0K017F", "contractor_name": "浙江省工程勘察院"},
    "design": {"contractor_uscc": "91330100MA2F0J014Y", "contractor_name": "浙江省建筑设计研究院"},
    "construction": {"contractor_uscc": BUILDER},
}


def test_permit_lifecycle_over_http(runtime):  # noqa: F811
    from pypdf import PdfReader

    base = runtime["base"]
    ent, county = login(runtime, "ent_jiangong"), login(runtime, "county_yiwu")

    def call(method, path, headers, payload=None, expect=200):
        r = requests.request(method, f"{base}{path}", headers=headers, json=payload, timeout=15)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def file_and_check(data):
        rec = call("POST", f"/projects/{PRJ}/stages", ent, {"data": data}, 201)["record"]
        path = f"/projects/{PRJ}/stages/{data['kind']}/{rec['number']}/check"
        call("POST", path, county, {"version": rec["version"], "confirmed": True, "note": "与原件一致"})

    # 1. contract filings (勘察、设计、施工), checked by the county
    for i, ctype in enumerate(("survey", "design", "construction"), start=1):
        file_and_check(
            {
                "kind": "contract",
                "number": f"{PRJ}-02-00{i}",
                "contract_no": f"SJHT-2026-{i:03d}",
                "contract_type": ctype,
                "money": "18000",
                "contract_date": "2026-03-20",
                "employer_uscc": BUILDER,
                **CONTRACTOR[ctype],
            }
        )
    # 2. the application names the builder's 一级建造师; the drawing review is still missing
    staff = {p["record"]["name"]: p["record"]["person_key"] for p in call("GET", "/me/personnel", ent)["items"]}
    manager, safety = staff["何志远"], [staff["楼国华"], staff["吴安平"]]  # B, and the A and C certificate holders
    app = call(
        "POST",
        f"/projects/{PRJ}/permit-applications",
        ent,
        {
            "construction_uscc": BUILDER,
            "project_manager": manager,
            "safety_persons": safety,
            "contract_price": "18000",
            "area": "48000",
            "site_ready": True,
            "funds_committed": True,
        },
        201,
    )["application"]
    app_path = f"/permit-applications/{app['application_id']}"

    def state(pred):
        return wait_for(lambda: (v := call("GET", app_path, county)) and pred(v["application"]) and v, timeout=40)

    v = state(lambda a: a["task_step"] == "await_completion")
    assert v["application"]["missing"] == ["缺少已核查的施工图审查合格书", "未办理质量安全监督登记"]
    # 3. fixed: drawing review and supervision registration filed and checked, then resubmitted
    file_and_check(
        {
            "kind": "drawing_review",
            "number": f"{PRJ}-03-001",
            "review_org_uscc": "91330700MA2F00071Q",
            "review_org_name": "金华市建设工程施工图审查中心",
            "finished_on": "2026-04-01",
            "first_pass": True,
            "violations": 0,
        }
    )
    file_and_check(
        {
            "kind": "supervision_registration",
            "number": f"JD-{PRJ}",
            "station": "义乌市建设工程质量安全监督站",
            "registered_on": "2026-04-03",
        }
    )
    call("POST", f"{app_path}/resubmit", ent, {"version": v["application"]["version"], "changes": {}})
    v = state(lambda a: a["task_step"] == "review")
    assert v["application"]["missing"] == []
    # 4. approved by the county; the workflow issues the permit
    call(
        "POST",
        f"{app_path}/decision",
        county,
        {"version": v["application"]["version"], "approved": True, "reason": "符合条件"},
    )
    v = state(lambda a: a["state"] == "ISSUED")
    permit_no = v["application"]["permit_no"]
    assert v["workflow"]["transitions"] <= 20
    # 5. the certificate PDF: project name, permit number, and the verification code behind the QR
    link = call("GET", f"{app_path}/certificate?copy=正本", ent)
    text = PdfReader(io.BytesIO(requests.get(link["url"], timeout=10).content)).pages[0].extract_text()
    assert "义乌市双江湖科创园一期工程" in text and permit_no in text
    vid = re.search(r"核验码：(\S+)", text).group(1)
    public = call("GET", f"/public/permits/verify?vid={vid}", {})
    assert public["permit_no"] == permit_no and public["status"] == "有效"
    # 电子证照: the file is sealed by 义乌市住房和城乡建设局 and the public check of the file says so; the licence
    # reaches the ministry's simulator by the scheduled push, without a manual step
    import base64

    sealed = requests.get(link["url"], timeout=10).content
    checked = call("POST", "/public/licences/verify", {}, {"pdf_base64": base64.b64encode(sealed).decode()})
    assert checked["genuine"] and checked["seal"]["signer"] == "义乌市住房和城乡建设局" and checked["status"] == "VALID"
    nat = runtime["national"]
    assert wait_for(
        lambda: (
            requests.get(f"{nat}/__control/accepted/TBBuilderLicenceECert/{permit_no}", timeout=5).status_code == 200
        ),
        timeout=60,
        interval=1,
    ), "the electronic licence was not pushed"
    # 6. the manager is locked: an application for the second project with him is held up by the lock ...
    other = call(
        "POST",
        f"/projects/{PRJ2}/permit-applications",
        ent,
        {
            "construction_uscc": BUILDER,
            "project_manager": manager,
            "safety_persons": safety,
            "contract_price": "9000",
            "area": "21000",
            "site_ready": True,
            "funds_committed": True,
        },
        201,
    )["application"]
    other_path = f"/permit-applications/{other['application_id']}"
    lock = f"项目经理已被在建项目{PRJ}锁定"
    o = wait_for(
        lambda: (x := call("GET", other_path, ent)) and x["application"]["task_step"] == "await_completion" and x, 40
    )
    assert lock in o["application"]["missing"]
    # ... until the completion filing of the first project releases him
    current = call("GET", app_path, ent)["application"]
    done = call(
        "POST",
        f"{app_path}/completion",
        ent,
        {"version": current["version"], "completion_no": "义竣备2026-0001", "completed_on": "2026-11-20"},
    )
    assert done["application"]["state"] == "COMPLETED"
    assert call("GET", f"/public/permits/verify?permit_no={permit_no}", {})["status"] == "已竣工验收备案"
    call("POST", f"{other_path}/resubmit", ent, {"version": o["application"]["version"], "changes": {}})
    o = wait_for(
        lambda: (
            (x := call("GET", other_path, ent))
            and x["application"]["task_step"] == "await_completion"
            and x["application"]["version"] > o["application"]["version"] + 1
            and x
        ),
        40,
    )
    assert lock not in o["application"]["missing"]  # only the second project's own missing filings remain
    assert o["application"]["missing"] and all("锁定" not in m for m in o["application"]["missing"])
    trail = call("GET", f"/audit/targets/permit_application/{app['application_id']}", login(runtime, "province"))
    assert {"PERMIT_APPLIED", "PERMIT_DECIDED", "PERMIT_ISSUED", "PERMIT_PRINTED", "PERMIT_COMPLETED"} <= {
        e["action"] for e in trail["items"]
    }
