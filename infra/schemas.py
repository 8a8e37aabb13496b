"""Write the JSON Schemas of the stored items and the OpenAPI document into `schemas/` (generated, never edited).

    python -m infra.schemas          # regenerate
    python -m infra.schemas --check  # fail when schemas/ drifted from the pydantic models (run by the tests)

pydantic models are the single schema source: API bodies, stored items and these files all come from them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "schemas"


def documents() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import app  # noqa: F401 - registers every route's models
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.imports import ImportJob
    from chalicelib.domain.person import RegisteredPerson
    from chalicelib.domain.project import Project
    from chalicelib.domain.registry_base import national_mapping
    from chalicelib.domain.sheets import LAYOUTS, headers, row_model
    from chalicelib.domain.uploads import Upload, UploadKindTable
    from chalicelib.entrypoints.openapi import openapi_document

    docs: dict[str, Any] = {"openapi.json": openapi_document()}
    models = (
        (Upload, "item.upload"),
        (AuditEntry, "item.audit-entry"),
        (ImportJob, "item.import-job"),
        (Enterprise, "record.enterprise"),
        (RegisteredPerson, "record.person"),
        (Project, "record.project"),
        (UploadKindTable, "codetable.upload-kinds"),
    )
    for model, name in models:
        docs[f"{name}.schema.json"] = model.model_json_schema()
    docs["national-mapping.json"] = {
        "description": "Platform field -> national standard table.column (建市〔2014〕108号, see domain.md §2.2)",
        "enterprise": national_mapping(Enterprise),
        "person": national_mapping(RegisteredPerson),
        "project": national_mapping(Project),
    }
    from chalicelib.services.templates import template_files

    for name, (data, _) in template_files().items():
        if name.endswith(".xlsx"):
            docs[f"templates/{name}"] = data  # the downloadable workbook (all sheets + 填写说明)
    for record_type, layout in LAYOUTS.items():
        for spec in layout.sheets:
            stem = f"templates/{record_type.value}-{spec.name}"
            docs[f"{stem}.csv"] = ",".join(headers(spec)) + "\r\n"
            docs[f"{stem}.row.schema.json"] = row_model(spec).model_json_schema(by_alias=True)
    return docs


def _xlsx_signature(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Sheet names and cell values: xlsxwriter stamps the creation time, so bytes differ between runs."""
    import io

    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [(n, [[str(c) for c in row] for row in wb.get_sheet_by_name(n).to_python()]) for n in wb.sheet_names]


def render(doc: Any) -> str | bytes:
    if isinstance(doc, str | bytes):
        return doc
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drift = []
    for name, doc in documents().items():
        path = OUT / name
        text = render(doc)
        if check:
            if not path.exists():
                drift.append(name)
            elif isinstance(text, bytes):
                if _xlsx_signature(path.read_bytes()) != _xlsx_signature(text):
                    drift.append(name)
            elif path.read_bytes().decode("utf-8") != text:
                drift.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, "utf-8", newline="")
    if drift:
        print("schemas/ is out of date (run `python -m infra.schemas`): " + ", ".join(drift))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
