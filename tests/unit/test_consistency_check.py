"""The consistency check recounts the state counters from the records (pure recount + a fake scan, no I/O)."""

from __future__ import annotations

from chalicelib.domain import statistics
from chalicelib.services.consistency import ConsistencyCheck


def records():
    return [
        ("enterprise", {"region_code": "330782", "state": "CONFIRMED"}),
        ("enterprise", {"region_code": "330782", "state": "CONFIRMED"}),
        ("enterprise", {"region_code": "330782", "state": "SUBMITTED"}),
        ("person", {"region_code": "330106", "state": "IN_DOUBT"}),
    ]


class Scan:
    def __init__(self, items, counters, wanted=frozenset(), found=frozenset()):
        self.items, self.counters = items, counters
        self.wanted, self.found = set(wanted), set(found)

    def search_entries_expected(self):
        return set(self.wanted)

    def search_entries_stored(self):
        return set(self.found)

    def stat_sources(self):
        return iter(self.items)

    def state_counters(self):
        return dict(self.counters)


def test_counters_equal_to_the_recount_report_no_difference():
    expected = statistics.expected_state_counts(records())
    assert sum(expected.values()) >= len(records()) and expected  # every record lands in at least one bucket
    report = ConsistencyCheck(Scan(records(), expected)).run()
    assert report["ok"] and report["differences"] == [] and report["records_counted"] == sum(expected.values())


def test_a_counter_that_drifted_and_one_that_is_missing_are_both_reported():
    expected = statistics.expected_state_counts(records())
    drifted = dict(expected)
    first, second = sorted(expected)[:2]
    drifted[first] += 1  # counted twice (a replayed stream record would do this)
    del drifted[second]  # never counted (a lost stream record)
    drifted["STAT#3301|330106#REG#enterprise#CONFIRMED"] = 4  # counts records that do not exist
    report = ConsistencyCheck(Scan(records(), drifted)).run()
    assert not report["ok"]
    by = {(d["partition"], d["counter"]): (d["stored"], d["recount"]) for d in report["differences"]}
    pk, sk = first.split("|", 1)
    assert by[(pk, sk)] == (expected[first] + 1, expected[first])
    pk, sk = second.split("|", 1)
    assert by[(pk, sk)] == (0, expected[second])
    assert by[("STAT#3301", "330106#REG#enterprise#CONFIRMED")] == (4, 0)
    assert len(by) == 3


def test_search_entries_missing_for_a_confirmed_record_or_left_behind_are_reported():
    expected = statistics.expected_state_counts(records())
    wanted = {("NG#ENT#建工", "913307"), ("NG#ENT#工集", "913307")}
    ok = ConsistencyCheck(Scan(records(), expected, wanted, wanted)).run()
    assert ok["ok"] and ok["search_differences"] == [] and ok["search_entries_checked"] == 2
    planted = ConsistencyCheck(
        Scan(records(), expected, wanted, {("NG#ENT#建工", "913307"), ("NG#ENT#旧名", "9")})
    ).run()
    assert not planted["ok"]
    assert {(d["entry"], d["problem"]) for d in planted["search_differences"]} == {
        ("NG#ENT#工集|913307", "missing"),
        ("NG#ENT#旧名|9", "stale"),
    }
