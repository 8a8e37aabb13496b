"""The construction permit workflow on Step Functions (moto executes it): checks, completion, review, escalation,
issue with person locks. Step Functions runs in moto's background threads; the test pumps the task queue."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, date, datetime

import pytest

from chalicelib.names import PERMIT_TASKS_QUEUE
from infra.local.pumps import SqsPoller
from tests.conftest import today_in_beijing
from tests.integration.test_imports import USCC_YIWU, id_card
from tests.integration.test_review import JSON, body, decide, submitted_enterprise

SAFETY: list[str] = []  # the A and C certificate holders of the fixture's builder (the manager holds B)


@pytest.fixture
def permits(client, platform, login, monkeypatch):
    """A confirmed construction enterprise (义乌示范), a confirmed 一级建造师 of it, and confirmed projects."""
    from chalicelib import wiring
    from chalicelib.domain.person import RegisteredPerson, Registration, SafetyCert, person_key
    from chalicelib.domain.project import Project
    from chalicelib.domain.records import Provenance, RecordSource, RecordState

    rec = submitted_enterprise(client, platform, login)
    assert decide(client, login("county_yiwu"), rec["version"]).status_code == 200
    # certificates valid today (the shared fixture's are 2015-era ones)
    from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
    from chalicelib.domain.identity import system_principal
    from chalicelib.domain.records import RecordType

    repo = wiring.get_registry_repository()
    ent = repo.get(RecordType.ENTERPRISE, (USCC_YIWU,))
    cert = ent.qualifications[0].model_copy(update={"valid_until": date(2030, 1, 1)})
    lic = ent.safety_licence.model_copy(update={"valid_until": date(2030, 1, 1)})
    renewed = ent.model_copy(update={"qualifications": [cert], "safety_licence": lic, "version": ent.version + 1})
    repo.save(
        renewed,
        ent.version,
        AuditDraft(target_type="enterprise", target_id=USCC_YIWU, action=AuditAction.RECORD_IMPORTED),
        system_principal("t"),
        RequestMeta(),
    )
    now = datetime.now(UTC).isoformat()
    prov = Provenance(source=RecordSource.LEGACY_IMPORT, entered_by="t", entered_org="330000", entered_at=now)
    secret = wiring.person_key_secret()
    people = {}
    for name, first17, state, cert in (
        ("李建华", "33078219750312001", RecordState.CONFIRMED, "B"),
        ("王未审", "33078219800101003", RecordState.SUBMITTED, "B"),
        ("王守法", "33078219700101005", RecordState.CONFIRMED, "A"),
        ("周安", "33078219850101007", RecordState.CONFIRMED, "C"),
    ):
        idn = id_card(first17)
        key = person_key("1", idn, secret)
        people[name] = key
        wiring.get_registry_repository().insert_batch(
            [
                RegisteredPerson(
                    person_key=key,
                    employer_uscc=USCC_YIWU,
                    employer_name="义乌市示范建设有限公司",
                    name=name,
                    id_no=idn,
                    registrations=[
                        Registration(reg_type="JZS1", specialties=["建筑工程"], valid_until=date(2030, 1, 1))
                    ],
                    safety_certs=[
                        SafetyCert(
                            category=cert, cert_no=f"浙建安{cert}(2024)0{len(people)}", valid_until=date(2029, 1, 1)
                        )
                    ],
                    state=state,
                    provenance=prov,
                    created_at=now,
                    updated_at=now,
                    region_code="330782",
                    owner_uscc=USCC_YIWU,
                )
            ]
        )
    projects = []
    for i in range(3):
        prj = f"33078215031{i}0001"
        projects.append(prj)
        wiring.get_registry_repository().insert_batch(
            [
                Project(
                    prj_num=prj,
                    name=f"义乌市某小区{i + 1}期工程",
                    location_region="330782",
                    land_plan_permit_no=f"地字第33078220260{i}号",
                    project_plan_permit_no=f"建字第33078220260{i}号",
                    state=RecordState.CONFIRMED,
                    provenance=prov,
                    created_at=now,
                    updated_at=now,
                    region_code="330782",
                    owner_uscc=USCC_YIWU,
                )
            ]
        )
    from app import app

    info = platform["queues"][PERMIT_TASKS_QUEUE]
    poller = SqsPoller(
        name="on_permit_task",
        handler=app.handler_map["on_permit_task"],
        sqs=platform["session"].client("sqs"),
        queue_url=info["url"],
        queue_arn=info["arn"],
        batch_size=5,
        region="us-east-1",
        stop=threading.Event(),
        retry_backoff_seconds=0,
        wait_seconds=0,
    )
    for prj in projects[:2]:
        file_stages(client, login, prj)
    file_stages(client, login, projects[2], kinds=("contract",))  # no drawing review, no supervision registration
    SAFETY[:] = [people["王守法"], people["周安"]]
    return {"people": people, "projects": projects, "poller": poller}


LEADERS = {"survey": "陈勘", "design": "林设"}  # the survey's and design's project leaders, printed on the permit
# the survey and design contractors: institutes not in the enterprise registry (their qualifications are not judged
# here); the construction contractor is the fixture's builder, which holds a 建筑业 certificate
CONTRACTORS = {
    "survey": ("91330100MA2F0K017F", "浙江省工程勘察院"),
    "design": ("91330100MA2F0J014Y", "浙江省建筑设计研究院"),
    "construction": (USCC_YIWU, None),
}


def stage_payloads(prj):
    contracts = [
        {
            "kind": "contract",
            "number": f"{prj}-02-00{i}",
            "contract_no": f"HT-{ctype}",
            "contract_type": ctype,
            "money": "800",
            "contract_date": "2026-01-10",
            "employer_uscc": USCC_YIWU,
            "contractor_uscc": CONTRACTORS[ctype][0],
            **({"contractor_name": CONTRACTORS[ctype][1]} if CONTRACTORS[ctype][1] else {}),
            **({"leader_name": LEADERS[ctype]} if ctype in LEADERS else {}),
        }
        for i, ctype in enumerate(("survey", "design", "construction"), start=1)
    ]
    return {
        "contract": contracts,
        "drawing_review": [
            {
                "kind": "drawing_review",
                "number": f"{prj}-03-001",
                "review_org_uscc": USCC_YIWU,
                "review_org_name": "金华市施工图审查中心",
                "finished_on": "2026-02-01",
                "first_pass": False,
                "violations": 1,
                "violated_clauses": "GB 50016-2014 第5.5.17条",
            }
        ],
        "supervision_registration": [
            {
                "kind": "supervision_registration",
                "number": f"JD-{prj}",
                "station": "义乌市建设工程质量安全监督站",
                "registered_on": "2026-02-05",
            }
        ],
    }


def file_stages(client, login, prj, kinds=("contract", "drawing_review", "supervision_registration")):
    """File stage records as the 建设单位 and have the county check them, over the HTTP API."""
    ent, county = login("ent_yiwu"), login("county_yiwu")
    for kind in kinds:
        for data in stage_payloads(prj)[kind]:
            r = client.http.post(f"/projects/{prj}/stages", headers={**JSON, **ent}, body=json.dumps({"data": data}))
            assert r.status_code == 201, r.body
            rec = body(r)["record"]
            r = client.http.post(
                f"/projects/{prj}/stages/{kind}/{rec['number']}/check",
                headers={**JSON, **county},
                body=json.dumps({"version": rec["version"], "confirmed": True, "note": "与原件一致"}),
            )
            assert r.status_code == 200, r.body


def pump_until(client, login, permits, app_id, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        permits["poller"].poll_once()
        view = body(client.http.get(f"/permit-applications/{app_id}", headers=login("county_yiwu")))
        if predicate(view):
            return view
        time.sleep(0.05)
    raise AssertionError(f"condition not reached; last view: {json.dumps(view, ensure_ascii=False)[:1500]}")


def apply(client, login, prj, manager, price="800", area="5000"):
    r = client.http.post(
        f"/projects/{prj}/permit-applications",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps(
            {
                "construction_uscc": USCC_YIWU,
                "project_manager": manager,
                "contract_price": price,
                "area": area,
                "safety_persons": SAFETY,
                "site_ready": True,
                "funds_committed": True,
            }
        ),
    )
    assert r.status_code == 201, r.body
    return body(r)["application"]["application_id"]


def test_failing_check_then_fixed_then_approved_and_issued(client, platform, login, permits):
    app_id = apply(client, login, permits["projects"][0], permits["people"]["王未审"])
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "await_completion")
    assert v["application"]["state"] == "INCOMPLETE"
    assert v["application"]["missing"] == [
        "项目经理不是施工单位已确认的注册人员",
        "缺少持有效安全生产考核合格证书的项目负责人（B证）",  # an unconfirmed person's certificate does not count
    ]
    assert "task_token" not in v["application"]  # the token never leaves the server
    # the one-time notice, printable: every missing item, dated, with its statutory due date
    import io

    import requests
    from pypdf import PdfReader

    notice = body(client.http.get(f"/permit-applications/{app_id}/notice", headers=login("ent_yiwu")))
    text = PdfReader(io.BytesIO(requests.get(notice["url"], timeout=10).content)).pages[0].extract_text()
    assert "一次性告知" in text and "项目经理不是施工单位已确认的注册人员" in text
    assert v["application"]["notice_issued_on"] == today_in_beijing().isoformat() and v["application"]["notice_due_by"]
    r = client.http.post(
        f"/permit-applications/{app_id}/resubmit",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps(
            {"version": v["application"]["version"], "changes": {"project_manager": permits["people"]["李建华"]}}
        ),
    )
    assert r.status_code == 200, r.body
    v = pump_until(
        client,
        login,
        permits,
        app_id,
        lambda v: v["application"]["state"] == "UNDER_REVIEW" and v["application"]["task_step"] == "review",
    )
    assert v["application"]["missing"] == []
    # a resubmission while the officials review never moves the application: 409, state unchanged
    again = client.http.post(
        f"/permit-applications/{app_id}/resubmit",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps({"version": v["application"]["version"], "changes": {}}),
    )
    assert again.status_code == 409
    assert (
        body(client.http.get(f"/permit-applications/{app_id}", headers=login("ent_yiwu")))["application"]["state"]
        == "UNDER_REVIEW"
    )
    assert decide_permit(client, login("county_xihu"), app_id, v, True).status_code == 404
    assert client.http.get(f"/permit-applications/{app_id}/notice", headers=login("ent_yiwu")).status_code == 409
    assert decide_permit(client, login("county_yiwu"), app_id, v, True).status_code == 200
    v = pump_until(client, login, permits, app_id, lambda v: v["workflow"]["status"] == "SUCCEEDED")
    a = v["application"]
    assert a["state"] == "ISSUED"
    assert a["permit_no"].startswith("330782" + today_in_beijing().strftime("%Y%m%d")) and len(a["permit_no"]) == 18
    assert v["workflow"]["current_step"] == "Issued"
    assert v["workflow"]["transitions"] <= 20  # the happy path with one completion round stays within budget
    from chalicelib import wiring

    assert wiring.get_permit_service().store.lock_holder(permits["people"]["李建华"]) == permits["projects"][0]
    # the officials' project view: stage records and the workflow's progress
    view = body(client.http.get(f"/projects/{permits['projects'][0]}/lifecycle", headers=login("county_yiwu")))
    assert view["project"]["state"] == "CONFIRMED" and len(view["stages"]) == 5
    [permit] = view["permits"]
    assert permit["application"]["permit_no"] == a["permit_no"] and permit["workflow"]["current_step"] == "Issued"
    assert permit["workflow"]["steps"][:2] == ["CheckPreconditions", "PreconditionsMet"]
    assert "task_token" not in permit["application"]
    assert (
        client.http.get(f"/projects/{permits['projects'][0]}/lifecycle", headers=login("county_xihu")).status_code
        == 404
    )


def decide_permit(client, headers, app_id, view, approved, reason="材料齐全，符合条件"):
    return client.http.post(
        f"/permit-applications/{app_id}/decision",
        headers={**JSON, **headers},
        body=json.dumps({"version": view["application"]["version"], "approved": approved, "reason": reason}),
    )


def test_rejection_ends_the_workflow(client, platform, login, permits):
    app_id = apply(client, login, permits["projects"][0], permits["people"]["李建华"])
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "review")
    assert decide_permit(client, login("ent_yiwu"), app_id, v, False).status_code == 403
    assert decide_permit(client, login("county_yiwu"), app_id, v, False, "施工图未经审查").status_code == 200
    v = pump_until(client, login, permits, app_id, lambda v: v["workflow"]["status"] == "SUCCEEDED")
    assert v["application"]["state"] == "REJECTED" and v["workflow"]["current_step"] == "Rejected"
    again = decide_permit(client, login("county_yiwu"), app_id, v, True)
    assert again.status_code == 409  # a decided application does not take a second decision


def test_review_timeout_escalates_to_the_city(client, platform, login, permits, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("PERMIT_REVIEW_SECONDS", "1")
    wiring.reset()
    app_id = apply(client, login, permits["projects"][0], permits["people"]["李建华"])
    v = pump_until(
        client,
        login,
        permits,
        app_id,
        lambda v: v["application"]["state"] == "ESCALATED" and v["application"]["task_step"] == "review",
    )
    assert v["application"]["review_level"] == "city"
    assert "EscalatedReview" in v["workflow"]["steps"]
    assert decide_permit(client, login("county_yiwu"), app_id, v, True).status_code == 403
    assert decide_permit(client, login("city_jinhua"), app_id, v, True).status_code == 200
    v = pump_until(client, login, permits, app_id, lambda v: v["workflow"]["status"] == "SUCCEEDED")
    assert v["application"]["state"] == "ISSUED"


def test_two_applications_racing_for_one_project_manager(client, platform, login, permits):
    manager = permits["people"]["李建华"]
    a = apply(client, login, permits["projects"][0], manager)
    b = apply(client, login, permits["projects"][1], manager)
    va = pump_until(client, login, permits, a, lambda v: v["application"]["task_step"] == "review")
    vb = pump_until(client, login, permits, b, lambda v: v["application"]["task_step"] == "review")
    assert decide_permit(client, login("county_yiwu"), a, va, True).status_code == 200
    assert decide_permit(client, login("county_yiwu"), b, vb, True).status_code == 200

    def settled(v):
        return v["application"]["state"] == "ISSUED" or v["application"]["task_step"] == "await_completion"

    va = pump_until(client, login, permits, a, settled)
    vb = pump_until(client, login, permits, b, settled)
    states = sorted([va["application"]["state"], vb["application"]["state"]])
    assert states == ["INCOMPLETE", "ISSUED"]
    loser = va if va["application"]["state"] == "INCOMPLETE" else vb
    assert "锁定" in loser["application"]["missing"][0]
    assert loser["application"]["permit_no"] is None


def test_certificate_print_verification_and_completion(client, platform, login, permits):
    import io

    import requests
    from pypdf import PdfReader

    from tests.integration.test_public_credit import Calls

    app_id = apply(client, login, permits["projects"][0], permits["people"]["李建华"])
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "review")
    assert decide_permit(client, login("county_yiwu"), app_id, v, True).status_code == 200
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["state"] == "ISSUED")
    permit_no = v["application"]["permit_no"]
    ent = login("ent_yiwu")
    first = body(client.http.get(f"/permit-applications/{app_id}/certificate?copy=正本", headers=ent))
    assert first["reprint"] is False
    pdf = requests.get(first["url"], timeout=10).content
    assert pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert permit_no in text and "义乌市某小区1期工程" in text and "建筑工程施工许可证" in text
    # the issuing authority by its name, never a region code (data/authorities.json)
    assert "发证机关：义乌市住房和城乡建设局" in text and "330782住房" not in text
    flat = "".join(text.split())
    assert "勘察单位项目负责人陈勘" in flat and "设计单位项目负责人林设" in flat  # from the contract filings
    again = body(client.http.get(f"/permit-applications/{app_id}/certificate?copy=副本", headers=ent))
    assert again["reprint"] is True
    assert "补打" in PdfReader(io.BytesIO(requests.get(again["url"], timeout=10).content)).pages[0].extract_text()
    trail = body(client.http.get(f"/audit/targets/permit_application/{app_id}", headers=login("province")))
    assert [e["action"] for e in trail["items"]].count("PERMIT_PRINTED") == 2

    from chalicelib import wiring

    vid = wiring.get_permit_service().store.get(app_id).verification_id
    with Calls() as calls:
        r = client.http.get(f"/public/permits/verify?vid={vid}")
    assert r.status_code == 200 and body(r)["permit_no"] == permit_no and body(r)["status"] == "有效"
    assert calls.ops == ["GetItem", "GetItem"]  # <= 2 requests
    assert body(client.http.get(f"/public/permits/verify?permit_no={permit_no}"))["prj_num"] == permits["projects"][0]
    assert client.http.get("/public/permits/verify?vid=not-a-real-code").status_code == 404

    current = body(client.http.get(f"/permit-applications/{app_id}", headers=ent))["application"]
    r = client.http.post(
        f"/permit-applications/{app_id}/completion",
        headers={**JSON, **ent},
        body=json.dumps(
            {"version": current["version"], "completion_no": "义竣备2016-0001", "completed_on": "2016-06-30"}
        ),
    )
    assert r.status_code == 200, r.body
    assert body(r)["application"]["state"] == "COMPLETED"
    assert wiring.get_permit_service().store.lock_holder(permits["people"]["李建华"]) is None
    assert body(client.http.get(f"/public/permits/verify?vid={vid}"))["status"] == "已竣工验收备案"


def issue_one(client, login, permits, prj_index=0):
    app_id = apply(client, login, permits["projects"][prj_index], permits["people"]["李建华"])
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "review")
    assert decide_permit(client, login("county_yiwu"), app_id, v, True).status_code == 200
    return app_id, pump_until(client, login, permits, app_id, lambda v: v["application"]["state"] == "ISSUED")


def post(client, headers, path, payload):
    return client.http.post(path, headers={**JSON, **headers}, body=json.dumps(payload, ensure_ascii=False))


def test_extensions_reissue_the_certificate_and_unstarted_permits_lapse_once(
    client, platform, login, permits, monkeypatch
):
    import io
    from datetime import timedelta

    import requests
    from pypdf import PdfReader

    from chalicelib import wiring
    from chalicelib.domain.audit import RequestMeta
    from chalicelib.domain.permits import start_deadline

    app_id, v = issue_one(client, login, permits)
    a = v["application"]
    issued_on = date.fromisoformat(a["issued_on"])
    assert a["start_deadline"] == start_deadline(issued_on, []).isoformat() and a["cert_version"] == 1
    ent, county = login("ent_yiwu"), login("county_yiwu")
    base = f"/permit-applications/{app_id}"

    r = post(client, ent, f"{base}/extensions", {"version": a["version"], "months": 4, "reason": "拆迁未完成"})
    assert r.status_code == 409 and "不超过3个月" in body(r)["message"]
    r = post(client, ent, f"{base}/extensions", {"version": a["version"], "months": 3, "reason": "拆迁未完成"})
    assert r.status_code == 200, r.body
    a = body(r)["application"]
    decision = {"version": a["version"], "approved": True, "reason": "理由成立"}
    assert post(client, login("county_xihu"), f"{base}/extensions/decision", decision).status_code == 404
    assert post(client, ent, f"{base}/extensions/decision", decision).status_code == 403
    r = post(client, county, f"{base}/extensions/decision", decision)
    assert r.status_code == 200, r.body
    a = body(r)["application"]
    assert a["cert_version"] == 2 and a["start_deadline"] == start_deadline(issued_on, [3]).isoformat()
    link = body(client.http.get(f"{base}/certificate?copy=正本", headers=ent))
    assert link["reprint"] is False  # the new version is a first print
    text = PdfReader(io.BytesIO(requests.get(link["url"], timeout=10).content)).pages[0].extract_text()
    y, m, d = a["start_deadline"].split("-")
    assert "第2版" in text and f"应于{int(y)}年{int(m)}月{int(d)}日前开工" in text  # documents speak Chinese dates

    a = body(client.http.get(base, headers=ent))["application"]
    r = post(client, ent, f"{base}/extensions", {"version": a["version"], "months": 2, "reason": "资金未到位"})
    a = body(r)["application"]
    r = post(
        client,
        county,
        f"{base}/extensions/decision",
        {"version": a["version"], "approved": False, "reason": "理由不成立"},
    )
    assert r.status_code == 200 and body(r)["application"]["cert_version"] == 2

    # the day after the deadline: the daily job lapses the permit, releases the locks, and tells the applicant once
    service = wiring.get_permit_service()
    after = datetime.combine(date.fromisoformat(a["start_deadline"]) + timedelta(days=1), datetime.min.time(), UTC)
    monkeypatch.setattr(service, "clock", lambda: after.replace(hour=4))
    jobs = wiring.get_permit_after_issue()
    assert jobs.lapse_overdue(RequestMeta()) == 1
    assert jobs.lapse_overdue(RequestMeta()) == 0  # rerun: no second notice
    a = body(client.http.get(base, headers=ent))["application"]
    assert a["state"] == "LAPSED" and "自行废止" in a["lapse_notice"]
    assert service.store.lock_holder(permits["people"]["李建华"]) is None
    vid = service.store.get(app_id).verification_id
    assert body(client.http.get(f"/public/permits/verify?vid={vid}"))["status"] == "已废止"
    trail = body(client.http.get(f"/audit/targets/permit_application/{app_id}", headers=login("province")))
    actions = [e["action"] for e in trail["items"]]
    assert actions.count("PERMIT_LAPSED") == 1 and actions.count("PERMIT_EXTENSION_DECIDED") == 2
    r = post(client, ent, f"{base}/start", {"version": a["version"], "started_on": after.date().isoformat()})
    assert r.status_code == 409


def test_start_suspension_and_resumption_after_a_year_needs_the_authority(
    client, platform, login, permits, monkeypatch
):
    from datetime import timedelta

    from chalicelib import wiring

    app_id, v = issue_one(client, login, permits)
    a = v["application"]
    ent, county = login("ent_yiwu"), login("county_yiwu")
    base = f"/permit-applications/{app_id}"
    today = date.fromisoformat(a["issued_on"])
    r = post(
        client, ent, f"{base}/suspension", {"version": a["version"], "stopped_on": today.isoformat(), "reason": "x停工"}
    )
    assert r.status_code == 409 and "尚未开工" in body(r)["message"]
    r = post(client, ent, f"{base}/start", {"version": a["version"], "started_on": today.isoformat()})
    assert r.status_code == 200, r.body
    a = body(r)["application"]
    assert a["started_on"] == today.isoformat()
    stale = post(client, ent, f"{base}/start", {"version": a["version"] - 1, "started_on": today.isoformat()})
    assert stale.status_code == 409  # a stale version never overwrites
    r = post(
        client,
        ent,
        f"{base}/suspension",
        {"version": a["version"], "stopped_on": today.isoformat(), "reason": "资金问题停工"},
    )
    assert r.status_code == 200, r.body
    a = body(r)["application"]
    assert a["state"] == "SUSPENDED" and a["suspension_reported_late"] is False
    r = post(
        client,
        ent,
        f"{base}/completion",
        {"version": a["version"], "completion_no": "义竣备-1", "completed_on": today.isoformat()},
    )
    assert r.status_code == 409  # a suspended project does not complete

    later = datetime.combine(today + timedelta(days=400), datetime.min.time(), UTC).replace(hour=4)
    monkeypatch.setattr(wiring.get_permit_service(), "clock", lambda: later)
    resume = {"version": a["version"], "resumed_on": later.date().isoformat()}
    r = post(client, ent, f"{base}/resumption", resume)
    assert r.status_code == 409 and "核验" in body(r)["message"]
    assert post(client, login("county_xihu"), f"{base}/resumption", resume).status_code == 404
    r = post(client, county, f"{base}/resumption", resume)
    assert r.status_code == 200, r.body
    a = body(r)["application"]
    assert a["state"] == "ISSUED" and a["resume_checked_by"]
    assert wiring.get_permit_service().store.lock_holder(permits["people"]["李建华"]) == permits["projects"][0]


def test_missing_drawing_review_is_named_then_filed_and_the_application_proceeds(client, platform, login, permits):
    prj = permits["projects"][2]
    app_id = apply(client, login, prj, permits["people"]["李建华"])
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "await_completion")
    assert v["application"]["missing"] == ["缺少已核查的施工图审查合格书", "未办理质量安全监督登记"]
    file_stages(client, login, prj, kinds=("drawing_review", "supervision_registration"))
    r = client.http.post(
        f"/permit-applications/{app_id}/resubmit",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps({"version": v["application"]["version"], "changes": {}}),
    )
    assert r.status_code == 200, r.body
    v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "review")
    assert v["application"]["missing"] == []


def test_stage_records_are_filed_by_the_right_party_checked_and_versioned(client, platform, login, permits):
    prj = permits["projects"][0]
    ent, county = login("ent_yiwu"), login("county_yiwu")
    stages = body(client.http.get(f"/projects/{prj}/stages", headers=ent))["items"]
    assert {s["kind_label"] for s in stages} == {"合同备案", "施工图审查合格书", "质量安全监督登记"}
    assert all(s["state_label"] == "已核查" for s in stages)
    assert client.http.get(f"/projects/{prj}/stages", headers=login("county_xihu")).status_code == 404
    bad = dict(stage_payloads(prj)["drawing_review"][0], number=f"{prj}-03-002", violated_clauses=None)
    r = client.http.post(f"/projects/{prj}/stages", headers={**JSON, **ent}, body=json.dumps({"data": bad}))
    assert r.status_code == 400 and "强制性条文" in r.body.decode()
    new = dict(bad, violations=0, first_pass=True)
    r = client.http.post(f"/projects/{prj}/stages", headers={**JSON, **ent}, body=json.dumps({"data": new}))
    assert r.status_code == 201
    rec = body(r)["record"]
    dup = client.http.post(f"/projects/{prj}/stages", headers={**JSON, **ent}, body=json.dumps({"data": new}))
    assert dup.status_code == 409
    pending = body(client.http.get("/stages/pending", headers=county))["items"]
    assert [p["record"]["number"] for p in pending] == [rec["number"]]
    path = f"/projects/{prj}/stages/drawing_review/{rec['number']}"
    r = client.http.post(
        f"{path}/check",
        headers={**JSON, **county},
        body=json.dumps({"version": rec["version"], "confirmed": False, "note": "审查机构名称与公章不符"}),
    )
    assert body(r)["state_label"] == "退回修改"
    fixed = dict(new, review_org_name="浙江省施工图审查中心")
    stale = client.http.put(path, headers={**JSON, **ent}, body=json.dumps({"version": rec["version"], "data": fixed}))
    assert stale.status_code == 409
    r = client.http.put(path, headers={**JSON, **ent}, body=json.dumps({"version": rec["version"] + 1, "data": fixed}))
    assert r.status_code == 200 and body(r)["state_label"] == "待核查"
    assert body(r)["record"]["version"] == rec["version"] + 2
    trail = body(
        client.http.get(f"/audit/targets/stage_record/{prj}:drawing_review:{rec['number']}", headers=login("province"))
    )
    assert [e["action"] for e in trail["items"]] == ["STAGE_FILED", "STAGE_CHECKED", "STAGE_CORRECTED"]


def test_splitting_a_project_under_the_threshold_is_flagged_for_the_official(client, platform, login, permits):
    prj, manager = permits["projects"][0], permits["people"]["李建华"]

    def small(reason):
        r = client.http.post(
            f"/projects/{prj}/permit-applications",
            headers={**JSON, **login("ent_yiwu")},
            body=json.dumps(
                {
                    "construction_uscc": USCC_YIWU,
                    "project_manager": manager,
                    "contract_price": "150",
                    "area": "800",
                    "exempt_reason": reason,
                    "safety_persons": SAFETY,
                    "site_ready": True,
                    "funds_committed": True,
                }
            ),
        )
        assert r.status_code == 201, r.body
        return body(r)["application"]["application_id"]

    first = small("建设单位自愿申请")
    v1 = pump_until(client, login, permits, first, lambda v: v["application"]["task_step"] == "review")
    # the filed construction contract says 800万元: the price mismatch is flagged, splitting not yet
    assert v1["application"]["flags"] == ["申请的合同价格150万元与已备案施工合同金额（800万元）不一致"]
    second = small("附属用房，单独申请")
    v2 = pump_until(client, login, permits, second, lambda v: v["application"]["task_step"] == "review")
    [flag] = [f for f in v2["application"]["flags"] if "分解工程" in f]
    assert "分解工程规避施工许可" in flag and "300万元" in flag


def test_a_contract_needs_a_contractor_qualified_for_its_kind(client, platform, login, permits):
    """合同类别 vs 承包单位资质 (the rule is data: contract_types.contractor_qualification_types): the builder holds
    建筑业 certificates only, so a survey or design contract naming it is refused, naming the field; a design
    institute in the registry with a 工程设计 certificate is accepted; every problem of a filing is reported at once."""
    from chalicelib import wiring
    from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem
    from chalicelib.domain.records import Provenance, RecordSource, RecordState

    prj = permits["projects"][2]
    ent = login("ent_yiwu")

    def file(data):
        return client.http.post(f"/projects/{prj}/stages", headers={**JSON, **ent}, body=json.dumps({"data": data}))

    survey = dict(stage_payloads(prj)["contract"][0], number=f"{prj}-02-011", contractor_uscc=USCC_YIWU)
    r = file(survey)
    assert r.status_code == 400, r.body
    err = body(r)
    assert err["details"] == [
        {
            "field": "contractor_uscc",
            "label": "承包单位",
            "message": "承包单位义乌市示范建设有限公司没有2026年1月10日有效的工程勘察资质，不能承接勘察合同",
        }
    ]
    assert err["message"].startswith("合同备案校验未通过：承包单位：")
    design = dict(stage_payloads(prj)["contract"][1], number=f"{prj}-02-012", contractor_uscc=USCC_YIWU)
    assert "工程设计资质或设计施工一体化资质" in body(file(design))["message"]

    institute = "91330782MA2F0J014N"
    now = datetime.now(UTC).isoformat()
    wiring.get_registry_repository().insert_batch(
        [
            Enterprise(
                uscc=institute,
                name="义乌市建筑设计研究院有限公司",
                registered_region="330782",
                qualifications=[
                    QualificationCert(
                        cert_no="A233000451", valid_until=date(2030, 1, 1), items=[QualificationItem(code="A1A")]
                    )
                ],
                state=RecordState.CONFIRMED,
                provenance=Provenance(
                    source=RecordSource.LEGACY_IMPORT, entered_by="t", entered_org="330000", entered_at=now
                ),
                created_at=now,
                updated_at=now,
                region_code="330782",
                owner_uscc=institute,
            )
        ]
    )
    assert file(dict(design, contractor_uscc=institute)).status_code == 201
    # a construction contract naming the institute: refused too (设计 is not 施工)
    construction = dict(stage_payloads(prj)["contract"][2], number=f"{prj}-02-013", contractor_uscc=institute)
    assert "建筑业资质" in body(file(construction))["message"]

    # all problems at once, each named in Chinese: no field path, no English
    broken = dict(survey, number=f"{prj}-02-014", money="-1", contract_date="2026-02-30", contract_type="x")
    err = body(file(broken))
    assert {d["field"] for d in err["details"]} == {"data.money", "data.contract_date", "data.contract_type"}
    assert {d["label"] for d in err["details"]} == {"合同金额", "合同签订日期", "合同类别"}
    assert not re.search(r"[A-Za-z_]{4,}", err["message"]), err["message"]
