"""Import sheets: which columns a spreadsheet has, how each row is validated, how rows become aggregates.

Row models are built from the aggregates' own fields (type, validators, Chinese title = column header), so the
import templates, the row validation and the stored records share one schema source. A sheet lists column paths
into its aggregate (`safety_licence.licence_no`, `qualifications[].items[].code` ...); rows sharing a record key
are assembled into one aggregate, and a record with any invalid row is not imported at all.
"""

from __future__ import annotations

import gc
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem, SafetyLicence
from chalicelib.domain.fields import (
    ID_CARD_TYPE,
    PERSON_RULES,
    Blank,
    blank_sentinels,
    cross_problems,
    filled_from_id,
)
from chalicelib.domain.person import RegisteredPerson, Registration, SafetyCert
from chalicelib.domain.project import Project
from chalicelib.domain.records import RecordType
from chalicelib.domain.registry_base import field_adapter, input_message


@dataclass(frozen=True)
class Column:
    path: str  # dotted path into the aggregate, "[]" marks list elements
    required: bool = False
    header: str | None = None  # defaults to the field's title


@dataclass(frozen=True)
class SheetSpec:
    name: str  # worksheet name (and CSV template name)
    record_type: RecordType
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # column paths whose values identify the record the row belongs to
    primary: bool = True  # the sheet a CSV upload contains; secondary sheets exist only in XLSX
    description: str = ""


@dataclass(frozen=True)
class UploadLayout:
    """The sheets of one upload kind for one record type."""

    record_type: RecordType
    sheets: tuple[SheetSpec, ...]

    @property
    def primary(self) -> SheetSpec:
        return next(s for s in self.sheets if s.primary)


ENTERPRISE_BASIC = SheetSpec(
    name="企业基本信息",
    record_type=RecordType.ENTERPRISE,
    key=("uscc",),
    columns=(
        Column("uscc", required=True),
        Column("name", required=True),
        Column("business_reg_no"),
        Column("registered_region"),
        Column("address"),
        Column("legal_rep"),
        Column("legal_rep_id_type"),
        Column("legal_rep_id_no"),
        Column("legal_rep_title"),
        Column("economic_type"),
        Column("registered_capital"),
        Column("established_on"),
        Column("contact_person"),
        Column("contact_phone"),
        Column("email"),
        Column("safety_licence.licence_no"),
        Column("safety_licence.issuing_authority"),
        Column("safety_licence.issued_on"),
        Column("safety_licence.valid_until"),
        Column("safety_licence.scope"),
    ),
    description="每行一个企业。",
)

ENTERPRISE_QUALIFICATIONS = SheetSpec(
    name="资质证书",
    record_type=RecordType.ENTERPRISE,
    key=("uscc",),
    primary=False,
    columns=(
        Column("uscc", required=True),
        Column("qualifications[].cert_no", required=True),
        Column("qualifications[].qualification_type"),
        Column("qualifications[].issuing_authority"),
        Column("qualifications[].issued_on"),
        Column("qualifications[].valid_until"),
        Column("qualifications[].standard_version"),
        Column("qualifications[].items[].code", required=True),
        Column("qualifications[].items[].is_primary"),
        Column("qualifications[].items[].approval_no"),
        Column("qualifications[].items[].approved_on"),
        Column("qualifications[].items[].acquired_by"),
        Column("qualifications[].items[].status"),
    ),
    description="每行一个资质项；同一证书的多个资质项分行填写，证书信息重复填写。",
)

PERSON_REGISTRATIONS = SheetSpec(
    name="注册人员",
    record_type=RecordType.PERSON,
    key=("id_type", "id_no", "employer_uscc"),
    columns=(
        Column("id_type"),
        Column("id_no", required=True),
        Column("name", required=True),
        Column("sex"),
        Column("birth_date"),
        Column("education"),
        Column("mobile"),
        Column("employer_uscc", required=True),
        Column("employer_name"),
        Column("region_code", header="注册单位所在地区划代码"),
        Column("registrations[].reg_type"),
        Column("registrations[].specialties"),
        Column("registrations[].qualification_cert_no"),
        Column("registrations[].registration_cert_no"),
        Column("registrations[].seal_no"),
        Column("registrations[].issued_on"),
        Column("registrations[].issuing_authority"),
        Column("registrations[].valid_until"),
        Column("registrations[].status"),
    ),
    description="每行一条执业注册；同一人员有多项注册时分行填写，人员信息重复填写；没有执业注册的人员注册类别留空。",
)

PERSON_SAFETY_CERTS = SheetSpec(
    name="安全生产考核证书",
    record_type=RecordType.PERSON,
    key=("id_type", "id_no", "employer_uscc"),
    primary=False,
    columns=(
        Column("id_type"),
        Column("id_no", required=True),
        Column("name"),
        Column("employer_uscc", required=True),
        Column("safety_certs[].category", required=True),
        Column("safety_certs[].cert_no", required=True),
        Column("safety_certs[].issuing_authority"),
        Column("safety_certs[].issued_on"),
        Column("safety_certs[].valid_until"),
    ),
    description="三类人员（A/B/C）安全生产考核合格证书，每行一本证书。",
)

PROJECTS = SheetSpec(
    name="工程项目",
    record_type=RecordType.PROJECT,
    key=("prj_num",),
    columns=(
        Column("prj_num", required=True),
        Column("name", required=True),
        Column("category"),
        Column("location_region"),
        Column("address"),
        Column("build_corp_name"),
        Column("build_corp_code"),
        Column("approval_no"),
        Column("approval_level"),
        Column("land_plan_permit_no"),
        Column("project_plan_permit_no"),
        Column("total_investment"),
        Column("total_area"),
        Column("scale"),
        Column("nature"),
        Column("use"),
        Column("start_date"),
        Column("end_date"),
        Column("owner_uscc", header="填报企业统一社会信用代码"),
    ),
    description="每行一个工程项目（近三年工程项目备案）。",
)

LAYOUTS: dict[RecordType, UploadLayout] = {
    RecordType.ENTERPRISE: UploadLayout(RecordType.ENTERPRISE, (ENTERPRISE_BASIC, ENTERPRISE_QUALIFICATIONS)),
    RecordType.PERSON: UploadLayout(RecordType.PERSON, (PERSON_REGISTRATIONS, PERSON_SAFETY_CERTS)),
    RecordType.PROJECT: UploadLayout(RecordType.PROJECT, (PROJECTS,)),
}

AGGREGATES: dict[RecordType, type[BaseModel]] = {
    RecordType.ENTERPRISE: Enterprise,
    RecordType.PERSON: RegisteredPerson,
    RecordType.PROJECT: Project,
}

# Upload kinds that carry registry rows, and the record type each one fills (legacy exports say it per upload).
SHEET_KINDS: dict[str, RecordType | None] = {
    "enterprise_sheet": RecordType.ENTERPRISE,
    "personnel_sheet": RecordType.PERSON,
    "project_sheet": RecordType.PROJECT,
    "legacy_export": None,
}


def _resolve(model: type[BaseModel], path: str) -> Any:
    """The pydantic FieldInfo at a column path."""
    current: Any = model
    info = None
    for part in path.split("."):
        name = part.removesuffix("[]")
        if name == "region_code" and current is RegisteredPerson:
            return Field(default=None, title="注册单位所在地区划代码"), Enterprise.model_fields["registered_region"]
        if name == "owner_uscc":
            return Field(default=None, title="填报企业统一社会信用代码"), RegisteredPerson.model_fields["employer_uscc"]
        info = current.model_fields[name]
        ann = info.annotation
        nested = [
            a for a in (getattr(ann, "__args__", ()) or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        current = nested[0] if nested else None
    return info, info


def header_of(spec: SheetSpec, col: Column) -> str:
    if col.header:
        return col.header
    info, _ = _resolve(AGGREGATES[spec.record_type], col.path)
    return info.title or col.path


def headers(spec: SheetSpec) -> list[str]:
    return [header_of(spec, c) for c in spec.columns]


def _required(value: Any) -> Any:
    if value is None or value == [] or value == "":
        raise ValueError("必填项不能为空")
    return value


_REQUIRED = AfterValidator(_required)
_ROW_CONFIG = ConfigDict(extra="forbid", populate_by_name=False, str_strip_whitespace=True)


@cache
def row_model(spec: SheetSpec) -> type[BaseModel]:
    """A flat pydantic model whose fields are the sheet's columns, aliased by their Chinese headers."""
    fields: dict[str, Any] = {}
    for i, col in enumerate(spec.columns):
        _, typed = _resolve(AGGREGATES[spec.record_type], col.path)
        # FieldInfo.annotation is the bare type; the validators live in its metadata.
        # Cells are blanked before validation (one pass per row in validate_rows), so the per-field Blank hook is
        # dropped here: it would cost a Python call per cell.
        kept = [m for m in typed.metadata if m is not Blank]
        metadata = [*kept, *([_REQUIRED] if col.required else [])]
        annotation = Annotated[(typed.annotation, *metadata)] if metadata else typed.annotation
        default = ... if col.required else None
        fields[f"c{i}"] = (annotation, Field(default=default, alias=header_of(spec, col)))
    model = create_model(  # type: ignore[call-overload]
        f"Row_{spec.record_type.value}_{'primary' if spec.primary else zlib.crc32(spec.name.encode())}",
        __config__=_ROW_CONFIG,
        **fields,
    )
    return model


@dataclass(frozen=True)
class _CellPlan:
    """Per-column validators derived from the row model, for `validate_rows`' fast path.

    A column is either *plain* (text without validators: the cleaned cell is the value, since pydantic's whitespace
    strip finds nothing left to strip after `str.strip`) or *checked* by a TypeAdapter of exactly the row model's
    field (same annotation, validators and constraints, same config), so a cell gets the value, the warnings and the
    validity it would get inside the row model. The field validators judge one value at a time: none reads other
    fields (`info.data`), which is what makes this split exact."""

    plain: tuple[int, ...]  # text columns without validators
    plain_required: tuple[int, ...]  # plain columns where an empty cell is an error
    checked: tuple[tuple[int, str, Any], ...]  # (column, field name, validate_python of the field's TypeAdapter)
    list_columns: frozenset[int]  # cells split into a list before validation (注册专业)


@cache
def _cell_plan(spec: SheetSpec) -> _CellPlan | None:
    """None when the row model checks anything beyond its fields one by one (a model or field validator, or another
    config, added to the row model later): every row then takes the full `model_validate`."""
    model = row_model(spec)
    decorators = model.__pydantic_decorators__
    if any(
        getattr(decorators, kind)
        for kind in ("model_validators", "field_validators", "root_validators", "validators", "computed_fields")
    ):
        return None
    if dict(model.model_config) != dict(_ROW_CONFIG):
        return None
    cell_config = ConfigDict(str_strip_whitespace=True)
    plain: list[int] = []
    plain_required: list[int] = []
    checked: list[tuple[int, str, Any]] = []
    list_columns: set[int] = set()
    for i, (fname, info) in enumerate(model.model_fields.items()):
        if spec.columns[i].path.endswith("specialties"):
            list_columns.add(i)
        if info.annotation in (str, str | None) and all(m is _REQUIRED for m in info.metadata):
            plain.append(i)
            if info.annotation is str or info.is_required():
                plain_required.append(i)
            continue
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        checked.append((i, fname, TypeAdapter(annotation, config=cell_config).validator.validate_python))
    return _CellPlan(tuple(plain), tuple(plain_required), tuple(checked), frozenset(list_columns))


@dataclass
class RowIssue:
    sheet: str
    row: int
    column: str
    value: str
    reason: str
    severity: str = "error"  # error | warning


@dataclass
class ParsedRow:
    sheet: SheetSpec
    row: int
    values: dict[str, Any]  # column path -> validated value
    key: tuple[str, ...]


@dataclass
class SheetResult:
    rows: list[ParsedRow] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    total: int = 0


def _split_list(value: str) -> list[str]:
    for sep in ("、", "，", ",", ";", "；", "|", "/"):
        value = value.replace(sep, " ")
    return [v for v in value.split() if v]


_MISS: Any = object()
_SHARE_SAMPLE_ROWS = 1000


def validate_rows(spec: SheetSpec, header_row: list[str], rows: Iterable[tuple[int, list[str]]]) -> SheetResult:
    """Validate every row; collect (row, column, value, reason) for each problem.

    Hot path of every import (budget: 50,000 rows in about a second). Fast path: each distinct text of a checked
    column is validated once (by that column's one-field model, `_cell_plan`) and remembered; plain text columns
    need no call at all. A row with any failing cell, a short row, or a file whose header row is not exactly the
    template's takes the full row-model `model_validate`, so every error is reported as the row model reports it.
    """
    with gc_paused():
        return _validate_rows(spec, header_row, rows)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a sheet is read and validated. The rows are hundreds of thousands of
    container objects and the loop makes no reference cycles, yet every few thousand allocations the collector would
    walk them all again (a fifth of the validation time for 50,000 rows). Collection resumes afterwards; nested use
    leaves the outermost caller in charge."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _validate_rows(spec: SheetSpec, header_row: list[str], rows: Iterable[tuple[int, list[str]]]) -> SheetResult:
    model = row_model(spec)
    validate = model.model_validate
    hdrs = headers(spec)
    width = len(hdrs)
    by_alias = {header_of(spec, c): (f"c{i}", c) for i, c in enumerate(spec.columns)}
    header_cells = list(header_row[:width])
    list_headers = [h for h, (_, col) in by_alias.items() if col.path.endswith("specialties")]
    paths = [(fname, col.path) for fname, col in by_alias.values()]
    column_paths = [col.path for col in spec.columns]
    header_by_field = {fname: h for h, (fname, _) in by_alias.items()} | {c.path: h for h, (_, c) in by_alias.items()}
    id_header = header_by_field.get("id_no", "")
    is_person = spec.record_type == RecordType.PERSON
    key_paths = spec.key
    sentinels = blank_sentinels()
    plan = _cell_plan(spec) if header_cells == hdrs and len(by_alias) == width else None
    if plan is not None:
        plain_required = plan.plain_required
        list_columns = sorted(plan.list_columns)
        # One memo per checked column: cell text (or None) -> validated value, for cells valid without warnings.
        # Cells that fail or warn are kept in `flagged` (None = fails, else (value, warnings)) and re-checked there.
        checked = [(i, {}) for i, *_ in plan.checked]
        resolvers = {i: _cell_resolver(fname, check, i in plan.list_columns) for i, fname, check in plan.checked}
        # Repeated text of plain columns is kept once (the first cell's string), as pydantic's string cache did for
        # the row model: 50,000 rows of the same employer name must not hold 50,000 copies. Columns still mostly
        # distinct after _SHARE_SAMPLE_ROWS rows (names, numbers) stop being shared.
        shared = [(i, {}) for i in plan.plain]
        fast_rows = 0
    result = SheetResult()
    issues = result.issues
    for number, cells in rows:
        result.total += 1
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            issues.append(RowIssue(spec.name, number, "", "", f"本行有{len(cells)}列，多于表头的{width}列"))
            continue
        warnings: list[tuple[str, str]] = []
        values = None
        if plan is not None and len(cells) >= width:
            # Fast path. Inline blanking (a function call per cell would cost more than the rest of the cleaning).
            vals = [(v if (v := c.strip()) and v not in sentinels else None) for c in cells]
            ok = True
            for i in plain_required:
                if vals[i] is None:
                    ok = False
                    break
            if ok:
                for i, memo in checked:
                    v = vals[i]
                    out = memo.get(v, _MISS)
                    if out is _MISS:
                        out = resolvers[i](v, memo, warnings)
                        if out is _MISS:
                            ok = False
                            break
                    vals[i] = out
            if ok:
                for i, seen in shared:
                    v = vals[i]
                    if v is not None:
                        vals[i] = seen.setdefault(v, v)
                fast_rows += 1
                if fast_rows == _SHARE_SAMPLE_ROWS:
                    shared = [(i, seen) for i, seen in shared if len(seen) <= _SHARE_SAMPLE_ROWS // 10]
                for i in list_columns:
                    vals[i] = list(vals[i])  # memoised lists are shared: each row gets its own
                values = dict(zip(column_paths, vals, strict=False))
            else:
                warnings = []
        if values is None:
            raw = _raw_cells(header_cells, cells, sentinels, list_headers)
            try:
                parsed = validate(raw, context={"warnings": warnings})
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                for err in errors:
                    header = str(err["loc"][0]) if err.get("loc") else ""
                    issues.append(RowIssue(spec.name, number, header, _show(raw.get(header, "")), _reason(err)))
                # every problem of the row at once: the cross-field rules on the cells that are valid on their own
                failed = {str(e["loc"][0]) for e in errors if e.get("loc")}
                for path, message in _cross_on_valid_cells(spec, raw, failed, header_by_field):
                    header = header_by_field.get(path, "")
                    issues.append(RowIssue(spec.name, number, header, _show(raw.get(header, "")), message))
                continue
            fields = parsed.__dict__
            values = {path: fields[fname] for fname, path in paths}
        else:
            raw = None  # built only if a message needs to show a cell
        if is_person:
            problem = _check_identity(values, warnings)
            if problem:
                raw = raw or _raw_cells(header_cells, cells, sentinels, list_headers)
                issues.append(RowIssue(spec.name, number, id_header, _show(raw.get(id_header, "")), problem))
                continue
        if warnings:
            raw = raw or _raw_cells(header_cells, cells, sentinels, list_headers)
            for field_name, message in warnings:
                header = header_by_field.get(field_name, "")
                issues.append(RowIssue(spec.name, number, header, _show(raw.get(header, "")), message, "warning"))
        key = tuple("" if values.get(k) is None else str(values[k]) for k in key_paths)
        result.rows.append(ParsedRow(sheet=spec, row=number, values=values, key=key))
    return result


def _raw_cells(
    header_cells: list[str], cells: list[str], sentinels: frozenset[str], list_headers: list[str]
) -> dict[str, Any]:
    """The row as the row model gets it: header -> stripped cell, None for blanks and sentinels, lists split."""
    # Inline blanking (the hot loop: a function call per cell would cost more than the rest of the cleaning).
    raw: dict[str, Any] = {
        h: (v if (v := c.strip()) and v not in sentinels else None) for h, c in zip(header_cells, cells, strict=False)
    }
    for h in list_headers:
        raw[h] = _split_list(raw[h]) if raw.get(h) else []
    return raw


def _cell_resolver(fname: str, validate: Any, is_list: bool) -> Any:
    """Validate one distinct cell of a checked column. Returns the value (and extends `warnings` with the cell's
    warnings) or _MISS when the cell fails. Valid cells without warnings go into the caller's `memo`; the others are
    remembered here, and their warnings repeated on every row that has them."""
    flagged: dict[str | None, tuple[Any, tuple[tuple[str, str], ...]] | None] = {}
    found: list[tuple[str, str]] = []
    context = {"warnings": found}  # reused: read and cleared after every call

    def resolve(cell: str | None, memo: dict[str | None, Any], warnings: list[tuple[str, str]]) -> Any:
        if cell in flagged:
            known = flagged[cell]
            if known is None:
                return _MISS
            warnings.extend(known[1])
            return known[0]
        given: Any = (_split_list(cell) if cell else []) if is_list else cell
        try:
            value = validate(given, context=context)
        except ValidationError:
            found.clear()
            flagged[cell] = None
            return _MISS
        if found:
            # A TypeAdapter has no field name; inside the row model the warning would carry the field's.
            cell_warnings = tuple((name or fname, message) for name, message in found)
            found.clear()
            flagged[cell] = (value, cell_warnings)
            warnings.extend(cell_warnings)
        else:
            memo[cell] = value
        return value

    return resolve


# Below this many rows one process is faster: with the per-column memo a row validates in ~10-18 us, and pickling a
# validated row back from a worker costs ~10 us; measured on 50,000 rows (2 cores), two workers took 1.8 s where one
# took 1.4 s (enterprise CSV). Larger files may still gain on an otherwise idle second core.
PARALLEL_MIN_ROWS = 100_000


def validate_rows_parallel(
    spec: SheetSpec, header_row: list[str], rows: Iterable[tuple[int, list[str]]], *, workers: int
) -> SheetResult:
    """`validate_rows` over a large file split across `workers` forked processes (the row checks are pure Python and
    CPU-bound). Results are merged in file order, so the outcome is the same as the sequential run. Small files, or
    one worker, stay in-process."""
    with gc_paused():
        return _validate_rows_parallel(spec, header_row, rows, workers)


def _validate_rows_parallel(
    spec: SheetSpec, header_row: list[str], rows: Iterable[tuple[int, list[str]]], workers: int
) -> SheetResult:
    rows = list(rows)
    if workers <= 1 or len(rows) < PARALLEL_MIN_ROWS:
        return validate_rows(spec, header_row, rows)
    import multiprocessing

    # Warm every lazy cache (row model, code tables, regions) before forking, so no child loads them again.
    validate_rows(spec, header_row, rows[:1])
    ctx = multiprocessing.get_context("fork")  # children share the parsed rows copy-on-write; no pickling of input
    size = -(-len(rows) // workers)
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    pipes, procs = [], []
    for chunk in chunks[1:]:
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_validate_child, args=(spec, header_row, chunk, sender), daemon=True)
        proc.start()
        sender.close()
        pipes.append(receiver)
        procs.append(proc)
    merged = validate_rows(spec, header_row, chunks[0])
    paths = [c.path for c in spec.columns]
    for receiver in pipes:
        total, issues, compact = receiver.recv()
        merged.total += total
        merged.issues.extend(issues)
        # Rows travel back as plain tuples: a third of the pickling cost of the dataclasses.
        merged.rows.extend(
            ParsedRow(spec, number, dict(zip(paths, values, strict=True)), key) for number, values, key in compact
        )
    for proc in procs:
        proc.join()
    return merged


def _validate_child(spec: SheetSpec, header_row: list[str], chunk: list, sender: Any) -> None:
    result = validate_rows(spec, header_row, chunk)
    paths = [c.path for c in spec.columns]
    compact = [(r.row, tuple(r.values[p] for p in paths), r.key) for r in result.rows]
    sender.send((result.total, result.issues, compact))
    sender.close()


def _check_identity(values: dict[str, Any], warnings: list[tuple[str, str]]) -> str | None:
    """The person rules of every input path (`fields.PERSON_RULES`: 证件类型/号码/性别/出生日期 agree); the birth
    date and sex follow from a 居民身份证 number when the sheet leaves them empty."""
    values["id_type"] = values.get("id_type") or ID_CARD_TYPE
    if not values.get("id_no"):
        return "证件号码不能为空"
    problems = cross_problems(PERSON_RULES, values)
    if problems:
        return "；".join(m for _, m in problems)
    values["sex"], values["birth_date"] = filled_from_id(
        values["id_type"], values["id_no"], values.get("sex"), values.get("birth_date")
    )
    return None


def _cross_on_valid_cells(
    spec: SheetSpec, raw: dict[str, Any], failed_headers: set[str], header_by_field: dict[str, str]
) -> list[tuple[str, str]]:
    """(column path, message) of the aggregate's cross-field rules, judged on the row's cells that are valid alone."""
    model = AGGREGATES[spec.record_type]
    rules = getattr(model, "CROSS_RULES", ())
    values: dict[str, Any] = {}
    for needs, _, _ in rules:
        for path in needs:
            header = header_by_field.get(path)
            if path in values or header is None or header in failed_headers or path not in model.model_fields:
                continue
            try:
                values[path] = field_adapter(model, path).validate_python(raw.get(header))
            except ValidationError:
                failed_headers = failed_headers | {header}
    if spec.record_type == RecordType.PERSON and "id_type" in values:
        values["id_type"] = values["id_type"] or ID_CARD_TYPE
    return cross_problems(rules, values)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def _reason(err: dict[str, Any]) -> str:
    return "模板中没有此列" if err.get("type") == "extra_forbidden" else input_message(err)


# ---- assembling rows into aggregates -------------------------------------------------------------------------


def _set_path(target: dict[str, Any], path: str, value: Any, list_keys: dict[str, Any]) -> None:
    """Set a dotted path in nested dicts; list elements are matched by `list_keys[path_prefix]`."""
    parts = path.split(".")
    node = target
    prefix = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        name = part.removesuffix("[]")
        prefix = f"{prefix}.{part}" if prefix else part
        if part.endswith("[]"):
            elements = node.setdefault(name, [])
            ident = list_keys[prefix]
            element = next((e for e in elements if e.get("__id") == ident), None)
            if element is None:
                element = {"__id": ident}
                elements.append(element)
            node = element
        elif last:
            if value is not None or name not in node:
                node[name] = value
        else:
            node = node.setdefault(name, {})


def _strip_ids(obj: Any) -> Any:
    """Drop list-element markers, and nested parts the sheet left entirely empty (no safety licence at all)."""
    if isinstance(obj, dict):
        out = {k: _strip_ids(v) for k, v in obj.items() if k != "__id"}
        return {k: v for k, v in out.items() if not (isinstance(v, dict) and all(x is None for x in v.values()))}
    if isinstance(obj, list):
        return [_strip_ids(v) for v in obj]
    return obj


# For each list in a sheet: which column identifies one element (rows with the same value fill the same element).
_LIST_IDENTITY = {
    "qualifications[]": "qualifications[].cert_no",
    "qualifications[].items[]": "qualifications[].items[].code",
    "registrations[]": "registrations[].reg_type",
    "safety_certs[]": "safety_certs[].cert_no",
}


@dataclass
class Assembled:
    key: tuple[str, ...]
    data: dict[str, Any]  # nested dict of the aggregate's business fields (no lifecycle metadata)
    rows: list[tuple[str, int]]  # (sheet, row) that contributed
    extra: dict[str, Any] = field(default_factory=dict)  # region_code / owner_uscc given in the sheet


def assemble(
    spec_rows: Iterator[ParsedRow] | list[ParsedRow],
) -> tuple[dict[tuple[str, ...], Assembled], list[RowIssue]]:
    """Group rows by record key and build nested data; report rows that contradict each other."""
    records: dict[tuple[str, ...], Assembled] = {}
    issues: list[RowIssue] = []
    seen_elements: dict[tuple, int] = {}
    for row in spec_rows:
        rec = records.get(row.key)
        primary_keyed = row.sheet.primary and not any("[]" in c.path for c in row.sheet.columns)
        if rec is not None and primary_keyed:
            first = next(r for s, r in rec.rows if s == row.sheet.name)
            issues.append(RowIssue(row.sheet.name, row.row, "", "", f"与第{first}行的记录重复（同一主键）"))
            continue
        if rec is None:
            rec = Assembled(key=row.key, data={}, rows=[])
            records[row.key] = rec
        list_keys = {}
        element_id = []
        for prefix, ident_col in _LIST_IDENTITY.items():
            if ident_col in row.values:
                list_keys[prefix] = row.values[ident_col]
                if row.values[ident_col] is not None:
                    element_id.append(str(row.values[ident_col]))
        deepest = tuple([row.sheet.name, *row.key, *element_id])
        if element_id and deepest in seen_elements:
            issues.append(RowIssue(row.sheet.name, row.row, "", "", f"与第{seen_elements[deepest]}行重复"))
            continue
        if element_id:
            seen_elements[deepest] = row.row
        conflict = _conflict(rec, row)
        if conflict:
            issues.append(conflict)
            continue
        for path, value in row.values.items():
            if path in ("region_code", "owner_uscc"):
                if value is not None:
                    rec.extra[path] = value
                continue
            if "[]" in path and any(
                path.startswith(p) and list_keys.get(p) is None for p in _LIST_IDENTITY if path.startswith(p)
            ):
                continue  # an empty list element (e.g. a person without registrations on this row)
            _set_path(rec.data, path, value, list_keys)
        rec.rows.append((row.sheet.name, row.row))
    for rec in records.values():
        rec.data = _strip_ids(rec.data)
    return records, issues


def _conflict(rec: Assembled, row: ParsedRow) -> RowIssue | None:
    """Scalar fields repeated on several rows of one record must agree."""
    for path, value in row.values.items():
        if "[]" in path or value is None or path in ("region_code", "owner_uscc"):
            continue
        node: Any = rec.data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and node != value:
            spec = row.sheet
            col = next(c for c in spec.columns if c.path == path)
            return RowIssue(
                spec.name, row.row, header_of(spec, col), _show(value), f"与本记录前面行填写的“{_show(node)}”不一致"
            )
    return None


PART_MODELS = (QualificationCert, QualificationItem, SafetyLicence, Registration, SafetyCert)
