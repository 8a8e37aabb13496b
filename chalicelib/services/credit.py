"""Credit network use cases: officials enter penalties and awards, rectification and extension, blacklist,
credit scores (computed from the records inside their publication period) and their daily snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from chalicelib.domain import codetables, identifiers
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import add_months, beijing_today, utcnow
from chalicelib.domain.completeness import completeness
from chalicelib.domain.credit import (
    BlacklistEntry,
    CreditKind,
    CreditRecord,
    CreditScore,
    CreditSource,
    blacklist_criteria,
    compute_score,
    extended_end,
    policy,
    publication_rule,
    publish_end_for,
    repair_deciders,
    shortened_end,
)
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import ROLE_LABELS, Principal, Role, in_region_scope, system_principal
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.domain.statistics import score_band
from chalicelib.services.ports import Page, RegistryRepository

SCORER = system_principal("credit-score")


class CreditService:
    def __init__(
        self,
        store: Any,
        registry: RegistryRepository,
        *,
        cities: Callable[[], list[str]],
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ):
        self.store = store
        self.registry = registry
        self.cities = cities
        self.clock = clock
        self.new_id = new_id

    def today(self) -> date:
        return beijing_today(self.clock())

    # ---- entering records -------------------------------------------------------------------------------------

    def enter(
        self,
        p: Principal,
        meta: RequestMeta,
        *,
        uscc: str,
        behaviour_code: str,
        content: str,
        happened_on: date,
        publish_months: int | None,
        penalty_number: str | None,
        penalty_department: str | None,
        penalty_date: date | None,
        penalty_end: date | None,
        penalty_amount: str | None,
        basis: str | None,
        project_num: str | None,
        person_key: str | None = None,
        penalty_content: str | None = None,
    ) -> CreditRecord:
        """An official records a penalty (不良行为) or an award/commendation (良好行为) about an enterprise, or about
        a registered person of that enterprise (`person_key`: the person as registered with `uscc`)."""
        if not p.is_official or p.role == Role.PROVINCE_ADMIN:
            raise Forbidden("只有主管部门可以录入诚信记录")
        behaviour = codetables.load_table("credit_behaviours").get(behaviour_code)
        if behaviour is None:
            raise InvalidInput(f"行为代码“{behaviour_code}”不在认定标准代码表中", details=[{"field": "behaviour_code"}])
        enterprise = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        if enterprise is None or not in_region_scope(p, enterprise.region_code):
            raise NotFound("企业不存在或不在管辖范围内")
        subject_type, subject_id, subject_name = "enterprise", uscc, getattr(enterprise, "name", None)
        if person_key:
            person = self.registry.get(RecordType.PERSON, (person_key, uscc))
            if person is None:
                raise NotFound("该企业没有此注册人员")
            subject_type, subject_id, subject_name = "person", f"{person_key}/{uscc}", getattr(person, "name", None)
        kind = CreditKind(behaviour.extra["kind"])
        today = self.today()
        if kind == CreditKind.BAD and not penalty_number:
            raise InvalidInput("不良行为记录须填写处罚决定文号", details=[{"field": "penalty_number"}])
        if kind == CreditKind.BAD and penalty_date is None:
            raise InvalidInput(
                "不良行为记录须填写处罚决定日期（公开期限自决定之日起算）", details=[{"field": "penalty_date"}]
            )
        if happened_on > today:
            raise InvalidInput("行为发生日期不能晚于今天", details=[{"field": "happened_on"}])
        if penalty_date is not None and not happened_on <= penalty_date <= today:
            raise InvalidInput("处罚决定日期应在行为发生之后、今天之前", details=[{"field": "penalty_date"}])
        # the publication period runs from the decision: the penalty decision, or for a good record its award
        decided_on = penalty_date if kind == CreditKind.BAD and penalty_date else happened_on
        end = publish_end_for(kind, decided_on, publish_months, penalty_end)
        source = (
            CreditSource.ADMIN_PENALTY
            if kind == CreditKind.BAD
            else (CreditSource.AWARD if behaviour_code.startswith("G-1") else CreditSource.COMMENDATION)
        )
        now = self.clock().isoformat()
        record = CreditRecord(
            credit_id="C" + self.new_id()[:31],
            kind=kind,
            source=source,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_name=subject_name,
            owner_uscc=uscc,
            region_code=enterprise.region_code,
            behaviour_code=behaviour_code,
            category=behaviour.extra.get("category", ""),
            content=content,
            basis=basis or behaviour.name,
            authority=p.org_name or p.region_code or "",
            authority_region=p.region_code,
            entered_by=p.subject,
            entered_by_name=p.display_name or p.username,
            entered_at=now,
            happened_on=happened_on.isoformat(),
            publish_begin=decided_on.isoformat(),
            publish_end=end.isoformat(),
            penalty_number=penalty_number,
            penalty_department=penalty_department,
            penalty_date=penalty_date.isoformat() if penalty_date else None,
            penalty_end=penalty_end.isoformat() if penalty_end else None,
            penalty_amount=penalty_amount,
            penalty_content=penalty_content,
            project_num=project_num,
            reviewed_by=p.display_name or p.username,
        )
        self.store.add_credit(record, self._draft(record, None, AuditAction.CREDIT_RECORDED), p, meta)
        return record

    @staticmethod
    def _draft(r: CreditRecord, before: CreditRecord | None, action: AuditAction, note: str | None = None):
        return AuditDraft(
            target_type="credit",
            target_id=r.credit_id,
            action=action,
            target_region=r.region_code,
            target_owner=r.owner_uscc,
            before=before.model_dump(mode="json") if before else None,
            after=r.model_dump(mode="json"),
            note=note,
        )

    def _load(self, credit_id: str) -> CreditRecord:
        r = self.store.get_credit(credit_id)
        if r is None:
            raise NotFound("诚信记录不存在")
        return r

    def get_for(self, p: Principal, credit_id: str) -> CreditRecord:
        r = self._load(credit_id)
        if p.role == Role.ENTERPRISE and r.owner_uscc == p.uscc:
            return r
        if p.is_official and in_region_scope(p, r.region_code):
            return r
        raise NotFound("诚信记录不存在")

    def mine(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[CreditRecord]:
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden()
        return self.store.credits_of_owner(p.uscc, self.today(), limit=limit, cursor=cursor)

    # ---- rectification (信用修复) and extension ------------------------------------------------------------------

    def request_rectification(
        self,
        p: Principal,
        meta: RequestMeta,
        credit_id: str,
        *,
        version: int,
        reason: str,
        requested_end: date,
        evidence_upload_id: str | None,
    ) -> CreditRecord:
        r = self.get_for(p, credit_id)
        if p.role != Role.ENTERPRISE or r.kind != CreditKind.BAD:
            raise Forbidden("只有被记录的企业可以就不良行为记录申请信用修复")
        if r.version != version:
            raise Conflict("记录已被修改，请刷新后重试")
        if r.rectification_state == "REQUESTED":
            raise Conflict("已有待审核的信用修复申请")
        updated = r.model_copy(
            update={
                "rectification_state": "REQUESTED",
                "rectification_reason": reason,
                "rectification_requested_end": requested_end.isoformat(),
                "rectification_evidence": evidence_upload_id,
                "version": r.version + 1,
            }
        )
        self.store.save_credit(
            updated, r.version, self._draft(updated, r, AuditAction.CREDIT_RECTIFICATION_REQUESTED, reason), p, meta
        )
        return updated

    def rectification_queue(self, p: Principal) -> list[CreditRecord]:
        """信用修复申请待审核: the official's region (the province reads its cities one by one)."""
        if not p.is_official:
            raise Forbidden("只有主管部门可以查看信用修复申请")
        region = p.region_code or "330000"
        if region == "330000":
            return [r for city in self.cities() for r in self.store.rectification_queue(city, None)]
        if region.endswith("00"):
            return self.store.rectification_queue(region, None)
        return self.store.rectification_queue(identifiers.city_of(region) or region, region)

    def decide_rectification(
        self, p: Principal, meta: RequestMeta, credit_id: str, *, version: int, approve: bool, reason: str
    ) -> CreditRecord:
        r = self.get_for(p, credit_id)
        deciders = repair_deciders(date.fromisoformat(r.publish_begin))
        if p.role.value not in deciders:
            names = "、".join(ROLE_LABELS[Role(d)] for d in deciders)
            raise Forbidden(f"信用修复由{names}决定（{publication_rule(date.fromisoformat(r.publish_begin))['name']}）")
        if r.version != version:
            raise Conflict("记录已被修改，请刷新后重试")
        if r.rectification_state != "REQUESTED":
            raise Conflict("没有待审核的信用修复申请")
        changes: dict[str, Any] = {
            "rectification_state": "APPROVED" if approve else "REJECTED",
            "rectification_decided_by": p.display_name or p.username,
            "version": r.version + 1,
        }
        if approve:
            new_end = shortened_end(r, date.fromisoformat(r.rectification_requested_end or r.publish_end))
            changes.update(
                publish_end=new_end.isoformat(),
                rectified=True,
                original_publish_end=r.original_publish_end or r.publish_end,
            )
        updated = r.model_copy(update=changes)
        self.store.save_credit(
            updated, r.version, self._draft(updated, r, AuditAction.CREDIT_RECTIFICATION_DECIDED, reason), p, meta
        )
        return updated

    def extend(
        self, p: Principal, meta: RequestMeta, credit_id: str, *, version: int, months: int, reason: str
    ) -> CreditRecord:
        """拒不整改: the publication period is extended (within the 3-year maximum of the rules in force)."""
        r = self.get_for(p, credit_id)
        if not p.is_official or p.role == Role.PROVINCE_ADMIN or r.kind != CreditKind.BAD:
            raise Forbidden("只有主管部门可以延长不良行为记录的公开期限")
        if r.version != version:
            raise Conflict("记录已被修改，请刷新后重试")
        new_end = extended_end(r, months)
        if new_end.isoformat() == r.publish_end:
            raise Conflict("公开期限已达规定的最长期限，不能再延长")
        updated = r.model_copy(
            update={
                "publish_end": new_end.isoformat(),
                "extended_reason": reason,
                "original_publish_end": r.original_publish_end or r.publish_end,
                "version": r.version + 1,
            }
        )
        self.store.save_credit(
            updated, r.version, self._draft(updated, r, AuditAction.CREDIT_EXTENDED, reason), p, meta
        )
        return updated

    # ---- blacklist ----------------------------------------------------------------------------------------------

    def add_to_blacklist(
        self, p: Principal, meta: RequestMeta, *, uscc: str, criterion: str, basis: str, listed_on: date
    ) -> BlacklistEntry:
        """谁处罚、谁列入: an official lists an enterprise of its region; it leaves the list on its removal date."""
        if not p.is_official or p.role == Role.PROVINCE_ADMIN:
            raise Forbidden("只有主管部门可以列入黑名单")
        criteria = blacklist_criteria()
        if criterion not in criteria:
            raise InvalidInput(f"黑名单认定条件应为{'、'.join(criteria)}", details=[{"field": "criterion"}])
        enterprise = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        if enterprise is None or not in_region_scope(p, enterprise.region_code):
            raise NotFound("企业不存在或不在管辖范围内")
        entry = BlacklistEntry(
            entry_id=self.new_id(),
            uscc=uscc,
            enterprise_name=getattr(enterprise, "name", None),
            criterion=criterion,
            criterion_name=criteria[criterion],
            basis=basis,
            authority=p.org_name or p.region_code or "",
            authority_region=p.region_code,
            region_code=enterprise.region_code,
            listed_on=listed_on.isoformat(),
            removal_on=add_months(listed_on, int(policy()["blacklist"]["months"])).isoformat(),
            entered_by=p.subject,
            entered_by_name=p.display_name or p.username,
            entered_at=self.clock().isoformat(),
        )
        self.store.add_blacklist(
            entry,
            AuditDraft(
                target_type="blacklist",
                target_id=entry.entry_id,
                action=AuditAction.BLACKLISTED,
                target_region=entry.region_code,
                target_owner=uscc,
                after=entry.model_dump(mode="json"),
            ),
            p,
            meta,
        )
        return entry

    # ---- scores -------------------------------------------------------------------------------------------------

    def score(self, uscc: str, on: date | None = None) -> CreditScore:
        """Live score: 1 GetItem (profile) + 1 Query (records in period) + 1 Query (blacklist)."""
        on = on or self.today()
        enterprise = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        if enterprise is None:
            raise NotFound("企业不存在")
        complete = enterprise.state == RecordState.CONFIRMED and completeness(enterprise).complete
        records: list[CreditRecord] = []
        cursor = None
        while True:
            page = self.store.credits_of_owner(uscc, on, limit=100, cursor=cursor)
            records.extend(page.items)
            cursor = page.cursor
            if not cursor:
                break
        blacklisted = bool(self.store.blacklist_of(uscc, on))
        return compute_score(uscc, on=on, profile_complete=complete, blacklisted=blacklisted, records=records)

    def snapshot_scores(self, *, on: date | None = None) -> int:
        """Daily: today's score of every enterprise, kept for history and monthly pulls (浙建〔2021〕8号 style)."""
        on = on or self.today()
        count = 0
        by_city: dict[str, dict[str, int]] = {}
        for city in self.cities():
            cursor = None
            while True:
                page = self.registry.list_by_region(RecordType.ENTERPRISE, city, None, limit=200, cursor=cursor)
                for ent in page.items:
                    score = self.score(ent.record_id, on)
                    self.store.put_score(score)
                    band = score_band(score.total)
                    by_city.setdefault(city, {})[band] = by_city.get(city, {}).get(band, 0) + 1
                    count += 1
                cursor = page.cursor
                if not cursor:
                    break
        self.store.put_score_distribution(on.isoformat(), by_city)
        return count
