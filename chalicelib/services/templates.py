"""Import templates (CSV and XLSX with Chinese headers), generated from the sheet specs and served from S3."""

from __future__ import annotations

from chalicelib.domain import intake_files
from chalicelib.domain.sheets import LAYOUTS, headers
from chalicelib.services.ports import BlobStore

TEMPLATE_VERSION = "2026-11-29"
LABELS = {"enterprise": "企业信息表", "person": "注册人员信息表", "project": "工程项目信息表"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_files() -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, content type). CSV = the primary sheet only; XLSX = every sheet plus 填写说明."""
    out: dict[str, tuple[bytes, str]] = {}
    for record_type, layout in LAYOUTS.items():
        name = record_type.value
        out[f"{name}.csv"] = (intake_files.write_csv(headers(layout.primary), []), "text/csv; charset=utf-8")
        sheets = {s.name: (headers(s), []) for s in layout.sheets}
        notes = [
            [
                s.name,
                "；".join(f"{h}{'（必填）' if c.required else ''}" for h, c in zip(headers(s), s.columns, strict=True)),
                s.description,
            ]
            for s in layout.sheets
        ]
        sheets["填写说明"] = (["工作表", "列", "说明"], notes)
        # Text-formatted columns: Excel would otherwise turn 18-digit ID numbers into 3.30782E+17.
        out[f"{name}.xlsx"] = (intake_files.write_xlsx(sheets, text_columns=True), XLSX)
    return out


class TemplateService:
    def __init__(self, blobs: BlobStore, *, url_ttl: int = 900):
        self.blobs = blobs
        self.url_ttl = url_ttl

    def links(self) -> list[dict[str, str]]:
        files = None
        out = []
        for record_type in LAYOUTS:
            name = record_type.value
            urls = {}
            for ext in ("csv", "xlsx"):
                key = f"templates/{TEMPLATE_VERSION}/{name}.{ext}"
                if not self.blobs.exists(key):
                    files = files or template_files()
                    data, content_type = files[f"{name}.{ext}"]
                    self.blobs.put(key, data, content_type)
                urls[ext] = self.blobs.presign_get(key, f"{LABELS[name]}模板.{ext}", self.url_ttl)
            out.append(
                {
                    "name": name,
                    "label": LABELS[name],
                    "record_type": name,
                    "csv_url": urls["csv"],
                    "xlsx_url": urls["xlsx"],
                }
            )
        return out
