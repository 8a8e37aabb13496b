"""Data use: qualification data review (exactly the unmet requirement, with the counted persons), refusal of an
application the platform's data cannot support, award eligibility and grant (→ good-behaviour record), and the
tender-supervision verification API (confirmed data only, audited, role-checked)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem, SafetyLicence
from chalicelib.domain.person import RegisteredPerson, Registration
from chalicelib.domain.project import Project
from chalicelib.domain.records import Provenance, RecordSource, RecordState

JSON = {"Content-Type": "application/json"}
NOW = datetime.now(UTC).isoformat()
PROV = Provenance(
    source=RecordSource.LEGACY_IMPORT,
    entered_by="system:test",
    entered_by_name="测试",
    entered_org="330000",
    entered_at=NOW,
)


def body(resp):
    return json.loads(resp.body)


def _uscc() -> str:
    from infra.local.demo import _uscc as make

    return make("91330782", "MA2F0099")


def builder(state=RecordState.CONFIRMED) -> Enterprise:
    uscc = _uscc()
    return Enterprise(
        uscc=uscc,
        name="义乌市测试建筑有限公司",
        registered_region="330782",
        address="义乌市稠城街道测试路8号",
        legal_rep="李强",
        economic_type="109",
        registered_capital="6000",
        established_on=date(2005, 3, 1),
        contact_person="王芳",
        contact_phone="0579-85550000",
        qualifications=[
            QualificationCert(
                cert_no="D233999001",
                qualification_type="3",
                issuing_authority="浙江省住房和城乡建设厅",
                issued_on=date(2025, 1, 20),
                valid_until=date(2030, 1, 19),
                items=[QualificationItem(code="D110C", is_primary=True)],
            )
        ],
        safety_licence=SafetyLicence(licence_no="(浙)JZ安许证字[2024]009001", valid_until=date(2029, 12, 31)),
        state=state,
        provenance=PROV,
        created_at=NOW,
        updated_at=NOW,
        region_code="330782",
        owner_uscc=uscc,
    )


def constructors(uscc: str, n: int) -> list[RegisteredPerson]:
    from infra.local.demo import _id_card

    return [
        RegisteredPerson(
            person_key=f"{i:024x}",
            employer_uscc=uscc,
            employer_name="义乌市测试建筑有限公司",
            name=f"建造师{i}",
            id_no=_id_card(f"330782198001{i:02d}001"),
            registrations=[Registration(reg_type="JZS2", specialties=["建筑工程"], valid_until=date(2030, 1, 1))],
            state=RecordState.CONFIRMED,
            provenance=PROV,
            created_at=NOW,
            updated_at=NOW,
            region_code="330782",
            owner_uscc=uscc,
        )
        for i in range(1, n + 1)
    ]


def review(client, headers, uscc, kind="ADD", target="D101C"):
    return client.http.post(
        "/qualification-reviews",
        headers={**JSON, **headers},
        body=json.dumps({"uscc": uscc, "kind": kind, "target": target}),
    )


def test_one_missing_constructor_is_exactly_the_unmet_requirement(platform, client, login):
    from chalicelib import wiring

    repo = wiring.get_registry_repository()
    e = builder()
    repo.insert_batch([e, *constructors(e.uscc, 4)])
    r = review(client, login("county_yiwu"), e.uscc)
    assert r.status_code == 200, r.body
    report = body(r)
    unmet = [q for q in report["requirements"] if not q["met"]]
    assert [q["key"] for q in unmet] == ["personnel:JZS1/JZS2:建筑工程"]
    [people] = unmet
    assert (people["required"], people["actual"]) == (5, 4)
    assert sorted(p["name"] for p in people["evidence"]) == ["建造师1", "建造师2", "建造师3", "建造师4"]
    assert report["met"] is False and report["target_label"] == "建筑工程施工总承包三级"
    # The fifth constructor makes it complete.
    repo.insert_batch(constructors(e.uscc, 5)[4:])
    assert body(review(client, login("county_yiwu"), e.uscc))["met"] is True
    # The review is audited on the enterprise's trail.
    trail = body(client.http.get(f"/audit/targets/enterprise/{e.uscc}", headers=login("province")))["items"]
    assert [x["action"] for x in trail].count("QUALIFICATION_REVIEWED") == 2


def test_an_application_without_platform_data_is_not_accepted(platform, client, login):
    from chalicelib import wiring

    repo = wiring.get_registry_repository()
    e = builder(state=RecordState.SUBMITTED)
    repo.insert_batch([e])
    r = review(client, login("county_yiwu"), e.uscc)
    assert r.status_code == 400 and "尚未经主管部门确认" in body(r)["message"]
    r = review(client, login("county_yiwu"), "91330782MA2F00004K", target="D101C")
    assert r.status_code in (400, 404)
    # An upgrade needs a lower grade of the same class; a renewal needs the qualification itself.
    from infra.local.demo import seed_registry

    seed_registry()
    jiangong = "91330782MA2F00063N"  # holds D101B and D110C
    assert review(client, login("county_yiwu"), jiangong, kind="UPGRADE", target="D101A").status_code == 200
    r = review(client, login("county_yiwu"), jiangong, kind="RENEWAL", target="D101A")
    assert r.status_code == 400 and "未持有有效的" in body(r)["message"]
    r = review(client, login("county_yiwu"), jiangong, kind="NOPE", target="D101A")
    assert r.status_code == 400
    # An enterprise reviews only itself; another county does not see it.
    assert review(client, login("ent_yiwu"), jiangong, kind="UPGRADE", target="D101A").status_code == 404
    assert review(client, login("county_xihu"), jiangong, kind="UPGRADE", target="D101A").status_code == 404


def _completed_project(prj: str, uscc: str) -> None:
    """A confirmed, complete project with confirmed stage records and a completed, started permit."""
    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item
    from chalicelib.adapters.dynamo_permits import _item as permit_item
    from chalicelib.adapters.dynamo_stages import _item as stage_item
    from chalicelib.domain.permits import PermitApplication, PermitState
    from chalicelib.domain.stages import StageRecord

    wiring.get_registry_repository().insert_batch(
        [
            Project(
                prj_num=prj,
                name="义乌国际商贸城五区",
                category="01",
                location_region="330782",
                address="义乌市福田街道",
                build_corp_name="义乌市商城集团",
                build_corp_code=uscc,
                total_investment=Decimal("52000"),
                total_area=Decimal("88000"),
                scale="地上12层",
                start_date=date(2024, 3, 1),
                end_date=date(2026, 6, 30),
                state=RecordState.CONFIRMED,
                provenance=PROV,
                created_at=NOW,
                updated_at=NOW,
                region_code="330782",
                owner_uscc=uscc,
            )
        ]
    )
    ddb = aws.client("dynamodb")
    stages = [
        {
            "kind": "tender",
            "number": f"{prj}-01-001",
            "tender_class": "003",
            "tender_type": "001",
            "result_date": "2024-01-10",
            "money": "50000",
            "winner_uscc": uscc,
        },
        {
            "kind": "contract",
            "number": f"{prj}-02-001",
            "contract_no": "HT-1",
            "contract_type": "construction",
            "money": "50000",
            "contract_date": "2024-01-20",
            "employer_uscc": uscc,
            "contractor_uscc": uscc,
        },
        {
            "kind": "drawing_review",
            "number": f"{prj}-03-001",
            "review_org_uscc": uscc,
            "review_org_name": "审图中心",
            "finished_on": "2024-02-01",
            "first_pass": True,
            "violations": 0,
        },
        {
            "kind": "supervision_registration",
            "number": f"{prj}-04-001",
            "station": "义乌市质安站",
            "registered_on": "2024-02-10",
        },
    ]
    for data in stages:
        rec = StageRecord.model_validate(
            {
                "prj_num": prj,
                "kind": data["kind"],
                "number": data["number"],
                "region_code": "330782",
                "project_owner": uscc,
                "filed_by": uscc,
                "data": data,
                "state": "CONFIRMED",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        ddb.put_item(TableName="cmsp-main", Item=to_item(stage_item(rec)))
    app = PermitApplication(
        application_id="APPDONE1",
        prj_num=prj,
        region_code="330782",
        applicant_uscc=uscc,
        construction_uscc=uscc,
        project_manager="pm",
        contract_price=Decimal("50000"),
        area=Decimal("88000"),
        applied_on="2024-02-15",
        state=PermitState.COMPLETED,
        permit_no="330782202402200001",
        issued_on="2024-02-20",
        started_on="2024-03-01",
        completion_no="JG330782-2026-001",
        completed_on="2026-06-30",
        created_at=NOW,
        updated_at=NOW,
    )
    ddb.put_item(TableName="cmsp-main", Item=to_item(permit_item(app)))
    pointer = {
        "pk": f"STAGE#{prj}",
        "sk": f"PERMITAPP#{app.applied_on}#{app.application_id}",
        "entity": "permit_pointer",
        "application_id": app.application_id,
    }
    ddb.put_item(TableName="cmsp-main", Item=to_item(pointer))


def test_award_eligibility_and_grant(platform, client, login):
    from infra.local.demo import seed_registry

    seed_registry()
    province = login("province")
    # The demo project has no permit yet: not eligible, with the reasons.
    r = body(client.http.get("/projects/3307822603150001/award-eligibility?award=G-1-02", headers=province))
    assert r["eligible"] is False and any("施工许可" in m for m in r["missing"])
    assert (
        client.http.get("/projects/3307829999999999/award-eligibility?award=G-1-02", headers=province).status_code
        == 200
    )
    r = client.http.post(
        "/projects/3307822603150001/awards",
        headers={**JSON, **province},
        body=json.dumps(
            {
                "award": "G-1-02",
                "uscc": "91330782MA2F00063N",
                "granted_on": "2026-11-01",
                "document_no": "浙建〔2026〕88号",
            }
        ),
    )
    assert r.status_code == 400
    # A completed, complete project: eligible; the grant becomes a good-behaviour record of the builder.
    uscc = "91330782MA2F00063N"
    _completed_project("3307822402150009", uscc)
    r = body(client.http.get("/projects/3307822402150009/award-eligibility?award=G-1-02", headers=province))
    assert r == {**r, "eligible": True, "missing": []}
    r = client.http.post(
        "/projects/3307822402150009/awards",
        headers={**JSON, **province},
        body=json.dumps(
            {"award": "G-1-02", "uscc": uscc, "granted_on": "2026-11-01", "document_no": "浙建〔2026〕88号"}
        ),
    )
    assert r.status_code == 201, r.body
    record = body(r)
    assert (
        record["kind"] == "GOOD"
        and record["behaviour_code"] == "G-1-02"
        and record["project_num"] == "3307822402150009"
    )
    # Only the city or the province grants; the achievement counts for the builder's qualification review.
    r = client.http.post(
        "/projects/3307822402150009/awards",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"award": "G-1-01", "uscc": uscc, "granted_on": "2026-11-01", "document_no": "x号"}),
    )
    assert r.status_code == 403
    report = body(review(client, login("county_yiwu"), uscc, kind="UPGRADE", target="D101A"))
    ach = next(q for q in report["requirements"] if q["key"] == "achievements")
    assert ach["actual"] == 1 and ach["evidence"][0]["prj_num"] == "3307822402150009"


def test_tender_supervision_verification(platform, client, login):
    from infra.local.demo import _id_card, seed_registry

    seed_registry()
    tender = login("tender_yiwu")
    r = body(client.http.get("/verify/enterprises/91330782MA2F00063N?qualification=D101B", headers=tender))
    assert r["confirmed"] is True and r["covers"] is True and r["safety_licence_valid"] is True
    assert r["blacklisted"] is False
    assert (
        body(client.http.get("/verify/enterprises/91330782MA2F00063N?qualification=D101A", headers=tender))["covers"]
        is False
    )
    assert body(client.http.get("/verify/enterprises/91330782MA2F00063N?qualification=D101", headers=tender))["covers"]
    # A record not confirmed gets no conclusion.
    submitted = body(client.http.get("/verify/enterprises/91330106MA2CFE0Q4W", headers=tender))
    assert submitted["confirmed"] is False and "covers" not in submitted
    # A person: by ID number in the body; the answer masks it.
    idno = _id_card("33078219780815001")
    person = body(client.http.post("/verify/persons", headers={**JSON, **tender}, body=json.dumps({"id_no": idno})))
    assert person["registered"] is True and person["employers"][0]["uscc"] == "91330782MA2F00063N"
    assert (
        person["locked_on_project"] is None
        and idno not in json.dumps(person)
        and person["id_masked"].endswith(idno[-4:])
    )
    project = body(client.http.get("/verify/projects/3307822603150001", headers=tender))
    assert project["confirmed"] is True and project["permits"] == []
    # Every answer is audited under the asking agency; enterprises and the public cannot ask.
    me = body(client.http.get("/auth/me", headers=tender))
    trail = body(client.http.get(f"/audit/actors/{me['subject']}", headers=login("province")))["items"]
    assert sum(1 for x in trail if x["action"] == "VERIFICATION_ANSWERED") == 6
    assert idno not in json.dumps(trail)
    assert client.http.get("/verify/projects/3307822603150001", headers=login("ent_yiwu")).status_code == 403
    assert client.http.get("/verify/projects/3307822603150001").status_code == 401
