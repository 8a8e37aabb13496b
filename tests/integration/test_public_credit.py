"""The credit network and the public read-only API: publication periods, scores, blacklist, masking, costs."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.credit import CreditKind, CreditRecord, CreditSource
from chalicelib.domain.identity import system_principal
from tests.conftest import today_in_beijing
from tests.integration.test_imports import USCC_YIWU, uscc
from tests.integration.test_review import JSON, body, decide, submitted_enterprise

PII_KEYS = re.compile(
    r"(^|_)(id_no|idcard|id_card|phone|mobile|tel|email|birth|home_address|personal_address)($|_)", re.IGNORECASE
)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def confirmed(client, platform, login) -> dict:
    rec = submitted_enterprise(client, platform, login)
    r = decide(client, login("county_yiwu"), rec["version"])
    assert r.status_code == 200, r.body
    return body(r)["record"]["record"]


class Calls:
    def __init__(self):
        from chalicelib.adapters import aws

        self.client = aws.client("dynamodb")
        self.ops: list[str] = []

    def __enter__(self):
        self.client.meta.events.register("before-call.dynamodb", self._count)
        return self

    def _count(self, event_name, **kwargs):
        self.ops.append(event_name.split(".")[-1])

    def __exit__(self, *exc):
        self.client.meta.events.unregister("before-call.dynamodb", self._count)


def _credit(uscc_: str, *, end: date, kind=CreditKind.BAD, code="C1-2-05", begin: date | None = None) -> CreditRecord:
    begin = begin or end - timedelta(days=200)
    return CreditRecord(
        credit_id=f"C{abs(hash((uscc_, end, code))) % 10**12:012d}",
        kind=kind,
        source=CreditSource.ADMIN_PENALTY,
        subject_type="enterprise",
        subject_id=uscc_,
        subject_name="义乌市示范建设有限公司",
        owner_uscc=uscc_,
        region_code="330782",
        behaviour_code=code,
        category="承揽业务",
        content="转包工程",
        basis="《建筑法》",
        authority="义乌市住房和城乡建设局",
        entered_by="t",
        entered_by_name="t",
        entered_at=begin.isoformat(),
        happened_on=begin.isoformat(),
        publish_begin=begin.isoformat(),
        publish_end=end.isoformat(),
        penalty_number="义建罚〔2015〕1号",
    )


def test_only_confirmed_records_are_public_and_lookups_cost_one_request(client, platform, login):
    rec = submitted_enterprise(client, platform, login)
    assert client.http.get(f"/public/enterprises/{USCC_YIWU}").status_code == 404  # submitted, not confirmed
    r = decide(client, login("county_yiwu"), rec["version"], "IN_DOUBT", "待核实")
    assert client.http.get(f"/public/enterprises/{USCC_YIWU}").status_code == 404  # the doubt pool is not published
    decide(client, login("county_yiwu"), body(r)["record"]["record"]["version"], "CONFIRMED", "已核实")
    with Calls() as calls:
        resp = client.http.get(f"/public/enterprises/{USCC_YIWU}")
    assert resp.status_code == 200
    assert calls.ops == ["GetItem"]  # <= 2 requests for a lookup by code
    data = body(resp)
    assert data["name"] == "义乌市示范建设有限公司" and data["updated_at"]
    assert resp.headers["ETag"] and "max-age" in resp.headers["Cache-Control"]
    again = client.http.get(f"/public/enterprises/{USCC_YIWU}", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_name_fragment_search_over_20000_enterprises_uses_no_scan(client, platform, login):
    """20,000 confirmed enterprises all named 浙江…: the most common bigram's partition holds every one of them, the
    worst case for the index. The search still only Queries that partition, page by page."""
    from chalicelib.adapters.dynamo_codec import to_item

    confirmed(client, platform, login)
    ddb = platform["session"].client("dynamodb")
    table = platform["env"]["MAIN_TABLE"]
    words = ["建设", "建筑", "工程", "市政", "安装", "装饰", "园林", "交通"]
    items = []
    for i in range(20_000):
        name = f"浙江{words[i % 8]}{words[(i // 8) % 8]}第{i}有限公司"
        rid = uscc("91330782", f"MC{i:06d}")
        for gram in ("浙江", name[2:4]):
            items.append(
                {
                    "PutRequest": {
                        "Item": to_item(
                            {
                                "pk": f"NG#ENT#{gram}",
                                "sk": rid,
                                "entity": "name_index",
                                "record_id": rid,
                                "name": name,
                                "region_code": "330782",
                            }
                        )
                    }
                }
            )
    for i in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={table: items[i : i + 25]})
    with Calls() as calls:
        resp = client.http.get("/public/enterprises?name=示范建设&limit=20")
    assert resp.status_code == 200
    assert [h["uscc"] for h in body(resp)["items"]] == [USCC_YIWU]
    assert calls.ops == ["Query"]
    with Calls() as calls:
        resp = client.http.get("/public/enterprises?name=浙江市政安装&limit=20")
    assert resp.status_code == 200
    hits = body(resp)["items"]
    assert hits and all("浙江市政安装" in h["name"] for h in hits) and len(hits) <= 20
    assert set(calls.ops) == {"Query"}
    page2 = body(client.http.get(f"/public/enterprises?name=浙江市政安装&limit=20&cursor={body(resp)['cursor']}"))
    assert {h["uscc"] for h in page2["items"]}.isdisjoint({h["uscc"] for h in hits})
    assert client.http.get("/public/enterprises?name=示").status_code == 400
    assert client.http.get("/public/enterprises?limit=500&name=示范").status_code == 400  # hard page-size cap


def test_publication_period_ends_exactly_and_the_score_follows(client, platform, login):
    from chalicelib import wiring

    confirmed(client, platform, login)
    store = wiring.get_credit_store()
    today = today_in_beijing()
    ended = _credit(USCC_YIWU, end=today - timedelta(days=1), code="C1-1-01")
    running = _credit(USCC_YIWU, end=today + timedelta(days=1), code="C1-2-05")
    award = _credit(
        USCC_YIWU,
        end=today + timedelta(days=400),
        kind=CreditKind.GOOD,
        code="G-1-02",
        begin=today - timedelta(days=10),
    )
    for r in (ended, running, award):
        store.add_credit(r, _draft(r), system_principal("test"), RequestMeta())
    bad = body(client.http.get(f"/public/credit-records?uscc={USCC_YIWU}&kind=BAD"))["items"]
    assert [r["credit_id"] for r in bad] == [running.credit_id]
    good = body(client.http.get(f"/public/credit-records?uscc={USCC_YIWU}&kind=GOOD"))["items"]
    assert [r["credit_id"] for r in good] == [award.credit_id]
    score = body(client.http.get(f"/public/enterprises/{USCC_YIWU}/credit-score"))
    assert score["base"] == 70  # confirmed and complete, not blacklisted
    assert [i["credit_id"] for i in score["items"] if i["kind"] == "BAD"] == [running.credit_id]
    assert score["bad"] == 15 and score["good"] == 8 and score["total"] == 70 + 8 - 15
    region = body(client.http.get("/public/credit-records?county=330782&kind=BAD"))["items"]
    assert [r["credit_id"] for r in region] == [running.credit_id]
    # without a filter: the province's whole public list (its own index, no Scan), still within publication
    province = body(client.http.get("/public/credit-records?kind=BAD"))["items"]
    assert [r["credit_id"] for r in province] == [running.credit_id]
    assert [r["credit_id"] for r in body(client.http.get("/public/credit-records?kind=GOOD"))["items"]] == [
        award.credit_id
    ]


def _draft(r: CreditRecord):
    from chalicelib.domain.audit import AuditAction, AuditDraft

    return AuditDraft(
        target_type="credit",
        target_id=r.credit_id,
        action=AuditAction.CREDIT_RECORDED,
        target_region=r.region_code,
        target_owner=r.owner_uscc,
    )


def test_officials_enter_penalties_and_enterprises_rectify(client, platform, login):
    confirmed(client, platform, login)
    county = {**JSON, **login("county_yiwu")}
    happened = today_in_beijing() - timedelta(days=120)
    r = client.http.post(
        "/credit/records",
        headers=county,
        body=json.dumps(
            {
                "uscc": USCC_YIWU,
                "behaviour_code": "C1-2-05",
                "content": "将承包的工程转包给他人",
                "happened_on": happened.isoformat(),
                "publish_months": 24,
                "penalty_number": "义建罚〔2015〕12号",
                "penalty_date": happened.isoformat(),
                "penalty_amount": "3",
            }
        ),
    )
    assert r.status_code == 201, r.body
    record = body(r)
    assert record["publish_end"] == (happened.replace(year=happened.year + 2)).isoformat()
    assert record["entered_by_name"] and record["authority"]
    assert (
        client.http.post(
            "/credit/records",
            headers={**JSON, **login("county_xihu")},
            body=json.dumps(
                {
                    "uscc": USCC_YIWU,
                    "behaviour_code": "C1-2-05",
                    "content": "xxxx",
                    "happened_on": happened.isoformat(),
                    "penalty_number": "x",
                }
            ),
        ).status_code
        == 404
    )
    too_short = client.http.post(
        "/credit/records",
        headers=county,
        body=json.dumps(
            {
                "uscc": USCC_YIWU,
                "behaviour_code": "C1-2-05",
                "content": "xxxx",
                "happened_on": happened.isoformat(),
                "publish_months": 3,
                "penalty_number": "x",
                "penalty_date": happened.isoformat(),
            }
        ),
    )
    assert too_short.status_code == 400 and "6" in body(too_short)["message"] + json.dumps(body(too_short))
    ent = {**JSON, **login("ent_yiwu")}
    r = client.http.post(
        f"/me/credit-records/{record['credit_id']}/rectification",
        headers=ent,
        body=json.dumps(
            {
                "version": record["version"],
                "reason": "已完成整改并通过验收",
                "requested_end": today_in_beijing().isoformat(),
            }
        ),
    )
    assert r.status_code == 200, r.body
    waiting = body(r)
    # 信用修复 is the province's decision (建市〔2007〕9号 rules, as data): the county may not decide it
    refused = client.http.post(
        f"/credit/records/{record['credit_id']}/rectification/decision",
        headers=county,
        body=json.dumps({"version": waiting["version"], "approve": True, "reason": "整改到位"}),
    )
    assert refused.status_code == 403 and "省级主管部门" in body(refused)["message"]
    r = client.http.post(
        f"/credit/records/{record['credit_id']}/rectification/decision",
        headers={**JSON, **login("province")},
        body=json.dumps({"version": waiting["version"], "approve": True, "reason": "整改到位"}),
    )
    assert r.status_code == 200, r.body
    shortened = body(r)
    # never below three months after publication began
    floor = (
        happened.replace(month=happened.month + 3)
        if happened.month <= 9
        else happened.replace(year=happened.year + 1, month=happened.month - 9)
    )
    assert shortened["rectified"] is True and shortened["publish_end"] == max(floor, today_in_beijing()).isoformat()
    by_authority = body(client.http.get(f"/public/credit-records?uscc={USCC_YIWU}&authority=义乌"))["items"]
    assert [c["credit_id"] for c in by_authority] == [record["credit_id"]]
    assert body(client.http.get(f"/public/credit-records?uscc={USCC_YIWU}&authority=杭州"))["items"] == []
    trail = body(client.http.get(f"/audit/targets/credit/{record['credit_id']}", headers=login("province")))
    assert [e["action"] for e in trail["items"]] == [
        "CREDIT_RECORDED",
        "CREDIT_RECTIFICATION_REQUESTED",
        "CREDIT_RECTIFICATION_DECIDED",
    ]


def test_a_penalty_decided_today_about_old_conduct_is_public_from_today(client, platform, login):
    """domain.md §5.3: the period runs from the decision. Conduct of two years ago, decided today, 6 months: shown
    now and until six months from today (it used to be born expired)."""
    confirmed(client, platform, login)
    today = today_in_beijing()
    conduct = today - timedelta(days=730)
    r = client.http.post(
        "/credit/records",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps(
            {
                "uscc": USCC_YIWU,
                "behaviour_code": "C1-2-05",
                "content": "将承包的工程转包给他人（两年前的行为，今日作出处罚决定）",
                "happened_on": conduct.isoformat(),
                "publish_months": 6,
                "penalty_number": "义建罚〔2026〕99号",
                "penalty_date": today.isoformat(),
                "penalty_content": "罚款3万元，责令改正",
            }
        ),
    )
    assert r.status_code == 201, r.body
    rec = body(r)
    assert rec["publish_begin"] == today.isoformat() and rec["happened_on"] == conduct.isoformat()
    assert rec["publish_end"] > today.isoformat()
    public = body(client.http.get(f"/public/credit-records?uscc={USCC_YIWU}"))["items"]
    assert rec["credit_id"] in [c["credit_id"] for c in public]


def test_blacklist_is_public_until_removal_and_zeroes_the_base(client, platform, login):
    confirmed(client, platform, login)
    r = client.http.post(
        "/credit/blacklist",
        headers={**JSON, **login("city_jinhua")},
        body=json.dumps(
            {
                "uscc": USCC_YIWU,
                "criterion": "BL-2",
                "basis": "金建罚〔2015〕3号：出借资质",
                "listed_on": today_in_beijing().isoformat(),
            }
        ),
    )
    assert r.status_code == 201, r.body
    listed = body(client.http.get("/public/blacklist"))["items"]
    assert [e["uscc"] for e in listed] == [USCC_YIWU]
    assert listed[0]["removal_on"] == today_in_beijing().replace(year=today_in_beijing().year + 1).isoformat()
    score = body(client.http.get(f"/public/enterprises/{USCC_YIWU}/credit-score"))
    assert score["blacklisted"] is True and score["base"] == 0
    assert (
        client.http.post(
            "/credit/blacklist",
            headers={**JSON, **login("ent_yiwu")},
            body=json.dumps({"uscc": USCC_YIWU, "criterion": "BL-2", "basis": "x" * 5, "listed_on": "2015-01-01"}),
        ).status_code
        == 403
    )


def _walk(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
            yield (f"{path}.{k}", k, v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _response_properties(doc: dict) -> set[str]:
    """Every property name reachable from the public operations' responses (following $ref)."""
    schemas = doc["components"]["schemas"]
    names: set[str] = set()
    seen: set[str] = set()

    def visit(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    visit(schemas[name])
            for k, v in node.get("properties", {}).items():
                names.add(k)
                visit(v)
            for key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
                if key in node:
                    visit(node[key])
        elif isinstance(node, list):
            for v in node:
                visit(v)

    for ops in doc["paths"].values():
        for op in ops.values():
            for resp in op["responses"].values():
                for media in resp.get("content", {}).values():
                    visit(media["schema"])
    return names


def test_no_personal_data_in_the_public_schema_or_responses(client, platform, login):
    confirmed(client, platform, login)
    # a confirmed registered person of the enterprise, with an ID number and a mobile number on file
    ent = {**JSON, **login("ent_yiwu")}
    from tests.integration.test_imports import PERSON_HEADERS, Pipeline, csv_bytes, id_card, person_row

    idn = id_card("33078219800101001")
    job = Pipeline(client, platform, login).run(
        "ent_yiwu",
        csv_bytes(PERSON_HEADERS, [person_row(idn, "李四", 手机号码="13900001111", 性别="男")]),
        kind="personnel_sheet",
        filename="人员.csv",
    )
    assert job["state"] == "COMPLETED", job
    person = body(client.http.get("/me/personnel", headers=ent))["items"][0]["record"]
    path = f"{person['person_key']}/{person['employer_uscc']}"
    r = client.http.post(
        f"/registry/persons/{path}/submit", headers=ent, body=json.dumps({"version": person["version"]})
    )
    assert r.status_code == 200, r.body
    r = client.http.post(
        f"/reviews/persons/{path}/decision",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"version": body(r)["record"]["version"], "outcome": "CONFIRMED", "reason": "与注册证书一致"}),
    )
    assert r.status_code == 200, r.body

    doc = body(client.http.get("/public/openapi.json"))
    assert all(p.startswith("/public/") for p in doc["paths"])
    offenders = [name for name in _response_properties(doc) if PII_KEYS.search(name) and name != "id_masked"]
    assert offenders == []
    # the only personal identifier the public API accepts is the exact-lookup body, and it is never echoed
    body_fields = doc["components"]["schemas"]["IdLookup"]["properties"]
    assert set(body_fields) == {"id_type", "id_no"}

    responses = [
        client.http.get(f"/public/enterprises/{USCC_YIWU}"),
        client.http.get("/public/enterprises?name=示范建设"),
        client.http.get("/public/persons?name=李四"),
        client.http.post("/public/persons/lookup", headers=JSON, body=json.dumps({"id_no": idn})),
        client.http.get(f"/public/enterprises/{USCC_YIWU}/credit-score"),
        client.http.get("/public/blacklist"),
        client.http.get(f"/public/credit-records?uscc={USCC_YIWU}"),
    ]
    found = body(responses[3])["items"]
    assert len(found) == 1 and found[0]["id_masked"] == idn[:6] + "********" + idn[-4:]
    assert body(responses[2])["items"][0]["name"] == "李四"
    for resp in responses:
        assert resp.status_code == 200, resp.body
        text = resp.body.decode()
        assert idn not in text and "13900001111" not in text and "0579-85551234" not in text
        assert not ID_NUMBER.search(text) and not PHONE.search(text)
        for path, key_name, _ in _walk(json.loads(text)):
            assert not PII_KEYS.search(key_name) or key_name == "id_masked", path


def test_public_clients_are_rate_limited(client, monkeypatch):
    from chalicelib import wiring
    from chalicelib.entrypoints import api_public

    monkeypatch.setenv("PUBLIC_BURST", "3")
    monkeypatch.setenv("PUBLIC_RATE_PER_SECOND", "0.01")
    wiring.reset()
    monkeypatch.setattr(api_public, "_BUCKET", None)
    codes = [client.http.get("/public/blacklist").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    monkeypatch.setattr(api_public, "_BUCKET", None)


@pytest.mark.parametrize("path", ["/public/enterprises/91330782677204726D", "/public/projects/3307821403150001"])
def test_unknown_public_objects_are_404_not_500(client, path):
    assert client.http.get(path).status_code == 404


def test_rectification_requests_wait_in_the_regions_queue_until_decided(client, platform, login):
    import json as _json

    from infra.local.demo import seed_registry

    seed_registry()
    county = {"Content-Type": "application/json", **login("county_yiwu")}
    r = client.http.post(
        "/credit/records",
        headers=county,
        body=_json.dumps(
            {
                "uscc": "91330782MA2F00063N",
                "behaviour_code": "C1-2-05",
                "content": "违法分包给无资质个人",
                "happened_on": "2026-10-08",
                "penalty_number": "义建罚〔2026〕21号",
                "penalty_date": "2026-10-20",
                "publish_months": 12,
            }
        ),
    )
    assert r.status_code == 201, r.body
    rec = _json.loads(r.body)
    ent = {"Content-Type": "application/json", **login("ent_jiangong")}
    r = client.http.post(
        f"/me/credit-records/{rec['credit_id']}/rectification",
        headers=ent,
        body=_json.dumps({"version": rec["version"], "reason": "已整改并完成培训", "requested_end": "2027-02-01"}),
    )
    assert r.status_code == 200, r.body

    def queue(who):
        return [
            x["credit_id"]
            for x in _json.loads(client.http.get("/credit/rectifications", headers=login(who)).body)["items"]
        ]

    assert rec["credit_id"] in queue("county_yiwu") and rec["credit_id"] in queue("city_jinhua")
    assert rec["credit_id"] in queue("province") and rec["credit_id"] not in queue("county_xihu")
    assert client.http.get("/credit/rectifications", headers=login("ent_jiangong")).status_code == 403
    waiting = _json.loads(r.body)
    r = client.http.post(
        f"/credit/records/{rec['credit_id']}/rectification/decision",
        headers={"Content-Type": "application/json", **login("province")},
        body=_json.dumps({"version": waiting["version"], "approve": True, "reason": "整改到位"}),
    )
    assert r.status_code == 200, r.body
    assert rec["credit_id"] not in queue("county_yiwu")
