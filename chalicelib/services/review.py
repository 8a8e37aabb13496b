"""Review use cases: queues, claim/assign/release, decisions, reopen, escalate, supplement requests, diffs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.credit import CreditSource, bad_record
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import PROVINCE_ROLES, Principal, Role
from chalicelib.domain.records import RECORD_LIFECYCLE, RecordEvent, RecordState, RecordType
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.review import (
    OUTCOME_EVENTS,
    OUTCOME_LABELS,
    REQUEST_LIFECYCLE,
    Court,
    Decision,
    FieldChange,
    Level,
    Outcome,
    RequestEvent,
    RequestItem,
    RequestState,
    Snapshot,
    SupplementRequest,
    can_review,
    decision_id,
    diff,
    ensure_can_decide,
    ensure_can_reopen,
    escalation_target,
)
from chalicelib.services.ports import Extras, Page, QueueQuery, RegistryRepository


def _draft(record: RecordBase, before: RecordBase | None, action: AuditAction, note: str | None) -> AuditDraft:
    return AuditDraft(
        target_type=record.RECORD_TYPE.value,
        target_id=record.record_id,
        action=action,
        target_region=record.region_code,
        target_owner=record.owner_uscc,
        before=None if before is None else {**before.data(), "state": before.state.value, "version": before.version},
        after={**record.data(), "state": record.state.value, "version": record.version},
        note=note,
    )


def submission_changes(record: RecordBase, now: datetime) -> tuple[dict[str, Any], Snapshot, dict[str, float]]:
    """What every submission (first submit, answer to a supplement request) does besides the state change:
    a snapshot of what was submitted, the record back in the county's queue, the SLA clock on the officials."""
    review = record.review
    seq = review.snapshots + 1
    responsible_level = review.responsible_level
    responsible_region = review.responsible_region or record.region_code
    clock, delta = record.sla.moved(now, Court.OFFICIAL, responsible_level)
    new_review = review.model_copy(
        update={
            "waiting_since": now.isoformat(),
            "snapshots": seq,
            "open_request": None,
            "responsible_region": responsible_region,
        }
    )
    snapshot = Snapshot(
        seq=seq,
        record_version=record.version + 1,
        state=RecordState.SUBMITTED.value,
        taken_at=now.isoformat(),
        reason="SUBMITTED",
        data=record.data(),
    )
    return {"review": new_review, "sla": clock}, snapshot, delta


class ReviewService:
    def __init__(
        self,
        repo: RegistryRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        check_evidence: Callable[[Principal, str], None] | None = None,
    ):
        self.repo = repo
        self.clock = clock
        self.new_id = new_id
        # Raises when the evidence upload does not exist, is not the official's to cite, or was never received.
        self.check_evidence = check_evidence

    # ---- reading ---------------------------------------------------------------------------------------------

    def _load(self, p: Principal, record_type: RecordType, key: tuple[str, ...]) -> RecordBase:
        record = self.repo.get(record_type, key)
        if record is None or not can_review(p, record.region_code):
            raise NotFound("记录不存在或不在管辖范围内")
        return record

    def queue(
        self,
        p: Principal,
        *,
        state: RecordState,
        county: str | None,
        city: str | None,
        record_type: RecordType | None,
        older_than_days: int | None,
        assignee: str | None,
        escalated_only: bool,
        limit: int,
        cursor: dict | None,
    ) -> Page[RecordBase]:
        """A county official sees its county; a city official its counties (or one of them); the province a city."""
        if not p.is_official:
            raise Forbidden("只有主管部门可以查看审核队列")
        if state not in (RecordState.SUBMITTED, RecordState.IN_DOUBT, RecordState.SUPPLEMENT_REQUESTED):
            raise InvalidInput("队列状态应为 SUBMITTED、IN_DOUBT（存疑库）或 SUPPLEMENT_REQUESTED（补正中）")
        if p.role == Role.COUNTY_OFFICIAL:
            county, city = p.region_code, None
        elif p.role == Role.CITY_OFFICIAL:
            if county and identifiers.city_of(county) != p.region_code:
                raise NotFound("该地区不在管辖范围内")
            city = None if county else p.region_code
        # province level: the whole province's queue unless a city or county is chosen
        waiting_before = None
        if older_than_days:
            waiting_before = (self.clock() - timedelta(days=older_than_days)).isoformat()
        q = QueueQuery(
            state=state,
            county=county,
            city=city,
            record_type=record_type,
            waiting_before=waiting_before,
            assignee=assignee,
            escalated_only=escalated_only,
        )
        return self.repo.queue(q, limit=limit, cursor=cursor)

    def assigned_to_me(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[RecordBase]:
        if not p.is_official:
            raise Forbidden()
        return self.repo.assigned_to(p.subject, limit=limit, cursor=cursor)

    def diff_against_confirmed(self, p: Principal, record_type: RecordType, key: tuple[str, ...]) -> dict[str, Any]:
        """Field-by-field changes since the last confirmed version (or since the first submission)."""
        record = self._load(p, record_type, key)
        snaps = self.repo.snapshots(record)
        base = next((s for s in reversed(snaps) if s.reason == "CONFIRMED"), None)
        if base is None:
            base = snaps[0] if snaps else None
        changes: list[FieldChange] = diff(base.data if base else None, record.data())
        return {
            "against": None
            if base is None
            else {
                "seq": base.seq,
                "reason": base.reason,
                "taken_at": base.taken_at,
                "record_version": base.record_version,
            },
            "changes": changes,
            "snapshots": [
                {"seq": s.seq, "reason": s.reason, "taken_at": s.taken_at, "record_version": s.record_version}
                for s in snaps
            ],
        }

    # ---- assignment -------------------------------------------------------------------------------------------

    def _assign(
        self,
        p: Principal,
        meta: RequestMeta,
        record: RecordBase,
        version: int,
        assignee: str | None,
        assignee_name: str | None,
        action: AuditAction,
        note: str | None = None,
    ) -> RecordBase:
        if record.version != version:
            raise Conflict(f"记录已被修改（当前版本{record.version}），请刷新后重试")
        now = self.clock().isoformat()
        review = record.review.model_copy(
            update={
                "assignee": assignee,
                "assignee_name": assignee_name,
                "assigned_at": now if assignee else None,
            }
        )
        updated = record.model_copy(update={"review": review, "version": record.version + 1, "updated_at": now})
        self.repo.save(updated, record.version, _draft(updated, record, action, note), p, meta)
        return updated

    def claim(self, p: Principal, meta: RequestMeta, record_type: RecordType, key: tuple[str, ...], *, version: int):
        record = self._load(p, record_type, key)
        ensure_can_decide(p, record.region_code, record.review)
        holder = record.review.assignee
        if holder and holder != p.subject:
            raise Conflict(f"该记录已由{record.review.assignee_name or holder}认领")
        return self._assign(
            p, meta, record, version, p.subject, p.display_name or p.username, AuditAction.REVIEW_CLAIMED
        )

    def assign(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        version: int,
        assignee: str,
        assignee_name: str | None,
    ):
        if p.role not in (Role.CITY_OFFICIAL, *PROVINCE_ROLES):
            raise Forbidden("只有市级及以上主管部门可以分派审核任务")
        record = self._load(p, record_type, key)
        return self._assign(
            p,
            meta,
            record,
            version,
            assignee,
            assignee_name,
            AuditAction.REVIEW_ASSIGNED,
            note=f"分派给{assignee_name or assignee}",
        )

    def release(self, p: Principal, meta: RequestMeta, record_type: RecordType, key: tuple[str, ...], *, version: int):
        record = self._load(p, record_type, key)
        holder = record.review.assignee
        if holder is None:
            raise Conflict("该记录未被认领")
        if holder != p.subject and p.role not in (Role.CITY_OFFICIAL, *PROVINCE_ROLES):
            raise Forbidden("只能释放自己认领的记录")
        return self._assign(p, meta, record, version, None, None, AuditAction.REVIEW_RELEASED)

    # ---- decisions --------------------------------------------------------------------------------------------

    def decide(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        version: int,
        outcome: Outcome,
        reason: str,
        evidence_upload_id: str | None = None,
    ) -> tuple[RecordBase, Decision]:
        record = self._load(p, record_type, key)
        level = ensure_can_decide(p, record.region_code, record.review)
        if evidence_upload_id and self.check_evidence:
            self.check_evidence(p, evidence_upload_id)
        did = decision_id(record_type.value, record.record_id, version, outcome.value)
        if record.version != version:
            return self._replay(p, record, did)
        holder = record.review.assignee
        if holder and holder != p.subject and level == Level.COUNTY:
            raise Conflict(f"该记录已由{record.review.assignee_name or holder}认领，请联系认领人或上级")
        new_state = RECORD_LIFECYCLE.next_state(record.state, OUTCOME_EVENTS[outcome])
        now = self.clock()
        decision = Decision(
            decision_id=did,
            record_type=record_type.value,
            record_id=record.record_id,
            record_version=version,
            outcome=outcome,
            reason=reason,
            evidence_upload_id=evidence_upload_id,
            decided_by=p.subject,
            decided_by_name=p.display_name or p.username,
            decided_role=p.role.value,
            decided_level=level,
            decided_region=p.region_code or "",
            decided_at=now.isoformat(),
        )
        credit = None
        if outcome == Outcome.FALSE:
            credit = self._false_information_record(record, decision, p, now)
            decision = decision.model_copy(update={"credit_record_id": credit.credit_id})
        court = Court.OFFICIAL if outcome == Outcome.IN_DOUBT else Court.NONE
        clock, delta = record.sla.moved(now, court, level)
        seq = record.review.snapshots + 1
        snapshot = None
        review = record.review.model_copy(
            update={
                "last_decision_id": did,
                "last_outcome": outcome.value,
                "decided_level": level,
                "decided_region": p.region_code,
                "decided_at": now.isoformat(),
                "waiting_since": now.isoformat() if outcome == Outcome.IN_DOUBT else None,
            }
        )
        if outcome == Outcome.CONFIRMED:
            snapshot = Snapshot(
                seq=seq,
                record_version=version + 1,
                state=new_state.value,
                taken_at=now.isoformat(),
                reason="CONFIRMED",
                data=record.data(),
            )
            review = review.model_copy(update={"snapshots": seq, "last_confirmed_snapshot": seq})
        updated = record.model_copy(
            update={
                "state": new_state,
                "version": version + 1,
                "updated_at": now.isoformat(),
                "review": review,
                "sla": clock,
            }
        )
        try:
            self.repo.save(
                updated,
                version,
                _draft(updated, record, AuditAction.RECORD_DECIDED, f"{OUTCOME_LABELS[outcome]}：{reason}"),
                p,
                meta,
                Extras(
                    snapshot=snapshot,
                    decision=decision,
                    credit=credit,
                    sla_delta=delta,
                    decided=True,
                ),
            )
        except Conflict:
            return self._replay(p, record, did)
        return updated, decision

    def _replay(self, p: Principal, record: RecordBase, did: str) -> tuple[RecordBase, Decision]:
        """A retried request of the same official gets the decision it already made; anyone else gets 409."""
        existing = self.repo.get_decision(did)
        if existing is not None and existing.decided_by == p.subject:
            current = self.repo.get(RecordType(existing.record_type), self._key_of(record)) or record
            return current, existing
        raise Conflict("记录已被他人处理或修改，请刷新后重试")

    @staticmethod
    def _key_of(record: RecordBase) -> tuple[str, ...]:
        if record.RECORD_TYPE == RecordType.PERSON:
            return (record.person_key, record.employer_uscc)  # type: ignore[attr-defined]
        return (record.record_id,)

    def _false_information_record(self, record: RecordBase, decision: Decision, p: Principal, now: datetime):
        subject_type = "person" if record.RECORD_TYPE == RecordType.PERSON else "enterprise"
        subject_id = record.record_id if subject_type == "person" else (record.owner_uscc or record.record_id)
        # A false project filing is the filing enterprise's bad behaviour; its name is not on the project record.
        name = None if record.RECORD_TYPE == RecordType.PROJECT else getattr(record, "name", None)
        return bad_record(
            CreditSource.FALSIFIED_DATA_CONFIRMATION,
            credit_id_="C" + decision.decision_id[:31],
            subject_type=subject_type,
            subject_id=subject_id,
            subject_name=name,
            owner_uscc=record.owner_uscc,
            region_code=record.region_code,
            authority=p.org_name or p.region_code or "",
            authority_region=p.region_code,
            entered_by=p.subject,
            entered_by_name=p.display_name or p.username,
            now_iso=now.isoformat(),
            on=now.date(),
            reason=decision.reason,
            decision_id=decision.decision_id,
        )

    def reopen(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        version: int,
        reason: str,
    ) -> RecordBase:
        record = self._load(p, record_type, key)
        level = ensure_can_reopen(p, record.review)
        if record.version != version:
            raise Conflict(f"记录已被修改（当前版本{record.version}），请刷新后重试")
        new_state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.REOPEN)
        now = self.clock()
        clock, delta = record.sla.moved(now, Court.OFFICIAL, level)
        review = record.review.model_copy(
            update={
                "responsible_level": level,
                "responsible_region": p.region_code,
                "waiting_since": now.isoformat(),
            }
        )
        updated = record.model_copy(
            update={
                "state": new_state,
                "version": version + 1,
                "updated_at": now.isoformat(),
                "review": review,
                "sla": clock,
            }
        )
        self.repo.save(
            updated,
            version,
            _draft(updated, record, AuditAction.RECORD_REOPENED, reason),
            p,
            meta,
            Extras(sla_delta=delta),
        )
        return updated

    def escalate(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        version: int,
        reason: str,
    ) -> RecordBase:
        record = self._load(p, record_type, key)
        ensure_can_decide(p, record.region_code, record.review)
        if record.version != version:
            raise Conflict(f"记录已被修改（当前版本{record.version}），请刷新后重试")
        RECORD_LIFECYCLE.next_state(record.state, RecordEvent.ESCALATE)
        target_level, target_region = escalation_target(record.review, record.region_code or "")
        now = self.clock()
        clock, delta = record.sla.moved(now, Court.OFFICIAL, target_level)
        review = record.review.model_copy(
            update={
                "responsible_level": target_level,
                "responsible_region": target_region,
                "escalations": record.review.escalations + 1,
                "assignee": None,
                "assignee_name": None,
                "assigned_at": None,
            }
        )
        updated = record.model_copy(
            update={"version": version + 1, "updated_at": now.isoformat(), "review": review, "sla": clock}
        )
        self.repo.save(
            updated,
            version,
            _draft(updated, record, AuditAction.RECORD_ESCALATED, reason),
            p,
            meta,
            Extras(sla_delta=delta),
        )
        return updated

    # ---- supplement requests (补正) ------------------------------------------------------------------------------

    def create_request(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        items: list[RequestItem],
        due_on: date | None,
    ) -> SupplementRequest:
        record = self._load(p, record_type, key)
        ensure_can_decide(p, record.region_code, record.review)
        if record.state not in (RecordState.SUBMITTED, RecordState.IN_DOUBT):
            raise Conflict("只有待确认或存疑的记录可以要求补正")
        now = self.clock().isoformat()
        request = SupplementRequest(
            request_id=self.new_id(),
            record_type=record_type.value,
            record_id=record.record_id,
            record_key=list(self._key_of(record)),
            owner_uscc=record.owner_uscc,
            region_code=record.region_code,
            items=items,
            created_by=p.subject,
            created_by_name=p.display_name or p.username,
            created_at=now,
            due_on=due_on.isoformat() if due_on else None,
        )
        self.repo.put_request(
            request, None, self._request_draft(request, None, AuditAction.SUPPLEMENT_DRAFTED), p, meta
        )
        return request

    @staticmethod
    def _request_draft(r: SupplementRequest, before: SupplementRequest | None, action: AuditAction) -> AuditDraft:
        return AuditDraft(
            target_type="supplement_request",
            target_id=r.request_id,
            action=action,
            target_region=r.region_code,
            target_owner=r.owner_uscc,
            before=None if before is None else before.model_dump(mode="json"),
            after=r.model_dump(mode="json"),
        )

    def _request_for_official(self, p: Principal, request_id: str) -> SupplementRequest:
        r = self.repo.get_request(request_id)
        if r is None or not can_review(p, r.region_code):
            raise NotFound("补正通知不存在")
        return r

    def send_request(self, p: Principal, meta: RequestMeta, request_id: str, *, version: int) -> SupplementRequest:
        """Sending puts the record in SUPPLEMENT_REQUESTED and the SLA clock on the enterprise, atomically."""
        r = self._request_for_official(p, request_id)
        if r.version != version:
            raise Conflict("补正通知已被修改，请刷新后重试")
        new_state = REQUEST_LIFECYCLE.next_state(r.state, RequestEvent.SEND)
        record = self._load(p, RecordType(r.record_type), tuple(r.record_key))
        ensure_can_decide(p, record.region_code, record.review)
        record_state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.REQUEST_SUPPLEMENT)
        now = self.clock()
        sent = r.model_copy(update={"state": new_state, "version": r.version + 1, "sent_at": now.isoformat()})
        clock, delta = record.sla.moved(now, Court.ENTERPRISE, None)
        review = record.review.model_copy(update={"open_request": r.request_id, "waiting_since": now.isoformat()})
        updated = record.model_copy(
            update={
                "state": record_state,
                "version": record.version + 1,
                "updated_at": now.isoformat(),
                "review": review,
                "sla": clock,
            }
        )
        self.repo.save(
            updated,
            record.version,
            _draft(updated, record, AuditAction.SUPPLEMENT_REQUESTED, f"补正通知{r.request_id}"),
            p,
            meta,
            Extras(request=sent, request_expected_version=r.version, sla_delta=delta),
        )
        return sent

    def withdraw_request(self, p: Principal, meta: RequestMeta, request_id: str, *, version: int) -> SupplementRequest:
        r = self._request_for_official(p, request_id)
        if r.version != version:
            raise Conflict("补正通知已被修改，请刷新后重试")
        new_state = REQUEST_LIFECYCLE.next_state(r.state, RequestEvent.WITHDRAW)
        withdrawn = r.model_copy(update={"state": new_state, "version": r.version + 1})
        self.repo.put_request(
            withdrawn, r.version, self._request_draft(withdrawn, r, AuditAction.SUPPLEMENT_WITHDRAWN), p, meta
        )
        return withdrawn

    def my_requests(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[SupplementRequest]:
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以查看发给本企业的补正通知")
        return self.repo.requests_for_owner(p.uscc, limit=limit, cursor=cursor)

    def requests_of_record(
        self, p: Principal, record_type: RecordType, key: tuple[str, ...]
    ) -> list[SupplementRequest]:
        record = self._load(p, record_type, key)
        return self.repo.requests_for_record(record)

    def answer_request(
        self,
        p: Principal,
        meta: RequestMeta,
        request_id: str,
        *,
        record_version: int,
        note: str,
        attachments: list[str],
    ) -> SupplementRequest:
        """The enterprise answers: the request is ANSWERED and the record, as now supplemented, is submitted again
        (a new snapshot; the queue and the officials' SLA clock restart)."""
        r = self.repo.get_request(request_id)
        if r is None or r.state == RequestState.DRAFT or p.role != Role.ENTERPRISE or r.owner_uscc != p.uscc:
            raise NotFound("补正通知不存在")
        new_state = REQUEST_LIFECYCLE.next_state(r.state, RequestEvent.ANSWER)
        record = self.repo.get(RecordType(r.record_type), tuple(r.record_key))
        if record is None:
            raise NotFound("记录不存在")
        if record.version != record_version:
            raise Conflict(f"记录已被修改（当前版本{record.version}），请刷新后重试")
        record_state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.SUBMIT)
        now = self.clock()
        answered = r.model_copy(
            update={
                "state": new_state,
                "version": r.version + 1,
                "answered_at": now.isoformat(),
                "answer_note": note,
                "answer_attachments": attachments,
            }
        )
        changes, snapshot, delta = submission_changes(record, now)
        updated = record.model_copy(
            update={
                **changes,
                "state": record_state,
                "version": record.version + 1,
                "updated_at": now.isoformat(),
                "submitted_at": now.isoformat(),
            }
        )
        self.repo.save(
            updated,
            record.version,
            _draft(updated, record, AuditAction.SUPPLEMENT_ANSWERED, f"答复补正通知{r.request_id}：{note}"),
            p,
            meta,
            Extras(snapshot=snapshot, request=answered, request_expected_version=r.version, sla_delta=delta),
        )
        return answered
