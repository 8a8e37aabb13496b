"""Working days (工作日) for statutory time limits, from the State Council's yearly holiday arrangement.

行政许可法 第八十二条: time limits in working days exclude statutory holidays; the arrangement of each year
(国务院办公厅《关于YYYY年部分节假日安排的通知》) names the days off and the make-up working days (调休上班).
The arrangements are data (`data/work_calendar.json`, plus years the province administrator loads after a notice
is published). A year without an arrangement is an explicit state, never silent: its days are counted on the
documented fallback — weekends and the statutory days of 《全国年节及纪念日放假办法》 with their 补假 (known by rule,
`statutory_days` in the data file), but no make-up working days, which only the notice can give — and every result
that touched it names the year (`assumed_years`), so deadlines are shown as provisional, a metric is emitted and an
administrator task asks for the arrangement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

_DATA = Path(__file__).resolve().parent.parent / "data" / "work_calendar.json"

HOLIDAY_NAMES = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


class HolidayPeriod(BaseModel):
    name: str = Field(description="节日名称")
    from_: date = Field(alias="from", description="放假起始日")
    to: date = Field(description="放假截止日（含）")

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _ordered(self) -> HolidayPeriod:
        if self.to < self.from_:
            raise ValueError(f"{self.name}：放假截止日早于起始日")
        if (self.to - self.from_).days > 14:
            raise ValueError(f"{self.name}：放假期间超过15天，请检查日期")
        return self

    def days(self) -> list[date]:
        return [self.from_ + timedelta(days=i) for i in range((self.to - self.from_).days + 1)]


class MakeUpDay(BaseModel):
    day: date = Field(alias="date", description="调休上班日期")
    for_: str = Field(alias="for", default="", description="对应的节日")

    model_config = {"populate_by_name": True}


class YearArrangement(BaseModel):
    """One year's arrangement as the notice states it."""

    year: int = Field(ge=2000, le=2100)
    notice: str = Field(min_length=4, description="通知名称及文号")
    source: str = Field(default="", description="来源（载入人、原文出处）")
    holidays: list[HolidayPeriod] = Field(min_length=1)
    workdays: list[MakeUpDay] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> YearArrangement:
        first, last = date(self.year - 1, 12, 1), date(self.year, 12, 31)
        off = set()
        for p in self.holidays:
            if p.from_ < first or p.to > last:
                raise ValueError(f"{p.name}的放假日期不在{self.year}年安排的范围内")
            off.update(p.days())
        for w in self.workdays:
            if not first <= w.day <= last:
                raise ValueError(f"调休上班日{w.day.isoformat()}不在{self.year}年安排的范围内")
            if w.day.weekday() < 5:
                raise ValueError(f"调休上班日{w.day.isoformat()}本来就是工作日（应为周六或周日）")
            if w.day in off:
                raise ValueError(f"{w.day.isoformat()}既是放假日又是调休上班日")
        return self


@dataclass(frozen=True)
class Counted:
    """A date counted in working days, and the years counted without an arrangement (weekends only)."""

    day: date
    assumed_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.assumed_years)


@dataclass
class WorkCalendar:
    """Days off and make-up days by year; anything else is a working day on Monday to Friday."""

    arrangements: dict[int, YearArrangement]
    on_fallback: Callable[[int], None] | None = None  # told once per call that counts a year without arrangement
    statutory: frozenset[date] = frozenset()  # statutory days by rule: the fallback of years without arrangement
    _off: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False)
    _on: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for year, a in self.arrangements.items():
            self._off[year] = frozenset(d for p in a.holidays for d in p.days())
            self._on[year] = frozenset(w.day for w in a.workdays)

    def covers(self, year: int) -> bool:
        return year in self.arrangements

    def years(self) -> list[int]:
        return sorted(self.arrangements)

    def _year_of(self, d: date) -> int:
        """The arrangement a day belongs to: December days may be listed in the next year's notice (元旦)."""
        if d.month == 12 and d.year + 1 in self.arrangements:
            nxt = d.year + 1
            if d in self._off[nxt] or d in self._on[nxt]:
                return nxt
        return d.year

    def is_workday(self, d: date) -> bool:
        year = self._year_of(d)
        if year in self.arrangements:
            if d in self._on[year]:
                return True
            if d in self._off[year]:
                return False
        elif d in self.statutory:
            return False
        return d.weekday() < 5

    def add(self, start: date, days: int) -> Counted:
        """The day on which `days` working days after `start` have passed (the start day itself not counted)."""
        d, left, assumed = start, days, set()
        while left > 0:
            d += timedelta(days=1)
            if not self.covers(d.year):
                assumed.add(d.year)
            if self.is_workday(d):
                left -= 1
        if assumed and self.on_fallback is not None:
            for y in sorted(assumed):
                self.on_fallback(y)
        return Counted(d, tuple(sorted(assumed)))

    def count_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (the counting of `add`, inverted)."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += int(self.is_workday(d))
        return count

    def missing_years(self, today: date, *, ahead_from_month: int = 10) -> list[int]:
        """Years a deadline computed today may reach without an arrangement: this year, and from October (when the
        State Council usually publishes) the next one."""
        wanted = [today.year] + ([today.year + 1] if today.month >= ahead_from_month else [])
        return [y for y in wanted if not self.covers(y)]

    def with_years(
        self, extra: Iterable[YearArrangement], *, on_fallback: Callable[[int], None] | None = None
    ) -> WorkCalendar:
        merged = dict(self.arrangements)
        for a in extra:
            merged[a.year] = a
        return WorkCalendar(merged, on_fallback or self.on_fallback, self.statutory)


def provisional_note(years: Iterable[int]) -> str:
    ys = "、".join(f"{y}年" for y in sorted(set(years)))
    return f"{ys}节假日安排尚未载入，期限暂按仅扣除周六、周日计算，安排公布后请复核"


@cache
def _file() -> dict[str, Any]:
    return json.loads(_DATA.read_text("utf-8"))


@cache
def file_arrangements() -> tuple[YearArrangement, ...]:
    return tuple(YearArrangement.model_validate({"year": int(y), **a}) for y, a in _file()["years"].items())


@cache
def statutory_days() -> frozenset[date]:
    return frozenset(date.fromisoformat(d["date"]) for days in _file()["statutory_days"].values() for d in days)


@cache
def file_calendar() -> WorkCalendar:
    """The arrangements shipped with the platform (without years loaded later by an administrator). Shared: derive
    with `with_years` rather than changing it."""
    return WorkCalendar({a.year: a for a in file_arrangements()}, statutory=statutory_days())


def calendar_source() -> str:
    return str(_file()["source"])
