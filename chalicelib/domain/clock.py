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


def cn_date(d: date) -> str:
    """A date as people write it: 2026年12月4日."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(moment: datetime | str, *, seconds: bool = False) -> str:
    """Beijing time as people write it: 2026年12月4日 10:05 (10:05:09 with seconds)."""
    t = in_beijing(moment)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M:%S}" if seconds else f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"


def add_months(d: date, months: int) -> date:
    """Calendar months, as rules say 月 and 年 (一个月内, 满一年, 三个月): the same day of the month, or the month's
    last day when it has no such day (2026-01-31 + 1 month = 2026-02-28). Never 30 or 365 days."""
    from dateutil.relativedelta import relativedelta

    return d + relativedelta(months=months)


def add_years(d: date, years: int) -> date:
    return add_months(d, 12 * years)
