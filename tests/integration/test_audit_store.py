"""The DynamoDB audit writer: atomic with the change it records, chained under concurrency, append-only."""

from __future__ import annotations

import threading

import pytest

from chalicelib.adapters.dynamo_audit import DynamoAuditLog
from chalicelib.adapters.dynamo_uploads import DynamoUploadRepository
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta, verify_chain
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.uploads import Upload, UploadState

ACTOR = Principal(subject="s-1", username="county_yiwu", role=Role.COUNTY_OFFICIAL, region_code="330782")
META = RequestMeta(request_id="r-1", source_ip="127.0.0.1")


def draft(target_id: str, note: str = "") -> AuditDraft:
    return AuditDraft(
        target_type="upload",
        target_id=target_id,
        action=AuditAction.UPLOAD_REQUESTED,
        target_region="330782",
        note=note or None,
    )


def make_upload(upload_id: str = "u1") -> Upload:
    return Upload(
        upload_id=upload_id,
        kind="attachment",
        filename="a.pdf",
        content_type="application/pdf",
        max_bytes=100,
        key=f"uploads/attachment/e-X/{upload_id}/a.pdf",
        owner_subject="s-1",
        region_code="330782",
        requested_at="2026-11-29T00:00:00+00:00",
        expires_at="2026-11-29T00:15:00+00:00",
    )


def test_concurrent_appends_to_one_target_stay_one_unbroken_chain(platform, serialized_moto):
    log = DynamoAuditLog(platform["env"]["AUDIT_TABLE"], max_attempts=50)
    errors: list[Exception] = []

    def writer(i: int) -> None:
        try:
            for j in range(3):
                log.record(draft("race", note=f"w{i}-{j}"), ACTOR, META)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = log.entries_for_target("upload", "race")
    assert sorted(e.seq for e in entries) == list(range(1, 13))
    assert verify_chain("upload", "race", entries).intact


def test_tampering_with_a_stored_entry_is_detected(platform):
    log = DynamoAuditLog(platform["env"]["AUDIT_TABLE"])
    for i in range(3):
        log.record(draft("t", note=f"n{i}"), ACTOR, META)
    ddb = platform["session"].client("dynamodb")
    ddb.update_item(
        TableName=platform["env"]["AUDIT_TABLE"],
        Key={"pk": {"S": "upload#t"}, "sk": {"N": "2"}},
        UpdateExpression="SET actor_username = :u",
        ExpressionAttributeValues={":u": {"S": "someone"}},
    )
    report = verify_chain("upload", "t", log.entries_for_target("upload", "t"))
    assert not report.intact
    assert [b.seq for b in report.breaks] == [2]


def test_a_failed_change_writes_no_audit_entry_and_two_editors_cannot_both_win(platform):
    log = DynamoAuditLog(platform["env"]["AUDIT_TABLE"])
    repo = DynamoUploadRepository(platform["env"]["MAIN_TABLE"], log)
    u = make_upload()
    repo.add(u, draft(u.upload_id), ACTOR, META)
    with pytest.raises(Conflict):  # the same id again: the item exists, nothing is written
        repo.add(u, draft(u.upload_id), ACTOR, META)
    assert len(log.entries_for_target("upload", u.upload_id)) == 1

    a = u.model_copy(update={"state": UploadState.RECEIVED, "version": 2})
    b = u.model_copy(update={"state": UploadState.REJECTED, "version": 2})
    repo.save(a, 1, draft(u.upload_id, "a"), ACTOR, META)
    with pytest.raises(Conflict):
        repo.save(b, 1, draft(u.upload_id, "b"), ACTOR, META)
    assert repo.get(u.upload_id).state == UploadState.RECEIVED
    notes = [e.note for e in log.entries_for_target("upload", u.upload_id)]
    assert notes == [None, "a"]


def test_actor_trail_is_newest_first_and_paginated(platform):
    log = DynamoAuditLog(platform["env"]["AUDIT_TABLE"])
    for i in range(5):
        log.record(draft(f"x{i}"), ACTOR, META)
    page = log.entries_for_actor("s-1", limit=3, cursor=None)
    assert [e.target_id for e in page.items] == ["x4", "x3", "x2"]
    rest = log.entries_for_actor("s-1", limit=3, cursor=page.cursor)
    assert [e.target_id for e in rest.items] == ["x1", "x0"]
