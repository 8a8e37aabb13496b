"""The working-day calendar in force: the arrangements shipped as data plus the years the province administrator
loads when the State Council publishes a new notice (系统管理员 → 节假日安排)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import beijing_today, utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput
from chalicelib.domain.identity import OFFICIAL_ROLES, Principal, Role, require_role
from chalicelib.domain.workdays import WorkCalendar, YearArrangement, file_calendar
from chalicelib.services.ports import WorkCalendarStore

MANAGERS = frozenset({Role.PROVINCE_ADMIN})


class WorkCalendarService:
    def __init__(
        self,
        store: WorkCalendarStore,
        *,
        base: Callable[[], WorkCalendar] = file_calendar,
        clock: Callable[[], datetime] = utcnow,
        ttl_seconds: float = 60.0,
        on_fallback: Callable[[int], None] | None = None,
    ):
        self.store = store
        self.base = base
        self.clock = clock
        self.ttl = ttl_seconds
        self.on_fallback = on_fallback
        self._cached: tuple[float, WorkCalendar, dict[int, int]] | None = None

    def _load(self) -> tuple[WorkCalendar, dict[int, int]]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.ttl:
            stored = self.store.years()
            cal = self.base().with_years((a for a, _ in stored), on_fallback=self.on_fallback)
            self._cached = (now, cal, {a.year: v for a, v in stored})
        return self._cached[1], self._cached[2]

    def calendar(self) -> WorkCalendar:
        """The calendar deadlines are counted with (re-read at most once a minute)."""
        return self._load()[0]

    def missing_years(self) -> list[int]:
        return self.calendar().missing_years(beijing_today(self.clock()))

    def status(self, actor: Principal) -> dict[str, Any]:
        require_role(actor, *OFFICIAL_ROLES)
        cal, versions = self._load()
        shipped = {a.year for a in self.base().arrangements.values()}
        today = beijing_today(self.clock())
        missing = cal.missing_years(today)
        years = [
            {
                "year": y,
                "notice": a.notice,
                "source": a.source,
                "holidays": [p.model_dump(mode="json", by_alias=True) for p in a.holidays],
                "workdays": [w.model_dump(mode="json", by_alias=True) for w in a.workdays],
                "origin": "平台内置" if y in shipped and y not in versions else "管理员载入",
                "version": versions.get(y),
            }
            for y, a in sorted(cal.arrangements.items(), reverse=True)
            if y >= today.year - 3
        ]
        return {
            "today": today.isoformat(),
            "covered_through": max(cal.years()) if cal.years() else None,
            "missing_years": missing,
            "warning": (
                f"{'、'.join(f'{y}年' for y in missing)}节假日安排尚未载入：涉及该年的法定期限暂按仅扣除周六、周日计算并标注“待复核”。"
                "请系统管理员在国务院办公厅通知发布后载入。"
                if missing
                else None
            ),
            "years": years,
        }

    def tasks(self, actor: Principal) -> list[dict[str, Any]]:
        """Administrator tasks (待办) that keep the statutory clock right."""
        require_role(actor, *OFFICIAL_ROLES)
        return [
            {
                "kind": "WORK_CALENDAR_YEAR_MISSING",
                "title": f"载入{y}年节假日安排",
                "detail": f"国务院办公厅《关于{y}年部分节假日安排的通知》发布后，在“节假日安排”中录入放假和调休上班日期。",
                "who": "系统管理员",
                "link": "/system/calendar",
            }
            for y in self.missing_years()
        ]

    def load_year(
        self,
        actor: Principal,
        meta: RequestMeta,
        arrangement: YearArrangement,
        *,
        expected_version: int | None,
    ) -> dict[str, Any]:
        if actor.role not in MANAGERS:
            raise Forbidden("只有系统管理员可以载入节假日安排")
        if arrangement.year in self.base().arrangements:
            raise Conflict(f"{arrangement.year}年的节假日安排已随平台发布，不能在此修改")
        _, versions = self._load()
        current = versions.get(arrangement.year)
        if current != expected_version:
            raise Conflict(
                f"{arrangement.year}年的节假日安排已被他人修改（当前版本{current}），请刷新后重试"
                if current
                else f"{arrangement.year}年尚无安排，请不要填写版本号"
            )
        this_year = beijing_today(self.clock()).year
        if not this_year <= arrangement.year <= this_year + 1:
            raise InvalidInput(f"只能载入{this_year}年或{this_year + 1}年的节假日安排", details=[{"field": "year"}])
        draft = AuditDraft(
            target_type="work_calendar",
            target_id=str(arrangement.year),
            action=AuditAction.WORK_CALENDAR_LOADED,
            target_region="330000",
            after=arrangement.model_dump(mode="json", by_alias=True),
            note=arrangement.notice,
        )
        version = self.store.put_year(arrangement, expected_version, draft, actor, meta)
        self._cached = None
        return {"year": arrangement.year, "version": version}
