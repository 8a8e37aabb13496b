"""Enterprise portal: read my records, completeness, supplement with optimistic locking, submit, download."""

from __future__ import annotations

import io
import json
import re

import requests

from tests.integration.test_imports import (
    ENT_HEADERS,
    PERSON_HEADERS,
    USCC_YIWU,
    Pipeline,
    csv_bytes,
    ent_row,
    id_card,
    person_row,
)

JSON = {"Content-Type": "application/json"}


def body(resp):
    return json.loads(resp.body)


def seed(client, platform, login):
    pipe = Pipeline(client, platform, login)
    job = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(USCC_YIWU, "义乌市示范建设有限公司")]))
    assert job["state"] == "COMPLETED", job
    return pipe


def test_my_enterprise_shows_what_is_missing_and_supplement_uses_the_version(client, platform, login):
    seed(client, platform, login)
    ent = login("ent_yiwu")
    me = body(client.http.get("/me/enterprise", headers=ent))
    assert me["record"]["state"] == "IMPORTED" and me["record"]["version"] == 1
    missing = {m["path"] for m in me["completeness"]["missing"]}
    assert {"economic_type", "contact_person", "contact_phone", "qualifications"} <= missing

    patch = {
        "version": 1,
        "changes": {
            "contact_person": "王建国",
            "contact_phone": "0579-85551234",
            "economic_type": "有限责任公司（其他）",
        },
    }
    resp = client.http.patch(f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **ent}, body=json.dumps(patch))
    assert resp.status_code == 200, resp.body
    after = body(resp)
    assert after["record"]["state"] == "SUPPLEMENTED" and after["record"]["version"] == 2
    assert "contact_person" not in {m["path"] for m in after["completeness"]["missing"]}

    stale = client.http.patch(f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **ent}, body=json.dumps(patch))
    assert stale.status_code == 409 and body(stale)["code"] == "CONFLICT"
    # the 409 says who changed the record, when and how, and which version is current
    told = body(stale)
    assert "王建国（企业填报员）（义乌市示范建设有限公司）" in told["message"] and "补充信息" in told["message"], told
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", told["message"]), told
    assert told["details"][0]["current_version"] == 2 and told["details"][0]["your_version"] == 1

    bad = {"version": 2, "changes": {"established_on": "2015-02-30"}}
    resp = client.http.patch(f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **ent}, body=json.dumps(bad))
    assert resp.status_code == 400 and "established_on" in json.dumps(body(resp)["details"])

    key_change = {"version": 2, "changes": {"uscc": "91330782MA2A000184"}}
    resp = client.http.patch(f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **ent}, body=json.dumps(key_change))
    assert resp.status_code == 400

    trail = body(client.http.get(f"/audit/targets/enterprise/{USCC_YIWU}", headers=login("county_yiwu")))
    assert [e["action"] for e in trail["items"]] == ["RECORD_SUPPLEMENTED"]
    assert trail["items"][0]["actor_username"] == "ent_yiwu"


def test_submit_needs_a_complete_record_and_locks_it(client, platform, login):
    seed(client, platform, login)
    ent = login("ent_yiwu")
    resp = client.http.post(
        f"/registry/enterprises/{USCC_YIWU}/submit", headers={**JSON, **ent}, body=json.dumps({"version": 1})
    )
    assert resp.status_code == 400
    assert any("请补充" in d["message"] for d in body(resp)["details"])
    complete = {
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
    resp = client.http.patch(
        f"/registry/enterprises/{USCC_YIWU}",
        headers={**JSON, **ent},
        body=json.dumps({"version": 1, "changes": complete}),
    )
    assert resp.status_code == 200, resp.body
    assert body(resp)["completeness"]["complete"] is True
    resp = client.http.post(
        f"/registry/enterprises/{USCC_YIWU}/submit", headers={**JSON, **ent}, body=json.dumps({"version": 2})
    )
    assert resp.status_code == 200 and body(resp)["record"]["state"] == "SUBMITTED"
    again = client.http.patch(
        f"/registry/enterprises/{USCC_YIWU}",
        headers={**JSON, **ent},
        body=json.dumps({"version": 3, "changes": {"email": "a@b.cn"}}),
    )
    assert again.status_code == 409  # under review: not editable


def test_only_the_owner_changes_and_others_do_not_see(client, platform, login):
    seed(client, platform, login)
    patch = json.dumps({"version": 1, "changes": {"email": "x@y.cn"}})
    assert (
        client.http.patch(
            f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **login("ent_hangzhou")}, body=patch
        ).status_code
        == 404
    )
    assert (
        client.http.patch(
            f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **login("county_yiwu")}, body=patch
        ).status_code
        == 403
    )
    assert client.http.get(f"/registry/enterprises/{USCC_YIWU}", headers=login("city_hangzhou")).status_code == 404
    assert client.http.get(f"/registry/enterprises/{USCC_YIWU}", headers=login("city_jinhua")).status_code == 200
    assert client.http.get("/registry/enterprises", headers=login("province")).status_code == 400  # city needed
    assert client.http.get("/registry/enterprises?city=330700", headers=login("province")).status_code == 200
    assert client.http.get("/registry/enterprises?county=330102", headers=login("city_jinhua")).status_code == 403


def test_downloads_in_three_formats_reimport_cleanly(client, platform, login):
    pipe = seed(client, platform, login)
    idn = id_card("33078219800101001")
    job = pipe.run(
        "ent_yiwu",
        csv_bytes(PERSON_HEADERS, [person_row(idn, "李四", 注册专业="建筑工程、市政公用工程")]),
        kind="personnel_sheet",
        filename="人员.csv",
    )
    assert job["state"] == "COMPLETED", job
    ent = login("ent_yiwu")
    for fmt in ("csv", "xlsx", "json"):
        link = body(client.http.get(f"/me/export?type=person&format={fmt}", headers=ent))
        assert link["records"] == 1 and link["filename"].endswith(f".{fmt}")
        data = requests.get(link["url"], timeout=10).content
        if fmt == "json":
            assert json.loads(data)[0]["name"] == "李四"
        elif fmt == "csv":
            text = data.decode("utf-8-sig")
            assert text.splitlines()[0].split(",") == PERSON_HEADERS and "李四" in text
        else:
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            assert wb.sheet_names[:2] == ["注册人员", "安全生产考核证书"]


def test_templates_are_downloadable_with_chinese_headers(client, login):
    items = body(client.http.get("/templates", headers=login("ent_yiwu")))["items"]
    assert {t["name"] for t in items} == {"enterprise", "person", "project"}
    ent = next(t for t in items if t["name"] == "enterprise")
    csv_text = requests.get(ent["csv_url"], timeout=10).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].split(",") == ENT_HEADERS
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(requests.get(ent["xlsx_url"], timeout=10).content))
    assert wb.sheet_names == ["企业基本信息", "资质证书", "填写说明"]


def test_the_audit_trail_of_every_registry_target_type_can_be_read(client, platform, login):
    """enterprise, person (a two-part key: person key + employer, however the client spells it) and project."""
    pipe = seed(client, platform, login)
    rows = [person_row(id_card("33078219800101123"), "何志远")]
    job = pipe.run("ent_yiwu", csv_bytes(PERSON_HEADERS, rows), kind="personnel_sheet", filename="人员.csv")
    assert job["state"] == "COMPLETED", job
    ent, county = login("ent_yiwu"), login("county_yiwu")
    (person,) = body(client.http.get("/me/personnel", headers=ent))["items"]
    key, uscc = person["record"]["person_key"], person["record"]["employer_uscc"]
    patch = {"version": person["record"]["version"], "changes": {"mobile": "13805790000"}}
    resp = client.http.patch(f"/registry/persons/{key}/{uscc}", headers={**JSON, **ent}, body=json.dumps(patch))
    assert resp.status_code == 200, resp.body
    for spelling in (f"{key}/{uscc}", f"{key}%2F{uscc}", f"{key}:{uscc}"):
        resp = client.http.get(f"/audit/targets/person/{spelling}", headers=county)
        assert resp.status_code == 200, (spelling, resp.body)
        assert [e["action"] for e in body(resp)["items"]] == ["RECORD_SUPPLEMENTED"], spelling
    verify = body(client.http.get(f"/audit/targets/person/{key}/{uscc}/verify", headers=county))
    assert verify["intact"] is True and verify["entries"] == 1, verify

    patch = {"version": 1, "changes": {"contact_person": "王建国"}}
    resp = client.http.patch(f"/registry/enterprises/{USCC_YIWU}", headers={**JSON, **ent}, body=json.dumps(patch))
    assert resp.status_code == 200, resp.body
    trail = body(client.http.get(f"/audit/targets/enterprise/{USCC_YIWU}", headers=county))
    assert [e["action"] for e in trail["items"]] == ["RECORD_SUPPLEMENTED"]

    project = {
        "prj_num": "3307822612040001",
        "name": "义乌市某小区1期工程",
        "location_region": "330782",
        "build_corp_name": "义乌市城市建设投资有限公司",
    }
    resp = client.http.post("/me/projects", headers={**JSON, **ent}, body=json.dumps(project))
    assert resp.status_code in (200, 201), resp.body
    trail = body(client.http.get("/audit/targets/project/3307822612040001", headers=county))
    assert [e["action"] for e in trail["items"]] == ["RECORD_CREATED"], trail
