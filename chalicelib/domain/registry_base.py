"""Shared parts of the registry aggregates: record metadata and the national-standard field mapping.

Field names are English; each field's `national` entry names the table and column of the national data standard
(建市〔2014〕108号, table/column names as implemented by the provinces, see domain.md §2.2) it corresponds to.
`national_mapping(model)` lists them; schemas/national-mapping.json is generated from it.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chalicelib.domain.fields import Uscc, cross_problems
from chalicelib.domain.records import EDITABLE_STATES, Provenance, RecordState, RecordType
from chalicelib.domain.review import ReviewInfo, SlaClock


def nat(column: str, **extra: Any) -> dict[str, Any]:
    """json_schema_extra for a field: its national table.column (and anything else worth exporting)."""
    return {"national": column, **extra}


class Part(BaseModel):
    """A nested part of an aggregate (certificate, registration ...)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordBase(BaseModel):
    """An aggregate of a registry with its lifecycle state, version (optimistic locking) and provenance."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    RECORD_TYPE: ClassVar[RecordType]
    META_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "state",
            "version",
            "provenance",
            "created_at",
            "updated_at",
            "submitted_at",
            "region_code",
            "owner_uscc",
            "review",
            "sla",
        }
    )

    state: RecordState = RecordState.IMPORTED
    version: int = 1
    provenance: Provenance
    created_at: str
    updated_at: str
    submitted_at: str | None = None
    region_code: str | None = Field(default=None, description="所属县级行政区划代码（管辖范围）")
    owner_uscc: Uscc = Field(default=None, description="归属企业统一社会信用代码")
    review: ReviewInfo = Field(default_factory=ReviewInfo, description="审核状态（负责层级、认领人、最近决定）")
    sla: SlaClock = Field(default_factory=SlaClock, description="办理时限计时（主管部门/企业）")

    @property
    def record_id(self) -> str:
        raise NotImplementedError

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def data(self) -> dict[str, Any]:
        """The business content without lifecycle metadata (what a diff, a digest or an export looks at)."""
        return self.model_dump(mode="json", exclude=set(self.META_FIELDS))


class RecordInvalid(ValueError):
    """Input that fails validation: every problem at once, each as {field (path), label (中文), message}."""

    def __init__(self, problems: list[dict[str, str]]):
        super().__init__("；".join(f"{p['label']}：{p['message']}" if p["label"] else p["message"] for p in problems))
        self.problems = problems


_MESSAGES = {
    "missing": "必填项不能为空",
    "extra_forbidden": "不是该记录的字段",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "不能为负数",
    "decimal_parsing": "不是有效数字",
    "decimal_type": "不是有效数字",
    "date_from_datetime_parsing": "不是有效日期",
    "date_parsing": "不是有效日期",
    "date_type": "不是有效日期",
    "int_parsing": "不是有效整数",
    "bool_parsing": "应为“是”或“否”",
    "dict_type": "格式不正确",
    "model_type": "格式不正确",
}


def input_message(err: dict[str, Any]) -> str:
    """A pydantic error in the platform's words (the validators' own Chinese reasons, else a fixed phrase)."""
    if err.get("type") == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    if err.get("type") == "missing" or (
        err.get("type") in ("string_type", "none_required") and err.get("input") is None
    ):
        return "必填项不能为空"
    return _MESSAGES.get(err.get("type", ""), "格式不正确")


def input_problem(field_path: str, message: str) -> dict[str, str]:
    from chalicelib.domain.labels import field_path_label

    return {"field": field_path, "label": field_path_label(field_path) if field_path else "", "message": message}


@cache
def field_adapter(model: type[BaseModel], name: str) -> TypeAdapter:
    """One field of a model on its own: its type with every validator (the verdict it gets inside the model)."""
    f = model.model_fields[name]
    return TypeAdapter(Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation)


def validate_input(model: type[RecordBase], data: dict[str, Any], *, as_of: date) -> tuple[RecordBase, list[str]]:
    """Validate a record that comes in (import row, portal form, PATCH, filing) — the one way every input path
    validates, so a value gets the same verdict whichever way it arrives. `as_of` is the data's own date for the
    rules that depend on it (a region code in force that day); warnings come back as "label：message".

    Raises `RecordInvalid` with every problem: the fields' own errors and, where the fields a cross-field rule
    reads are valid on their own, that rule's verdict too (pydantic skips model validators once a field fails)."""
    warnings: list[tuple[str, str]] = []
    context = {"as_of": as_of, "warnings": warnings}
    try:
        record = model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        field_errors = [e for e in errors if e["loc"]]
        problems = [input_problem(".".join(str(x) for x in e["loc"]), input_message(e)) for e in field_errors]
        # The cross-field rules on the fields valid on their own, each blamed on its field: they did not run when a
        # field failed, and when they did (a model-level error) their message carries no field.
        cross = _partial_cross_problems(model, data, field_errors, context)
        problems.extend(input_problem(f, m) for f, m in cross)
        said = "；".join(m for _, m in cross)
        for e in errors:
            if not e["loc"] and input_message(e) != said:  # another model rule (a region not in force ...)
                problems.append(input_problem("", input_message(e)))
        raise RecordInvalid(problems) from None
    return record, [m for _, m in warnings]


def _partial_cross_problems(model: type[RecordBase], data: dict[str, Any], errors: list, context: dict):
    rules = getattr(model, "CROSS_RULES", ())
    failed = {str(e["loc"][0]) for e in errors}
    values: dict[str, Any] = {}
    for needs, _, _ in rules:
        for name in needs:
            if name in failed or name in values or name not in model.model_fields:
                continue
            given = data[name] if name in data else model.model_fields[name].get_default(call_default_factory=True)
            try:
                values[name] = field_adapter(model, name).validate_python(given, context=context)
            except ValidationError:
                failed.add(name)
    return cross_problems(rules, values)


def input_date(info: Any) -> date | None:
    """The `as_of` of an input validation (None when a stored record is read back: stored data is not re-judged)."""
    ctx = info.context if info is not None else None
    return ctx.get("as_of") if isinstance(ctx, dict) else None


def input_warn(info: Any, message: str) -> None:
    ctx = info.context if info is not None else None
    if isinstance(ctx, dict) and isinstance(ctx.get("warnings"), list):
        ctx["warnings"].append(("", message))


def national_mapping(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if "national" in extra:
            out[prefix + name] = str(extra["national"])
        ann = f.annotation
        for candidate in getattr(ann, "__args__", ()) or (ann,):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                out.update(
                    national_mapping(candidate, prefix=f"{prefix}{name}[]." if _is_list(f) else f"{prefix}{name}.")
                )
    return out


def _is_list(f: Any) -> bool:
    return getattr(getattr(f.annotation, "__origin__", None), "__name__", "") == "list"
