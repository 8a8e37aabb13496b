"""资质电子化网上申报: enterprises apply, authorities accept, ask for 补正, pass up, publish (公示) and decide; an
approval changes the qualification certificate in the enterprise registry through the registry's own transition.

Every step goes through `APPLICATION_LIFECYCLE` (transition + version + audit). The platform data review runs at
submission (a failing one refuses the application with every reason) and again at the decision; both are stored
with the application. The approval's effect on the registry is idempotent (the items carry the approval number)
and is finished by a schedule if the process stopped between the two writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import codetables, data_use, labels
from chalicelib.domain import qualification_applications as qa
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import BEIJING, beijing_today, cn_date, cn_datetime, utcnow
from chalicelib.domain.completeness import completeness
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import Principal, Role, system_principal
from chalicelib.domain.qualification_applications import (
    APPLICATION_LIFECYCLE,
    CHANGEABLE_FIELDS,
    KIND_LABELS,
    ON_A_HELD_CERTIFICATE,
    PERSON_KINDS,
    STATE_LABELS,
    AppEvent,
    ApplicationKind,
    AppState,
    QualificationApplication,
    ReviewSnapshot,
    Step,
    SupplementRound,
)
from chalicelib.domain.records import RECORD_LIFECYCLE, RecordEvent, RecordState, RecordType
from chalicelib.domain.registry_base import RecordInvalid, validate_input
from chalicelib.domain.workdays import WorkCalendar, file_calendar
from chalicelib.services.ports import Page

EFFECTS = system_principal("qualification-decisions")
OPEN_STATES = frozenset({AppState.SUBMITTED, AppState.ACCEPTED, AppState.SUPPLEMENT_REQUESTED, AppState.PUBLIC_NOTICE})


class QualificationApplicationService:
    def __init__(
        self,
        store: Any,
        registry: Any,
        data: Any,
        credit_store: Any,
        audit: Any,
        *,
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        calendar: Callable[[], WorkCalendar] = file_calendar,
        notice_seconds: int | None = None,
        blobs: Any = None,
    ):
        self.store = store
        self.registry = registry
        self.data = data  # DataUseService: the requirements against confirmed platform data, open bad records
        self.credit_store = credit_store
        self.audit = audit
        self.clock = clock
        self.new_id = new_id
        self.calendar = calendar
        self.notice_seconds = notice_seconds  # the 公示 in seconds instead of days (local demos and tests only)
        self.blobs = blobs  # printed certificates

    def today(self) -> date:
        return beijing_today(self.clock())

    # ---- the enterprise -------------------------------------------------------------------------------------------

    def apply(
        self,
        p: Principal,
        meta: RequestMeta,
        *,
        kind: ApplicationKind,
        target: str,
        certificate_no: str | None = None,
        changes: dict[str, str] | None = None,
        statement: str | None = None,
        person_key: str | None = None,
        specialties: list[str] | None = None,
    ) -> QualificationApplication:
        """Submit an application. Refused (400, every reason with its evidence) when the platform's data cannot
        support it: the enterprise not in the base registry, a barring credit state, an unmet requirement."""
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("资质申请由企业提出")
        on = self.today()
        e = self.registry.get(RecordType.ENTERPRISE, (p.uscc,))
        if e is None:
            raise InvalidInput(
                "企业不在平台企业库中，请先登记并经主管部门确认", details=[{"key": "registry", "reason": "企业未入库"}]
            )
        if kind in PERSON_KINDS:
            return self._apply_person(p, meta, e, kind, target, person_key, specialties or [], statement)
        changes = self._checked_changes(e, kind, changes or {})
        missing = [m.label for m in completeness(e).missing]
        reasons = [
            {"key": "precondition", "reason": g}
            for g in data_use.application_gaps(e, kind.value, target, missing, on, need_standard=False)
        ]
        reasons += qa.barring_reasons(
            kind, self.credit_store.blacklist_of(e.uscc, on), self.data.bad_records(e.uscc, on), on
        )
        held = None
        if not reasons:
            probe = QualificationApplication.model_construct(
                kind=kind, target=target, certificate_no=certificate_no, approval_no=None
            )
            held = qa.certificate_for(e, probe, on)
            if kind == ApplicationKind.ADD and held is None:
                held = qa.addable_certificate(e, target, qa.route(kind, target).decide, on)
            if kind in ON_A_HELD_CERTIFICATE and held is None:
                reasons.append({"key": "certificate", "reason": f"企业未持有编号为{certificate_no}的有效资质证书"})
        review = self._review(e, kind, target, on, "submission")
        reasons += [
            {
                "key": r["key"],
                "reason": f"不符合资质标准：{r['label']}（平台数据为{_actual(r)}）",
                "evidence": r["evidence"],
            }
            for r in review.requirements
            if not r["met"]
        ]
        if reasons:
            self._refused(p, meta, e, kind, target, reasons)
        for other in self._all_of(e.uscc):
            if other.state in OPEN_STATES and other.target == target and other.kind == kind:
                raise Conflict(f"已有办理中的同一申请（{KIND_LABELS[kind]}{other.target_label}），请勿重复提交")
        cert_no = held.cert_no if held is not None else None
        r = qa.route(kind, target, cert_no)
        now = self.clock().isoformat()
        app = QualificationApplication(
            application_id=self.new_id(),
            uscc=e.uscc,
            enterprise_name=e.name,
            region_code=e.region_code or "",
            kind=kind,
            target=target,
            target_label=codetables.qualification_codes().name(target),
            certificate_no=cert_no,
            changes=changes,
            statement=statement,
            accept_level=r.accept,
            decide_level=r.decide,
            decide_days=r.decide_days,
            notice_days=r.notice_days,
            route_rule=r.rule,
            current_level=qa.handling_level(r.accept),
            submitted_at=now,
            reviews=[review],
            steps=[Step(at=now, event="SUBMIT", by=_who(p), note=statement)],
            created_at=now,
            updated_at=now,
        )
        self.store.create(app, self._draft(app, None, AuditAction.QUALIFICATION_APPLIED), p, meta)
        return app

    def _apply_person(
        self,
        p: Principal,
        meta: RequestMeta,
        e: Any,
        kind: ApplicationKind,
        reg_type: str,
        person_key: str | None,
        specialties: list[str],
        statement: str | None,
    ) -> QualificationApplication:
        """A registration (二级注册 初始/变更/延续/注销) filed by the employer: the one-employer rule and the person lock
        are checked on platform data; every reason of a refusal is listed."""
        on = self.today()
        if not person_key:
            raise InvalidInput("请选择申请注册的人员", details=[{"field": "person_key", "message": "请选择人员"}])
        reasons: list[dict[str, Any]] = []
        if e.state != RecordState.CONFIRMED:
            reasons.append(
                {"key": "precondition", "reason": "企业信息尚未经主管部门确认，未进入基础库的企业不能申报人员注册"}
            )
        records = self.registry.person_partition(person_key)
        lock = self.data.permits.lock_holder(person_key)
        locked_on = None
        if lock:
            project = self.registry.get(RecordType.PROJECT, (lock,))
            locked_on = f"{lock}（{project.name}）" if project is not None and project.name else lock
        found, source = qa.person_reasons(kind, reg_type, e.uscc, records, locked_on, on)
        reasons += found
        mine = next((r for r in records if r.employer_uscc == e.uscc), None)
        if reasons:
            self._refused(p, meta, e, kind, reg_type, reasons)
        r = qa.route(kind, reg_type)
        now = self.clock().isoformat()
        app = QualificationApplication(
            application_id=self.new_id(),
            uscc=e.uscc,
            enterprise_name=e.name,
            region_code=e.region_code or "",
            kind=kind,
            target=reg_type,
            target_label=codetables.load_table("registration_types").name(reg_type),
            person_key=person_key,
            person_name=mine.name if mine else None,
            specialties=specialties,
            from_employer_uscc=source.employer_uscc if source else None,
            from_employer_name=source.employer_name if source else None,
            statement=statement,
            accept_level=r.accept,
            decide_level=r.decide,
            decide_days=r.decide_days,
            notice_days=r.notice_days,
            route_rule=r.rule,
            current_level=qa.handling_level(r.accept),
            submitted_at=now,
            steps=[Step(at=now, event="SUBMIT", by=_who(p), note=statement)],
            created_at=now,
            updated_at=now,
        )
        for other in self._all_of(e.uscc):
            if other.state in OPEN_STATES and other.person_key == person_key and other.target == reg_type:
                raise Conflict(f"该人员已有办理中的{KIND_LABELS[other.kind]}申请，请勿重复提交")
        self.store.create(app, self._draft(app, None, AuditAction.QUALIFICATION_APPLIED), p, meta)
        return app

    def _refused(self, p, meta, e, kind: ApplicationKind, target: str, reasons: list[dict[str, Any]]) -> None:
        self.audit.record(
            AuditDraft(
                target_type="enterprise",
                target_id=e.uscc,
                action=AuditAction.QUALIFICATION_APPLICATION_REFUSED,
                target_region=e.region_code,
                target_owner=e.uscc,
                after={"kind": kind.value, "target": target, "reasons": [r["reason"] for r in reasons]},
            ),
            p,
            meta,
        )
        raise InvalidInput(
            "申请未通过平台数据审查，不予受理：" + "；".join(r["reason"] for r in reasons), details=reasons
        )

    def _checked_changes(self, e: Any, kind: ApplicationKind, changes: dict[str, str]) -> dict[str, str]:
        """变更事项: only for a 变更, only the changeable fields, each judged as the registry judges it."""
        if kind != ApplicationKind.CHANGE:
            if changes:
                raise InvalidInput("只有变更申请可以填写变更事项", details=[{"field": "changes"}])
            return {}
        unknown = sorted(set(changes) - set(CHANGEABLE_FIELDS))
        if unknown:
            raise InvalidInput(
                f"变更事项只能是：{'、'.join(CHANGEABLE_FIELDS.values())}", details=[{"field": f} for f in unknown]
            )
        changes = {k: str(v).strip() for k, v in changes.items() if str(v).strip()}
        if not changes:
            raise InvalidInput("请填写至少一项变更事项", details=[{"field": "changes"}])
        try:
            validate_input(type(e), {**e.model_dump(mode="json"), **changes}, as_of=self.today())
        except RecordInvalid as exc:
            raise InvalidInput(f"变更事项校验未通过：{exc}", details=exc.problems) from None
        return changes

    def answer(self, p: Principal, meta: RequestMeta, application_id: str, *, version: int, answer: str):
        """提交补正: the enterprise answers the open supplement request; the clock runs again."""
        app = self._own(p, application_id, version)
        state = APPLICATION_LIFECYCLE.next_state(app.state, AppEvent.ANSWER)
        open_round = app.open_supplement()
        rounds = [
            r.model_copy(update={"answered_on": self.today().isoformat(), "answered_at": self._now(), "answer": answer})
            if r is open_round
            else r
            for r in app.supplements
        ]
        return self._move(p, meta, app, AppEvent.ANSWER, state, {"supplements": rounds}, answer)

    def withdraw(self, p: Principal, meta: RequestMeta, application_id: str, *, version: int, reason: str):
        app = self._own(p, application_id, version)
        state = APPLICATION_LIFECYCLE.next_state(app.state, AppEvent.WITHDRAW)
        return self._move(p, meta, app, AppEvent.WITHDRAW, state, {}, reason)

    def mine(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[QualificationApplication]:
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以查看本企业的资质申请")
        return self.store.of_enterprise(p.uscc, limit=limit, cursor=cursor)

    def _own(self, p: Principal, application_id: str, version: int) -> QualificationApplication:
        app = self.store.get(application_id)
        if app is None or p.role != Role.ENTERPRISE or app.uscc != p.uscc:
            raise NotFound("资质申请不存在")
        self._fresh(app, version)
        return app

    # ---- the authorities ------------------------------------------------------------------------------------------

    def queue(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[QualificationApplication]:
        """The applications waiting on the official's authority (its level and region), oldest first."""
        level = qa.role_level(p.role)
        if level is None or not p.region_code:
            raise Forbidden("只有县、市、省级主管部门办理资质申请")
        return self.store.queue(level, p.region_code, limit=limit, cursor=cursor)

    def get(self, p: Principal, application_id: str) -> QualificationApplication:
        app = self.store.get(application_id)
        if app is None or not self._may_see(p, app):
            raise NotFound("资质申请不存在")
        return app

    def act(
        self,
        p: Principal,
        meta: RequestMeta,
        application_id: str,
        *,
        version: int,
        event: AppEvent,
        note: str,
        items: list[str] | None = None,
    ) -> QualificationApplication:
        """An authority's step: 受理 / 不予受理 / 要求补正 / 转报上级 / 开始公示 / 准予许可 / 不予许可 / 报部."""
        app = self.store.get(application_id)
        if app is None or not self._may_see(p, app):
            raise NotFound("资质申请不存在")
        if event in (AppEvent.ANSWER, AppEvent.WITHDRAW):
            raise Forbidden("补正与撤回由申请企业办理")
        self._fresh(app, version)
        holder = app.waiting_on()
        if (
            holder is None
            or qa.role_level(p.role) != holder
            or p.region_code != qa.level_region(holder, app.region_code)
        ):
            where = _authority(holder, app.region_code) if holder else "申请企业"
            raise Forbidden(f"该申请当前由{where}办理")
        state = APPLICATION_LIFECYCLE.next_state(app.state, event)
        on, changes = self.today(), {}
        at_decider = holder == qa.handling_level(app.decide_level)
        if event in (AppEvent.REFUSE, AppEvent.REJECT, AppEvent.REQUEST_SUPPLEMENT) and not note.strip():
            raise InvalidInput("请填写理由", details=[{"field": "note", "message": "请填写理由"}])
        if event == AppEvent.ACCEPT:
            changes["accepted_on"] = on.isoformat()
        elif event == AppEvent.REQUEST_SUPPLEMENT:
            if not items:
                raise InvalidInput("请列出需要补正的材料或事项", details=[{"field": "items"}])
            supplement = SupplementRound(
                requested_on=on.isoformat(),
                requested_at=self._now(),
                requested_by=_who(p),
                level=holder,
                items=items,
            )
            changes["supplements"] = [*app.supplements, supplement]
        elif event == AppEvent.REFER_UP:
            up = qa.next_level(holder, app.decide_level)
            if up is None:
                raise Conflict("本级为决定机关，不能再转报上级")
            changes["current_level"] = up
        elif event in (AppEvent.START_NOTICE, AppEvent.APPROVE, AppEvent.REJECT, AppEvent.FORWARD):
            if not at_decider:
                up = _authority(app.decide_level, app.region_code)
                raise Conflict(f"该申请由{up}决定，请先初审并转报上级")
            if event == AppEvent.FORWARD and app.decide_level != "ministry":
                raise Conflict("该申请由本省决定，不需报住房和城乡建设部")
            if event in (AppEvent.START_NOTICE, AppEvent.APPROVE) and app.decide_level == "ministry":
                raise Conflict("该申请由住房和城乡建设部决定：请在审查后报部")
            if event == AppEvent.START_NOTICE and app.notice_days <= 0:
                raise Conflict("该类申请不需公示，可直接作出决定")
            if event in (AppEvent.START_NOTICE, AppEvent.APPROVE):
                review = self._decision_review(app, on, "notice" if event == AppEvent.START_NOTICE else "decision")
                changes["reviews"] = [*app.reviews, review]
            if event == AppEvent.START_NOTICE:
                changes["notice_started_on"] = on.isoformat()
                changes["notice_until"] = self._notice_until(app.notice_days)
            if event == AppEvent.APPROVE:
                self._may_approve(app)
                changes.update(self._numbers(app, on))
            if event in (AppEvent.APPROVE, AppEvent.REJECT):
                changes.update(decided_by=_who(p), decided_on=on.isoformat(), decision_reason=note)
        if event == AppEvent.ACCEPT or (app.accepted_on and event != AppEvent.REFUSE):
            accepted = changes.get("accepted_on") or app.accepted_on
            probe = app.model_copy(update={"accepted_on": accepted, **changes})
            due = qa.due_date(probe, self.calendar(), on)
            changes["decision_due"] = due.isoformat() if due else None
        updated = self._move(p, meta, app, event, state, changes, note)
        if event == AppEvent.APPROVE:
            updated = self.finish_effect(updated, meta)
        return updated

    def _may_approve(self, app: QualificationApplication) -> None:
        if app.notice_days > 0:
            if app.state != AppState.PUBLIC_NOTICE or not app.notice_until:
                raise Conflict(f"该类申请须先公示{app.notice_days}日，公示期满无异议后方可准予许可")
            if self._now() < app.notice_until:
                raise Conflict(f"公示期至{cn_datetime(app.notice_until)}，公示期满后方可准予许可")

    def _decision_review(self, app: QualificationApplication, on: date, stage: str) -> ReviewSnapshot:
        """The review again at the decision: data may have changed since the submission."""
        e = self.registry.get(RecordType.ENTERPRISE, (app.uscc,))
        reasons = [
            b["reason"]
            for b in qa.barring_reasons(
                app.kind, self.credit_store.blacklist_of(app.uscc, on), self.data.bad_records(app.uscc, on), on
            )
        ]
        review = self._review(e, app.kind, app.target, on, stage)
        unmet = [f"{r['label']}（平台数据为{_actual(r)}）" for r in review.requirements if not r["met"]]
        if reasons or unmet:
            raise InvalidInput(
                "决定时平台数据审查未通过，不能准予许可或公示：" + "；".join(reasons + unmet),
                details=[{"reason": x} for x in reasons + unmet],
            )
        return review.model_copy(update={"bars": []})

    def _review(self, e: Any, kind: ApplicationKind, target: str, on: date, stage: str) -> ReviewSnapshot:
        reqs = []
        rules = data_use.qualification_rules()
        if kind.value in rules["reviewed_kinds"] and target in rules["requirements"]:
            reqs = [asdict(r) for r in self.data.requirements(e, target, on)]
        return ReviewSnapshot(at=self._now(), stage=stage, met=all(r["met"] for r in reqs), requirements=reqs)

    def _numbers(self, app: QualificationApplication, on: date) -> dict[str, Any]:
        """批准文号 and, where a certificate is issued anew, its number (sequences: never handed out twice)."""
        out: dict[str, Any] = {
            "approval_no": qa.approval_number(on.year, self.store.next_serial("APPROVAL", str(on.year)))
        }
        if app.kind == ApplicationKind.REG_INITIAL:
            fmt = qa.person_rules()["cert_no_format"]
            out["registration_cert_no"] = fmt.format(
                year=on.year, serial=self.store.next_serial("REGCERT", str(on.year))
            )
        elif qa.needs_new_certificate(app):
            level = qa.handling_level(app.decide_level)
            prefix = f"{app.target[0]}{qa.LEVEL_DIGITS[level]}"
            out["new_certificate_no"] = qa.new_certificate_number(
                app.target, level, self.store.next_serial("CERT", prefix)
            )
        return out

    def _notice_until(self, days: int) -> str:
        if self.notice_seconds is not None:
            return (self.clock() + timedelta(seconds=self.notice_seconds)).isoformat()
        end = qa.notice_ends(self.today(), days)
        return datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=BEIJING).isoformat()

    # ---- the decision's effect on the registry --------------------------------------------------------------------

    def finish_effect(self, app: QualificationApplication, meta: RequestMeta) -> QualificationApplication:
        """The approved change in the registry (the enterprise's certificate, or the person's registrations), through
        the registry's transition and audited on each record; the national sync captures the confirmed records' new
        rows. Then the application is marked done. Recomputed on a conflict: a record already changed is skipped."""
        if app.state != AppState.APPROVED or app.effect_applied:
            return app
        on = date.fromisoformat(app.decided_on or self.today().isoformat())
        level = qa.handling_level(app.decide_level)
        authority = labels.authority_name(qa.level_region(level, app.region_code), on)
        note = f"{KIND_LABELS[app.kind]}{app.target_label}，{app.approval_no}（资质申请{app.application_id}）"
        for _attempt in range(3):
            if app.kind in PERSON_KINDS:
                records = self.registry.person_partition(app.person_key or "")
                effects = qa.person_effects(records, app, on, authority)
            else:
                e = self.registry.get(RecordType.ENTERPRISE, (app.uscc,))
                changes = qa.apply_decision(e, app, on, authority, cert_no=app.new_certificate_no)
                effects = [(e, changes)] if changes else []
            try:
                for record, changes in effects:
                    self._amend(record, changes, note, meta)
                break
            except Conflict:
                continue  # the record was edited meanwhile: read it again
        else:
            return app  # the schedule finishes it
        done = app.model_copy(update={"effect_applied": True, "version": app.version + 1, "updated_at": self._now()})
        step = Step(at=self._now(), event="CERT_CHANGED", by="平台系统", note=_effect_note(done))
        done = done.model_copy(update={"steps": [*app.steps, step]})
        self.store.save(
            done, app.version, self._draft(done, app, AuditAction.QUALIFICATION_APPLICATION_STEP), EFFECTS, meta
        )
        return done

    def _amend(self, record: Any, changes: dict[str, Any], note: str, meta: RequestMeta) -> None:
        state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.AMEND_BY_DECISION)
        # validated like any write of the record (a 变更's capital arrives as text, the certificates as parts)
        updated = type(record).model_validate(
            {**dict(record), **changes, "state": state, "version": record.version + 1, "updated_at": self._now()}
        )
        draft = AuditDraft(
            target_type=record.RECORD_TYPE.value,
            target_id=record.record_id,
            action=AuditAction.QUALIFICATION_CERT_CHANGED,
            target_region=record.region_code,
            target_owner=record.owner_uscc,
            before={**record.data(), "state": record.state.value, "version": record.version},
            after={**updated.data(), "state": updated.state.value, "version": updated.version},
            note=note,
        )
        self.registry.save(updated, record.version, draft, EFFECTS, meta)

    def finish_pending(self, meta: RequestMeta) -> int:
        """Schedule: approvals whose certificate change did not land (a stopped process) are finished."""
        count = 0
        for app in self.store.pending_effects():
            if self.finish_effect(app, meta).effect_applied:
                count += 1
        return count

    def notices(self, *, limit: int, cursor: dict | None) -> Page[dict[str, Any]]:
        """资质审批公示 for the public: what the authority intends to approve, until the notice period ends (no
        person's identifiers; a registered person is named, as on the national platform)."""
        page = self.store.under_notice(limit=limit, cursor=cursor)
        now = self._now()
        return Page(
            [
                {
                    "enterprise_name": a.enterprise_name,
                    "uscc": a.uscc,
                    "kind_label": KIND_LABELS[a.kind],
                    "target_label": a.target_label,
                    "person_name": a.person_name,
                    "decide_label": _authority(a.decide_level, a.region_code),
                    "notice_started_on": cn_date(date.fromisoformat(a.notice_started_on or self.today().isoformat())),
                    "notice_until_label": cn_datetime(a.notice_until or now),
                }
                for a in page.items
                if (a.notice_until or "") > now
            ],
            page.cursor,
        )

    # ---- the printable certificate ------------------------------------------------------------------------------

    def certificate(self, p: Principal, meta: RequestMeta, application_id: str) -> dict[str, Any]:
        """The certificate as the approval left it (副本, PDF): the enterprise and its officials in the region may
        print it; every print is audited."""
        app = self.get(p, application_id)
        if app.state != AppState.APPROVED or not app.effect_applied or app.kind in PERSON_KINDS:
            raise Conflict("只有已准予许可、证书已变更的资质申请可以打印资质证书")
        from chalicelib.domain.certificate import render_qualification_pdf

        e = self.registry.get(RecordType.ENTERPRISE, (app.uscc,))
        cert_no = app.new_certificate_no or app.certificate_no
        cert = next((c for c in e.qualifications if c.cert_no == cert_no), None)
        if cert is None:
            raise NotFound(f"企业库中没有资质证书{cert_no}")
        codes = codetables.qualification_codes()
        family = codetables.qualification_types().name(cert.qualification_type) if cert.qualification_type else ""
        fields = {
            "title": f"{family}企业资质证书" if family else "企业资质证书",
            "enterprise_name": e.name,
            "uscc": e.uscc,
            "address": e.address,
            "legal_rep": e.legal_rep,
            "registered_capital": str(e.registered_capital) if e.registered_capital is not None else None,
            "economic_type": codetables.load_table("economic_types").name(e.economic_type) if e.economic_type else None,
            "cert_no": cert.cert_no,
            "issuer": cert.issuing_authority,
            "issued_on": cert.issued_on.isoformat() if cert.issued_on else None,
            "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
            "items": [
                {
                    "name": codes.name(i.code),
                    "approval_no": i.approval_no,
                    "approved_on": i.approved_on.isoformat() if i.approved_on else None,
                    "status": i.status if i.status == qa.CANCELLED else None,
                }
                for i in cert.items
            ],
            "application_id": app.application_id,
        }
        pdf = render_qualification_pdf(fields)
        key = f"exports/qualifications/{app.application_id}/{cert.cert_no}-{uuid.uuid4().hex[:8]}.pdf"
        self.blobs.put(key, pdf, "application/pdf")
        self.audit.record(
            self._draft(app, None, AuditAction.QUALIFICATION_APPLICATION_STEP, f"打印资质证书{cert.cert_no}（副本）"),
            p,
            meta,
        )
        return {"url": self.blobs.presign_get(key, f"资质证书-{cert.cert_no}.pdf", 900), "cert_no": cert.cert_no}

    # ---- shared -----------------------------------------------------------------------------------------------------

    def _move(self, p, meta, app, event: AppEvent, state: AppState, changes: dict[str, Any], note: str | None):
        now = self._now()
        step = Step(at=now, event=event.value, by=_who(p), level=app.waiting_on(), note=note or None)
        updated = app.model_copy(
            update={
                **changes,
                "state": state,
                "version": app.version + 1,
                "updated_at": now,
                "steps": [*app.steps, step],
            }
        )
        updated = QualificationApplication.model_validate(updated.model_dump())
        label = STATE_LABELS[event]
        self.store.save(
            updated,
            app.version,
            self._draft(
                updated, app, AuditAction.QUALIFICATION_APPLICATION_STEP, f"{label}：{note}" if note else label
            ),
            p,
            meta,
        )
        return updated

    @staticmethod
    def _draft(app, before, action: AuditAction, note: str | None = None) -> AuditDraft:
        def view(a):
            return {
                "state": a.state.value,
                "current_level": a.current_level,
                "version": a.version,
                "kind": a.kind.value,
                "target": a.target,
                "decision_due": a.decision_due,
                "approval_no": a.approval_no,
            }

        return AuditDraft(
            target_type="qualification_application",
            target_id=app.application_id,
            action=action,
            target_region=app.region_code,
            target_owner=app.uscc,
            before=view(before) if before else None,
            after=view(app),
            note=note,
        )

    def _fresh(self, app: QualificationApplication, version: int) -> None:
        if app.version != version:
            last = app.steps[-1] if app.steps else None
            who = f"{last.by}于{cn_datetime(last.at)}已办理“{_step_label(last.event)}”，" if last else ""
            raise Conflict(f"{who}申请已更新（当前第{app.version}版，您看到的是第{version}版），请刷新后重试")

    @staticmethod
    def _may_see(p: Principal, app: QualificationApplication) -> bool:
        if p.role == Role.ENTERPRISE:
            return app.uscc == p.uscc
        if p.role in (Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL):
            return bool(p.region_prefix is not None and app.region_code.startswith(p.region_prefix))
        return False

    def _all_of(self, uscc: str) -> list[QualificationApplication]:
        out, cursor = [], None
        while True:
            page = self.store.of_enterprise(uscc, limit=100, cursor=cursor)
            out.extend(page.items)
            cursor = page.cursor
            if not cursor:
                return out

    def _now(self) -> str:
        return self.clock().isoformat()

    # ---- the view -------------------------------------------------------------------------------------------------

    def view(self, p: Principal, app: QualificationApplication) -> dict[str, Any]:
        """The application as its page shows it: every code by name, the clock, and what this user may do."""
        on = self.today()
        due = qa.due_date(app, self.calendar(), on)
        holder = app.waiting_on()
        actions: list[str] = []
        if p.role == Role.ENTERPRISE:
            actions = [
                e.value
                for e in APPLICATION_LIFECYCLE.allowed_events(app.state)
                if e in (AppEvent.ANSWER, AppEvent.WITHDRAW)
            ]
        elif holder and qa.role_level(p.role) == holder and p.region_code == qa.level_region(holder, app.region_code):
            at_decider = holder == qa.handling_level(app.decide_level)
            for e in APPLICATION_LIFECYCLE.allowed_events(app.state):
                if e in (AppEvent.ANSWER, AppEvent.WITHDRAW):
                    continue
                if e == AppEvent.REFER_UP and at_decider:
                    continue
                if e in (AppEvent.START_NOTICE, AppEvent.APPROVE, AppEvent.REJECT, AppEvent.FORWARD) and not at_decider:
                    continue
                if e == AppEvent.FORWARD and app.decide_level != "ministry":
                    continue
                if e in (AppEvent.START_NOTICE, AppEvent.APPROVE) and app.decide_level == "ministry":
                    continue
                if e == AppEvent.START_NOTICE and app.notice_days <= 0:
                    continue
                if e == AppEvent.APPROVE and app.notice_days > 0 and app.state != AppState.PUBLIC_NOTICE:
                    continue
                actions.append(e.value)
        return {
            "application": app.model_dump(mode="json"),
            "kind_label": KIND_LABELS[app.kind],
            "state_label": STATE_LABELS[app.state],
            "accept_label": _authority(app.accept_level, app.region_code),
            "decide_label": _authority(app.decide_level, app.region_code),
            "current_label": _authority(holder, app.region_code)
            if holder
            else ("申请企业（补正中）" if app.state == AppState.SUPPLEMENT_REQUESTED else None),
            "region_name": labels.region_name(app.region_code),
            "decision_due": due.isoformat() if due else None,
            "decision_due_label": cn_date(due) if due else None,
            "working_days_left": qa.working_days_left(due, on, self.calendar())
            if due and app.state in OPEN_STATES
            else None,
            "clock_paused": app.state == AppState.SUPPLEMENT_REQUESTED,
            "notice_until_label": cn_datetime(app.notice_until) if app.notice_until else None,
            "changes_labels": {k: CHANGEABLE_FIELDS.get(k, k) for k in app.changes},
            "steps": [
                {
                    **s.model_dump(mode="json"),
                    "event_label": _step_label(s.event),
                    "at_label": cn_datetime(s.at),
                    "level_label": _authority(s.level, app.region_code) if s.level else None,
                }
                for s in app.steps
            ],
            "actions": [{"event": a, "label": STATE_LABELS[AppEvent(a)]} for a in actions],
        }


def _authority(level: str, county: str) -> str:
    """The authority at `level` over the enterprise's county, by name (义乌市住房和城乡建设局 …)."""
    if level == "ministry":
        return qa.routing_rules()["levels"]["ministry"]
    return labels.authority_name(qa.level_region(level, county))


def _who(p: Principal) -> str:
    return p.display_name or p.username or p.subject


def _actual(r: dict[str, Any]) -> str:
    a = r.get("actual")
    if isinstance(a, bool):
        return "满足" if a else "不满足"
    if a is None:
        return "无"
    return str(int(a)) if isinstance(a, float) and a.is_integer() else str(a)


def _step_label(event: str) -> str:
    if event == "SUBMIT":
        return "提交申请"
    if event == "CERT_CHANGED":
        return "资质证书已变更"
    try:
        return STATE_LABELS[AppEvent(event)]
    except ValueError:
        return event


def _effect_note(app: QualificationApplication) -> str:
    if app.kind in PERSON_KINDS:
        who = app.person_name or "该人员"
        if app.kind == ApplicationKind.REG_TRANSFER:
            return f"{who}的{app.target_label}注册已由{app.from_employer_name or app.from_employer_uscc}变更至{app.enterprise_name}"
        return f"{who}已{KIND_LABELS[app.kind]}（{app.target_label}），批准文号{app.approval_no}"
    if app.new_certificate_no:
        return f"核发资质证书{app.new_certificate_no}（{app.target_label}），批准文号{app.approval_no}"
    return (
        f"资质证书{app.certificate_no or ''}已{KIND_LABELS[app.kind]}（{app.target_label}），批准文号{app.approval_no}"
    )
