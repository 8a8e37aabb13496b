"""Statistics kept on write (pure rules).

Every change of a registry record, permit application, credit record or national sync row is classified into
*state buckets* (the counters it belongs to while it is in that state) and *events* (counted once, when they
happen: a review decision, a permit decision). The change stream applies the difference between an item's old and
new buckets, plus its new events, to counters — so a dashboard reads a few counter partitions instead of the
registries, and a recount over the data gives the same figures (tests do exactly that).

Counter keys: partition `STAT#{city}` (the 11 设区市 spread the writes), sort key
`{county}#{kind}#...`; national sync rows count under `STAT#SYNC`. A counter item holds `n` (state buckets) or
event fields (`decisions`, `within_limit`, `working_days` ...).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from chalicelib.domain import identifiers

UNKNOWN_REGION = "000000"


@cache
def config() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("statistics.json").read_text("utf-8"))


def score_band(score: float) -> str:
    """The dashboard's score bands (statistics.json `score_buckets`): "60-69" ..."""
    edges = config()["score_buckets"]
    for lo, hi in itertools.pairwise(edges):
        if lo <= score < hi:
            return f"{lo}-{hi - 1}"
    return f"<{edges[0]}" if score < edges[0] else f">={edges[-1]}"


def city_of(county: str | None) -> str:
    if not county:
        return UNKNOWN_REGION
    return identifiers.city_of(county) or (county[:4] + "00" if len(county) == 6 else UNKNOWN_REGION)


@dataclass(frozen=True)
class Bucket:
    """One counter: partition and sort key. State buckets hold `n`."""

    pk: str
    sk: str

    @property
    def id(self) -> str:
        return f"{self.pk}|{self.sk}"

    @classmethod
    def parse(cls, value: str) -> Bucket:
        pk, sk = value.split("|", 1)
        return cls(pk, sk)


@dataclass
class Classified:
    buckets: list[Bucket] = field(default_factory=list)
    # events: bucket -> field -> amount; `event_ids` says which happened (so a replayed item does not count twice)
    events: dict[Bucket, dict[str, int]] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)


def _county(data: dict[str, Any]) -> str:
    return str(data.get("region_code") or UNKNOWN_REGION)


def _month(value: str | None) -> str:
    return (value or "")[:7] or "0000-00"


TYPE_CODE = {"enterprise": "ENT", "person": "PER", "project": "PRJ"}
QUEUE_STATES = {"SUBMITTED", "IN_DOUBT"}
DECIDED_STATES = {"CONFIRMED", "FALSE"}


def classify(entity: str | None, data: dict[str, Any] | None, working_days: Any = None) -> Classified:
    """The buckets and events of one stored item (None data: the item no longer exists).

    `working_days(start: date, end: date) -> int` counts working days (the permit decision's time limit is in
    working days); injected so that this module stays free of the calendar library's data."""
    out = Classified()
    if not data or not entity:
        return out
    county = _county(data)
    pk = f"STAT#{city_of(county)}"
    if entity in TYPE_CODE:
        state = str(data.get("state"))
        out.buckets.append(Bucket(pk, f"{county}#REG#{TYPE_CODE[entity]}#{state}"))
        review = data.get("review") or {}
        decided_at, decision_id = review.get("decided_at"), review.get("last_decision_id")
        if state in DECIDED_STATES and decided_at and decision_id:
            # One review decision (确认/虚假), counted once; in time if the officials' own time (the SLA clock,
            # not the time the enterprise took to supplement) stayed within the limit.
            official_days = sum(((data.get("sla") or {}).get("official_seconds") or {}).values()) / 86400
            limit = float(config()["review_limit_days"])
            b = Bucket(pk, f"{county}#RDEC#{_month(decided_at)}")
            out.events[b] = {"decisions": 1, "within_limit": int(official_days <= limit)}
            out.event_ids.append(f"RDEC#{decision_id}")
    elif entity == "permit_application":
        state = str(data.get("state"))
        out.buckets.append(Bucket(pk, f"{county}#PERMIT#{state}"))
        decided_on = data.get("issued_on") if state != "REJECTED" else (data.get("updated_at") or "")[:10]
        if state in ("ISSUED", "REJECTED", "COMPLETED", "SUSPENDED", "LAPSED") and decided_on:
            start = data.get("clock_started_on") or data.get("applied_on")
            days = (
                working_days(date.fromisoformat(start[:10]), date.fromisoformat(decided_on[:10]))
                if (working_days and start)
                else None
            )
            deadline = data.get("decision_deadline")
            within = int(bool(deadline) and decided_on[:10] <= deadline[:10])
            b = Bucket(pk, f"{county}#PDEC#{_month(decided_on)}")
            out.events[b] = {
                "decisions": 1,
                "approved": int(state != "REJECTED"),
                "within_limit": within,
                "working_days": int(days or 0),
            }
            out.event_ids.append(f"PDEC#{data.get('application_id')}")
        if data.get("applied_on"):
            b = Bucket(pk, f"{county}#PAPP#{_month(data.get('applied_on'))}")
            out.events[b] = {"applications": 1}
            out.event_ids.append(f"PAPP#{data.get('application_id')}")
    elif entity == "credit":
        if data.get("published", True):
            out.buckets.append(Bucket(pk, f"{county}#CREDIT#{data.get('kind')}"))
    elif entity == "sync_row":
        out.buckets.append(Bucket("STAT#SYNC", f"{data.get('dataset')}#{data.get('sync_status')}"))
    return out


@dataclass(frozen=True)
class Delta:
    """What one change does to the counters, and the marker to store for the item."""

    adds: dict[Bucket, dict[str, int]]
    marker_buckets: list[str]
    marker_events: list[str]


def delta(old_buckets: list[str], old_events: list[str], now: Classified) -> Delta:
    adds: dict[Bucket, dict[str, int]] = {}
    new_ids = [b.id for b in now.buckets]
    for bid in old_buckets:
        if bid not in new_ids:
            adds.setdefault(Bucket.parse(bid), {})["n"] = adds.get(Bucket.parse(bid), {}).get("n", 0) - 1
    for b in now.buckets:
        if b.id not in old_buckets:
            adds.setdefault(b, {})["n"] = adds.get(b, {}).get("n", 0) + 1
    seen = set(old_events)
    for (b, fields), eid in zip(now.events.items(), now.event_ids, strict=True):
        if eid in seen:
            continue
        target = adds.setdefault(b, {})
        for k, v in fields.items():
            target[k] = target.get(k, 0) + v
    events = list(dict.fromkeys([*old_events, *now.event_ids]))
    return Delta(adds={b: f for b, f in adds.items() if any(f.values())}, marker_buckets=new_ids, marker_events=events)


# ---- reading the counters -----------------------------------------------------------------------------------------


def fold(items: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    """Counter items of one or more city partitions → the figures of a region (a county, a city or the province),
    with a breakdown by the next level down."""
    level = "province" if scope.endswith("0000") else ("city" if scope.endswith("00") else "county")
    out: dict[str, Any] = {
        "registry": {},
        "permits": {"by_state": {}, "by_month": {}},
        "reviews": {"by_month": {}},
        "credit": {},
        "children": {},
    }
    for item in items:
        sk = item["sk"]
        county, kind, rest = sk.split("#", 2)
        if level == "county" and county != scope:
            continue
        if level == "city" and city_of(county) != scope:
            continue
        child = county if level == "city" else city_of(county)
        if kind == "REG":
            t, state = rest.split("#", 1)
            n = int(item.get("n", 0))
            _add(out["registry"].setdefault(t, {}), state, n)
            if level != "county":
                _add(out["children"].setdefault(child, {}).setdefault(t, {}), state, n)
        elif kind == "PERMIT":
            _add(out["permits"]["by_state"], rest, int(item.get("n", 0)))
        elif kind == "PDEC":
            m = out["permits"]["by_month"].setdefault(rest, {})
            for f in ("decisions", "approved", "within_limit", "working_days"):
                _add(m, f, int(item.get(f, 0)))
        elif kind == "PAPP":
            _add(out["permits"]["by_month"].setdefault(rest, {}), "applications", int(item.get("applications", 0)))
        elif kind == "RDEC":
            m = out["reviews"]["by_month"].setdefault(rest, {})
            for f in ("decisions", "within_limit"):
                _add(m, f, int(item.get(f, 0)))
            if level != "county":
                c = out["children"].setdefault(child, {}).setdefault("_reviews", {})
                for f in ("decisions", "within_limit"):
                    _add(c, f, int(item.get(f, 0)))
        elif kind == "CREDIT":
            _add(out["credit"], rest, int(item.get("n", 0)))
    return out


def _add(target: dict[str, int], key: str, n: int) -> None:
    """Add n; a counter that went back to zero (every item left that state) is not listed."""
    value = target.get(key, 0) + n
    if value:
        target[key] = value
    else:
        target.pop(key, None)


# ---- recount (consistency check) ------------------------------------------------------------------------------------


def expected_state_counts(items: Any) -> dict[str, int]:
    """What every state counter must hold, recounted from the records themselves: `items` yields (entity, data)."""
    counts: dict[str, int] = {}
    for entity, data in items:
        for b in classify(entity, data).buckets:
            counts[b.id] = counts.get(b.id, 0) + 1
    return counts


def count_differences(expected: dict[str, int], stored: dict[str, int]) -> list[dict[str, Any]]:
    """Counters that disagree with the recount: each with the bucket, what is stored and what the records say."""
    out = []
    for bid in sorted(set(expected) | set(stored)):
        want, have = expected.get(bid, 0), stored.get(bid, 0)
        if want != have:
            pk, sk = bid.split("|", 1)
            out.append({"counter": sk, "partition": pk, "stored": have, "recount": want})
    return out
