"""Project stage records: filed by the entitled enterprise, checked by the officials of the project's region."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import Principal, Role, in_region_scope
from chalicelib.domain.labels import field_info_label
from chalicelib.domain.permits import business_steps
from chalicelib.domain.records import RecordType
from chalicelib.domain.registry_base import input_message
from chalicelib.domain.stages import (
    KIND_LABELS,
    ContractFiling,
    StageData,
    StageKind,
    StageRecord,
    contractor_problems,
    may_file,
    transition,
)
from chalicelib.services.ports import Page, RegistryRepository

_DATA = TypeAdapter(StageData)
# the members of the stage union, by their `kind` tag
_MODELS = {m.model_fields["kind"].default: m for m in get_args(get_args(StageData)[0])}


def _field_label(kind: Any, name: str) -> str:
    model = _MODELS.get(kind)
    info = model.model_fields.get(name) if model else None
    return field_info_label(info, name) if info else name


def _stage_problem(data: dict[str, Any], err: dict[str, Any]) -> dict[str, str]:
    loc = [str(x) for x in err["loc"]]
    if loc and loc[0] in _MODELS:  # the union's tag: the field path starts after it
        loc = loc[1:]
    path = ".".join(loc) or "kind"
    label = "记录类别" if path == "kind" else _field_label(data.get("kind"), loc[0])
    message = (
        input_message(err) if path != "kind" else "记录类别应为中标信息、合同备案、施工图审查合格书或质量安全监督登记"
    )
    return {"field": path, "label": label, "message": message}


def _summary(data: dict[str, Any], problems: list[dict[str, str]]) -> str:
    what = KIND_LABELS.get(StageKind(data["kind"])) if data.get("kind") in set(StageKind) else "环节信息"
    return f"{what}校验未通过：" + "；".join(f"{p['label']}：{p['message']}" for p in problems)


class StageService:
    def __init__(self, store: Any, registry: RegistryRepository, *, clock: Callable[[], datetime] = utcnow):
        self.store = store
        self.registry = registry
        self.clock = clock

    def _project(self, prj_num: str):
        project = self.registry.get(RecordType.PROJECT, (prj_num,))
        if project is None:
            raise NotFound("工程项目不存在")
        return project

    @staticmethod
    def _draft(r: StageRecord, before: StageRecord | None, action: AuditAction, note: str | None = None):
        return AuditDraft(
            target_type="stage_record",
            target_id=f"{r.prj_num}:{r.kind.value}:{r.number}",
            action=action,
            target_region=r.region_code,
            target_owner=r.filed_by,
            before=before.model_dump(mode="json") if before else None,
            after=r.model_dump(mode="json"),
            note=note,
        )

    def _visible(self, p: Principal, r_owner: str, filer: str | None, region: str) -> bool:
        if p.role == Role.ENTERPRISE:
            return p.uscc in (r_owner, filer)
        return p.is_official and in_region_scope(p, region)

    def _parse(self, data: dict[str, Any]):
        """The stage record as filed, or every problem at once, each with its field's Chinese name (the same
        messages as a registry field's); a contract's contractor is judged against its qualifications too."""
        try:
            parsed = _DATA.validate_python(data)
        except ValidationError as exc:
            problems = [_stage_problem(data, e) for e in exc.errors(include_url=False)]
            raise InvalidInput(_summary(data, problems), details=problems) from None
        if isinstance(parsed, ContractFiling):
            parties = {u for u in (parsed.contractor_uscc, parsed.union_uscc) if u}
            found = {u: self.registry.get(RecordType.ENTERPRISE, (u,)) for u in parties}
            problems = contractor_problems(parsed, {u: e for u, e in found.items() if e is not None})
            if problems:
                raise InvalidInput(_summary(data, problems), details=problems)
        return parsed

    def file(self, p: Principal, meta: RequestMeta, prj_num: str, data: dict[str, Any]) -> StageRecord:
        if p.role != Role.ENTERPRISE:
            raise Forbidden("环节信息由企业填报")
        project = self._project(prj_num)
        parsed = self._parse(data)
        refusal = may_file(parsed, filer=p.uscc or "", project_owner=project.owner_uscc or "")
        if refusal:
            if not self._visible(p, project.owner_uscc or "", None, project.region_code or ""):
                raise NotFound("工程项目不存在")
            raise Forbidden(refusal)
        now = self.clock().isoformat()
        r = StageRecord(
            prj_num=prj_num,
            kind=StageKind(parsed.kind),
            number=parsed.number,
            region_code=project.region_code or "",
            project_owner=project.owner_uscc or "",
            filed_by=p.uscc or "",
            data=parsed,
            created_at=now,
            updated_at=now,
        )
        self.store.create(r, self._draft(r, None, AuditAction.STAGE_FILED, KIND_LABELS[r.kind]), p, meta)
        return r

    def list(self, p: Principal, prj_num: str) -> list[StageRecord]:
        project = self._project(prj_num)
        stages = self.store.for_project(prj_num)
        if p.role == Role.ENTERPRISE:
            if p.uscc == project.owner_uscc:
                return stages
            mine = [s for s in stages if s.filed_by == p.uscc]
            if not mine:
                raise NotFound("工程项目不存在")
            return mine
        if not self._visible(p, project.owner_uscc or "", None, project.region_code or ""):
            raise NotFound("工程项目不存在")
        return stages

    def _load(self, p: Principal, prj_num: str, kind: str, number: str, version: int) -> StageRecord:
        r = self.store.get(prj_num, kind, number)
        if r is None or not self._visible(p, r.project_owner, r.filed_by, r.region_code):
            raise NotFound("环节记录不存在")
        if r.version != version:
            raise Conflict("记录已被修改，请刷新后重试")
        return r

    def correct(
        self, p: Principal, meta: RequestMeta, prj_num: str, kind: str, number: str, *, version: int, data: dict
    ) -> StageRecord:
        """Correct a record still being checked or returned; the document number stays (it is the key)."""
        r = self._load(p, prj_num, kind, number, version)
        if p.role != Role.ENTERPRISE or p.uscc != r.filed_by:
            raise Forbidden("只有填报单位可以修改")
        parsed = self._parse(data)
        if parsed.kind != r.kind.value or parsed.number != r.number:
            raise InvalidInput("不能修改记录类别或编号，请另行填报")
        target = self._move(r, "correct")
        updated = r.model_copy(
            update={
                "data": parsed,
                "state": target,
                "version": r.version + 1,
                "updated_at": self.clock().isoformat(),
                "checked_by": None,
                "check_note": None,
            }
        )
        self.store.save(updated, r.version, self._draft(updated, r, AuditAction.STAGE_CORRECTED), p, meta)
        return updated

    def check(
        self,
        p: Principal,
        meta: RequestMeta,
        prj_num: str,
        kind: str,
        number: str,
        *,
        version: int,
        confirmed: bool,
        note: str,
    ) -> StageRecord:
        if not p.is_official or p.role == Role.PROVINCE_ADMIN:
            raise Forbidden("环节信息由主管部门核查")
        r = self._load(p, prj_num, kind, number, version)
        target = self._move(r, "confirm" if confirmed else "return")
        updated = r.model_copy(
            update={
                "state": target,
                "version": r.version + 1,
                "updated_at": self.clock().isoformat(),
                "checked_by": p.display_name or p.username,
                "check_note": note,
            }
        )
        verdict = "核查通过" if confirmed else "退回修改"
        self.store.save(
            updated, r.version, self._draft(updated, r, AuditAction.STAGE_CHECKED, f"{verdict}：{note}"), p, meta
        )
        return updated

    def pending(self, p: Principal, county: str | None, *, limit: int, cursor: dict | None) -> Page[StageRecord]:
        if not p.is_official:
            raise Forbidden()
        county = county or (p.region_code if p.role == Role.COUNTY_OFFICIAL else None)
        if not county or len(county) != 6:
            raise InvalidInput("请指定县（市、区）行政区划代码 county")
        if not in_region_scope(p, county):
            raise Forbidden("不在本级管辖范围")
        return self.store.pending(county, limit=limit, cursor=cursor)

    @staticmethod
    def _move(r: StageRecord, action: str):
        try:
            return transition(r, action)
        except ValueError as exc:
            raise Conflict(str(exc)) from None


class ProjectView:
    """The project view (项目全过程): the project, its stage records and its permit applications with each
    workflow's progress (current step, history)."""

    def __init__(self, stages: StageService, permits: Any):
        self.stages = stages
        self.permits = permits

    def show(self, p: Principal, prj_num: str) -> dict[str, Any]:
        project = self.stages._project(prj_num)
        if not self.stages._visible(p, project.owner_uscc or "", None, project.region_code or ""):
            raise NotFound("工程项目不存在")
        applications = []
        for app in self.permits.store.for_project(prj_num):
            applications.append(
                {
                    "application": app.public_view(),
                    "workflow": self.permits.workflow.history(app.application_id),
                    "steps": business_steps(app),  # the procedure as people name it (申请 … 竣工)
                }
            )
        return {
            "project": {
                "prj_num": project.prj_num,
                "name": getattr(project, "name", None),
                "state": project.state.value if project.state else None,
                "region_code": project.region_code,
                "owner_uscc": project.owner_uscc,
            },
            "stages": self.stages.store.for_project(prj_num),
            "permits": applications,
        }
