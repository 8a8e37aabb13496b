"""Who may read which audit trail."""

from __future__ import annotations

from chalicelib.domain.audit import AuditEntry, ChainReport, verify_chain
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.identity import PROVINCE_ROLES, Principal, in_region_scope
from chalicelib.services.ports import AuditLog, Page


class AuditQueryService:
    def __init__(self, audit: AuditLog):
        self.audit = audit

    def _require_official(self, p: Principal) -> None:
        if not p.is_official:
            raise Forbidden("只有主管部门可以查询操作留痕")

    def _ensure_target_scope(self, p: Principal, entries: list[AuditEntry]) -> None:
        if not entries:
            raise NotFound("该对象没有操作记录")
        if p.role in PROVINCE_ROLES:
            return
        region = next((e.target_region for e in entries if e.target_region), None)
        if not in_region_scope(p, region):
            raise NotFound("该对象没有操作记录")

    def target_trail(self, p: Principal, target_type: str, target_id: str) -> list[AuditEntry]:
        self._require_official(p)
        entries = self.audit.entries_for_target(target_type, target_id)
        if not entries:
            return []  # nothing recorded yet (e.g. a record loaded by an import): an empty trail, which reveals nothing
        self._ensure_target_scope(p, entries)
        return sorted(entries, key=lambda e: e.seq)

    def verify_target(self, p: Principal, target_type: str, target_id: str) -> ChainReport:
        entries = self.target_trail(p, target_type, target_id)
        return verify_chain(target_type, target_id, entries)

    def actor_trail(self, p: Principal, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        """Province level reads anyone's trail; every official may read their own."""
        self._require_official(p)
        if p.role not in PROVINCE_ROLES and subject != p.subject:
            raise Forbidden("只有省级主管部门可以查询其他人员的操作记录")
        return self.audit.entries_for_actor(subject, limit=limit, cursor=cursor)
