"""Bad input, the rest of the list: a 50,000-row file, rows wider than the header, a zero-byte upload.

The 50,000-row file runs the real ImportService end to end over in-memory repositories (the DynamoDB request
count for such a job is measured in bench/intake_registry.py); the other two go through moto.
"""

from __future__ import annotations

import json

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.imports import ImportJob, JobState
from chalicelib.domain.records import RecordType
from chalicelib.services.imports import ImportService
from tests.integration.test_imports import ENT_HEADERS, Pipeline, csv_bytes, ent_row, uscc

JSON = {"Content-Type": "application/json"}


class _Jobs:
    def __init__(self, job):
        self.job = job

    def get(self, job_id):
        return self.job

    def save(self, job, expected_version, draft, actor, meta):
        assert job.version == expected_version + 1
        self.job = job

    def set_progress(self, job_id, rows):
        self.job = self.job.model_copy(update={"progress_rows": rows})


class _Registry:
    def __init__(self):
        self.items = {}

    def existing(self, record_type, keys, scope):
        return {}

    def insert_batch(self, records):
        for r in records:
            assert r.record_id not in self.items, "a record was written twice"
            self.items[r.record_id] = r


class _Blobs:
    def __init__(self, data):
        self.data = data
        self.reports = {}

    def get(self, key, version_id=None):
        return self.data

    def put(self, key, body, content_type):
        self.reports[key] = body


def test_a_50000_row_file_is_read_validated_and_imported_whole():
    rows = [ent_row(uscc("91330782", f"MA{i:06d}"), f"企业{i}") for i in range(50_000)]
    rows[25_000][ENT_HEADERS.index("成立日期")] = "2015-13-01"  # one bad row in the middle
    data = csv_bytes(ENT_HEADERS, rows)
    job = ImportJob(
        job_id="big",
        upload_id="big",
        kind="enterprise_sheet",
        record_type=RecordType.ENTERPRISE,
        key="k",
        filename="big.csv",
        content_type="text/csv",
        owner_subject="s",
        owner_username="admin",
        owner_role="province_admin",
        region_code="330000",
        created_at="2026-11-29T00:00:00+00:00",
    )
    jobs, registry, blobs = _Jobs(job), _Registry(), _Blobs(data)
    svc = ImportService(jobs, registry, blobs, None, person_key_secret=b"t")  # type: ignore[arg-type]
    assert svc.run("big", RequestMeta()) == JobState.COMPLETED_WITH_ERRORS
    counts = jobs.job.counts
    assert (counts.rows, counts.created, counts.error_rows) == (50_000, 49_999, 1)
    assert jobs.job.issues_preview[0].row == 25_002  # header is row 1, first data row is 2
    assert len(registry.items) == 49_999
    assert jobs.job.progress_rows == 50_000
    report = next(v for k, v in blobs.reports.items() if k.endswith(".csv")).decode("utf-8-sig")
    assert "25002" in report and "2015-13-01" in report


def test_rows_wider_than_the_header_and_a_zero_byte_file(client, platform, login):
    pipe = Pipeline(client, platform, login)
    good = ent_row(uscc("91330782", "MA2C0001"), "正常企业")
    wide = [*ent_row(uscc("91330782", "MA2C0002"), "多列企业"), "多出来的值"]
    data = csv_bytes(ENT_HEADERS, [good]) + ",".join(wide).encode("gb18030") + b"\r\n"
    job = pipe.run("county_yiwu", data)
    assert job["state"] == "COMPLETED_WITH_ERRORS"
    assert [(i["row"], "多于表头" in i["reason"]) for i in job["issues_preview"]] == [(3, True)]
    assert job["counts"]["created"] == 1

    resp = client.http.post(
        "/uploads",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"kind": "enterprise_sheet", "filename": "空.csv", "content_type": "text/csv", "size": 1}),
    )
    ticket = json.loads(resp.body)
    import requests

    requests.post(
        ticket["post"]["url"], data=ticket["post"]["fields"], files={"file": ("空.csv", b"", "text/csv")}, timeout=10
    )
    pipe.pump()
    got = json.loads(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=login("county_yiwu")).body)
    assert got["state"] == "REJECTED" and "空" in got["reject_reason"]


def test_parallel_validation_gives_the_sequential_result(monkeypatch):
    from chalicelib.domain import intake_files, sheets
    from chalicelib.domain.sheets import ENTERPRISE_BASIC, headers, validate_rows, validate_rows_parallel

    monkeypatch.setattr(sheets, "PARALLEL_MIN_ROWS", 10_000)  # the fork path, on a file of test size

    rows = [ent_row(uscc("91330782", f"MD{i:06d}"), f"企业{i}") for i in range(12_000)]
    rows[7][ENT_HEADERS.index("成立日期")] = "2015-02-30"
    rows[11_000][0] = "91330782677204726E"
    data = csv_bytes(ENT_HEADERS, rows)
    seq = validate_rows(ENTERPRISE_BASIC, ENT_HEADERS, intake_files.read_csv(data, headers(ENTERPRISE_BASIC)).rows)
    par = validate_rows_parallel(
        ENTERPRISE_BASIC, ENT_HEADERS, intake_files.read_csv(data, headers(ENTERPRISE_BASIC)).rows, workers=2
    )
    assert par.total == seq.total == 12_000
    assert [(i.row, i.column, i.reason) for i in par.issues] == [(i.row, i.column, i.reason) for i in seq.issues]
    assert [(r.row, r.key, r.values) for r in par.rows] == [(r.row, r.key, r.values) for r in seq.rows]
