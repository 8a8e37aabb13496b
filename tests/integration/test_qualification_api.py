"""资质申请 and 人员注册申请 on in-process moto, through the HTTP API: who may apply (the base registry, the blacklist
with its basis), the routing table deciding the level, the ministry-level path (报部), a 变更 changing the
enterprise's name, a 注销 ending the certificate, the decision's effect finished exactly once after a stop, and the
registered-personnel rules (one employer, the person lock named by its project)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from infra.local.demo import SHIZHENG_USCC

JSON = {"Content-Type": "application/json"}
JIANGONG = "91330782MA2F00063N"


def body(resp):
    return json.loads(resp.body)


@pytest.fixture
def seeded(platform):
    from infra.local.demo import seed_registry

    seed_registry()
    return platform


def post(client, path, headers, payload):
    return client.http.post(path, headers={**JSON, **headers}, body=json.dumps(payload))


def apply(client, headers, **payload):
    return post(client, "/qualification-applications", headers, payload)


def act(client, headers, app_id, event, note="意见", **more):
    current = body(client.http.get(f"/qualification-applications/{app_id}", headers=headers))["application"]
    return post(
        client,
        f"/qualification-applications/{app_id}/actions",
        headers,
        {"version": current["version"], "event": event, "note": note, **more},
    )


def enterprise(uscc):
    from chalicelib import wiring
    from chalicelib.domain.records import RecordType

    return wiring.get_registry_repository().get(RecordType.ENTERPRISE, (uscc,))


def test_an_enterprise_outside_the_base_registry_cannot_apply(client, seeded, login):
    r = apply(client, login("ent_hangzhou"), kind="ADD", target="D110C")  # its record waits for confirmation
    assert r.status_code == 400
    assert "企业信息尚未经主管部门确认（当前状态：已提交待确认），未进入基础库的企业不能申请资质" in body(r)["message"]
    # officials do not apply; nobody applies for another enterprise
    assert apply(client, login("county_yiwu"), kind="ADD", target="D110C").status_code == 403


def test_a_blacklisted_enterprise_is_refused_with_the_basis(client, seeded, login):
    listed = post(
        client,
        "/credit/blacklist",
        login("county_yiwu"),
        {
            "uscc": SHIZHENG_USCC,
            "criterion": "BL-1",
            "basis": "义建罚〔2026〕第88号行政处罚决定书",
            "listed_on": "2026-11-01",
        },
    )
    assert listed.status_code == 201, listed.body
    r = apply(client, login("ent_shizheng"), kind="RENEWAL", target="D110C")
    assert r.status_code == 400
    [bar] = [d for d in body(r)["details"] if d["key"] == "blacklist"]
    assert "企业被列入黑名单" in bar["reason"] and "认定依据：义建罚〔2026〕第88号行政处罚决定书" in bar["reason"]
    # a 变更 is never barred (the blacklist does not stop the enterprise from correcting its certificate)
    r = apply(
        client, login("ent_shizheng"), kind="CHANGE", target="D110C", changes={"address": "义乌市稠城街道新马路1号"}
    )
    assert r.status_code == 201, r.body


def test_the_routing_table_decides_who_acts(client, seeded, login):
    # 专业承包一级 (no platform standard yet): the province accepts and decides, after a 7-day notice
    r = apply(client, login("ent_jiangong"), kind="ADD", target="D201A")
    assert r.status_code == 201, r.body
    v = body(r)
    assert (v["accept_label"], v["decide_label"], v["application"]["notice_days"]) == (
        "浙江省住房和城乡建设厅",
    ) * 2 + (7,)
    app_id = v["application"]["application_id"]
    # the county and the city see it (their region) but may not act on it
    for who in ("county_yiwu", "city_jinhua"):
        seen = client.http.get(f"/qualification-applications/{app_id}", headers=login(who))
        assert seen.status_code == 200 and body(seen)["actions"] == []
        refused = act(client, login(who), app_id, "ACCEPT")
        assert refused.status_code == 403 and "该申请当前由浙江省住房和城乡建设厅办理" in body(refused)["message"]
    # another city's official does not even see it
    assert client.http.get(f"/qualification-applications/{app_id}", headers=login("city_hangzhou")).status_code == 404
    assert act(client, login("province"), app_id, "ACCEPT").status_code == 200
    early = act(client, login("province"), app_id, "APPROVE")
    assert early.status_code == 409 and "须先公示7日" in body(early)["message"]

    # 施工总承包一级: prepared by the province, decided by the ministry (报部)
    r = apply(client, login("ent_jiangong"), kind="ADD", target="D102A")
    v = body(r)
    assert r.status_code == 201 and v["decide_label"] == "住房和城乡建设部"
    app_id = v["application"]["application_id"]
    act(client, login("province"), app_id, "ACCEPT")
    approve = act(client, login("province"), app_id, "APPROVE")
    assert approve.status_code == 409 and "由住房和城乡建设部决定" in body(approve)["message"]
    forwarded = act(client, login("province"), app_id, "FORWARD", "材料齐全，报住房和城乡建设部审批")
    assert body(forwarded)["state_label"] == "已报住房和城乡建设部"


def _decided_by_issuer(client, login, headers, **payload):
    """A 变更/注销 goes to the certificate's issuer: the city accepts, passes it up, the province decides."""
    r = apply(client, headers, **payload)
    assert r.status_code == 201, r.body
    app_id = body(r)["application"]["application_id"]
    assert act(client, login("city_jinhua"), app_id, "ACCEPT").status_code == 200
    assert act(client, login("city_jinhua"), app_id, "REFER_UP").status_code == 200
    return app_id


def test_a_change_renames_the_enterprise_and_a_cancellation_ends_the_certificate(client, seeded, login):
    ent = login("ent_jiangong")
    bad = apply(client, ent, kind="CHANGE", target="D101B", changes={"registered_capital": "很多"})
    assert bad.status_code == 400 and "注册资本" in body(bad)["message"]  # judged as the registry judges it
    app_id = _decided_by_issuer(
        client, login, ent, kind="CHANGE", target="D101B", changes={"name": "义乌市建工集团股份有限公司"}
    )
    v = body(act(client, login("province"), app_id, "APPROVE", "准予变更"))
    assert v["application"]["effect_applied"] is True
    assert enterprise(JIANGONG).name == "义乌市建工集团股份有限公司"

    app_id = _decided_by_issuer(client, login, ent, kind="CANCELLATION", target="D110C")
    act(client, login("province"), app_id, "APPROVE", "准予注销")
    [cert] = enterprise(JIANGONG).qualifications
    statuses = {i.code: i.status for i in cert.items}
    assert statuses == {"D101B": None, "D110C": "注销"} and cert.valid_until >= date.today()  # D101B still holds it
    again = apply(client, ent, kind="RENEWAL", target="D110C")
    assert again.status_code == 400 and "未持有有效的" in body(again)["message"]


def test_an_approval_interrupted_before_the_certificate_changed_is_finished_once(client, seeded, login):
    from chalicelib import wiring
    from chalicelib.domain.audit import RequestMeta

    svc = wiring.get_qualification_application_service()
    app_id = _decided_by_issuer(client, login, login("ent_jiangong"), kind="REPLACEMENT", target="D101B")
    real = svc.finish_effect
    svc.finish_effect = lambda app, meta: app  # the process stops after the approval's first write
    try:
        v = body(act(client, login("province"), app_id, "APPROVE", "准予补办"))
    finally:
        svc.finish_effect = real
    assert v["application"]["effect_applied"] is False
    before = enterprise(JIANGONG).version
    assert svc.finish_pending(RequestMeta()) == 1  # the schedule finishes it
    assert svc.finish_pending(RequestMeta()) == 0  # and only once
    assert enterprise(JIANGONG).version == before + 1
    trail = body(client.http.get(f"/audit/targets/enterprise/{JIANGONG}", headers=login("province")))["items"]
    assert [x["action"] for x in trail].count("QUALIFICATION_CERT_CHANGED") == 1


def test_a_stale_step_is_refused_with_who_did_what(client, seeded, login):
    r = apply(client, login("ent_jiangong"), kind="ADD", target="D201A")
    app = body(r)["application"]
    ok = post(
        client,
        f"/qualification-applications/{app['application_id']}/actions",
        login("province"),
        {"version": app["version"], "event": "ACCEPT", "note": "受理"},
    )
    assert ok.status_code == 200
    stale = post(
        client,
        f"/qualification-applications/{app['application_id']}/actions",
        login("province"),
        {"version": app["version"], "event": "REFUSE", "note": "不予受理"},
    )
    assert stale.status_code == 409 and "已办理“受理”" in body(stale)["message"]


# ---- registered personnel ------------------------------------------------------------------------------------------


def _staff(uscc, name):
    from chalicelib import wiring
    from chalicelib.domain.records import RecordType

    page = wiring.get_registry_repository().list_by_owner(RecordType.PERSON, uscc, limit=100, cursor=None)
    return next(p for p in page.items if p.name == name)


def _hire(person, employer, employer_name):
    """The person's record at a new employer, confirmed in the registry (without a registration yet)."""
    from chalicelib import wiring

    record = person.model_copy(
        update={
            "employer_uscc": employer,
            "employer_name": employer_name,
            "owner_uscc": employer,
            "registrations": [],
            "version": 1,
        }
    )
    wiring.get_registry_repository().insert_batch([record])
    return record


def _lock(person_key, prj_num):
    """The person locked as project manager by an issued permit (the permit store's own write)."""
    from chalicelib import wiring
    from chalicelib.adapters.dynamo_permits import DynamoPermitStore
    from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
    from chalicelib.domain.identity import system_principal
    from chalicelib.domain.permits import PermitApplication, PermitState

    store = DynamoPermitStore(wiring.get_settings().main_table, wiring.get_audit_log())
    app = PermitApplication(
        application_id="lock-test-1",
        prj_num=prj_num,
        region_code="330782",
        applicant_uscc=JIANGONG,
        construction_uscc=SHIZHENG_USCC,
        project_manager=person_key,
        contract_price="1000",
        area="1000",
        applied_on="2026-11-01",
        created_at="2026-11-01T00:00:00+00:00",
        updated_at="2026-11-01T00:00:00+00:00",
    )
    draft = AuditDraft(
        target_type="permit_application", target_id=app.application_id, action=AuditAction.PERMIT_APPLIED
    )
    store.create(app, draft, system_principal("test"), RequestMeta())
    issued = app.model_copy(update={"state": PermitState.ISSUED, "version": 2})
    store.save(
        issued,
        1,
        draft.model_copy(update={"action": AuditAction.PERMIT_ISSUED}),
        system_principal("test"),
        RequestMeta(),
        lock_persons=[person_key],
    )


def test_a_transfer_of_a_locked_person_is_refused_with_the_project_named(client, seeded, login):
    person = _staff(SHIZHENG_USCC, "陈建明")
    _hire(person, JIANGONG, "义乌市建工集团有限公司")
    _lock(person.person_key, "3307822603150001")
    r = apply(client, login("ent_jiangong"), kind="REG_TRANSFER", target="JZS2", person_key=person.person_key)
    assert r.status_code == 400
    [lock] = [d for d in body(r)["details"] if d["key"] == "person_lock"]
    assert lock["reason"] == (
        "该人员正在在建项目3307822603150001（义乌市双江湖科创园一期工程）担任项目负责人，项目竣工验收前不得变更注册"
    )


def test_a_transfer_moves_the_registration_and_the_one_employer_rule_holds(client, seeded, login):
    person = _staff(SHIZHENG_USCC, "吴海燕")
    _hire(person, JIANGONG, "义乌市建工集团有限公司")
    ent = login("ent_jiangong")
    # an initial registration while registered elsewhere: one employer only
    r = apply(client, ent, kind="REG_INITIAL", target="JZS2", person_key=person.person_key, specialties=["JZS08"])
    assert r.status_code == 400 and "已在义乌市城建市政工程有限公司注册为二级注册建造师" in body(r)["message"]
    # 一级 registrations are the ministry's
    r = apply(client, ent, kind="REG_TRANSFER", target="JZS1", person_key=person.person_key)
    assert r.status_code == 400 and "不由本省注册" in body(r)["message"]
    r = apply(client, ent, kind="REG_TRANSFER", target="JZS2", person_key=person.person_key)
    assert r.status_code == 201, r.body
    v = body(r)
    assert (
        v["application"]["from_employer_name"] == "义乌市城建市政工程有限公司"
        and v["accept_label"] == "金华市住房和城乡建设局"
    )
    app_id = v["application"]["application_id"]
    act(client, login("city_jinhua"), app_id, "ACCEPT")
    act(client, login("city_jinhua"), app_id, "REFER_UP")
    done = body(act(client, login("province"), app_id, "APPROVE", "准予变更注册"))
    assert done["application"]["effect_applied"] is True
    moved = _staff(JIANGONG, "吴海燕")
    [reg] = moved.registrations
    assert (reg.reg_type, reg.registration_cert_no) == ("JZS2", "浙2332010000002")
    assert _staff(SHIZHENG_USCC, "吴海燕").registrations == []
    # the upgrade that needed her now misses two constructors
    r = apply(client, login("ent_shizheng"), kind="UPGRADE", target="D110B")
    assert r.status_code == 400 and "（平台数据为10）" in body(r)["message"]


def test_a_capital_change_is_stored_as_the_registry_stores_it(client, seeded, login):
    from decimal import Decimal

    app_id = _decided_by_issuer(
        client, login, login("ent_jiangong"), kind="CHANGE", target="D101B", changes={"registered_capital": "12000"}
    )
    assert act(client, login("province"), app_id, "APPROVE", "准予变更").status_code == 200
    assert enterprise(JIANGONG).registered_capital == Decimal("12000")
