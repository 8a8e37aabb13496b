"""Construction permit applications on Step Functions: apply, automated checks, completion, review, issue."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import BEIJING, beijing_today, utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import Principal, Role, in_region_scope, system_principal
from chalicelib.domain.permits import (
    LaterFinding,
    PermitApplication,
    PermitExtension,
    PermitState,
    TransitionRefused,
    after_issue_rules,
    article4_checks,
    check_extension_request,
    check_preconditions,
    decision_days,
    lapse_notice,
    lapses,
    pending_extension,
    permit_number,
    require,
    resume_needs_check,
    rules,
    seconds_until,
    splitting_flag,
    start_deadline,
    suspension_late,
)
from chalicelib.domain.records import RecordType
from chalicelib.domain.stages import price_flags, stage_gaps
from chalicelib.domain.workdays import WorkCalendar, file_calendar
from chalicelib.services.ports import RegistryRepository

WORKFLOW = system_principal("permit-workflow")


class PermitService:
    def __init__(
        self,
        store: Any,
        workflow: Any,
        registry: RegistryRepository,
        blobs: Any = None,
        *,
        verify_base_url: str = "",
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        timeouts: dict[str, int] | None = None,
        stages: Any = None,
        calendar: Callable[[], WorkCalendar] = file_calendar,
        national: Any = None,
    ):
        self.calendar = calendar  # the working-day calendar in force (data file + years loaded by the province)
        self.national = national  # the national platform: persons locked on other provinces' projects (None: not asked)
        self.stages = stages  # stage records (contract filings, drawing review, ...) read by the checks
        self.store = store
        self.blobs = blobs
        self.verify_base_url = verify_base_url
        self.workflow = workflow
        self.registry = registry
        self.clock = clock
        self.new_id = new_id
        self.timeouts = timeouts or {}  # seconds overrides (tests, demos)

    def _today(self) -> date:
        return beijing_today(self.clock())

    def _add_working_days(self, start: date, days: int, assumed: set[int]) -> date:
        """A statutory deadline; years counted without a holiday arrangement are collected in `assumed`."""
        counted = self.calendar().add(start, days)
        assumed.update(counted.assumed_years)
        return counted.day

    def _draft(self, app: PermitApplication, before: PermitApplication | None, action: AuditAction, note: str = ""):
        return AuditDraft(
            target_type="permit_application",
            target_id=app.application_id,
            action=action,
            target_region=app.region_code,
            target_owner=app.applicant_uscc,
            before=before.public_view() if before else None,
            after=app.public_view(),
            note=note or None,
        )

    # ---- applicant -----------------------------------------------------------------------------------------

    def apply(self, p: Principal, meta: RequestMeta, prj_num: str, fields: dict[str, Any]) -> PermitApplication:
        if p.role != Role.ENTERPRISE:
            raise Forbidden("施工许可由建设单位（或受托企业）申请")
        project = self.registry.get(RecordType.PROJECT, (prj_num,))
        if project is None or project.owner_uscc != p.uscc:
            raise NotFound("工程项目不存在")
        now = self.clock()
        app = PermitApplication(
            application_id=self.new_id(),
            prj_num=prj_num,
            region_code=project.region_code or "",
            project_name=getattr(project, "name", None),
            applicant_uscc=p.uscc or "",
            applied_on=self._today().isoformat(),
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            **fields,
        )
        assumed: set[int] = set()
        deadline = self._add_working_days(self._today(), decision_days(self._today()), assumed)
        app = app.model_copy(
            update={
                "decision_deadline": deadline.isoformat(),
                "clock_started_on": app.applied_on,
                "provisional_years": sorted(assumed),
            }
        )
        self.store.create(app, self._draft(app, None, AuditAction.PERMIT_APPLIED), p, meta)
        limits = {
            **self._review_limits(app),
            "completion_seconds": self.timeouts.get("completion", rules()["completion_window_days"] * 86400),
        }
        self.workflow.start(
            app.application_id, {"application_id": app.application_id, "limits": limits, "resume": "check"}
        )
        return app

    def _review_limits(self, app: PermitApplication) -> dict[str, int]:
        """Seconds until the statutory decision deadline (and the escalation's), from now: the clock (re)starts when
        the application is complete, with the number of working days in force on the application date."""
        now = self.clock().astimezone(BEIJING)
        assumed: set[int] = set()
        deadline = self._add_working_days(now.date(), decision_days(date.fromisoformat(app.applied_on)), assumed)
        escalation = self._add_working_days(deadline, rules()["escalation_working_days"], assumed)
        return {
            "review_seconds": self.timeouts.get("review", seconds_until(deadline, now)),
            "escalation_seconds": self.timeouts.get("escalation", seconds_until(escalation, now)),
        }

    def get(self, p: Principal, application_id: str) -> tuple[PermitApplication, dict[str, Any], dict[str, Any]]:
        """The application with its workflow progress (current step, history) and its progress as the procedure
        names it: business steps, the statutory deadline with the working days left, the parties by name."""
        app = self.load(p, application_id)
        return app, self.workflow.history(app.execution or application_id), self.progress(app)

    def progress(self, app: PermitApplication) -> dict[str, Any]:
        from chalicelib.domain.permits import business_steps

        today = self._today()
        deadline, kind = None, None
        if app.state in (PermitState.SUBMITTED, PermitState.UNDER_REVIEW, PermitState.ESCALATED):
            deadline, kind = app.decision_deadline, "作出许可决定"
        elif app.state == PermitState.INCOMPLETE:
            deadline, kind = None, "补正期间不计入审查期限"
        elif app.state == PermitState.ISSUED and not app.started_on:
            deadline, kind = app.start_deadline, "开工"
        left = None
        if deadline and kind == "作出许可决定":
            end = date.fromisoformat(deadline)
            cal = self.calendar()
            left = sum(1 for i in range(1, (end - today).days + 1) if cal.is_workday(today + timedelta(days=i)))
            if end < today:
                left = -sum(1 for i in range(0, (today - end).days) if cal.is_workday(end + timedelta(days=i + 1)))
        construction = self.registry.get(RecordType.ENTERPRISE, (app.construction_uscc,))
        applicant = self.registry.get(RecordType.ENTERPRISE, (app.applicant_uscc,))
        return {
            "steps": business_steps(app),
            "deadline": deadline,
            "deadline_for": kind,
            "working_days_left": left,
            "construction_name": getattr(construction, "name", None),
            "applicant_name": getattr(applicant, "name", None),
        }

    # ---- after a restart ---------------------------------------------------------------------------------------

    def recover_workflows(self, meta: RequestMeta) -> dict[str, int]:
        """Drive again every application whose workflow execution no longer runs (the local platform keeps no Step
        Functions executions across a restart; on AWS nothing is found missing). Each resumes at the step its
        record is in, with the statutory time that is left — a deadline that passed meanwhile times out at once —
        and the new execution's task token replaces the old one, so decisions and resubmissions work again."""
        counts = {"running": 0, "resumed": 0}
        for app in self.store.open_workflows():
            name = app.execution or app.application_id
            if self.workflow.running(name):
                counts["running"] += 1
                continue
            resume = self._resume_point(app)
            generation = int(name.rsplit("-r", 1)[1]) + 1 if "-r" in name else 1
            new_name = f"{app.application_id}-r{generation}"
            updated = app.model_copy(
                update={
                    "execution": new_name,
                    "task_token": None,
                    "version": app.version + 1,
                    "updated_at": self.clock().isoformat(),
                }
            )
            self.store.save(
                updated,
                app.version,
                self._draft(updated, app, AuditAction.PERMIT_WAITING, f"平台重启后恢复办理流程（{resume['resume']}）"),
                WORKFLOW,
                meta,
            )
            self.workflow.start(new_name, {"application_id": app.application_id, **resume})
            counts["resumed"] += 1
        return counts

    def _resume_point(self, app: PermitApplication) -> dict[str, Any]:
        now = self.clock().astimezone(BEIJING)
        completion = self.timeouts.get("completion", rules()["completion_window_days"] * 86400)
        waited = int((self.clock() - datetime.fromisoformat(app.updated_at)).total_seconds())
        limits = {"completion_seconds": max(60, completion - max(0, waited))}
        if app.state == PermitState.INCOMPLETE:
            return {"resume": "await_completion", "limits": limits}
        if app.state in (PermitState.UNDER_REVIEW, PermitState.ESCALATED):
            if app.decided_by and app.task_step is None:
                return {"resume": "issue", "limits": limits}  # approved, not yet issued
            deadline = date.fromisoformat(app.decision_deadline) if app.decision_deadline else now.date()
            escalation = self.calendar().add(deadline, rules()["escalation_working_days"]).day
            check = {
                "limits": {
                    "review_seconds": self.timeouts.get("review", seconds_until(deadline, now)),
                    "escalation_seconds": self.timeouts.get("escalation", seconds_until(escalation, now)),
                }
            }
            level = "escalated" if app.state == PermitState.ESCALATED else "review"
            return {"resume": level, "limits": limits, "check": check}
        return {"resume": "check", "limits": limits}

    def load(self, p: Principal, application_id: str) -> PermitApplication:
        """The application, if this principal may see it (enterprise: its own; officials: their region)."""
        app = self.store.get(application_id)
        if app is None:
            raise NotFound("施工许可申请不存在")
        if not (
            (p.role == Role.ENTERPRISE and p.uscc == app.applicant_uscc)
            or (p.is_official and in_region_scope(p, app.region_code))
        ):
            raise NotFound("施工许可申请不存在")
        return app

    def resubmit(
        self, p: Principal, meta: RequestMeta, application_id: str, *, version: int, changes: dict[str, Any]
    ) -> PermitApplication:
        """补正后重新提交: only while the workflow waits for completion; the checks run again."""
        app = self.load(p, application_id)
        if p.role != Role.ENTERPRISE:
            raise Forbidden()
        if app.version != version:
            raise Conflict("申请已被修改，请刷新后重试")
        if app.state != PermitState.INCOMPLETE or app.task_step != "await_completion" or not app.task_token:
            raise Conflict("当前状态不能补正重新提交")
        allowed = {
            "safety_persons",
            "construction_uscc",
            "supervision_uscc",
            "project_manager",
            "chief_engineer",
            "contract_price",
            "area",
            "exempt_reason",
            "contract_start",
            "contract_end",
            "land_use_exempt_reason",
            "planning_exempt_reason",
            "site_ready",
            "funds_committed",
            "funds_in_place",
            "remarks",
        }
        if set(changes) - allowed:
            raise InvalidInput(f"不能修改：{'、'.join(sorted(set(changes) - allowed))}")
        token = app.task_token
        updated = app.model_copy(
            update={
                **changes,
                "state": PermitState.SUBMITTED,
                "task_token": None,
                "task_step": None,
                "clock_started_on": self._today().isoformat(),
                "version": app.version + 1,
                "updated_at": self.clock().isoformat(),
            }
        )
        updated = PermitApplication.model_validate(updated.model_dump())
        self.store.save(updated, app.version, self._draft(updated, app, AuditAction.PERMIT_RESUBMITTED), p, meta)
        self.workflow.succeed(token, {"resubmitted": True})
        return updated

    # ---- officials -------------------------------------------------------------------------------------------

    def decide(
        self, p: Principal, meta: RequestMeta, application_id: str, *, version: int, approved: bool, reason: str
    ) -> PermitApplication:
        app = self.load(p, application_id)
        if not p.is_official or p.role == Role.PROVINCE_ADMIN:
            raise Forbidden("只有主管部门可以作出许可决定")
        if app.state not in (PermitState.UNDER_REVIEW, PermitState.ESCALATED) or not app.task_token:
            raise Conflict("当前状态不能作出许可决定")
        if app.review_level == "city" and p.role == Role.COUNTY_OFFICIAL:
            raise Forbidden("已逾期，由市级主管部门决定")
        if app.version != version:
            raise Conflict("申请已被修改，请刷新后重试")
        token = app.task_token
        updated = app.model_copy(
            update={
                "state": app.state if approved else PermitState.REJECTED,
                "task_token": None,
                "task_step": None,
                "decided_by": p.display_name or p.username,
                "decision_reason": reason,
                "version": app.version + 1,
                "updated_at": self.clock().isoformat(),
            }
        )
        self.store.save(
            updated,
            app.version,
            self._draft(updated, app, AuditAction.PERMIT_DECIDED, f"{'准予' if approved else '不予'}许可：{reason}"),
            p,
            meta,
        )
        self.workflow.succeed(token, {"approved": approved, "reason": reason})
        return updated

    # ---- workflow steps (SQS handler) -----------------------------------------------------------------------

    def handle_task(self, task: dict[str, Any], meta: RequestMeta) -> None:
        app = self.store.get(task["application_id"])
        if app is None:
            raise NotFound(f"施工许可申请{task['application_id']}不存在")
        step = task["task"]
        if step == "check":
            self._check(app, task["token"], meta)
        elif step == "await_completion":
            self._park(app, task["token"], "await_completion", PermitState.INCOMPLETE, None, meta)
        elif step == "review":
            state = PermitState.ESCALATED if task.get("level") == "city" else PermitState.UNDER_REVIEW
            self._park(app, task["token"], "review", state, task.get("level"), meta)
        elif step == "issue":
            self._issue(app, task["token"], meta)
        else:
            raise InvalidInput(f"未知的流程步骤{step}")

    def _records(self, app: PermitApplication) -> dict[str, Any]:
        get = self.registry.get
        return {
            "project": get(RecordType.PROJECT, (app.prj_num,)),
            "construction": get(RecordType.ENTERPRISE, (app.construction_uscc,)),
            "manager": get(RecordType.PERSON, (app.project_manager, app.construction_uscc)),
            "supervision": get(RecordType.ENTERPRISE, (app.supervision_uscc,)) if app.supervision_uscc else None,
            "chief": get(RecordType.PERSON, (app.chief_engineer, app.supervision_uscc or ""))
            if app.chief_engineer
            else None,
        }

    def _contract_parties(self, app: PermitApplication) -> dict[str, tuple[str | None, str | None]]:
        """勘察单位 and 设计单位 (name, project leader) from the project's confirmed contract filings, first filed first."""
        from chalicelib.domain.stages import ContractFiling, StageState

        parties: dict[str, tuple[str | None, str | None]] = {"survey": (None, None), "design": (None, None)}
        for st in self.stages.for_project(app.prj_num) if self.stages is not None else []:
            d = st.data
            first = isinstance(d, ContractFiling) and d.contract_type in parties and parties[d.contract_type][0] is None
            if st.state == StageState.CONFIRMED and first:
                ent = self.registry.get(RecordType.ENTERPRISE, (d.contractor_uscc,))
                parties[d.contract_type] = (getattr(ent, "name", None) or d.contractor_name, d.leader_name)
        return parties

    def _locked_elsewhere(self, records: dict[str, Any]) -> list[str]:
        """The project manager and the chief supervision engineer checked against the national platform's
        in-progress projects: a lock in another province blocks the permit, and so does a query that got no answer
        (nothing is issued on an unchecked person; the applicant resubmits)."""
        if self.national is None:
            return []
        from chalicelib.services.ports import NationalUnavailable

        out = []
        for role, person in (("项目经理", records.get("manager")), ("总监理工程师", records.get("chief"))):
            if person is None or not getattr(person, "id_no", None):
                continue
            try:
                lock = self.national.person_lock(person.id_no)
            except NationalUnavailable:
                out.append(f"全国平台暂时无法查询，未能核查{role}在外省的在建项目锁定，请稍后重新提交")
                continue
            if lock and lock.get("province_code") != "330000":
                out.append(
                    f"{role}{person.name}已被{lock.get('province_name', '外省')}在建项目{lock.get('prj_num', '')}"
                    f"（{lock.get('prj_name', '')}）锁定，该项目竣工验收前不能在本项目担任{role}"
                )
        return out

    def _check(self, app: PermitApplication, token: str, meta: RequestMeta) -> None:
        today = self._today()
        records = self._records(app)
        safety = [self.registry.get(RecordType.PERSON, (key, app.construction_uscc)) for key in app.safety_persons]
        missing = check_preconditions(
            app,
            **records,
            manager_locked_by=self.store.lock_holder(app.project_manager),
            on=today,
            safety=safety,
        )
        missing += self._locked_elsewhere(records)
        flags: list[str] = []
        gaps: dict[str, list[str]] = {"第四条（四）": list(missing), "第四条（五）": [], "第四条（六）": []}
        if self.stages is not None:
            stages = self.stages.for_project(app.prj_num)
            flags += price_flags(stages, construction_uscc=app.construction_uscc, contract_price=app.contract_price)
            for gap in stage_gaps(
                stages,
                construction_uscc=app.construction_uscc,
                supervision_uscc=app.supervision_uscc,
                required_contracts=rules()["required_contracts"],
                on=today,
            ):
                item = (
                    "第四条（五）"
                    if "施工图审查" in gap
                    else "第四条（六）"
                    if "质量安全监督" in gap
                    else "第四条（四）"
                )
                gaps[item].append(gap)
                missing.append(gap)
        checks = article4_checks(app, project=records["project"], on=today, other_gaps=gaps)
        covered = {"第四条（四）", "第四条（五）", "第四条（六）"}
        missing += [c.detail for c in checks if not c.ok and c.item not in covered]
        state = PermitState.SUBMITTED if not missing else PermitState.INCOMPLETE
        flag = splitting_flag(app, self._related(app, records["project"], today), today)
        flags += [flag] if flag else []
        clock: dict[str, Any]
        assumed: set[int] = set()
        if missing and not app.notice_issued_on:
            # 一次性告知: one notice listing everything missing, on the spot (the statutory limit is 5 working days)
            clock = {
                "notice_issued_on": today.isoformat(),
                "notice_items": list(missing),
                "notice_due_by": self._add_working_days(
                    date.fromisoformat(app.clock_started_on or app.applied_on),
                    rules()["incomplete_notice_working_days"],
                    assumed,
                ).isoformat(),
            }
        elif missing:
            # The notice was given once and stays as it was. What the applicant has not supplied is still in it; what
            # is new (the facts changed since: a licence expired, a record was reopened) is recorded as a documented
            # exception with the day it was found, never as a second notice.
            known = set(app.notice_items) | {f.item for f in app.later_findings}
            clock = {
                "later_findings": [
                    *app.later_findings,
                    *(LaterFinding(found_on=today.isoformat(), item=m) for m in missing if m not in known),
                ]
            }
        else:
            # complete: the statutory decision clock starts (again) today
            days = decision_days(date.fromisoformat(app.applied_on))
            clock = {
                "clock_started_on": today.isoformat(),
                "decision_deadline": self._add_working_days(today, days, assumed).isoformat(),
            }
        if "decision_deadline" in clock or "notice_due_by" in clock:  # a deadline was (re)computed
            clock["provisional_years"] = sorted(assumed)
        updated = app.model_copy(
            update={
                "missing": missing,
                "checks": checks,
                "flags": flags,
                "state": state,
                **clock,
                "version": app.version + 1,
                "updated_at": self.clock().isoformat(),
            }
        )
        self.store.save(
            updated,
            app.version,
            self._draft(updated, app, AuditAction.PERMIT_CHECKED, "；".join(missing) or "条件齐备"),
            WORKFLOW,
            meta,
        )
        self.workflow.succeed(token, {"ok": not missing, "missing": missing, "limits": self._review_limits(updated)})

    def _related(self, app: PermitApplication, project: Any, today: date) -> list[PermitApplication]:
        """The applicant's applications of the last 12 months for the same project or the same site (address)."""
        since = date(today.year - 1, today.month, min(today.day, 28)).isoformat()
        candidates = [
            a for a in self.store.by_applicant(app.applicant_uscc, since) if a.application_id != app.application_id
        ]
        if not candidates:
            return []
        here = getattr(project, "address", None)
        related = []
        for other in candidates:
            if other.prj_num == app.prj_num or (
                here and getattr(self.registry.get(RecordType.PROJECT, (other.prj_num,)), "address", None) == here
            ):
                related.append(other)
        return related

    def _park(
        self, app: PermitApplication, token: str, step: str, state: PermitState, level: str | None, meta: RequestMeta
    ) -> None:
        """A human step: keep its token on our side (never mailed, never returned) until the person acts."""
        if app.task_token == token:
            return  # a redelivered message
        updated = app.model_copy(
            update={
                "task_token": token,
                "task_step": step,
                "state": state,
                "review_level": level or app.review_level,
                "version": app.version + 1,
                "updated_at": self.clock().isoformat(),
            }
        )
        self.store.save(
            updated, app.version, self._draft(updated, app, AuditAction.PERMIT_WAITING, step), WORKFLOW, meta
        )

    def _issue(self, app: PermitApplication, token: str, meta: RequestMeta) -> None:
        if app.state == PermitState.ISSUED:
            self.workflow.succeed(token, {"ok": True, "permit_no": app.permit_no})
            return
        today = self._today()
        number = permit_number(
            app.region_code, today, self.store.next_sequence(app.region_code, today.strftime("%Y%m%d"))
        )
        persons = [app.project_manager] + ([app.chief_engineer] if app.chief_engineer else [])
        issued = app.model_copy(
            update={
                "state": PermitState.ISSUED,
                "permit_no": number,
                "issued_on": today.isoformat(),
                "start_deadline": start_deadline(today, []).isoformat(),
                "verification_id": secrets.token_urlsafe(18),
                "version": app.version + 1,
                "updated_at": self.clock().isoformat(),
            }
        )
        try:
            self.store.save(
                issued,
                app.version,
                self._draft(issued, app, AuditAction.PERMIT_ISSUED, number),
                WORKFLOW,
                meta,
                lock_persons=persons,
            )
        except Conflict:
            # A person lock was taken by another project in the meantime: back to the applicant, nothing issued.
            missing = ["项目经理或总监理工程师已被其他在建项目锁定，请更换人员后重新提交"]
            blocked = app.model_copy(
                update={
                    "missing": missing,
                    "later_findings": [
                        *app.later_findings,
                        LaterFinding(found_on=self._today().isoformat(), item=missing[0]),
                    ],
                    "state": PermitState.INCOMPLETE,
                    "version": app.version + 1,
                    "updated_at": self.clock().isoformat(),
                }
            )
            self.store.save(
                blocked, app.version, self._draft(blocked, app, AuditAction.PERMIT_CHECKED, missing[0]), WORKFLOW, meta
            )
            self.workflow.succeed(token, {"ok": False, "missing": missing})
            return
        self.workflow.succeed(token, {"ok": True, "permit_no": number})


class PermitDocuments:
    """Printing the certificate, completion filing, and the public verification of a permit."""

    def __init__(self, service: PermitService, licences: Any = None):
        self.s = service
        self.licences = licences  # LicenceService: the issuing authority's electronic seal (电子证照)

    def certificate(self, p: Principal, meta: RequestMeta, application_id: str, *, copy: str) -> dict[str, Any]:
        """Print 正本 or 副本; every print is audited and every print after the first is marked as a reprint."""
        app = self.s.load(p, application_id)
        if app.state not in (PermitState.ISSUED, PermitState.SUSPENDED, PermitState.COMPLETED) or not app.permit_no:
            raise Conflict("施工许可证尚未核发或已废止，不能打印")
        if copy not in ("正本", "副本"):
            raise InvalidInput("copy 应为 正本 或 副本")
        from chalicelib.domain.certificate import render_permit
        from chalicelib.domain.elicence import licence_id
        from chalicelib.domain.labels import authority_name

        r = self.s._records(app)
        project, construction, manager = r["project"], r["construction"], r["manager"]
        supervision, chief = r["supervision"], r["chief"]
        parties = self.s._contract_parties(app)
        period = (
            f"{_cn_day(app.contract_start)}至{_cn_day(app.contract_end)}"
            if app.contract_start and app.contract_end
            else None
        )
        fields = {
            "permit_no": app.permit_no,
            "project_name": app.project_name,
            "prj_num": app.prj_num,
            "address": getattr(project, "address", None),
            "build_unit": getattr(project, "build_corp_name", None),
            "scale": f"{app.area}平方米",
            "contract_price": str(app.contract_price),
            "construction_unit": getattr(construction, "name", None),
            "project_manager": getattr(manager, "name", None),
            "supervision_unit": getattr(supervision, "name", None),
            "chief_engineer": getattr(chief, "name", None),
            "survey_unit": parties["survey"][0],
            "survey_leader": parties["survey"][1],
            "design_unit": parties["design"][0],
            "design_leader": parties["design"][1],
            "contract_period": period,
            "remarks": app.remarks,
            "issuer": authority_name(app.region_code),
            "issued_on": app.issued_on,
            "start_deadline": app.start_deadline,
            "edition": app.cert_version,
            "verification_id": app.verification_id,
            "licence_id": licence_id(app.region_code, app.permit_no, app.cert_version),
        }
        # The QR code opens the public verification page of the web UI, which asks /public/permits/verify.
        url = f"{self.s.verify_base_url}/ui/#/public/verify?vid={app.verification_id}"
        pdf, seal_box = render_permit(fields, copy=copy, verify_url=url, reprint=app.prints)
        if self.licences is not None:  # sealed by the issuing authority: the file is the electronic licence
            pdf = self.licences.seal(pdf, region=app.region_code, authority=fields["issuer"], box=seal_box)
        key = f"exports/permits/{app.application_id}/v{app.cert_version}-{app.prints + 1}-{copy}.pdf"
        self.s.blobs.put(key, pdf, "application/pdf")
        printed = app.model_copy(
            update={"prints": app.prints + 1, "version": app.version + 1, "updated_at": self.s.clock().isoformat()}
        )
        note = f"打印{copy}" + (f"（补打第{app.prints}次）" if app.prints else "")
        self.s.store.save(printed, app.version, self.s._draft(printed, app, AuditAction.PERMIT_PRINTED, note), p, meta)
        return {
            "url": self.s.blobs.presign_get(key, f"施工许可证-{app.permit_no}-{copy}.pdf", 900),
            "reprint": app.prints > 0,
            "permit_no": app.permit_no,
            "licence_id": fields["licence_id"],
        }

    def notice(self, p: Principal, application_id: str) -> dict[str, Any]:
        """The printable one-time notice of everything missing (补正材料一次性告知书), while the application waits for it."""
        app = self.s.load(p, application_id)
        if app.state != PermitState.INCOMPLETE or not app.missing or not app.notice_issued_on:
            raise Conflict("该申请当前没有需要补正的材料")
        from chalicelib.domain.certificate import render_notice_pdf
        from chalicelib.domain.labels import authority_name

        applicant = self.s.registry.get(RecordType.ENTERPRISE, (app.applicant_uscc,))
        pdf = render_notice_pdf(
            {
                "applicant": getattr(applicant, "name", None) or app.applicant_uscc,
                "project_name": app.project_name,
                "prj_num": app.prj_num,
                "application_id": app.application_id,
                "applied_on": app.applied_on,
                "issued_on": app.notice_issued_on,
                "due_by": app.notice_due_by,
                "missing": app.notice_items or app.missing,
                "later_findings": [f.model_dump() for f in app.later_findings],
                "issuer": authority_name(app.region_code),
            }
        )
        key = f"exports/permits/{app.application_id}/notice-v{app.version}.pdf"
        self.s.blobs.put(key, pdf, "application/pdf")
        return {
            "url": self.s.blobs.presign_get(key, f"补正告知书-{app.prj_num}.pdf", 900),
            "missing": app.notice_items or app.missing,
            "later_findings": [f.model_dump() for f in app.later_findings],
        }

    def complete(
        self,
        p: Principal,
        meta: RequestMeta,
        application_id: str,
        *,
        version: int,
        completion_no: str,
        completed_on: date,
        details: Any = None,
    ) -> PermitApplication:
        """竣工验收备案: the project is closed and the project manager and chief engineer are free again."""
        app = self.s.load(p, application_id)
        if p.role != Role.ENTERPRISE:
            raise Forbidden("竣工验收备案由建设单位（或受托企业）办理")
        if app.state != PermitState.ISSUED:
            raise Conflict("只有已发证且未中止施工的项目可以办理竣工验收备案")
        if app.version != version:
            raise Conflict("申请已被修改，请刷新后重试")
        done = app.model_copy(
            update={
                "state": PermitState.COMPLETED,
                "completion_no": completion_no,
                "completed_on": completed_on.isoformat(),
                "completion": details,
                "version": app.version + 1,
                "updated_at": self.s.clock().isoformat(),
            }
        )
        persons = [app.project_manager] + ([app.chief_engineer] if app.chief_engineer else [])
        self.s.store.release_locks(
            done, app.version, self.s._draft(done, app, AuditAction.PERMIT_COMPLETED, completion_no), p, meta, persons
        )
        return done

    def verify(self, *, vid: str | None, permit_no: str | None) -> dict[str, Any]:
        if not vid and not permit_no:
            raise InvalidInput("请提供核验码（vid）或施工许可证编号（permit_no）")
        app = self.s.store.resolve("PVERIFY", vid) if vid else self.s.store.resolve("PERMITNO", permit_no or "")
        status = {
            PermitState.ISSUED: "有效",
            PermitState.SUSPENDED: "有效（中止施工）",
            PermitState.COMPLETED: "已竣工验收备案",
            PermitState.LAPSED: "已废止",
        }
        if app is None or app.state not in status:
            raise NotFound("未找到该施工许可证")
        return {
            "permit_no": app.permit_no,
            "prj_num": app.prj_num,
            "project_name": app.project_name,
            "construction_uscc": app.construction_uscc,
            "issued_on": app.issued_on,
            "region_code": app.region_code,
            "status": status[app.state],
            "start_deadline": app.start_deadline,
            "started_on": app.started_on,
            "certificate_version": app.cert_version,
        }


class PermitAfterIssue:
    """After issue (令第18号 第八条至第十条): start report, extensions (re-issuing the certificate as a new version),
    suspension and resumption, and the daily lapse of permits not started in time."""

    def __init__(self, service: PermitService):
        self.s = service

    def _load(self, p: Principal, application_id: str, version: int) -> PermitApplication:
        app = self.s.load(p, application_id)
        if app.version != version:
            raise Conflict("申请已被修改，请刷新后重试")
        return app

    def _save(self, p, meta, app, changes, action: AuditAction, note: str, *, release: bool = False):
        updated = app.model_copy(
            update={**changes, "version": app.version + 1, "updated_at": self.s.clock().isoformat()}
        )
        draft = self.s._draft(updated, app, action, note)
        if release:
            persons = [app.project_manager] + ([app.chief_engineer] if app.chief_engineer else [])
            self.s.store.release_locks(updated, app.version, draft, p, meta, persons)
        else:
            self.s.store.save(updated, app.version, draft, p, meta)
        return updated

    @staticmethod
    def _applicant(p: Principal, what: str) -> None:
        if p.role != Role.ENTERPRISE:
            raise Forbidden(f"{what}由建设单位办理")

    @staticmethod
    def _authority(p: Principal, what: str) -> None:
        if not p.is_official or p.role == Role.PROVINCE_ADMIN:
            raise Forbidden(f"{what}由发证机关办理")

    def report_start(self, p, meta, application_id: str, *, version: int, started_on: date) -> PermitApplication:
        self._applicant(p, "开工报告")
        app = self._load(p, application_id, version)
        target = _refuse(require, app, "start")
        if app.started_on:
            raise Conflict("已报告开工")
        if started_on > self.s._today():
            raise InvalidInput("开工日期不能晚于今天")
        if app.issued_on and started_on < date.fromisoformat(app.issued_on):
            raise InvalidInput("开工日期不能早于发证日期（未取得施工许可证擅自施工属违法建设）")
        if app.start_deadline and started_on > date.fromisoformat(app.start_deadline):
            raise InvalidInput(f"开工日期晚于开工期限（{app.start_deadline}）")
        return self._save(
            p,
            meta,
            app,
            {"state": target, "started_on": started_on.isoformat()},
            AuditAction.PERMIT_STARTED,
            started_on.isoformat(),
        )

    def request_extension(self, p, meta, application_id: str, *, version: int, months: int, reason: str):
        self._applicant(p, "延期申请")
        app = self._load(p, application_id, version)
        _refuse(check_extension_request, app, months, self.s._today())
        ext = PermitExtension(months=months, reason=reason, requested_on=self.s._today().isoformat())
        return self._save(
            p,
            meta,
            app,
            {"extensions": [*app.extensions, ext]},
            AuditAction.PERMIT_EXTENSION_REQUESTED,
            f"申请延期{months}个月：{reason}",
        )

    def decide_extension(self, p, meta, application_id: str, *, version: int, approved: bool, reason: str):
        """Approval moves the start deadline and re-issues the certificate as a new version (版次)."""
        self._authority(p, "延期审核")
        app = self._load(p, application_id, version)
        ext = pending_extension(app)
        if ext is None:
            raise Conflict("没有待审核的延期申请")
        decided = ext.model_copy(
            update={
                "approved": approved,
                "decided_by": p.display_name or p.username,
                "decided_on": self.s._today().isoformat(),
                "decision_reason": reason,
            }
        )
        extensions = [decided if e is ext else e for e in app.extensions]
        changes: dict[str, Any] = {"extensions": extensions}
        if approved:
            months = [e.months for e in extensions if e.approved]
            changes["start_deadline"] = start_deadline(date.fromisoformat(app.issued_on or ""), months).isoformat()
            changes["cert_version"] = app.cert_version + 1
            changes["prints"] = 0  # the new version is printed afresh; earlier prints stay in the audit trail
        note = f"{'批准' if approved else '不予'}延期{ext.months}个月：{reason}"
        return self._save(p, meta, app, changes, AuditAction.PERMIT_EXTENSION_DECIDED, note)

    def suspend(self, p, meta, application_id: str, *, version: int, stopped_on: date, reason: str):
        self._applicant(p, "中止施工报告")
        app = self._load(p, application_id, version)
        target = _refuse(require, app, "suspend")
        if not app.started_on:
            raise Conflict("工程尚未开工，不能报告中止施工")
        today = self.s._today()
        if stopped_on > today or stopped_on < date.fromisoformat(app.started_on):
            raise InvalidInput("中止施工日期应在开工日期与今天之间")
        late = suspension_late(stopped_on, today)
        return self._save(
            p,
            meta,
            app,
            {
                "state": target,
                "suspended_on": stopped_on.isoformat(),
                "suspension_reason": reason,
                "suspension_reported_late": late,
                "resumed_on": None,
                "resume_checked_by": None,
            },
            AuditAction.PERMIT_SUSPENDED,
            f"中止施工：{reason}" + ("（超过一个月报告）" if late else ""),
        )

    def resume(self, p, meta, application_id: str, *, version: int, resumed_on: date):
        """恢复施工: reported by the applicant; after a year or more, only the authority's check (核验) resumes it."""
        app = self._load(p, application_id, version)
        target = _refuse(require, app, "resume")
        suspended = date.fromisoformat(app.suspended_on or app.issued_on or "")
        if resumed_on < suspended or resumed_on > self.s._today():
            raise InvalidInput("恢复施工日期应在中止施工日期与今天之间")
        check = resume_needs_check(suspended, resumed_on)
        if p.role == Role.ENTERPRISE:
            if check:
                raise Conflict("中止施工满一年，恢复施工前应当报发证机关核验施工许可证")
        else:
            self._authority(p, "恢复施工核验")
        return self._save(
            p,
            meta,
            app,
            {
                "state": target,
                "resumed_on": resumed_on.isoformat(),
                "resume_checked_by": None if p.role == Role.ENTERPRISE else (p.display_name or p.username),
            },
            AuditAction.PERMIT_RESUMED,
            "恢复施工" + ("（经发证机关核验）" if p.role != Role.ENTERPRISE else ""),
        )

    def lapse_overdue(self, meta: RequestMeta) -> int:
        """Daily: permits not started by their deadline lapse (自行废止), once; their person locks are released and
        the applicant gets one notice. A rerun finds them no longer ISSUED and does nothing."""
        today = self.s._today()
        count = 0
        for app in self.s.store.start_overdue(today, int(after_issue_rules()["lapse_lookback_months"])):
            if not lapses(app, today):
                continue
            notice = lapse_notice(app)
            try:
                self._save(
                    WORKFLOW,
                    meta,
                    app,
                    {"state": PermitState.LAPSED, "lapsed_on": today.isoformat(), "lapse_notice": notice},
                    AuditAction.PERMIT_LAPSED,
                    notice,
                    release=True,
                )
            except Conflict:
                continue  # changed meanwhile (a start report, an extension): the next run looks again
            count += 1
        return count


def _refuse(fn, *args):
    try:
        return fn(*args)
    except TransitionRefused as exc:
        raise Conflict(str(exc)) from None


def _cn_day(d: date | str | None) -> str:
    raw = d.isoformat() if isinstance(d, date) else str(d or "")
    return f"{int(raw[:4])}年{int(raw[5:7])}月{int(raw[8:10])}日" if len(raw) >= 10 else raw
