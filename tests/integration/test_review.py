"""Official review: queues, decisions (concurrency, idempotency, credit records), reopen, escalate, supplement
requests with snapshots and diffs, campaigns and the late-reporting job."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.review import Outcome
from tests.integration.test_imports import ENT_HEADERS, USCC_YIWU, Pipeline, csv_bytes, ent_row, uscc

JSON = {"Content-Type": "application/json"}
COMPLETE = {
    "economic_type": "有限责任公司（其他）",
    "contact_person": "王建国",
    "contact_phone": "0579-85551234",
    "legal_rep": "张三",
    "established_on": "2003-05-01",
    "registered_capital": "5000",
    "qualifications": [
        {
            "cert_no": "D233001234",
            "issuing_authority": "浙江省住房和城乡建设厅",
            "issued_on": "2015-01-20",
            "valid_until": "2020-01-19",
            "items": [{"code": "D101A", "is_primary": True}],
        }
    ],
    "safety_licence": {"licence_no": "(浙)JZ安许证字[2014]000123", "valid_until": "2017-05-31"},
}


def body(resp):
    return json.loads(resp.body)


def submitted_enterprise(client, platform, login) -> dict:
    """义乌示范 imported by the county, completed and submitted by the enterprise: waiting in the county queue."""
    pipe = Pipeline(client, platform, login)
    assert pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(USCC_YIWU, "义乌市示范建设有限公司")]))["state"] == (
        "COMPLETED"
    )
    ent = {**JSON, **login("ent_yiwu")}
    r = client.http.patch(
        f"/registry/enterprises/{USCC_YIWU}", headers=ent, body=json.dumps({"version": 1, "changes": COMPLETE})
    )
    assert r.status_code == 200, r.body
    r = client.http.post(f"/registry/enterprises/{USCC_YIWU}/submit", headers=ent, body=json.dumps({"version": 2}))
    assert r.status_code == 200, r.body
    return body(r)["record"]


def decide(client, headers, version, outcome="CONFIRMED", reason="经核实，信息真实"):
    return client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/decision",
        headers={**JSON, **headers},
        body=json.dumps({"version": version, "outcome": outcome, "reason": reason}),
    )


def test_queues_and_who_may_decide(client, platform, login):
    started = time.monotonic()
    rec = submitted_enterprise(client, platform, login)
    q = body(client.http.get("/reviews/queue?record_type=enterprise", headers=login("county_yiwu")))
    assert [r["record_id"] for r in q["enterprises"]["items"]] == [USCC_YIWU]
    assert (
        body(client.http.get("/reviews/queue?record_type=enterprise", headers=login("county_xihu")))["enterprises"][
            "items"
        ]
        == []
    )
    assert (
        body(client.http.get("/reviews/queue?record_type=enterprise", headers=login("city_jinhua")))["enterprises"][
            "items"
        ][0]["record_id"]
        == USCC_YIWU
    )
    assert client.http.get("/reviews/queue?record_type=enterprise", headers=login("ent_yiwu")).status_code == 403
    # the province sees its whole queue without choosing a city (index gsi6), and can narrow it
    province = login("province")
    whole = body(client.http.get("/reviews/queue?record_type=enterprise", headers=province))["enterprises"]["items"]
    assert [r["record_id"] for r in whole] == [USCC_YIWU]
    narrowed = body(client.http.get("/reviews/queue?record_type=enterprise&city=330100", headers=province))
    assert narrowed["enterprises"]["items"] == []

    assert decide(client, login("county_xihu"), rec["version"]).status_code == 404  # another county: not even seen
    assert decide(client, login("ent_yiwu"), rec["version"]).status_code == 403  # enterprises decide nothing
    assert decide(client, login("admin"), rec["version"]).status_code == 403  # separation of duties
    r = decide(client, login("city_jinhua"), rec["version"])  # a city official decides in its counties
    assert r.status_code == 200, r.body
    out = body(r)
    assert out["record"]["record"]["state"] == "CONFIRMED"
    assert out["decision"]["decided_level"] == "city"
    # the time it waited in the county's queue is the officials' time, no more than the test has been running
    waited = out["record"]["record"]["sla"]["official_seconds"]
    assert set(waited) == {"county"} and 0 < waited["county"] <= time.monotonic() - started
    # decided: out of the queue
    q = body(client.http.get("/reviews/queue?record_type=enterprise", headers=login("county_yiwu")))
    assert q["enterprises"]["items"] == []


def test_twenty_concurrent_decisions_exactly_one_wins(client, platform, login, serialized_moto):
    from chalicelib import wiring

    rec = submitted_enterprise(client, platform, login)
    svc = wiring.get_review_service()
    officials = [
        Principal(
            subject=f"official-{i}",
            username=f"o{i}",
            role=Role.COUNTY_OFFICIAL if i % 2 else Role.CITY_OFFICIAL,
            region_code="330782" if i % 2 else "330700",
        )
        for i in range(20)
    ]
    results: list[str] = []
    lock = threading.Lock()

    def attempt(p: Principal, i: int) -> None:
        outcome = [Outcome.CONFIRMED, Outcome.FALSE, Outcome.IN_DOUBT][i % 3]
        try:
            svc.decide(
                p,
                RequestMeta(request_id=f"r{i}"),
                RecordType.ENTERPRISE,
                (USCC_YIWU,),
                version=rec["version"],
                outcome=outcome,
                reason=f"并发决定{i}",
            )
            outcome_str = "ok"
        except Conflict:
            outcome_str = "conflict"
        except Exception as exc:  # reported by the assertion below
            outcome_str = repr(exc)
        with lock:
            results.append(outcome_str)

    threads = [threading.Thread(target=attempt, args=(p, i)) for i, p in enumerate(officials)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 19 + ["ok"]
    trail = body(client.http.get(f"/audit/targets/enterprise/{USCC_YIWU}", headers=login("province")))
    assert [e["action"] for e in trail["items"]].count("RECORD_DECIDED") == 1
    verify = body(client.http.get(f"/audit/targets/enterprise/{USCC_YIWU}/verify", headers=login("province")))
    assert verify["intact"] is True


def _credits(platform, owner: str) -> list[dict]:
    ddb = platform["session"].client("dynamodb")
    resp = ddb.query(
        TableName=platform["env"]["MAIN_TABLE"],
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :o AND begins_with(gsi2sk, :c)",
        ExpressionAttributeValues={":o": {"S": f"ORG#{owner}"}, ":c": {"S": "CREDIT#"}},
    )
    return resp["Items"]


def test_a_false_decision_makes_exactly_one_bad_record_even_when_retried(client, platform, login):
    rec = submitted_enterprise(client, platform, login)
    first = decide(client, login("county_yiwu"), rec["version"], "FALSE", "资质证书系伪造")
    assert first.status_code == 200, first.body
    again = decide(client, login("county_yiwu"), rec["version"], "FALSE", "资质证书系伪造")  # the client retried
    assert again.status_code == 200
    assert body(again)["decision"]["decision_id"] == body(first)["decision"]["decision_id"]
    credits = _credits(platform, USCC_YIWU)
    assert len(credits) == 1
    assert credits[0]["decision_id"]["S"] == body(first)["decision"]["decision_id"]
    assert credits[0]["source"]["S"] == "FALSIFIED_DATA_CONFIRMATION"
    assert "资质证书系伪造" in credits[0]["content"]["S"]
    # someone else deciding on the stale version is a conflict, not a replay
    assert decide(client, login("city_jinhua"), rec["version"], "FALSE", "资质证书系伪造").status_code == 409


def test_reopen_is_for_the_level_above(client, platform, login):
    rec = submitted_enterprise(client, platform, login)
    decided = body(decide(client, login("county_yiwu"), rec["version"]))["record"]["record"]
    reopen = {"version": decided["version"], "reason": "抽查发现资质证书与部数据库不符"}
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/reopen", headers={**JSON, **login("county_yiwu")}, body=json.dumps(reopen)
    )
    assert r.status_code == 403
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/reopen", headers={**JSON, **login("city_jinhua")}, body=json.dumps(reopen)
    )
    assert r.status_code == 200, r.body
    again = body(r)["record"]
    assert again["state"] == "SUBMITTED" and again["review"]["responsible_level"] == "city"
    # now the county cannot decide it any more
    assert decide(client, login("county_yiwu"), again["version"]).status_code == 403
    trail = body(client.http.get(f"/audit/targets/enterprise/{USCC_YIWU}", headers=login("province")))
    reopened = [e for e in trail["items"] if e["action"] == "RECORD_REOPENED"]
    assert len(reopened) == 1 and "抽查" in reopened[0]["note"]


def test_escalation_moves_the_record_to_the_city(client, platform, login):
    rec = submitted_enterprise(client, platform, login)
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/escalate",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"version": rec["version"], "reason": "涉及跨市业绩，请市局审核"}),
    )
    assert r.status_code == 200, r.body
    escalated = body(
        client.http.get("/reviews/queue?record_type=enterprise&escalated_only=true", headers=login("city_jinhua"))
    )
    assert [x["record_id"] for x in escalated["enterprises"]["items"]] == [USCC_YIWU]
    assert decide(client, login("county_yiwu"), body(r)["record"]["version"]).status_code == 403
    assert decide(client, login("city_jinhua"), body(r)["record"]["version"]).status_code == 200


def test_claim_assign_release_and_assigned_to_me(client, platform, login):
    rec = submitted_enterprise(client, platform, login)
    county = {**JSON, **login("county_yiwu")}
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/claim", headers=county, body=json.dumps({"version": rec["version"]})
    )
    assert r.status_code == 200
    me = body(client.http.get("/auth/me", headers=login("county_yiwu")))
    mine = body(client.http.get("/reviews/assigned", headers=login("county_yiwu")))
    assert [x["record_id"] for x in mine["items"]] == [USCC_YIWU]
    filtered = body(
        client.http.get(f"/reviews/queue?record_type=enterprise&assignee={me['subject']}", headers=login("county_yiwu"))
    )
    assert len(filtered["enterprises"]["items"]) == 1
    version = body(r)["record"]["version"]
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/release", headers=county, body=json.dumps({"version": version})
    )
    assert r.status_code == 200
    assert body(client.http.get("/reviews/assigned", headers=login("county_yiwu")))["items"] == []
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/assign",
        headers={**JSON, **login("city_jinhua")},
        body=json.dumps({"version": version + 1, "assignee": me["subject"], "assignee_name": "陈静"}),
    )
    assert r.status_code == 200
    assert len(body(client.http.get("/reviews/assigned", headers=login("county_yiwu")))["items"]) == 1


def test_supplement_request_round_trip_keeps_every_version(client, platform, login):
    submitted_enterprise(client, platform, login)
    county = {**JSON, **login("county_yiwu")}
    ent = {**JSON, **login("ent_yiwu")}
    r = client.http.post(
        f"/reviews/enterprises/{USCC_YIWU}/supplement-requests",
        headers=county,
        body=json.dumps(
            {
                "items": [
                    {"field": "contact_phone", "note": "联系电话无法接通，请核实"},
                    {"document": "营业执照扫描件", "note": "请上传最新营业执照"},
                ]
            }
        ),
    )
    assert r.status_code == 201, r.body
    request = body(r)
    assert body(client.http.get("/me/supplement-requests", headers=ent))["items"] == []  # a draft is invisible
    r = client.http.post(
        f"/supplement-requests/{request['request_id']}/send",
        headers=county,
        body=json.dumps({"version": request["version"]}),
    )
    assert r.status_code == 200, r.body
    seen = body(client.http.get("/me/supplement-requests", headers=ent))["items"]
    assert [x["request_id"] for x in seen] == [request["request_id"]] and seen[0]["state"] == "SENT"
    me = body(client.http.get("/me/enterprise", headers=ent))["record"]
    assert me["state"] == "SUPPLEMENT_REQUESTED" and me["sla"]["court"] == "ENTERPRISE"
    r = client.http.patch(
        f"/registry/enterprises/{USCC_YIWU}",
        headers=ent,
        body=json.dumps({"version": me["version"], "changes": {"contact_phone": "0579-85559999"}}),
    )
    assert r.status_code == 200, r.body
    version = body(r)["record"]["version"]
    r = client.http.post(
        f"/me/supplement-requests/{request['request_id']}/answer",
        headers=ent,
        body=json.dumps({"record_version": version, "note": "已更正联系电话"}),
    )
    assert r.status_code == 200, r.body
    assert body(r)["state"] == "ANSWERED"
    back = body(client.http.get("/reviews/queue?record_type=enterprise", headers=login("county_yiwu")))
    assert [x["record_id"] for x in back["enterprises"]["items"]] == [USCC_YIWU]
    d = body(client.http.get(f"/reviews/enterprises/{USCC_YIWU}/diff", headers=login("county_yiwu")))
    assert len(d["snapshots"]) == 2  # both submissions kept
    assert [(c["path"], c["before"], c["after"]) for c in d["changes"]] == [
        ("contact_phone", "0579-85551234", "0579-85559999")
    ]


def test_queue_of_10000_records_is_one_query_per_page(platform):
    """10,000 waiting records in one county: listing a page costs exactly one Query, never a Scan."""
    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.records import Provenance, RecordSource
    from chalicelib.domain.review import ReviewInfo

    repo = wiring.get_registry_repository()
    base = datetime(2015, 3, 1, tzinfo=UTC)
    prov = Provenance(
        source=RecordSource.LEGACY_IMPORT, entered_by="t", entered_org="330000", entered_at=base.isoformat()
    )
    records = []
    for i in range(10_000):
        since = (base + timedelta(seconds=i)).isoformat()
        records.append(
            Enterprise(
                uscc=uscc("91330782", f"MB{i:06d}"),
                name=f"企业{i}",
                state=RecordState.SUBMITTED,
                provenance=prov,
                created_at=since,
                updated_at=since,
                region_code="330782",
                owner_uscc=None,
                review=ReviewInfo(waiting_since=since, responsible_region="330782"),
            )
        )
    repo.insert_batch(records)
    calls: list[str] = []
    client = aws.client("dynamodb")

    def count(event_name, **kwargs):
        calls.append(event_name.split(".")[-1])

    client.meta.events.register("before-call.dynamodb", count)
    try:
        svc = wiring.get_review_service()
        county = Principal(subject="c", username="c", role=Role.COUNTY_OFFICIAL, region_code="330782")
        page = svc.queue(
            county,
            state=RecordState.SUBMITTED,
            county=None,
            city=None,
            record_type=RecordType.ENTERPRISE,
            older_than_days=None,
            assignee=None,
            escalated_only=False,
            limit=50,
            cursor=None,
        )
        assert len(page.items) == 50 and page.cursor
        assert [r.name for r in page.items[:2]] == ["企业0", "企业1"]  # oldest first
        second = svc.queue(
            county,
            state=RecordState.SUBMITTED,
            county=None,
            city=None,
            record_type=RecordType.ENTERPRISE,
            older_than_days=None,
            assignee=None,
            escalated_only=False,
            limit=50,
            cursor=page.cursor,
        )
        assert second.items[0].name == "企业50"
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert calls == ["Query", "Query"]


def test_campaign_deadline_job_is_idempotent(client, platform, login):
    from chalicelib import wiring

    submitted_enterprise(client, platform, login)  # 义乌示范 reported in time
    pipe = Pipeline(client, platform, login)
    late = uscc("91330782", "MA2D0001")
    assert pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(late, "迟报建设有限公司")]))["state"] == "COMPLETED"
    r = client.http.post(
        "/campaigns",
        headers={**JSON, **login("admin")},
        body=json.dumps(
            {
                "name": "2015年企业信息补充完善",
                "kind": "SUPPLEMENT",
                "record_type": "enterprise",
                "starts_on": "2015-01-01",
                "deadline": "2015-04-15",
                "grace_days": 15,
            }
        ),
    )
    assert r.status_code == 201, r.body
    campaign = body(r)
    assert (
        client.http.post(
            "/campaigns",
            headers={**JSON, **login("province")},
            body=json.dumps({"name": "x", "kind": "SUPPLEMENT", "starts_on": "2015-01-01", "deadline": "2015-04-15"}),
        ).status_code
        == 403
    )
    svc = wiring.get_campaign_service()
    during_grace = svc.check_deadlines(RequestMeta(), today=date(2015, 4, 20))
    assert during_grace == {"warnings": 1, "bad_records": 0, "already": 0}
    results = [svc.check_deadlines(RequestMeta(), today=date(2015, 5, 10)) for _ in range(3)]
    assert results[0] == {"warnings": 0, "bad_records": 1, "already": 1}
    assert results[1] == results[2] == {"warnings": 0, "bad_records": 0, "already": 2}
    notices = body(client.http.get("/me/notices", headers=login("county_yiwu")))  # officials: 403
    assert notices["code"] == "FORBIDDEN"
    late_list = body(client.http.get(f"/campaigns/{campaign['campaign_id']}/late", headers=login("county_yiwu")))
    assert sorted((n["uscc"], n["kind"]) for n in late_list["items"]) == [(late, "BAD_RECORD"), (late, "WARNING")]
    assert (
        body(client.http.get(f"/campaigns/{campaign['campaign_id']}/late", headers=login("county_xihu")))["items"] == []
    )
    credits = _credits(platform, late)
    assert len(credits) == 1 and credits[0]["source"]["S"] == "LATE_OR_MISSING_REPORT"
    assert _credits(platform, USCC_YIWU) == []


@pytest.mark.parametrize("state", ["IN_DOUBT"])
def test_doubt_pool_has_its_own_queue(client, platform, login, state):
    rec = submitted_enterprise(client, platform, login)
    r = decide(client, login("county_yiwu"), rec["version"], "IN_DOUBT", "资质证书待与部数据库核对")
    assert r.status_code == 200, r.body
    pool = body(client.http.get(f"/reviews/queue?record_type=enterprise&state={state}", headers=login("county_yiwu")))
    assert [x["record_id"] for x in pool["enterprises"]["items"]] == [USCC_YIWU]
    assert body(r)["record"]["record"]["sla"]["court"] == "OFFICIAL"  # still in our court: re-verification pending
    again = decide(
        client, login("county_yiwu"), body(r)["record"]["record"]["version"], "CONFIRMED", "已与部数据库核对一致"
    )
    assert again.status_code == 200 and body(again)["record"]["record"]["state"] == "CONFIRMED"


def test_project_back_filing_and_screening(client, login):
    """近三年工程项目备案: the enterprise files a project, submits it, the county screens it (甄别上报)."""
    ent = {**JSON, **login("ent_yiwu")}
    project = {
        "prj_num": "3307821403150001",
        "name": "义乌市某小区一期工程",
        "category": "01",
        "location_region": "330782",
        "address": "义乌市稠城街道",
        "build_corp_name": "义乌市某房地产开发有限公司",
        "build_corp_code": uscc("91330782", "MA2E0001"),
        "total_investment": "12000",
        "total_area": "35000",
        "nature": "新建",
        "use": "居住建筑",
        "start_date": "2014-04-01",
        "end_date": "2016-06-30",
    }
    r = client.http.post("/me/projects", headers=ent, body=json.dumps(project))
    assert r.status_code == 201, r.body
    rec = body(r)["record"]
    assert rec["state"] == "SUPPLEMENTED" and rec["provenance"]["source"] == "PORTAL"
    assert client.http.post("/me/projects", headers=ent, body=json.dumps(project)).status_code == 409
    bad = {**project, "prj_num": "3307821413150001"}  # month 13 inside the project number
    assert client.http.post("/me/projects", headers=ent, body=json.dumps(bad)).status_code == 400
    r = client.http.post(
        f"/registry/projects/{project['prj_num']}/submit", headers=ent, body=json.dumps({"version": rec["version"]})
    )
    assert r.status_code == 200, r.body
    q = body(client.http.get("/reviews/queue?record_type=project", headers=login("county_yiwu")))
    assert [x["record_id"] for x in q["projects"]["items"]] == [project["prj_num"]]
    r = client.http.post(
        f"/reviews/projects/{project['prj_num']}/decision",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps(
            {
                "version": body(r)["record"]["version"],
                "outcome": "CONFIRMED",
                "reason": "甄别属实，上报",
                "evidence_upload_id": "no-such-upload",
            }
        ),
    )
    assert r.status_code == 404  # evidence must be a real upload visible to the official
