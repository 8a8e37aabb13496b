"""Statistics kept on write (stream → counters) against a brute-force recount, replay safety, bounded dashboard
cost, scope checks, and the regional assessment with its snapshot and XLSX export."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter

import pytest

from chalicelib.domain.statistics import city_of

JSON = {"Content-Type": "application/json"}
TYPES = {"enterprise": "ENT", "person": "PER", "project": "PRJ"}


def body(resp):
    return json.loads(resp.body)


def poller(platform, name):
    from app import app
    from infra.local.pumps import StreamPoller, table_stream_arn

    session = platform["session"]
    src = next(s for s in app.event_sources if s.name == name)
    return StreamPoller(
        name=name,
        handler=app.handler_map[name],
        streams=session.client("dynamodbstreams"),
        stream_arn=table_stream_arn(session.client("dynamodb"), src.stream_arn),
        batch_size=src.batch_size,
        starting_position="TRIM_HORIZON",
        region="us-east-1",
        stop=threading.Event(),
    )


def drain(p) -> int:
    total = 0
    while moved := p.poll_once():
        total += moved
    return total


def recount(platform) -> dict:
    """Brute force: every item of the main table (a test may Scan; the platform never does)."""
    ddb = platform["session"].client("dynamodb")
    from chalicelib.adapters.dynamo_codec import from_item

    reg, credit, permits, decisions = Counter(), Counter(), Counter(), Counter()
    for page in ddb.get_paginator("scan").paginate(TableName="cmsp-main"):
        for raw in page["Items"]:
            item = from_item(raw)
            entity, county = item.get("entity"), item.get("region_code") or "000000"
            if entity in TYPES and not item["sk"].startswith("SNAP#"):
                reg[(county, TYPES[entity], item["state"])] += 1
                review = item.get("review") or {}
                if (
                    item["state"] in ("CONFIRMED", "FALSE")
                    and review.get("last_decision_id")
                    and review.get("decided_at")
                ):
                    decisions[county] += 1
            elif entity == "credit" and item.get("published", True):
                credit[(county, item["kind"])] += 1
            elif entity == "permit_application":
                permits[(county, item["state"])] += 1
    return {"registry": reg, "credit": credit, "permits": permits, "decisions": decisions}


def expected_for(counts: dict, region: str) -> dict:
    def inside(county: str) -> bool:
        if region == "330000":
            return True
        if region.endswith("00"):
            return city_of(county) == region
        return county == region

    registry: dict[str, dict[str, int]] = {}
    for (county, t, state), n in counts["registry"].items():
        if inside(county):
            registry.setdefault(t, {})[state] = registry.get(t, {}).get(state, 0) + n
    credit: dict[str, int] = {}
    for (county, kind), n in counts["credit"].items():
        if inside(county):
            credit[kind] = credit.get(kind, 0) + n
    permits: dict[str, int] = {}
    for (county, state), n in counts["permits"].items():
        if inside(county):
            permits[state] = permits.get(state, 0) + n
    decisions = sum(n for county, n in counts["decisions"].items() if inside(county))
    return {"registry": registry, "credit": credit, "permits": permits, "decisions": decisions}


def scenario(client, login) -> None:
    """Decisions of every kind, a credit record, on top of the demo data."""
    from infra.local.demo import seed_registry

    seed_registry()
    county = {**JSON, **login("county_yiwu")}
    queue = body(client.http.get("/reviews/queue?record_type=enterprise", headers=county))["enterprises"]["items"]
    submitted = [r for r in queue if r["record"]["state"] == "SUBMITTED"]
    assert len(submitted) >= 2
    for rec, outcome in zip(submitted[:2], ["CONFIRMED", "FALSE"], strict=True):
        r = client.http.post(
            f"/reviews/enterprises/{rec['record_id']}/decision",
            headers=county,
            body=json.dumps({"version": rec["record"]["version"], "outcome": outcome, "reason": "经核实"}),
        )
        assert r.status_code == 200, r.body
    r = client.http.post(
        "/credit/records",
        headers=county,
        body=json.dumps(
            {
                "uscc": "91330782MA2F00063N",
                "behaviour_code": "C1-2-05",
                "content": "将部分工程违法分包给无资质个人",
                "happened_on": "2026-10-08",
                "penalty_number": "义建罚〔2026〕18号",
                "penalty_date": "2026-10-20",
                "penalty_department": "义乌市住房和城乡建设局",
            }
        ),
    )
    assert r.status_code == 201, r.body


def test_counters_match_a_recount_at_every_level_and_survive_replays(platform, client, login):
    scenario(client, login)
    p = poller(platform, "on_main_table_change_for_statistics")
    assert drain(p) > 0
    truth = recount(platform)
    for user, region in [
        ("province", "330000"),
        ("province", "330700"),
        ("city_jinhua", "330782"),
        ("county_yiwu", "330782"),
        ("city_hangzhou", "330100"),
        ("county_xihu", "330106"),
    ]:
        got = body(client.http.get(f"/statistics/overview?region={region}", headers=login(user)))
        want = expected_for(truth, region)
        assert got["registry"] == want["registry"], region
        assert got["credit"] == want["credit"], region
        assert got["permits"]["by_state"] == want["permits"], region
        assert got["reviews"]["summary"]["decisions"] == want["decisions"], region
    # The province's breakdown by city adds up to the same recount.
    province = body(client.http.get("/statistics/overview", headers=login("province")))
    for city, figures in province["children"].items():
        want = expected_for(truth, city)["registry"] if city != "000000" else None
        if want is not None:
            assert {t: s for t, s in figures.items() if not t.startswith("_")} == want, city
    assert province["doubt_pool"]["size"] == sum(s.get("IN_DOUBT", 0) for s in province["registry"].values()) >= 1
    assert province["doubt_pool"]["oldest_age_days"] >= 29
    assert province["campaigns"] and province["campaigns"][0]["total"] >= 1

    # Replaying the whole stream counts nothing twice.
    p.iterators.clear()
    drain(p)
    again = body(client.http.get("/statistics/overview", headers=login("province")))
    assert again["registry"] == province["registry"] and again["credit"] == province["credit"]


def test_dashboard_cost_is_bounded_and_scoped(platform, client, login):
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item

    scenario(client, login)
    drain(poller(platform, "on_main_table_change_for_statistics"))
    ddb = aws.client("dynamodb")
    calls: list[str] = []

    def count(**kwargs):
        calls.append(kwargs["event_name"].rsplit(".", 1)[-1])

    def cost(user: str, region: str) -> list[str]:
        headers = login(user)  # logging in is audited: not part of the dashboard's cost
        from chalicelib import wiring

        # a first call lets the gate record the session's activity (one UpdateItem at most every few minutes,
        # whenever it falls due): the measured call is then the dashboard's own cost
        assert client.http.get(f"/statistics/overview?region={region}", headers=headers).status_code == 200

        wiring.get_auth_service().cache.forget(user)  # every measurement includes the gate's one BatchGetItem
        wiring.get_auth_service().forget_policy()  # and its policy read (cached 30 s: the writes below take longer)
        calls.clear()
        ddb.meta.events.register("before-call.dynamodb", count)
        try:
            assert client.http.get(f"/statistics/overview?region={region}", headers=headers).status_code == 200
        finally:
            ddb.meta.events.unregister("before-call.dynamodb", count)
        return list(calls)

    before = {r: cost(u, r) for u, r in [("province", "330000"), ("city_jinhua", "330700"), ("county_yiwu", "330782")]}
    # 3,000 more enterprises in the registry: the dashboard reads none of them.
    puts = [
        {
            "PutRequest": {
                "Item": to_item(
                    {
                        "pk": f"ENT#9133078200000{i:05d}",
                        "sk": "REC",
                        "entity": "enterprise",
                        "state": "IMPORTED",
                        "region_code": "330782",
                    }
                )
            }
        }
        for i in range(3000)
    ]
    for i in range(0, len(puts), 25):
        ddb.batch_write_item(RequestItems={"cmsp-main": puts[i : i + 25]})
    after = {r: cost(u, r) for u, r in [("province", "330000"), ("city_jinhua", "330700"), ("county_yiwu", "330782")]}
    assert after == before
    assert all("Scan" not in c for c in after.values())
    assert all(c.count("BatchGetItem") == 1 for c in after.values())  # the gate: account + session, one request
    assert len(after["330000"]) <= 31 and len(after["330700"]) <= 9 and len(after["330782"]) <= 9
    print({r: len(c) for r, c in after.items()})
    # Scope: a county cannot read the city or another county; enterprises read nothing.
    assert client.http.get("/statistics/overview?region=330700", headers=login("county_yiwu")).status_code == 404
    assert client.http.get("/statistics/overview?region=330106", headers=login("city_jinhua")).status_code == 404
    assert client.http.get("/statistics/overview", headers=login("ent_yiwu")).status_code == 403


def test_assessment_scorecards_snapshot_and_xlsx(platform, client, login):
    import requests
    from python_calamine import CalamineWorkbook

    from chalicelib import wiring

    scenario(client, login)
    drain(poller(platform, "on_main_table_change_for_statistics"))
    live = body(client.http.get("/assessment", headers=login("province")))
    assert live["snapshot"] is False
    regions = {c["region"] for c in live["cards"]}
    assert {"330700", "330782", "330100", "330106"} <= regions
    yiwu = next(c for c in live["cards"] if c["region"] == "330782")
    assert 0 <= yiwu["score"] <= 100 and yiwu["records"] >= 5
    # A city sees its own counties only; a county has no scorecard view.
    city = body(client.http.get("/assessment", headers=login("city_jinhua")))
    assert {c["region"][:4] for c in city["cards"]} == {"3307"}
    assert client.http.get("/assessment", headers=login("county_yiwu")).status_code == 404
    # The daily job keeps the month's snapshot; a past month without one is a 404.
    svc = wiring.get_statistics_service()
    assert svc.snapshot_month("2026-10") == len(live["cards"])
    snap = body(client.http.get("/assessment?month=2026-10", headers=login("province")))
    assert snap["snapshot"] is True and len(snap["cards"]) == len(live["cards"])
    assert client.http.get("/assessment?month=2025-01", headers=login("province")).status_code == 404
    # XLSX export behind a presigned link.
    link = body(client.http.get("/assessment/export?month=2026-10", headers=login("province")))
    assert link["filename"] == "考核-2026-10.xlsx"
    s3 = platform["session"].client("s3")
    key = link["url"].split("cmsp-uploads/", 1)[1].split("?", 1)[0]
    data = s3.get_object(Bucket="cmsp-uploads", Key=requests.utils.unquote(key))["Body"].read()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "地区代码" and len(rows) == len(snap["cards"]) + 1


@pytest.mark.parametrize("score", [55, 60, 69.5, 95, 100])
def test_score_bands(score):
    from chalicelib.services.credit import score_band

    band = score_band(score)
    lo, _, hi = band.partition("-")
    assert band.startswith("<") or float(lo) <= score <= float(hi) + 0.99
