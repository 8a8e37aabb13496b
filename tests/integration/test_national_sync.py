"""National (MOHURD) synchronisation on in-process moto against the simulator over real HTTP: change capture from
the table's stream, push with faults (exactly once), no lost update, dead letters and re-send, request counts with
20,000 unchanged rows, the pull job with conflicts, and the officials' API."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import national
from chalicelib.domain.national import NationalRow, SyncStatus
from infra.local.national_sim import NationalSimulator

JSON = {"Content-Type": "application/json"}
ROWS = int(os.environ.get("SYNC_ROWS", "5000"))  # the issue asks for 5,000; SYNC_ROWS=500 for a quick local run


class Clock:
    """The service's clock, moved by the tests (back-off across runs without waiting)."""

    def __init__(self):
        self.now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def sim():
    s = NationalSimulator(seed=11).start()
    yield s
    s.stop()


@pytest.fixture
def sync(platform, sim, monkeypatch):
    """The wired service pointed at the simulator, with a test clock and no real sleeping."""
    from chalicelib import wiring

    monkeypatch.setenv("NATIONAL_API_URL", sim.url)
    monkeypatch.setenv("NATIONAL_API_KEY", sim.api_key)
    monkeypatch.setenv("NATIONAL_TIMEOUT_SECONDS", "0.3")
    wiring.reset()
    svc = wiring.get_national_sync_service()
    clock = Clock()
    svc.clock = clock
    svc.sleep = lambda s: None
    svc.rng = random.Random(5)
    svc.platform.timeout = 0.3
    return svc, clock


class Stream:
    """Feeds the main table's stream into the real handler, as Lambda (and the local runtime) would."""

    def __init__(self, platform):
        from app import app
        from infra.local.pumps import StreamPoller, table_stream_arn

        session = platform["session"]
        src = next(s for s in app.event_sources if s.name == "on_main_table_change")
        self.poller = StreamPoller(
            name=src.name,
            handler=app.handler_map[src.name],
            streams=session.client("dynamodbstreams"),
            stream_arn=table_stream_arn(session.client("dynamodb"), src.stream_arn),
            batch_size=src.batch_size,
            starting_position="TRIM_HORIZON",
            region="us-east-1",
            stop=__import__("threading").Event(),
        )

    def drain(self) -> int:
        total = 0
        while moved := self.poller.poll_once():
            total += moved
        return total


def _seed_demo_registry():
    from infra.local.demo import seed_registry

    return seed_registry()


def test_confirmed_demo_records_are_captured_mapped_and_pushed(platform, sync, sim, client, login):
    svc, _clock = sync
    _seed_demo_registry()
    stream = Stream(platform)
    assert stream.drain() > 0
    store = svc.store
    # Only CONFIRMED records were queued: the demo's confirmed builder is there, submitted ones are not.
    row = store.get_row("TBCorpBasicInfo", "91330782MA2F00063N")
    assert row is not None and row.status == SyncStatus.PENDING
    assert row.data["CorpCode"] == "MA2F0006-3" and row.data["ProvinceNum"] == "330000"
    assert row.data["CityNum"] == "330700" and row.data["CountyNum"] == "330782"
    result = svc.push()
    assert result["TBCorpBasicInfo"]["accepted"] >= 1
    assert sim.accepted("TBCorpBasicInfo", "91330782MA2F00063N")["CorpName"] == row.data["CorpName"]
    assert sim.stats()["duplicates"] == 0
    # Replaying the whole stream changes nothing and a second push sends nothing.
    stream.poller.iterators.clear()
    stream.drain()
    before = sim.stats()["records_received"]
    assert svc.push() == {}
    assert sim.stats()["records_received"] == before

    # The province sees the reconciliation; a county official does not.
    report = json.loads(client.http.get("/sync/report", headers=login("province")).body)
    basic = next(d for d in report["datasets"] if d["dataset"] == "TBCorpBasicInfo")
    assert basic["accepted"] >= 1 and basic["pending"] == 0 and basic["high_water_mark"]
    assert client.http.get("/sync/report", headers=login("county_yiwu")).status_code == 403
    assert client.http.get("/sync/report").status_code == 401


def _rows(n: int, dataset: str = "TBProjectInfo", size: str = "地上18层") -> list[NationalRow]:
    return [
        NationalRow(
            dataset,
            f"33078226031{i:05d}",
            {
                "PrjNum": f"33078226031{i:05d}",
                "PrjName": f"示范项目{i}",
                "BuildCorpName": "义乌示范建设单位",
                "CountyNum": "330782",
                "PrjSize": national.clean(size),
            },
        )
        for i in range(n)
    ]


def _queue(svc, rows, clock) -> None:
    for r in rows:
        assert svc.store.mark_changed(
            r,
            source={"pk": f"PRJ#{r.key}", "sk": "REC"},
            region_code="330782",
            now=clock().isoformat(timespec="milliseconds"),
        )


def _queue_many(svc, rows, clock) -> None:
    """Many rows in state 已修改，未上报 at once (BatchWriteItem of the items mark_changed would write)."""
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item
    from chalicelib.adapters.dynamo_sync import _encode_row, _marker
    from chalicelib.domain.national import SyncRow

    now = clock().isoformat(timespec="milliseconds")
    puts = []
    for r in rows:
        row = SyncRow.changed(r, None, now=now, source={"pk": f"PRJ#{r.key}", "sk": "REC"}, region="330782")
        row.rev = 1
        puts.append({"PutRequest": {"Item": to_item(_encode_row(row, svc.store.shards))}})
    puts.append({"PutRequest": {"Item": to_item(_marker("TBProjectInfo"))}})
    ddb = aws.client("dynamodb")
    for i in range(0, len(puts), 25):
        ddb.batch_write_item(RequestItems={svc.store.table: puts[i : i + 25]})


def test_five_thousand_rows_with_thirty_percent_faults_are_accepted_exactly_once(platform, sync, sim):
    svc, clock = sync
    _queue_many(svc, _rows(ROWS), clock)
    sim.set_faults(
        failure_rate=0.3,
        kinds=["timeout", "reset_after_accept", "error_5xx", "throttle", "partial"],
        timeout_seconds=0.4,
        seed=3,
    )
    runs = 0
    while svc.store.has_queued("TBProjectInfo") and runs < 40:
        svc.push()
        clock.advance(hours=7)  # past the longest record back-off
        runs += 1
    stats = sim.stats()
    assert svc.store.queue_state("TBProjectInfo") == {"pending": 0, "dead": 0, "oldest_pending_change": None}
    assert stats["accepted_by_dataset"]["TBProjectInfo"] == ROWS
    assert stats["duplicates"] == 0, stats
    assert sum(stats["faults"].values()) > 0 and stats["faults"]["reset_after_accept"] > 0
    # Every row ended ACCEPTED, and its log shows the attempts.
    row = svc.store.get_row("TBProjectInfo", "3307822603100000")
    assert row.status == SyncStatus.ACCEPTED
    print(f"runs={runs} faults={stats['faults']} requests={stats['requests']}")


def test_a_change_made_during_a_push_is_sent_by_the_next_run(platform, sync, sim):
    svc, clock = sync
    [row] = _rows(1)
    _queue(svc, [row], clock)
    real_push = svc.platform.push

    def push_and_edit(dataset, batch_id, records):
        reply = real_push(dataset, batch_id, records)
        # Meanwhile the record is corrected and captured again (a new version while v1 is in flight).
        changed = NationalRow(row.dataset, row.key, {**row.data, "PrjName": "示范项目（更正）"})
        assert svc.store.mark_changed(
            changed,
            source={},
            region_code="330782",
            now=(clock() + timedelta(seconds=1)).isoformat(timespec="milliseconds"),
        )
        return reply

    svc.platform.push = push_and_edit
    svc.push()
    svc.platform.push = real_push
    after_first = svc.store.get_row(row.dataset, row.key)
    assert after_first.status == SyncStatus.PENDING and after_first.change_no == 2
    assert sim.accepted(row.dataset, row.key)["PrjName"] == "示范项目0"
    clock.advance(seconds=5)
    svc.push()
    assert svc.store.get_row(row.dataset, row.key).status == SyncStatus.ACCEPTED
    assert sim.accepted(row.dataset, row.key)["PrjName"] == "示范项目（更正）"
    assert sim.stats()["duplicates"] == 0


def test_a_rejected_record_is_dead_lettered_then_corrected_resent_and_accepted(platform, sync, sim, client, login):
    svc, clock = sync
    [bad] = _rows(1, size="无")  # 建设规模 empty at the ministry's standard
    _queue(svc, [bad], clock)
    svc.push()
    row = svc.store.get_row(bad.dataset, bad.key)
    assert row.status == SyncStatus.DEAD and "PrjSize" in row.last_error["message"]
    province = login("province")
    page = json.loads(client.http.get("/sync/dead-letters?dataset=TBProjectInfo", headers=province).body)
    [dead] = page["items"]
    assert dead["key"] == bad.key and "建设规模" in dead["last_error"]["message"]
    detail = json.loads(client.http.get(f"/sync/rows/TBProjectInfo/{bad.key}", headers=province).body)
    assert detail["log"][0]["status"] == "REJECTED" and "建设规模" in detail["log"][0]["message"]
    batch = json.loads(client.http.get(f"/sync/batches/{detail['log'][0]['batch_id']}", headers=province).body)
    [sent] = [r for r in batch["items"] if r["kind"] == "push"]
    assert sent["records"][0]["data"]["PrjSize"] is None and sent["response"]["results"][0]["status"] == "REJECTED"
    # Re-sending the same data is refused by the ministry again (with the same message) ...
    r = client.http.post(
        f"/sync/rows/TBProjectInfo/{bad.key}/resend",
        headers={**JSON, **province},
        body=json.dumps({"reason": "重新上报"}),
    )
    assert r.status_code == 200, r.body
    svc.push()
    assert svc.store.get_row(bad.dataset, bad.key).status == SyncStatus.DEAD
    # ... the correction (a new version of the record) is queued by change capture and accepted.
    fixed = NationalRow(bad.dataset, bad.key, {**bad.data, "PrjSize": "地上18层，地下2层"})
    _queue(svc, [fixed], clock)
    clock.advance(seconds=1)
    svc.push()
    assert svc.store.get_row(bad.dataset, bad.key).status == SyncStatus.ACCEPTED
    assert sim.accepted(bad.dataset, bad.key)["PrjSize"] == "地上18层，地下2层"
    page = json.loads(client.http.get("/sync/dead-letters?dataset=TBProjectInfo", headers=province).body)
    assert page["items"] == []
    # The re-send is audited; only province roles may re-send; another dataset name is refused.
    trail = json.loads(client.http.get(f"/audit/targets/SYNC/TBProjectInfo:{bad.key}", headers=province).body)
    assert any(e["action"] == "SYNC_RESENT" for e in trail["items"])
    r = client.http.post(
        f"/sync/rows/TBProjectInfo/{bad.key}/resend",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"reason": "重新上报"}),
    )
    assert r.status_code == 403
    assert client.http.get("/sync/dead-letters?dataset=Nope", headers=province).status_code == 400


def test_the_push_job_reads_only_changed_rows(platform, sync, sim):
    """20,000 rows already accepted and 10 changed: the job's DynamoDB requests do not depend on the 20,000."""
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item

    svc, clock = sync
    ddb = aws.client("dynamodb")
    table = svc.store.table
    items = []
    for i in range(20_000):
        key = f"91330000{i:010d}"
        items.append(
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "pk": f"SYNC#TBCorpBasicInfo#{key}",
                            "sk": "ROW",
                            "entity": "sync_row",
                            "dataset": "TBCorpBasicInfo",
                            "row_key": key,
                            "op": "UPSERT",
                            "data": {"CorpName": f"企业{i}"},
                            "digest": f"d{i}",
                            "change_no": 1,
                            "changed_at": "2026-11-01T00:00:00.000+00:00",
                            "sync_status": "ACCEPTED",
                            "pushed_change_no": 1,
                            "accepted_at": "2026-11-01T00:10:00.000+00:00",
                            "attempts": 0,
                        }
                    )
                }
            }
        )
    for i in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={table: items[i : i + 25]})
    _queue(svc, _rows(10), clock)

    calls: list[str] = []

    def count(**kwargs):
        calls.append(kwargs["event_name"].rsplit(".", 1)[-1])

    ddb.meta.events.register("before-call.dynamodb", count)
    try:
        result = svc.push()
    finally:
        ddb.meta.events.unregister("before-call.dynamodb", count)
    assert result == {"TBProjectInfo": {"sent": 10, "accepted": 10}}
    assert "Scan" not in calls
    by_op = {op: calls.count(op) for op in sorted(set(calls))}
    print(f"DynamoDB requests for 20,000 unchanged + 10 changed rows: {len(calls)} {by_op}")
    # The queued-marker Query, one due Query, 10 outcome Puts, one request-log batch, the age-index Query, the stats
    # and the lease: the same whatever the number of unchanged rows.
    assert by_op["Query"] == 3 and by_op["BatchWriteItem"] == 1 and by_op["PutItem"] == 10 + 1
    assert len(calls) <= 20
    assert sim.stats()["push_requests"] == 1


def test_pull_stores_out_of_province_records_and_lists_conflicts(platform, sync, sim, client, login):
    svc, _clock = sync
    _seed_demo_registry()
    sim.load_demo()
    sim.load_national(
        "TBCorpBasicInfo",
        [
            {
                "key": "91330782MA2F00063N",
                "data": {
                    "CorpCode": "91330782MA2F00063N",
                    "CorpName": "义乌某建工（国家库旧名）",
                    "ProvinceNum": "330000",
                    "CountyNum": "330782",
                    "LegalMan": "张伟",
                },
            }
        ],
    )
    from infra.local.demo import _id_card

    sim.load_national(
        "TBRegPersonRegInfo",
        [
            {
                "key": "he-zhiyuan",
                "data": {
                    "PersonName": "何志源",
                    "IDCardTypeNum": "1",
                    "IDCard18": _id_card("33078219780815001"),
                    "SpecialtyTypNum": "JZS1",
                    "CorpName": "义乌市建工集团有限公司",
                    "CorpCode": "91330782MA2F00063N",
                },
            }
        ],
    )
    first = svc.pull()
    assert first["TBRegPersonRegInfo"]["conflict"] == 1  # 何志源 nationally, 何志远 in the provincial registry
    assert first["TBCorpBasicInfo"]["conflict"] == 1 and first["TBCorpBasicInfo"]["stored"] >= 3
    assert first["TBCorpBadBehaviorInfo"]["stored"] >= 1
    province = login("province")
    conflicts = json.loads(client.http.get("/sync/conflicts", headers=province).body)["items"]
    [c] = [c for c in conflicts if c["key"] == "91330782MA2F00063N"]
    assert c["fields"][0]["field"] == "CorpName" and c["fields"][0]["national"] == "义乌某建工（国家库旧名）"
    # The provincial record was not overwritten.
    ent = json.loads(client.http.get("/registry/enterprises/91330782MA2F00063N", headers=province).body)
    assert ent["record"]["name"] != "义乌某建工（国家库旧名）"
    # Persons: no ID number in keys or in clear.
    persons = json.loads(client.http.get("/sync/national/TBRegPersonRegInfo", headers=province).body)["items"]
    assert persons and all("*" in p["data"]["IDCard18"] for p in persons)
    from infra.local.national_sim import demo_national_records

    ids = [r["data"]["IDCard18"] for r in demo_national_records()["TBRegPersonRegInfo"]]
    assert ids and not any(i in json.dumps(persons) for i in ids)
    # The cursor is durable: a second run reads nothing new; a national change is pulled once.
    again = svc.pull()
    assert all(not v.get("stored") for k, v in again.items() if isinstance(v, dict))
    sim.load_national(
        "TBCorpBasicInfo",
        [
            {
                "key": "91320000MA1X000090",
                "data": {
                    "CorpCode": "91320000MA1X000090",
                    "CorpName": "江苏某建设集团",
                    "ProvinceNum": "320000",
                    "CountyNum": "320102",
                    "LegalMan": "李明",
                },
            }
        ],
    )
    third = svc.pull()
    assert third["TBCorpBasicInfo"] == {"stored": 1}
    assert client.http.get("/sync/conflicts", headers=login("ent_jiangong")).status_code == 403
