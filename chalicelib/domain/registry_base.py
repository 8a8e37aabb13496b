"""Shared parts of the registry aggregates: record metadata and the national-standard field mapping.

Field names are English; each field's `national` entry names the table and column of the national data standard
(建市〔2014〕108号, table/column names as implemented by the provinces, see domain.md §2.2) it corresponds to.
`national_mapping(model)` lists them; schemas/national-mapping.json is generated from it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.fields import Uscc
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


def validate_input(model: type[RecordBase], data: dict[str, Any], *, as_of: date) -> tuple[RecordBase, list[str]]:
    """Validate a record that comes in (import row, portal form, PATCH, filing) — the one way every input path
    validates, so a value gets the same verdict whichever way it arrives. `as_of` is the data's own date for the
    rules that depend on it (a region code in force that day); warnings come back as "label：message"."""
    warnings: list[tuple[str, str]] = []
    record = model.model_validate(data, context={"as_of": as_of, "warnings": warnings})
    return record, [m for _, m in warnings]


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
