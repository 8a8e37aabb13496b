"""Registry use cases for the enterprise portal and officials: read, supplement, submit, export."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain import identifiers, intake_files
from chalicelib.domain.audit import ACTION_LABELS, AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import beijing_today, cn_datetime, utcnow
from chalicelib.domain.completeness import Completeness, completeness
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import PROVINCE_ROLES, Principal, Role, ensure_visible
from chalicelib.domain.records import RECORD_LIFECYCLE, RecordEvent, RecordType
from chalicelib.domain.registry_base import RecordBase, RecordInvalid, validate_input
from chalicelib.domain.sheets import AGGREGATES, LAYOUTS, headers
from chalicelib.services.ports import AuditLog, BlobStore, Extras, Page, RegistryRepository
from chalicelib.services.review import submission_changes

# Fields that identify a record or describe its lifecycle: never changed by a supplement.
_IMMUTABLE = {
    RecordType.ENTERPRISE: {"uscc"},
    RecordType.PERSON: {"person_key", "employer_uscc", "id_type", "id_no"},
    RecordType.PROJECT: {"prj_num"},
}


class RegistryService:
    def __init__(
        self,
        repo: RegistryRepository,
        blobs: BlobStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        export_url_ttl: int = 900,
        audit: AuditLog | None = None,
        name_of: Callable[[str], str | None] = lambda username: None,
        org_of: Callable[[str], str | None] = lambda username: None,
    ):
        self.repo = repo
        self.blobs = blobs
        self.clock = clock
        self.export_url_ttl = export_url_ttl
        self.audit = audit  # who changed a record last: a stale edit is told by whom and when
        self.name_of = name_of
        self.org_of = org_of  # the name of the account's unit (an enterprise by name, not by its USCC)

    # ---- reading ---------------------------------------------------------------------------------------------

    def get(self, p: Principal, record_type: RecordType, key: tuple[str, ...]) -> RecordBase:
        record = self.repo.get(record_type, key)
        if record is None:
            raise NotFound(f"{record_type.value}记录不存在")
        ensure_visible(p, owner_uscc=record.owner_uscc, region_code=record.region_code)
        return record

    def list_mine(self, p: Principal, record_type: RecordType, *, limit: int, cursor: dict | None) -> Page[RecordBase]:
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以查看本企业的记录")
        return self.repo.list_by_owner(record_type, p.uscc, limit=limit, cursor=cursor)

    def list_region(
        self,
        p: Principal,
        record_type: RecordType,
        *,
        city: str | None,
        county: str | None,
        limit: int,
        cursor: dict | None,
    ) -> Page[RecordBase]:
        """Officials list the records of their region; the province picks a city."""
        if not p.is_official:
            raise Forbidden("只有主管部门可以按地区查询")
        if p.role == Role.COUNTY_OFFICIAL:
            county = p.region_code
            city = identifiers.city_of(p.region_code or "")
        elif p.role == Role.CITY_OFFICIAL:
            city = p.region_code
            if county and identifiers.city_of(county) != city:
                raise Forbidden(f"{county}不在本市管辖范围内")
        elif p.role in PROVINCE_ROLES:
            if county and not city:
                city = identifiers.city_of(county)
            if not city:
                raise InvalidInput("省级查询请指定设区市（city）", details=[{"field": "city"}])
        if not city:
            raise InvalidInput("无法确定查询的设区市")
        return self.repo.list_by_region(record_type, city, county, limit=limit, cursor=cursor)

    def file_project(self, p: Principal, meta: RequestMeta, fields: dict[str, Any]) -> RecordBase:
        """近三年工程项目备案, one project at a time from the portal (bulk filing goes through project sheets)."""
        from chalicelib.domain.project import Project
        from chalicelib.domain.records import Provenance, RecordSource, RecordState

        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以备案工程项目")
        now = self.clock().isoformat()
        try:
            project, _warnings = validate_input(
                Project,
                {
                    **fields,
                    "state": RecordState.SUPPLEMENTED,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "owner_uscc": p.uscc,
                    "region_code": identifiers.jurisdiction_of(fields.get("location_region")) or p.region_code,
                    "provenance": Provenance(
                        source=RecordSource.PORTAL,
                        entered_by=p.subject,
                        entered_by_name=p.username,
                        entered_org=p.uscc,
                        entered_at=now,
                    ),
                },
                as_of=beijing_today(self.clock()),
            )
        except RecordInvalid as exc:
            raise InvalidInput(_summary("项目信息校验未通过", exc), details=exc.problems) from None
        if not (project.region_code or "").startswith("33"):
            raise InvalidInput("请填写浙江省内的建设地点区划代码", details=[{"field": "location_region"}])
        self.repo.create(project, self._created_draft(project), p, meta)
        return project

    @staticmethod
    def _created_draft(record: RecordBase) -> AuditDraft:
        return AuditDraft(
            target_type=record.RECORD_TYPE.value,
            target_id=record.record_id,
            action=AuditAction.RECORD_CREATED,
            target_region=record.region_code,
            target_owner=record.owner_uscc,
            after={**record.data(), "state": record.state.value},
        )

    @staticmethod
    def completeness(record: RecordBase) -> Completeness:
        return completeness(record)

    # ---- changing ---------------------------------------------------------------------------------------------

    def stale(self, record: RecordBase, version: int) -> Conflict:
        """A 409 that says who changed the record, when and how, since the version the client edited; the client
        reloads and shows which fields differ from its copy."""
        entry = self.audit.last_entry_for_target(record.RECORD_TYPE.value, record.record_id) if self.audit else None
        detail: dict[str, Any] = {"field": "version", "current_version": record.version, "your_version": version}
        if entry is None:
            return Conflict(
                f"记录已被修改（当前为第{record.version}版，您编辑的是第{version}版），请重新载入后再修改",
                details=[detail],
            )
        who = self.name_of(entry.actor_username) or entry.actor_username
        org = self.org_of(entry.actor_username) or ""
        if entry.actor_subject.startswith("system:"):
            who, org = "平台系统", ""
        detail.update(
            changed_by=who,
            changed_by_org=org,
            changed_at=entry.at,
            change=ACTION_LABELS.get(entry.action, str(entry.action)),
        )
        return Conflict(
            f"记录已于{cn_datetime(entry.at)}由{who}"
            f"{'（' + org + '）' if org and org not in who else ''}"
            f"{detail['change']}（当前为第{record.version}版，您编辑的是第{version}版）",
            details=[detail],
        )

    def _owned_for_change(self, p: Principal, record_type: RecordType, key: tuple[str, ...]) -> RecordBase:
        record = self.get(p, record_type, key)
        if p.role != Role.ENTERPRISE or record.owner_uscc != p.uscc:
            raise Forbidden("只有记录所属企业可以补充或提交该记录")
        return record

    def supplement(
        self,
        p: Principal,
        meta: RequestMeta,
        record_type: RecordType,
        key: tuple[str, ...],
        *,
        version: int,
        changes: dict[str, Any],
    ) -> RecordBase:
        """补充信息: the enterprise changes fields of its record; a stale `version` is a 409."""
        record = self._owned_for_change(p, record_type, key)
        if record.version != version:
            raise self.stale(record, version)
        forbidden = (set(changes) & (_IMMUTABLE[record_type] | RecordBase.META_FIELDS)) - set()
        if forbidden:
            raise InvalidInput(
                f"不能修改字段：{'、'.join(sorted(forbidden))}", details=[{"field": f} for f in sorted(forbidden)]
            )
        unknown = set(changes) - set(AGGREGATES[record_type].model_fields)
        if unknown:
            raise InvalidInput(
                f"未知字段：{'、'.join(sorted(unknown))}", details=[{"field": f} for f in sorted(unknown)]
            )
        new_state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.SUPPLEMENT)
        now = self.clock().isoformat()
        try:
            updated, _warnings = validate_input(
                type(record),
                {
                    **record.model_dump(mode="json"),
                    **changes,
                    "state": new_state,
                    "version": record.version + 1,
                    "updated_at": now,
                },
                as_of=beijing_today(self.clock()),
            )
        except RecordInvalid as exc:
            raise InvalidInput(_summary("补充的信息校验未通过", exc), details=exc.problems) from None
        if record_type == RecordType.ENTERPRISE and "registered_region" in changes:
            region = identifiers.jurisdiction_of(updated.registered_region)  # type: ignore[attr-defined]
            updated = updated.model_copy(update={"region_code": region or record.region_code})
        try:
            self.repo.save(
                updated, record.version, self._draft(record, updated, AuditAction.RECORD_SUPPLEMENTED), p, meta
            )
        except Conflict:
            current = self.repo.get(record_type, key)  # another change landed between our read and our write
            if current is not None and current.version != record.version:
                raise self.stale(current, version) from None
            raise
        return updated

    def submit(
        self, p: Principal, meta: RequestMeta, record_type: RecordType, key: tuple[str, ...], *, version: int
    ) -> RecordBase:
        """提交审核: only a complete record can be submitted."""
        record = self._owned_for_change(p, record_type, key)
        if record.version != version:
            raise self.stale(record, version)
        check = completeness(record)
        if not check.complete:
            raise InvalidInput(
                f"还有{len(check.missing)}项必填信息未补充，不能提交",
                details=[{"field": m.path, "message": f"请补充{m.label}"} for m in check.missing],
            )
        new_state = RECORD_LIFECYCLE.next_state(record.state, RecordEvent.SUBMIT)
        now = self.clock()
        changes, snapshot, delta = submission_changes(record, now)
        updated = record.model_copy(
            update={
                **changes,
                "state": new_state,
                "version": record.version + 1,
                "updated_at": now.isoformat(),
                "submitted_at": now.isoformat(),
            }
        )
        self.repo.save(
            updated,
            record.version,
            self._draft(record, updated, AuditAction.RECORD_SUBMITTED),
            p,
            meta,
            Extras(snapshot=snapshot, sla_delta=delta),
        )
        return updated

    @staticmethod
    def _draft(before: RecordBase, after: RecordBase, action: AuditAction) -> AuditDraft:
        return AuditDraft(
            target_type=before.RECORD_TYPE.value,
            target_id=before.record_id,
            action=action,
            target_region=after.region_code,
            target_owner=after.owner_uscc,
            before={**before.data(), "state": before.state.value, "version": before.version},
            after={**after.data(), "state": after.state.value, "version": after.version},
        )

    # ---- export ----------------------------------------------------------------------------------------------

    def export(self, p: Principal, record_type: RecordType, fmt: str) -> dict[str, str]:
        """An enterprise downloads its own records (CSV/XLSX in the import template's layout, or JSON)."""
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以下载本企业的记录")
        records: list[RecordBase] = []
        cursor = None
        while True:
            page = self.repo.list_by_owner(record_type, p.uscc, limit=200, cursor=cursor)
            records.extend(page.items)
            cursor = page.cursor
            if not cursor:
                break
        stamp = self.clock().strftime("%Y%m%d%H%M%S")
        layout = LAYOUTS[record_type]
        if fmt == "json":
            body = json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=1).encode()
            content_type = "application/json; charset=utf-8"
        elif fmt == "csv":
            spec = layout.primary
            body = intake_files.write_csv(headers(spec), rows_for_sheet(spec, records))
            content_type = "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = intake_files.write_xlsx({s.name: (headers(s), rows_for_sheet(s, records)) for s in layout.sheets})
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise InvalidInput("格式应为 csv、xlsx 或 json", details=[{"field": "format"}])
        key = f"exports/{p.uscc}/{uuid.uuid4().hex}/{record_type.value}.{fmt}"
        self.blobs.put(key, body, content_type)
        filename = f"{p.uscc}-{record_type.value}-{stamp}.{fmt}"
        return {
            "url": self.blobs.presign_get(key, filename, self.export_url_ttl),
            "filename": filename,
            "records": str(len(records)),
        }


def _summary(head: str, exc: RecordInvalid) -> str:
    """ "补充的信息校验未通过（2处）：联系电话：…；电子邮箱：…" — the message names every problem."""
    return f"{head}（{len(exc.problems)}处）：{exc}"


def _get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def rows_for_sheet(spec, records: list[RecordBase]) -> list[list[Any]]:
    """Flatten aggregates back into the sheet layout (one row per innermost list element), for exports."""
    rows: list[list[Any]] = []
    list_roots = sorted({c.path.split("[]")[0] for c in spec.columns if "[]" in c.path})
    for record in records:
        if not list_roots:
            rows.append([_cell(_value(record, c.path)) for c in spec.columns])
            continue
        root = list_roots[0]
        elements = getattr(record, root, []) or []
        nested_root = next(
            (c.path.split("[].")[1].split("[]")[0] for c in spec.columns if c.path.count("[]") == 2), None
        )
        if not elements and spec.primary:
            rows.append([_cell(None if "[]" in c.path else _value(record, c.path)) for c in spec.columns])
        for element in elements:
            inner = getattr(element, nested_root, None) if nested_root else None
            for sub in (inner or [None]) if nested_root else [None]:
                row = []
                for c in spec.columns:
                    if "[]" not in c.path:
                        row.append(_cell(_value(record, c.path)))
                        continue
                    parts = c.path.split("[].")
                    if len(parts) == 2:
                        row.append(_cell(_get_path(element, parts[1])))
                    else:
                        row.append(_cell(_get_path(sub, parts[2]) if sub is not None else None))
                rows.append(row)
    return rows


def _value(record: RecordBase, path: str) -> Any:
    if path == "owner_uscc":
        return record.owner_uscc
    if path == "region_code":
        return record.region_code
    return _get_path(record, path)
