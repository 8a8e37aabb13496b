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
    from chalicelib.domain.uploads import Upload, UploadKindTable
    from chalicelib.entrypoints.openapi import openapi_document

    docs: dict[str, Any] = {"openapi.json": openapi_document()}
    for model, name in (
        (Upload, "item.upload"),
        (AuditEntry, "item.audit-entry"),
        (UploadKindTable, "codetable.upload-kinds"),
    ):
        docs[f"{name}.schema.json"] = model.model_json_schema()
    return docs


def render(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drift = []
    for name, doc in documents().items():
        path = OUT / name
        text = render(doc)
        if check:
            if not path.exists() or path.read_text("utf-8") != text:
                drift.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text, "utf-8")
    if drift:
        print("schemas/ is out of date (run `python -m infra.schemas`): " + ", ".join(drift))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
