"""Who may read which audit trail."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.audit import AuditAction, AuditDraft, AuditEntry, ChainReport, RequestMeta, verify_chain
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.identity import PROVINCE_ROLES, Principal, Role, in_region_scope
from chalicelib.services.ports import AuditLog, Page

# Who reads every trail of the province: the province's officials and the audit administrator (审计管理员).
PROVINCE_READERS = frozenset({*PROVINCE_ROLES, Role.AUDIT_ADMIN})


class AuditQueryService:
    def __init__(
        self,
        audit: AuditLog,
        name_of: Callable[[str], str | None] = lambda username: None,
        subject_of: Callable[[str], str | None] = lambda username: None,
        org_of: Callable[[str], str | None] = lambda username: None,
        enterprise_name_of: Callable[[str], str | None] = lambda uscc: None,
    ):
        self.audit = audit
        self.org_of = org_of  # username -> the name of the account's unit (an enterprise's name, not its USCC)
        self.enterprise_name_of = enterprise_name_of  # USCC -> the registry's name (an actor without an account)
        self.name_of = name_of  # username -> the account's name (谁录入、谁负责: people by name)
        self.subject_of = subject_of  # username -> the account's subject (people search by login name, not a UUID)

    def actor_names(self, entries: list[AuditEntry]) -> dict[str, str]:
        """The names of the entries' actors, one lookup per distinct person (the platform's own actors have none)."""
        people = {e.actor_username for e in entries if not e.actor_subject.startswith(("system:", "anonymous:"))}
        out = {}
        for username in people:
            name = self.name_of(username)
            if name:
                out[username] = name
        return out

    def actor_orgs(self, entries: list[AuditEntry]) -> dict[tuple[str, str], str]:
        """The names of the actors' units by (login, unit code), one lookup per distinct pair: the account's unit,
        else for an enterprise's code the registry's name (the platform acting for an enterprise, a closed account);
        a region code is named by the caller."""
        out: dict[tuple[str, str], str] = {}
        seen: set[tuple[str, str]] = set()
        for e in entries:
            pair = (e.actor_username, e.actor_org)
            if pair in seen or e.actor_subject.startswith("anonymous:"):
                continue
            seen.add(pair)
            name = None if e.actor_subject.startswith("system:") else self.org_of(e.actor_username)
            if not name and len(e.actor_org) == 18 and not e.actor_org.isdigit():
                name = self.enterprise_name_of(e.actor_org)
            if name:
                out[pair] = name
        return out

    def _require_official(self, p: Principal) -> None:
        if not p.is_official and p.role != Role.AUDIT_ADMIN:
            raise Forbidden("只有主管部门和审计管理员可以查询操作留痕")

    def _ensure_target_scope(self, p: Principal, entries: list[AuditEntry]) -> None:
        if not entries:
            raise NotFound("该对象没有操作记录")
        if p.role in PROVINCE_READERS:
            return
        region = next((e.target_region for e in entries if e.target_region), None)
        if not in_region_scope(p, region):
            raise NotFound("该对象没有操作记录")

    def target_trail(self, p: Principal, target_type: str, target_id: str) -> list[AuditEntry]:
        self._require_official(p)
        target_id = canonical_target_id(target_type, target_id)
        entries = self.audit.entries_for_target(target_type, target_id)
        if not entries:
            return []  # nothing recorded yet (e.g. a record loaded by an import): an empty trail, which reveals nothing
        self._ensure_target_scope(p, entries)
        return sorted(entries, key=lambda e: e.seq)

    def verify_target(self, p: Principal, target_type: str, target_id: str) -> ChainReport:
        entries = self.target_trail(p, target_type, target_id)
        return verify_chain(target_type, canonical_target_id(target_type, target_id), entries)

    def actor_trail(self, p: Principal, subject: str, *, limit: int, cursor: dict | None) -> Page[AuditEntry]:
        """Province level reads anyone's trail; every official may read their own."""
        self._require_official(p)
        subject = self.subject_of(subject) or subject  # a login name is looked up; a subject passes through
        if p.role not in PROVINCE_READERS and subject != p.subject:
            raise Forbidden("只有省级主管部门可以查询其他人员的操作记录")
        return self.audit.entries_for_actor(subject, limit=limit, cursor=cursor)

    def day_trail(
        self, p: Principal, day: str, *, action: str | None, limit: int, cursor: dict | None
    ) -> Page[AuditEntry]:
        """Everything recorded on one day (Beijing time): the audit administrator's search."""
        if p.role not in PROVINCE_READERS:
            raise Forbidden("只有审计管理员和省级主管部门可以按日期检索全部操作留痕")
        return self.audit.entries_for_day(day, action=action, limit=limit, cursor=cursor)

    def export_day(self, p: Principal, day: str, action: str | None, meta: RequestMeta) -> list[AuditEntry]:
        """A whole day for download (bounded by the day); the export itself is audited."""
        if p.role not in PROVINCE_READERS:
            raise Forbidden("只有审计管理员和省级主管部门可以导出操作留痕")
        out: list[AuditEntry] = []
        cursor = None
        while True:
            page = self.audit.entries_for_day(day, action=action, limit=500, cursor=cursor)
            out.extend(page.items)
            cursor = page.cursor
            if not cursor or len(out) >= 50_000:
                break
        self.audit.record(
            AuditDraft(
                target_type="audit_export",
                target_id=day,
                action=AuditAction.AUDIT_EXPORTED,
                note=f"导出{day}的操作留痕{len(out)}条" + (f"（操作：{action}）" if action else ""),
            ),
            p,
            meta,
        )
        return out


def canonical_target_id(target_type: str, target_id: str) -> str:
    """A registered person's id is "person key/employer USCC" (`RegisteredPerson.record_id`); clients also send it
    URL-encoded (%2F) or joined by a colon, and the key in upper case."""
    from urllib.parse import unquote

    text = unquote(target_id).strip()
    if target_type == "person":
        key, sep, uscc = text.replace(":", "/").replace("|", "/").partition("/")
        return f"{key.lower()}/{uscc.upper()}" if sep else key.lower()
    return text
