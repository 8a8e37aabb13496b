"""Counter rules (no I/O): buckets and events of an item, the delta between two versions, folding by region."""

from __future__ import annotations

from chalicelib.domain import statistics
from chalicelib.domain.statistics import Bucket


def ent(state: str, county: str = "330782", **review) -> dict:
    return {"state": state, "region_code": county, "review": review, "sla": {"official_seconds": {"county": 86400}}}


def test_state_change_moves_one_count_and_a_decision_counts_once():
    before = statistics.classify("enterprise", ent("SUBMITTED"))
    assert [b.sk for b in before.buckets] == ["330782#REG#ENT#SUBMITTED"] and before.buckets[0].pk == "STAT#330700"
    d1 = statistics.delta([], [], before)
    assert d1.adds == {Bucket("STAT#330700", "330782#REG#ENT#SUBMITTED"): {"n": 1}}
    after = statistics.classify(
        "enterprise", ent("CONFIRMED", last_decision_id="D1", decided_at="2026-11-20T02:00:00+00:00")
    )
    d2 = statistics.delta(d1.marker_buckets, d1.marker_events, after)
    assert d2.adds[Bucket("STAT#330700", "330782#REG#ENT#SUBMITTED")] == {"n": -1}
    assert d2.adds[Bucket("STAT#330700", "330782#REG#ENT#CONFIRMED")] == {"n": 1}
    assert d2.adds[Bucket("STAT#330700", "330782#RDEC#2026-11")] == {"decisions": 1, "within_limit": 1}
    # The same item written again (an unrelated field changed): nothing to count.
    d3 = statistics.delta(d2.marker_buckets, d2.marker_events, after)
    assert d3.adds == {}
    # Deleted: its state count goes away.
    d4 = statistics.delta(d2.marker_buckets, d2.marker_events, statistics.classify(None, None))
    assert d4.adds == {Bucket("STAT#330700", "330782#REG#ENT#CONFIRMED"): {"n": -1}}


def test_a_slow_decision_is_outside_the_limit():
    slow = ent("FALSE", last_decision_id="D9", decided_at="2026-11-20T02:00:00+00:00")
    slow["sla"] = {"official_seconds": {"county": 86400 * 8, "city": 86400 * 3}}
    [(_bucket, fields)] = statistics.classify("enterprise", slow).events.items()
    assert fields == {"decisions": 1, "within_limit": 0}


def test_permit_decision_in_working_days_against_the_deadline():
    app = {
        "application_id": "A1",
        "state": "ISSUED",
        "region_code": "330782",
        "applied_on": "2026-03-02",
        "clock_started_on": "2026-03-02",
        "issued_on": "2026-03-09",
        "decision_deadline": "2026-03-11",
    }
    c = statistics.classify("permit_application", app, lambda a, b: 5)
    dec = next(f for b, f in c.events.items() if "#PDEC#" in b.sk)
    assert dec == {"decisions": 1, "approved": 1, "within_limit": 1, "working_days": 5}


def test_fold_by_level_drops_zero_counters():
    items = [
        {"sk": "330782#REG#ENT#CONFIRMED", "n": 3},
        {"sk": "330782#REG#ENT#SUBMITTED", "n": 0},
        {"sk": "330702#REG#ENT#CONFIRMED", "n": 2},
        {"sk": "330782#CREDIT#BAD", "n": 1},
    ]
    city = statistics.fold(items, "330700")
    assert city["registry"] == {"ENT": {"CONFIRMED": 5}} and city["credit"] == {"BAD": 1}
    assert city["children"]["330782"] == {"ENT": {"CONFIRMED": 3}}
    county = statistics.fold(items, "330702")
    assert county["registry"] == {"ENT": {"CONFIRMED": 2}} and county["credit"] == {}
