"""After a restart: does every restored item still validate against this version's models?

The data folder may have been written by an earlier version of the platform. Items are restored as they were (never
dropped); those that no longer fit their model are listed in `restore-report.json` in the data folder (table, keys,
model, every validation error) and counted in the banner, so a schema change between versions is visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _models() -> dict[str, Any]:
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.campaigns import Campaign, Notice
    from chalicelib.domain.credit import BlacklistEntry, CreditRecord
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.imports import ImportJob
    from chalicelib.domain.permits import PermitApplication
    from chalicelib.domain.person import RegisteredPerson
    from chalicelib.domain.project import Project
    from chalicelib.domain.stages import StageRecord
    from chalicelib.domain.uploads import Upload
    from chalicelib.domain.workdays import YearArrangement

    return {
        "enterprise": Enterprise,
        "person": RegisteredPerson,
        "project": Project,
        "stage_record": StageRecord,
        "permit_application": PermitApplication,
        "credit": CreditRecord,
        "blacklist": BlacklistEntry,
        "campaign": Campaign,
        "notice": Notice,
        "import_job": ImportJob,
        "upload": Upload,
        "work_calendar": YearArrangement,
        "audit": AuditEntry,
    }


def check_restored(data_dir: Path) -> list[dict[str, Any]]:
    """Validate every item of the snapshot written right after the restore; write and return the problems."""
    from pydantic import ValidationError

    from chalicelib.adapters.dynamo_codec import model_data

    models = _models()
    snapshot = data_dir / "snapshot.jsonl"
    invalid: list[dict[str, Any]] = []
    checked = 0
    if snapshot.exists():
        for line in snapshot.open(encoding="utf-8"):
            doc = json.loads(line)
            if doc.get("t") != "item":
                continue
            item = doc["item"]
            entity = item.get("entity", {}).get("S") or ("audit" if "prev_hash" in item else None)
            model = models.get(entity or "")
            if model is None:
                continue
            data = model_data(item)
            for extra in ("version",) if model.__name__ == "YearArrangement" else ():
                data.pop(extra, None)
            if model.__name__ == "AuditEntry":
                for k in ("actor_pk", "actor_sk"):
                    data.pop(k, None)
            checked += 1
            try:
                model.model_validate(data)
            except ValidationError as exc:
                invalid.append(
                    {
                        "table": doc["table"],
                        "pk": item.get("pk", {}).get("S"),
                        "sk": item.get("sk", {}).get("S") or str(item.get("sk", {}).get("N", "")),
                        "model": model.__name__,
                        "errors": [
                            {"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                            for e in exc.errors(include_url=False)
                        ],
                    }
                )
    report = {"checked": checked, "invalid": len(invalid), "items": invalid}
    (data_dir / "restore-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    return invalid
