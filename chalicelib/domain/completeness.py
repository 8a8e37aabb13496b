"""Which required fields a record still lacks (the portal highlights them; submission needs none missing).

The rule list is data (`data/completeness.json`), so the province can change what must be supplemented.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.registry_base import RecordBase

_DATA = Path(__file__).resolve().parent.parent / "data" / "completeness.json"


class Rule(BaseModel):
    path: str
    min_items: int | None = None
    when: str | None = None


class MissingField(BaseModel):
    path: str  # concrete path, e.g. qualifications[0].items[1].code
    label: str  # Chinese label of the field


class Completeness(BaseModel):
    complete: bool
    filled: int
    required: int
    missing: list[MissingField]

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * self.filled / self.required)


@cache
def rules() -> dict[str, list[Rule]]:
    raw = json.loads(_DATA.read_text("utf-8"))
    return {k: [Rule.model_validate(r) for r in v] for k, v in raw["rules"].items()}


def _label(model: type[BaseModel], parts: list[str]) -> str:
    labels = []
    current: Any = model
    for part in parts:
        name = part.removesuffix("[]")
        field = current.model_fields.get(name) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            labels.append(name)
            break
        labels.append(field.title or name)
        ann = field.annotation
        inner = [
            a for a in (getattr(ann, "__args__", ()) or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        current = inner[0] if inner else None
    return "·".join(labels)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _walk(obj: Any, parts: list[str], prefix: str, out: list[tuple[str, Any]]) -> None:
    if not parts:
        out.append((prefix, obj))
        return
    head, rest = parts[0], parts[1:]
    name = head.removesuffix("[]")
    value = getattr(obj, name, None) if obj is not None else None
    path = f"{prefix}.{name}" if prefix else name
    if head.endswith("[]"):
        for i, element in enumerate(value or []):
            _walk(element, rest, f"{path}[{i}]", out)
    else:
        _walk(value, rest, path, out)


def completeness(record: RecordBase) -> Completeness:
    missing: list[MissingField] = []
    required = 0
    for rule in rules().get(record.RECORD_TYPE.value, []):
        if rule.when and not getattr(record, rule.when)():
            continue
        parts = rule.path.split(".")
        found: list[tuple[str, Any]] = []
        _walk(record, parts, "", found)
        label = _label(type(record), parts)
        for path, value in found:
            required += 1
            if rule.min_items is not None:
                if len(value or []) < rule.min_items:
                    missing.append(MissingField(path=path, label=label))
            elif _empty(value):
                missing.append(MissingField(path=path, label=label))
    return Completeness(complete=not missing, filled=required - len(missing), required=required, missing=missing)
