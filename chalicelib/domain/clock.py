"""Time as the rules see it. Statutory dates (deadlines, publication periods, "today" in every rule) are dates in
Beijing (Asia/Shanghai); stored instants are UTC. This is the only place that knows either."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def beijing_today(now: datetime | None = None) -> date:
    """The calendar day in Beijing at `now` (default: this instant). 2026-12-31T17:00Z is 2027-01-01 here."""
    return (now or utcnow()).astimezone(BEIJING).date()


def in_beijing(moment: datetime | str) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING)
