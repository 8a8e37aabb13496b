"""The national (MOHURD) interface simulator, over real HTTP on 127.0.0.1 (infra/local/national_sim.py)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.local.national_sim import (
    RULES,
    NationalSimulator,
    demo_national_records,
    id_card_check,
    make_uscc,
    org_code_check,
    uscc_check,
    validate_data,
)

KEY = "test-national-key"
PROJECT = {
    "PrjNum": "3307822015010001",
    "PrjName": "义乌市示范安置房工程",
    "BuildCorpName": "义乌市城市投资建设集团有限公司",
    "BuildCorpCode": "67720472-6",  # 组织机构代码: the standard's varchar(15)
    "CountyNum": "330782",
    "PrjSize": "总建筑面积12万平方米",
    "AllInvest": "35000",
    "AllArea": 120000,
    "BDate": "2015-03-01",
}


@pytest.fixture(scope="module")
def server():
    sim = NationalSimulator(api_key=KEY, seed=1).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(server):
    server.reset()
    return server


def call(sim: NationalSimulator, method: str, path: str, body: Any = None, key: str | None = KEY, timeout: float = 3):
    """(status, headers, JSON payload); HTTP errors are answers too."""
    data = (body if isinstance(body, bytes) else json.dumps(body).encode()) if body is not None else None
    req = urllib.request.Request(sim.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key is not None:
        req.add_header("X-Api-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read())


def record(sync_id: str, key: str, data: dict | None = None, op: str = "UPSERT") -> dict:
    rec: dict[str, Any] = {"sync_id": sync_id, "key": key, "op": op}
    if data is not None:
        rec["data"] = data
    return rec


def push(sim: NationalSimulator, dataset: str, *records: dict, batch_id: str = "b1") -> tuple[int, Any, Any]:
    return call(sim, "POST", f"/api/v1/push/{dataset}", {"batch_id": batch_id, "records": list(records)})


def status_of(sim: NationalSimulator, *sync_ids: str) -> dict[str, str]:
    status, _, payload = call(sim, "POST", "/api/v1/status", {"sync_ids": list(sync_ids)})
    assert status == 200
    return payload["results"]


def test_api_requires_the_key_and_control_does_not(sim):
    for key in (None, "wrong"):
        status, _, payload = call(sim, "POST", "/api/v1/status", {"sync_ids": []}, key=key)
        assert status == 401
        assert payload == {"code": "UNAUTHORIZED", "message": "接口密钥无效"}
    status, _, stats = call(sim, "GET", "/__control/stats", key=None)
    assert status == 200
    assert stats["requests"] == 2
    assert stats["status_requests"] == 0


def test_valid_push_is_accepted_and_stored(sim):
    status, _, payload = push(sim, "TBProjectInfo", record("s1", "P1", PROJECT), batch_id="batch-7")
    assert status == 200
    assert payload == {
        "batch_id": "batch-7",
        "results": [{"sync_id": "s1", "key": "P1", "status": "ACCEPTED", "code": "OK", "message": "接收成功"}],
    }
    assert sim.accepted("TBProjectInfo", "P1") == {**PROJECT, "UpdateFlag": "U"}
    stats = sim.stats()
    assert (stats["push_requests"], stats["records_received"], stats["accepted"]) == (1, 1, 1)
    assert stats["accepted_by_dataset"]["TBProjectInfo"] == 1
    status, _, stored = call(sim, "GET", "/__control/accepted/TBProjectInfo/P1", key=None)
    assert status == 200
    assert stored["PrjName"] == PROJECT["PrjName"]


def test_invalid_record_is_rejected_with_the_field_in_chinese(sim):
    _, _, payload = push(sim, "TBProjectInfo", record("s1", "P1", {**PROJECT, "PrjSize": "无"}))
    result = payload["results"][0]
    assert (result["status"], result["code"]) == ("REJECTED", "INVALID")
    assert "PrjSize" in result["message"]
    assert "建设规模" in result["message"]
    assert sim.accepted("TBProjectInfo", "P1") is None
    assert sim.stats()["rejected_by_dataset"]["TBProjectInfo"] == 1


@pytest.mark.parametrize(
    ("dataset", "change", "expected"),
    [
        ("TBProjectInfo", {"PrjNum": "330782201501"}, "PrjNum（项目编号）"),
        ("TBProjectInfo", {"BDate": "2015-02-30"}, "BDate"),
        ("TBProjectInfo", {"AllInvest": "-1"}, "AllInvest（总投资）"),
        ("TBProjectInfo", {"BuildCorpCode": "123"}, "BuildCorpCode"),
        ("TBProjectInfo", {"PrjName": None, "CountyNum": " - "}, "PrjName（项目名称）不能为空；CountyNum"),
    ],
)
def test_project_validation(dataset, change, expected):
    errors = validate_data(dataset, {**PROJECT, **change})
    assert errors
    assert expected in "；".join(errors)


def test_corp_code_and_conditional_id_card_rules():
    corp = {"CorpName": "某公司", "CorpCode": "xxx", "ProvinceNum": "330000", "CountyNum": "330782", "LegalMan": "王"}
    assert validate_data("TBCorpBasicInfo", corp) == ["CorpCode（组织机构代码/统一社会信用代码）格式不正确：xxx"]
    assert validate_data("TBCorpBasicInfo", {**corp, "CorpCode": "D2143569-X"}) == []
    assert validate_data("TBCorpBasicInfo", {**corp, "CorpCode": "D2143569-X", "ProvinceNum": "330100"})
    person = {
        "PersonName": "张三",
        "IDCardTypeNum": "1",
        "IDCard18": "A1234567",
        "SpecialtyTypNum": "1",
        "CorpName": "某公司",
        "CorpCode": "91330782677204726D",
    }
    assert "IDCard18" in validate_data("TBRegPersonRegInfo", person)[0]
    assert validate_data("TBRegPersonRegInfo", {**person, "IDCardTypeNum": "2"}) == []
    user = {"PrjNum": "1", "BuilderLicenceNum": "2", "CorpCode": "3", "UserName": "李四", "IDCard": "4"}
    assert validate_data("TBProjectBuilderUserInfo", {**user, "UserType": 2}) == []
    assert "UserType（人员类型）" in validate_data("TBProjectBuilderUserInfo", {**user, "UserType": "4"})[0]


def test_same_sync_id_twice_is_a_duplicate(sim):
    push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    _, _, payload = push(sim, "TBProjectInfo", record("s1", "P1", {**PROJECT, "PrjName": "改过的名称"}))
    assert payload["results"][0]["status"] == "ACCEPTED"
    assert payload["results"][0]["code"] == "ALREADY_ACCEPTED"
    assert sim.accepted("TBProjectInfo", "P1")["PrjName"] == PROJECT["PrjName"]
    stats = sim.stats()
    assert (stats["accepted"], stats["duplicates"]) == (1, 1)
    assert stats["duplicates_by_dataset"]["TBProjectInfo"] == 1


def test_delete_marks_the_record_deleted(sim):
    push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    _, _, payload = push(sim, "TBProjectInfo", record("s2", "P1", op="DELETE"), record("s3", "", op="DELETE"))
    assert [r["status"] for r in payload["results"]] == ["ACCEPTED", "REJECTED"]
    assert sim.accepted("TBProjectInfo", "P1") == {**PROJECT, "UpdateFlag": "D"}


def test_status_endpoint(sim):
    push(sim, "TBProjectInfo", record("ok", "P1", PROJECT), record("bad", "P2", {**PROJECT, "PrjSize": ""}))
    assert status_of(sim, "ok", "bad", "never") == {"ok": "ACCEPTED", "bad": "REJECTED", "never": "UNKNOWN"}
    push(sim, "TBProjectInfo", record("bad", "P2", PROJECT))  # the same sync_id, corrected, is validated again
    assert status_of(sim, "bad") == {"bad": "ACCEPTED"}
    assert sim.stats()["status_requests"] == 2


def test_pull_pages_with_a_cursor_and_a_replacement_gets_a_new_seq(sim):
    sim.load_national("TBCorpBasicInfo", [{"key": f"C{i}", "data": {"CorpName": f"企业{i}"}} for i in range(5)])
    _, _, first = call(sim, "GET", "/api/v1/pull/TBCorpBasicInfo?limit=2")
    assert [(r["key"], r["seq"]) for r in first["records"]] == [("C0", 1), ("C1", 2)]
    assert (first["next_cursor"], first["has_more"]) == ("2", True)
    _, _, rest = call(sim, "GET", "/api/v1/pull/TBCorpBasicInfo?cursor=2&limit=500&province=330000")
    assert [r["seq"] for r in rest["records"]] == [3, 4, 5]
    assert (rest["next_cursor"], rest["has_more"]) == ("5", False)
    sim.load_national("TBCorpBasicInfo", [{"key": "C1", "data": {"CorpName": "企业1（变更）"}}])
    _, _, changed = call(sim, "GET", "/api/v1/pull/TBCorpBasicInfo?cursor=5")
    assert changed["records"] == [{"key": "C1", "seq": 6, "data": {"CorpName": "企业1（变更）"}}]
    _, _, empty = call(sim, "GET", "/api/v1/pull/TBCorpBasicInfo?cursor=6")
    assert empty == {"records": [], "next_cursor": "6", "has_more": False}
    assert call(sim, "GET", "/api/v1/pull/TBProjectInfo")[0] == 404
    assert call(sim, "GET", "/api/v1/pull/TBCorpBasicInfo?limit=501")[0] == 400


def test_demo_records_are_valid_and_served(sim):
    demo = demo_national_records()
    for dataset, records in demo.items():
        assert records
        assert all(validate_data(dataset, r["data"]) == [] for r in records)
        sim.load_national(dataset, records)
    corps = [r["data"] for r in demo["TBCorpBasicInfo"]]
    assert len(corps) == 3
    assert all(c["ProvinceNum"] != "330000" and c["CorpCode"][17] == uscc_check(c["CorpCode"][:17]) for c in corps)
    assert all(c["CorpCode"][16] == org_code_check(c["CorpCode"][8:16]) for c in corps)
    ids = [r["data"]["IDCard18"] for r in demo["TBRegPersonRegInfo"]]
    assert len(ids) == 2
    assert all(i[17] == id_card_check(i[:17]) for i in ids)
    assert all(r["data"]["CorpCode"].startswith("9133") for r in demo["TBCorpBadBehaviorInfo"])
    _, _, pulled = call(sim, "GET", "/api/v1/pull/TBRegPersonRegInfo")
    assert len(pulled["records"]) == 2


def test_check_characters_match_the_published_examples():
    assert org_code_check("D2143569") == "X"
    assert id_card_check("11010519491231002") == "X"
    assert uscc_check("91330782677204726") == "D"
    assert make_uscc("330782", "67720472") == "91330782677204726D"


def faults(sim: NationalSimulator, kind: str, **extra: Any) -> None:
    status, _, _ = call(sim, "POST", "/__control/faults", {"failure_rate": 1, "kinds": [kind], **extra}, key=None)
    assert status == 200


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("timeout", 504, "GATEWAY_TIMEOUT"), ("error_5xx", 503, "UNAVAILABLE"), ("throttle", 429, "THROTTLED")],
)
def test_refusing_faults_process_nothing(sim, kind, status, code):
    faults(sim, kind, timeout_seconds=0.2)
    got, headers, payload = push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    assert (got, payload["code"]) == (status, code)
    if kind == "throttle":
        assert headers["Retry-After"] == "1"
    assert sim.accepted("TBProjectInfo", "P1") is None
    assert sim.stats()["faults"][kind] == 1
    sim.set_faults(failure_rate=0)
    assert status_of(sim, "s1") == {"s1": "UNKNOWN"}


def test_timeout_fault_outlasts_a_short_client_timeout(sim):
    sim.set_faults(failure_rate=1, kinds=["timeout"], timeout_seconds=0.2)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        call(sim, "POST", "/api/v1/status", {"sync_ids": ["s1"]}, timeout=0.05)
    assert sim.stats()["faults"]["timeout"] == 1


def test_reset_after_accept_processes_the_batch_but_gives_no_answer(sim):
    faults(sim, "reset_after_accept")
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    assert sim.accepted("TBProjectInfo", "P1") == {**PROJECT, "UpdateFlag": "U"}
    status, _, _ = call(sim, "POST", "/api/v1/status", {"sync_ids": ["s1"]})
    assert status == 503  # reset_after_accept on a status query acts as error_5xx
    sim.set_faults(failure_rate=0)
    assert status_of(sim, "s1") == {"s1": "ACCEPTED"}
    _, _, again = push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    assert again["results"][0]["code"] == "ALREADY_ACCEPTED"
    assert sim.stats()["duplicates"] == 1
    assert (sim.stats()["faults"]["reset_after_accept"], sim.stats()["faults"]["error_5xx"]) == (1, 1)


def test_partial_fault_answers_retry_for_some_and_stores_only_the_rest(sim):
    faults(sim, "partial", seed=7)
    records = [record(f"s{i}", f"P{i}", {**PROJECT, "PrjName": f"项目{i}"}) for i in range(30)]
    status, _, payload = push(sim, "TBProjectInfo", *records)
    assert status == 200
    results = payload["results"]
    assert [r["sync_id"] for r in results] == [f"s{i}" for i in range(30)]
    retried = [r for r in results if r["status"] == "RETRY"]
    accepted = [r for r in results if r["status"] == "ACCEPTED"]
    assert retried and accepted and len(retried) + len(accepted) == 30
    assert all((r["code"], r["message"]) == ("BUSY", "系统繁忙，请稍后重发") for r in retried)
    assert all(sim.accepted("TBProjectInfo", r["key"]) is None for r in retried)
    assert all(sim.accepted("TBProjectInfo", r["key"]) is not None for r in accepted)
    sim.set_faults(failure_rate=0)
    assert set(status_of(sim, *(r["sync_id"] for r in retried)).values()) == {"UNKNOWN"}
    assert sim.stats()["accepted"] == len(accepted)


def test_fault_configuration_is_validated(sim):
    status, _, payload = call(sim, "POST", "/__control/faults", {"failure_rate": 1, "kinds": ["meteor"]}, key=None)
    assert (status, payload["code"]) == (400, "BAD_REQUEST")
    with pytest.raises(ValueError):
        sim.set_faults(failure_rate=2)


def test_bad_requests(sim):
    too_many = [record(f"s{i}", f"P{i}", PROJECT) for i in range(501)]
    status, _, payload = push(sim, "TBProjectInfo", *too_many)
    assert (status, payload["code"]) == (400, "BATCH_TOO_LARGE")
    status, _, payload = call(sim, "POST", "/api/v1/status", {"sync_ids": [str(i) for i in range(501)]})
    assert (status, payload["code"]) == (400, "BATCH_TOO_LARGE")
    status, _, payload = call(sim, "POST", "/api/v1/push/TBProjectInfo", b"{not json")
    assert status == 400
    assert payload["message"]
    status, _, payload = push(sim, "TBProjectInfo", {"key": "P1", "op": "UPSERT", "data": PROJECT})
    assert (status, payload["code"]) == (400, "BAD_REQUEST")
    assert "sync_id" in payload["message"]
    status, _, payload = push(sim, "TBNoSuchThing", record("s1", "P1", PROJECT))
    assert (status, payload["code"]) == (404, "UNKNOWN_DATASET")
    assert sim.stats()["records_received"] == 0
    assert set(RULES) >= {"TBProjectInfo", "TBPersonBadBehaviorInfo"}


def test_control_reset_clears_everything(sim):
    push(sim, "TBProjectInfo", record("s1", "P1", PROJECT))
    sim.load_national("TBCorpBadBehaviorInfo", [{"key": "B1", "data": {"CorpName": "某公司"}}])
    sim.set_faults(failure_rate=0.5)
    assert call(sim, "POST", "/__control/reset", {}, key=None)[0] == 200
    assert sim.accepted("TBProjectInfo", "P1") is None
    assert sim.stats()["accepted"] == 0
    assert sim.stats()["requests"] == 0
    assert status_of(sim, "s1") == {"s1": "UNKNOWN"}
    _, _, pulled = call(sim, "GET", "/api/v1/pull/TBCorpBadBehaviorInfo")
    assert pulled["records"] == []
    sim.load_national("TBCorpBadBehaviorInfo", [{"key": "B1", "data": {}}])
    assert call(sim, "GET", "/api/v1/pull/TBCorpBadBehaviorInfo")[2]["records"][0]["seq"] == 1


def test_a_pushed_record_must_fit_the_standards_table():
    from infra.local.national_sim import validate_record

    record = {"key": "P1", "op": "UPSERT", "data": {**PROJECT, "Address": "x"}}
    assert validate_record("TBProjectInfo", record) == ["数据集中没有字段Address"]
    long_code = {"key": "P1", "op": "UPSERT", "data": {**PROJECT, "BuildCorpCode": "91330782677204726D"}}
    assert "超长（varchar(15)）" in validate_record("TBProjectInfo", long_code)[0]
