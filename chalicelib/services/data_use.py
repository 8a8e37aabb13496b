"""The registries as the source of truth for other regulatory work: qualification data review, award eligibility
and grants, and verification answers for tender supervision (招投标监管以平台确认信息为准). Every answer is audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from chalicelib.domain import codetables, data_use
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import beijing_today, utcnow
from chalicelib.domain.completeness import completeness
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import OFFICIAL_ROLES, Principal, Role, can_see, require_role
from chalicelib.domain.national import mask_id
from chalicelib.domain.records import RecordState, RecordType

VERIFIERS = (Role.TENDER_SUPERVISION, *OFFICIAL_ROLES)


class DataUseService:
    def __init__(
        self,
        registry: Any,
        permits: Any,
        stages: Any,
        credit_store: Any,
        credit_service: Any,
        audit: Any,
        *,
        person_key: Callable[[str, str], str],
        clock: Callable[[], datetime] | None = None,
    ):
        self.registry = registry
        self.permits = permits
        self.stages = stages
        self.credit_store = credit_store
        self.credit = credit_service
        self.audit = audit
        self.person_key = person_key
        self.clock = clock or utcnow

    def today(self) -> date:
        return beijing_today(self.clock())

    # ---- 资质申请平台数据审查 ---------------------------------------------------------------------------------------

    def qualification_review(self, p: Principal, meta: RequestMeta, uscc: str, kind: str, target: str) -> dict:
        """The data review report of a qualification application; refused (400, every reason listed) when the
        platform's data cannot support the application at all."""
        if p.role == Role.ENTERPRISE:
            if p.uscc != uscc:
                raise NotFound()
        else:
            require_role(p, *OFFICIAL_ROLES)
        e = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        if e is not None and not can_see(p, owner_uscc=e.owner_uscc or e.uscc, region_code=e.region_code):
            raise NotFound()
        on = self.today()
        missing = [m.label for m in completeness(e).missing] if e is not None else []
        gaps = data_use.application_gaps(e, kind, target, missing, on)
        if gaps:
            raise InvalidInput("平台数据不足，申请不予受理：" + "；".join(gaps), details=[{"reason": g} for g in gaps])
        reqs = self.requirements(e, target, on)
        report = {
            "uscc": uscc,
            "enterprise_name": e.name,
            "kind": kind,
            "kind_label": data_use.qualification_rules()["kinds"][kind],
            "target": target,
            "target_label": codetables.qualification_codes().name(target),
            "reviewed_on": on.isoformat(),
            "standard": data_use.qualification_rules()["source"],
            "met": all(r.met for r in reqs),
            "requirements": [asdict(r) for r in reqs],
        }
        self.audit.record(
            AuditDraft(
                target_type="enterprise",
                target_id=uscc,
                action=AuditAction.QUALIFICATION_REVIEWED,
                target_region=e.region_code,
                target_owner=uscc,
                after={
                    "target": target,
                    "kind": kind,
                    "met": report["met"],
                    "unmet": [r.key for r in reqs if not r.met],
                },
            ),
            p,
            meta,
        )
        return report

    def requirements(self, e: Any, target: str, on: date) -> list[data_use.Requirement]:
        """The target's requirements checked against the platform's confirmed data of the enterprise `e`."""
        uscc = e.uscc
        persons = self._all(lambda c: self.registry.list_by_owner(RecordType.PERSON, uscc, limit=200, cursor=c))
        return data_use.review_qualification(
            e, target, persons, self._achievements(uscc), self.bad_records(uscc, on), on
        )

    def bad_records(self, uscc: str, on: date) -> list[dict[str, Any]]:
        """The enterprise's bad-behaviour records within their publication period."""
        return [
            {
                "credit_id": c.credit_id,
                "behaviour_code": c.behaviour_code,
                "content": c.content,
                "publish_end": c.publish_end,
            }
            for c in self._all(lambda cur: self.credit_store.credits_of_owner(uscc, on, limit=100, cursor=cur))
            if str(c.kind) == "BAD"
        ]

    def _achievements(self, uscc: str) -> list[dict[str, Any]]:
        out = []
        for app in self.permits.by_builder(uscc):
            if str(app.state) != "COMPLETED" or not app.completed_on:
                continue
            project = self.registry.get(RecordType.PROJECT, (app.prj_num,))
            if project is None or project.state != RecordState.CONFIRMED:
                continue  # only confirmed platform projects count as 业绩
            out.append(
                {
                    "prj_num": app.prj_num,
                    "name": project.name,
                    "category": project.category,
                    "permit_no": app.permit_no,
                    "completion_no": app.completion_no,
                    "completed_on": app.completed_on,
                    "area": float(app.area),
                    "contract_price": float(app.contract_price),
                }
            )
        return out

    @staticmethod
    def _all(fetch: Callable[[dict | None], Any]) -> list[Any]:
        items, cursor = [], None
        while True:
            page = fetch(cursor)
            items.extend(page.items)
            cursor = page.cursor
            if not cursor:
                return items

    # ---- 评优评先 ------------------------------------------------------------------------------------------------

    def award_eligibility(self, p: Principal, prj_num: str, award: str) -> dict[str, Any]:
        project = self.registry.get(RecordType.PROJECT, (prj_num,))
        if project is not None and not can_see(p, owner_uscc=project.owner_uscc, region_code=project.region_code):
            raise NotFound()
        if project is None and p.role == Role.ENTERPRISE:
            raise NotFound()
        stages = self.stages.for_project(prj_num) if project else []
        permits = self.permits.for_project(prj_num) if project else []
        gaps = data_use.award_gaps(award, project, stages, permits)
        rule = data_use.award_rules()["awards"].get(award, {})
        return {
            "prj_num": prj_num,
            "award": award,
            "award_label": rule.get("label"),
            "eligible": not gaps,
            "missing": gaps,
        }

    def grant_award(
        self, p: Principal, meta: RequestMeta, prj_num: str, award: str, uscc: str, granted_on: date, document_no: str
    ) -> Any:
        """A granted award becomes a good-behaviour credit record of the winning enterprise (audited there)."""
        if p.role not in (Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL):
            raise Forbidden("奖项由省、设区市主管部门认定")
        check = self.award_eligibility(p, prj_num, award)
        if not check["eligible"]:
            raise InvalidInput(
                "项目不符合申报条件：" + "；".join(check["missing"]), details=[{"reason": g} for g in check["missing"]]
            )
        builders = {a.construction_uscc for a in self.permits.for_project(prj_num)}
        if uscc not in builders:
            raise InvalidInput("获奖企业应为该项目的施工单位", details=[{"field": "uscc"}])
        return self.credit.enter(
            p,
            meta,
            uscc=uscc,
            behaviour_code=award,
            content=f"{check['award_label']}：项目{prj_num}（{document_no}）",
            happened_on=granted_on,
            publish_months=None,
            penalty_number=None,
            penalty_department=None,
            penalty_date=None,
            penalty_end=None,
            penalty_amount=None,
            basis=document_no,
            project_num=prj_num,
        )

    # ---- 招投标监管核验 --------------------------------------------------------------------------------------------

    def _answered(self, p: Principal, meta: RequestMeta, what: str, subject: str, answer: dict[str, Any]) -> dict:
        self.audit.record(
            AuditDraft(
                target_type="verification",
                target_id=f"{what}:{subject}",
                action=AuditAction.VERIFICATION_ANSWERED,
                after={k: v for k, v in answer.items() if k not in ("employers", "qualifications")},
            ),
            p,
            meta,
        )
        return answer

    def verify_enterprise(self, p: Principal, meta: RequestMeta, uscc: str, code: str | None) -> dict[str, Any]:
        require_role(p, *VERIFIERS)
        on = self.today()
        e = self.registry.get(RecordType.ENTERPRISE, (uscc,))
        confirmed = e is not None and e.state == RecordState.CONFIRMED
        answer: dict[str, Any] = {"uscc": uscc, "checked_on": on.isoformat(), "confirmed": confirmed}
        if not confirmed:
            answer["note"] = "企业未经主管部门确认，平台不作核验结论"
            return self._answered(p, meta, "enterprise", uscc, answer)
        held = sorted(data_use.held_codes(e, on))
        answer["name"] = e.name
        answer["qualifications"] = [{"code": c, "name": codetables.qualification_codes().name(c)} for c in held]
        if code:
            answer["covers"] = _covers(held, code)
        lic = e.safety_licence
        answer["safety_licence_valid"] = bool(
            lic and lic.licence_no and (lic.valid_until is None or lic.valid_until >= on)
        )
        answer["blacklisted"] = bool(self.credit_store.blacklist_of(uscc, on))
        return self._answered(p, meta, "enterprise", uscc, answer)

    def verify_person(self, p: Principal, meta: RequestMeta, id_type: str, id_no: str) -> dict[str, Any]:
        require_role(p, *VERIFIERS)
        key = self.person_key(id_type, id_no)
        records = [r for r in self.registry.person_partition(key) if r.state == RecordState.CONFIRMED]
        holder = self.permits.lock_holder(key)
        answer = {
            "id_masked": mask_id(id_no.strip().upper()),
            "registered": bool(records),
            "employers": [
                {
                    "uscc": r.employer_uscc,
                    "name": r.employer_name,
                    "registrations": [
                        {
                            "reg_type": g.reg_type,
                            "specialties": g.specialties,
                            "valid_until": g.valid_until.isoformat() if g.valid_until else None,
                        }
                        for g in r.registrations
                    ],
                }
                for r in records
            ],
            "multiple_registrations": len(records) > 1,
            "locked_on_project": holder,
            "name": records[0].name if records else None,
        }
        return self._answered(p, meta, "person", key, answer)

    def verify_project(self, p: Principal, meta: RequestMeta, prj_num: str) -> dict[str, Any]:
        require_role(p, *VERIFIERS)
        project = self.registry.get(RecordType.PROJECT, (prj_num,))
        confirmed = project is not None and project.state == RecordState.CONFIRMED
        answer: dict[str, Any] = {"prj_num": prj_num, "confirmed": confirmed}
        if confirmed:
            permits = self.permits.for_project(prj_num)
            answer.update(
                name=project.name,
                build_corp_name=project.build_corp_name,
                region_code=project.location_region or project.region_code,
                permits=[
                    {"permit_no": a.permit_no, "state": str(a.state), "issued_on": a.issued_on}
                    for a in permits
                    if a.permit_no
                ],
            )
        return self._answered(p, meta, "project", prj_num, answer)


def _covers(held: list[str], wanted: str) -> bool:
    """Does a held qualification cover the wanted class and grade? D101B is covered by D101A and D101T too;
    a bare class (D101) by any grade of it. Grades compare by the code table's rank (grades.json)."""
    table = codetables.qualification_codes()
    want = table.get(wanted)
    cls, rank = (want.extra.get("class"), _rank(want.extra.get("grade_code"))) if want else (wanted, None)
    for code in held:
        h = table.get(code)
        if h is None or h.extra.get("class") != cls:
            continue
        if rank is None or _rank(h.extra.get("grade_code")) >= rank:
            return True
    return False


def _rank(grade_code: str | None) -> int:
    entry = codetables.grades().get(grade_code)
    return int((entry.extra or {}).get("rank", 0)) if entry else 0
