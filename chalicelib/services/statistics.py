"""Statistics from counters maintained on write, and the regional assessment (考核) built on them.

The dashboard never reads a registry: it reads the counter partitions of the cities in the official's scope (one
Query per city), the oldest item of the review queues (Limit 1 per city), the campaigns, the latest score
distribution and, for the province, the national sync counters — a bounded number of requests whatever the size
of the registries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import statistics
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.identity import OFFICIAL_ROLES, PROVINCE_CODE, Principal, in_region_scope, require_role
from chalicelib.domain.workdays import WorkCalendar, file_calendar

STATE_LABELS = {
    "IMPORTED": "导入待补充",
    "SUPPLEMENTED": "已补充未提交",
    "SUBMITTED": "待确认",
    "SUPPLEMENT_REQUESTED": "补正中",
    "CONFIRMED": "已确认",
    "FALSE": "虚假",
    "IN_DOUBT": "存疑",
}
REPORTED = {"SUBMITTED", "SUPPLEMENT_REQUESTED", "CONFIRMED", "FALSE", "IN_DOUBT"}


class StatsStore(Protocol):
    def apply(self, source_pk: str, source_sk: str, seq: str, now: statistics.Classified) -> bool: ...

    def counters(self, partition: str, prefix: str | None = None) -> list[dict[str, Any]]: ...

    def latest_score_distribution(self) -> dict[str, Any] | None: ...

    def oldest_waiting(self, region: str, state: str) -> str | None: ...

    def put_assessment(self, month: str, region: str, card: dict[str, Any]) -> None: ...

    def late_count(self, campaign_id: str, city: str) -> int: ...

    def assessments(self, month: str) -> list[dict[str, Any]]: ...


class StatisticsService:
    def __init__(
        self,
        store: StatsStore,
        campaigns: Any,
        cities: Callable[[], list[str]],
        *,
        blobs: Any = None,
        clock: Callable[[], datetime] | None = None,
        calendar: Callable[[], WorkCalendar] = file_calendar,
    ):
        self.calendar = calendar
        self.store = store
        self.campaigns = campaigns
        self.cities = cities
        self.blobs = blobs
        self.clock = clock or utcnow

    # ---- on write -------------------------------------------------------------------------------------------------

    def apply(self, source_pk: str, source_sk: str, seq: str, entity: str | None, data: dict | None) -> bool:
        classified = statistics.classify(entity, data, self.calendar().count_between)
        return self.store.apply(source_pk, source_sk, seq.zfill(40), classified)

    # ---- reads ----------------------------------------------------------------------------------------------------

    def _scope(self, actor: Principal, region: str | None) -> str:
        require_role(actor, *OFFICIAL_ROLES)
        region = region or actor.region_code or PROVINCE_CODE
        if len(region) != 6 or not region.isdigit():
            raise InvalidInput("行政区划代码应为6位数字", details=[{"field": "region"}])
        if not in_region_scope(actor, region):
            raise NotFound("不在本单位管辖范围内")
        return region

    def _partitions(self, region: str) -> list[str]:
        if region == PROVINCE_CODE:
            return [*self.cities(), statistics.UNKNOWN_REGION]
        return [statistics.city_of(region)]

    def overview(self, actor: Principal, region: str | None = None) -> dict[str, Any]:
        region = self._scope(actor, region)
        items: list[dict[str, Any]] = []
        for city in self._partitions(region):
            prefix = region if not region.endswith("00") else None
            items.extend(self.store.counters(f"STAT#{city}", prefix))
        figures = statistics.fold(items, region)
        figures["region"] = region
        figures["generated_at"] = self.clock().isoformat(timespec="seconds")
        figures["doubt_pool"] = self._doubt_pool(region, figures)
        figures["campaigns"] = self._campaign_progress(region, figures)
        figures["permits"]["summary"] = _permit_summary(figures["permits"]["by_month"])
        figures["reviews"]["summary"] = _review_summary(figures["reviews"]["by_month"])
        figures["scores"] = self._scores(region)
        if region == PROVINCE_CODE:
            figures["national_sync"] = self._sync_backlog()
        return figures

    def _doubt_pool(self, region: str, figures: dict[str, Any]) -> dict[str, Any]:
        size = sum(states.get("IN_DOUBT", 0) for states in figures["registry"].values())
        regions = [region] if region != PROVINCE_CODE else self.cities()
        oldest = [o for o in (self.store.oldest_waiting(r, "IN_DOUBT") for r in regions) if o]
        since = min(oldest) if oldest else None
        age = None
        if since:
            age = (self.clock() - datetime.fromisoformat(since.replace("Z", "+00:00"))).days
        return {"size": size, "oldest_since": since, "oldest_age_days": age}

    def _campaign_progress(self, region: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
        today = self.clock().date()
        out = []
        for c in self.campaigns.list_campaigns():
            if not (region.startswith(c.region_prefix) or c.region_prefix.startswith(region.rstrip("0")[:2])):
                continue
            t = {"enterprise": "ENT", "person": "PER", "project": "PRJ"}[c.record_type.value]
            states = figures["registry"].get(t, {})
            total = sum(states.values())
            reported = sum(n for s, n in states.items() if s in REPORTED)
            confirmed = states.get("CONFIRMED", 0)
            out.append(
                {
                    "campaign_id": c.campaign_id,
                    "name": c.name,
                    "deadline": c.deadline.isoformat(),
                    "days_left": (c.deadline - today).days,
                    "total": total,
                    "reported": reported,
                    "confirmed": confirmed,
                    "reported_share": round(reported / total, 4) if total else None,
                    "confirmed_share": round(confirmed / total, 4) if total else None,
                }
            )
        return out

    def _scores(self, region: str) -> dict[str, Any] | None:
        dist = self.store.latest_score_distribution()
        if not dist:
            return None
        by_city = dist.get("by_city") or {}
        cities = self._partitions(region) if region.endswith("00") else [statistics.city_of(region)]
        buckets: dict[str, int] = {}
        for city in cities:
            for b, n in (by_city.get(city) or {}).items():
                buckets[b] = buckets.get(b, 0) + int(n)
        return {"day": dist["sk"], "buckets": buckets, "county_level": not region.endswith("00")}

    def _sync_backlog(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for item in self.store.counters("STAT#SYNC"):
            dataset, status = item["sk"].split("#", 1)
            out.setdefault(dataset, {})[status] = int(item.get("n", 0))
        return out

    # ---- regional assessment (考核) --------------------------------------------------------------------------------

    def scorecards(self, actor: Principal, month: str | None = None) -> dict[str, Any]:
        """Per city (and its counties) for the province; a city sees its counties. A past month comes from the
        monthly snapshot; the current month is computed live."""
        require_role(actor, *OFFICIAL_ROLES)
        if actor.region_code != PROVINCE_CODE and not (actor.region_code or "").endswith("00"):
            raise NotFound("考核结果由省、市主管部门查看")
        month = month or self.clock().strftime("%Y-%m")
        snap = self.store.assessments(month)
        if snap:
            cards = [c for c in snap if in_region_scope(actor, c["sk"])]
            return {"month": month, "snapshot": True, "cards": sorted(cards, key=lambda c: c["sk"])}
        if month != self.clock().strftime("%Y-%m"):
            raise NotFound(f"{month} 没有考核快照")
        return {"month": month, "snapshot": False, "cards": self._live_cards(actor.region_code or PROVINCE_CODE, month)}

    def _live_cards(self, scope: str, month: str) -> list[dict[str, Any]]:
        cities = self.cities() if scope == PROVINCE_CODE else [scope]
        current = [c for c in self.campaigns.list_campaigns() if c.starts_on <= self.clock().date()]
        cfg = statistics.config()["assessment"]
        cards = []
        for city in cities:
            items = self.store.counters(f"STAT#{city}")
            regions = [city, *sorted({i["sk"].split("#", 1)[0] for i in items if i["sk"][:6] != city})]
            for region in regions:
                f = statistics.fold(items, region)
                late = sum(self.store.late_count(c.campaign_id, city) for c in current) if region == city else None
                cards.append(_card(region, f, late, cfg))
        return cards

    def snapshot_month(self, month: str | None = None) -> int:
        """Daily job: the month's snapshot of every city's and county's scorecard; the last run of a month stays."""
        month = month or self.clock().strftime("%Y-%m")
        cards = self._live_cards(PROVINCE_CODE, month)
        for card in cards:
            self.store.put_assessment(
                month, card["sk"], {**card, "taken_at": self.clock().isoformat(timespec="seconds")}
            )
        return len(cards)

    def export(self, actor: Principal, month: str | None = None) -> dict[str, str]:
        """The scorecards as an XLSX workbook (formula-safe cells), behind a short-lived download link."""
        from chalicelib.domain.intake_files import write_xlsx

        result = self.scorecards(actor, month)
        headers = [
            "地区代码",
            "层级",
            "记录数",
            "已确认",
            "确认进度",
            "计划",
            "逾期未报",
            "审核决定数",
            "审核按时率",
            "施工许可决定数",
            "许可按时率",
            "得分",
        ]
        columns = [
            "region",
            "level",
            "records",
            "confirmed",
            "progress",
            "plan",
            "late_items",
            "review_decisions",
            "review_within_limit_share",
            "permit_decisions",
            "permit_within_limit_share",
            "score",
        ]
        level = {"city": "设区市", "county": "县（市、区）"}
        rows = [[level.get(c.get(k), c.get(k)) if k == "level" else c.get(k) for k in columns] for c in result["cards"]]
        data = write_xlsx({f"考核{result['month']}": (headers, rows)})
        key = f"exports/assessment/{actor.org_key}/{result['month']}-{self.clock().strftime('%H%M%S')}.xlsx"
        self.blobs.put(key, data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        filename = f"考核-{result['month']}.xlsx"
        return {"url": self.blobs.presign_get(key, filename, 600), "filename": filename, "month": result["month"]}


def _permit_summary(by_month: dict[str, dict[str, int]]) -> dict[str, Any]:
    total = {k: sum(m.get(k, 0) for m in by_month.values()) for k in ("applications", "decisions", "approved")}
    within = sum(m.get("within_limit", 0) for m in by_month.values())
    days = sum(m.get("working_days", 0) for m in by_month.values())
    decisions = total["decisions"]
    return {
        **total,
        "within_limit": within,
        "within_limit_share": round(within / decisions, 4) if decisions else None,
        "avg_working_days": round(days / decisions, 2) if decisions else None,
    }


def _review_summary(by_month: dict[str, dict[str, int]]) -> dict[str, Any]:
    decisions = sum(m.get("decisions", 0) for m in by_month.values())
    within = sum(m.get("within_limit", 0) for m in by_month.values())
    return {
        "decisions": decisions,
        "within_limit": within,
        "within_limit_share": round(within / decisions, 4) if decisions else None,
    }


def _card(region: str, f: dict[str, Any], late: int | None, cfg: dict[str, Any]) -> dict[str, Any]:
    """One scorecard: progress against the plan, late items, review and permit decisions in time (0-100)."""
    reg = f["registry"]
    total = sum(sum(states.values()) for states in reg.values())
    confirmed = sum(states.get("CONFIRMED", 0) for states in reg.values())
    progress = confirmed / total if total else 0.0
    plan = float(cfg["plan_confirmed_share"])
    w = cfg["weights"]
    reviews = _review_summary(f["reviews"]["by_month"])
    permits = _permit_summary(f["permits"]["by_month"])
    review_sla = reviews["within_limit_share"] if reviews["within_limit_share"] is not None else 1.0
    permit_sla = permits["within_limit_share"] if permits["within_limit_share"] is not None else 1.0
    late_score = max(0.0, 1 - (late or 0) * float(cfg["late_penalty_per_item"]) / 100)
    score = (
        w["progress"] * min(1.0, progress / plan if plan else 1.0)
        + w["late"] * late_score
        + w["review_sla"] * review_sla
        + w["permit_sla"] * permit_sla
    )
    return {
        "sk": region,
        "region": region,
        "level": "city" if region.endswith("00") else "county",
        "records": total,
        "confirmed": confirmed,
        "progress": round(progress, 4),
        "plan": plan,
        "late_items": late,
        "review_decisions": reviews["decisions"],
        "review_within_limit_share": reviews["within_limit_share"],
        "permit_decisions": permits["decisions"],
        "permit_within_limit_share": permits["within_limit_share"],
        "score": round(score, 1),
    }
