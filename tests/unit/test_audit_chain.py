"""The hash-chained audit trail (chalicelib.domain.audit)."""

from __future__ import annotations

import pytest

from chalicelib.domain.audit import (
    ACTION_LABELS,
    GENESIS_HASH,
    HASHED_FIELDS,
    AuditAction,
    AuditDraft,
    AuditEntry,
    RequestMeta,
    digest,
    seal,
    target_key,
    verify_chain,
)
from chalicelib.domain.identity import Principal, Role

ACTOR = Principal(
    subject="sub-ent-1", username="ent-0001", role=Role.ENTERPRISE, region_code="330782", uscc="91330782MA2D000001"
)
OFFICIAL = Principal(subject="sub-county-1", username="county-1", role=Role.COUNTY_OFFICIAL, region_code="330782")
META = RequestMeta(request_id="req-1", source_ip="203.0.113.9")
TIMES = ["2026-11-29T04:00:00.000000+00:00", "2026-11-29T04:05:00.000000+00:00", "2026-11-29T04:10:00.000000+00:00"]


def draft(action: AuditAction, note: str | None = None, after: dict | None = None) -> AuditDraft:
    return AuditDraft(
        target_type="upload",
        target_id="u-1",
        action=action,
        target_region="330782",
        target_owner="91330782MA2D000001",
        before=None,
        after=after,
        note=note,
    )


def make_chain() -> list[AuditEntry]:
    drafts = [
        (draft(AuditAction.UPLOAD_REQUESTED, after={"state": "REQUESTED"}), ACTOR),
        (draft(AuditAction.UPLOAD_REJECTED, note="文件为空", after={"state": "REJECTED"}), OFFICIAL),
        (draft(AuditAction.UPLOAD_EXPIRED, after={"state": "EXPIRED"}), OFFICIAL),
    ]
    chain: list[AuditEntry] = []
    prev = GENESIS_HASH
    for i, (d, actor) in enumerate(drafts):
        e = seal(d, actor=actor, meta=META, seq=i + 1, prev_hash=prev, at=TIMES[i])
        chain.append(e)
        prev = e.hash
    return chain


def test_seal_sets_hash_to_compute_hash():
    e = seal(draft(AuditAction.UPLOAD_REQUESTED), actor=ACTOR, meta=META, seq=1, prev_hash=GENESIS_HASH, at=TIMES[0])
    assert e.hash == e.compute_hash()
    assert e.prev_hash == GENESIS_HASH == "0" * 64


# The hash of a fixed entry, computed when the hashed fields were fixed (and equal to what the platform stored
# before that): a change to the hashed content or its serialisation breaks every stored chain and fails here.
GOLDEN_HASH = "59f36b11ffb9d364cf2ba9bd39050e7f0a35b0e54f500dc07bf106b8ac8533ab"


def test_golden_hash_of_a_fixed_entry():
    e = seal(
        draft(AuditAction.UPLOAD_REQUESTED, after={"state": "REQUESTED"}),
        actor=ACTOR,
        meta=META,
        seq=1,
        prev_hash=GENESIS_HASH,
        at=TIMES[0],
    )
    assert e.hash == GOLDEN_HASH


def test_hash_covers_exactly_the_listed_fields():
    assert set(HASHED_FIELDS) == set(AuditEntry.model_fields) - {"hash"}
    e = make_chain()[0]
    # a field added to the entry later (here simulated by a subclass) does not change any hash
    extended = type("Extended", (AuditEntry,), {"__annotations__": {"display": str}, "display": "王建国"})
    assert extended.model_validate({**e.model_dump(), "display": "王建国"}).compute_hash() == e.hash
    # every listed field is covered: changing any one of them changes the hash
    for name in HASHED_FIELDS:
        value = getattr(e, name)
        changed = 2 if isinstance(value, int) else ("x" if value is None else f"{value}x")
        if name == "action":
            changed = AuditAction.UPLOAD_EXPIRED
        assert e.model_copy(update={name: changed}).compute_hash() != e.hash, name


def test_seal_copies_actor_meta_and_digests():
    after = {"state": "REQUESTED", "size": 10}
    e = seal(
        draft(AuditAction.UPLOAD_REQUESTED, after=after),
        actor=ACTOR,
        meta=META,
        seq=1,
        prev_hash=GENESIS_HASH,
        at=TIMES[0],
    )
    assert (e.actor_subject, e.actor_username, e.actor_role) == ("sub-ent-1", "ent-0001", "enterprise")
    assert e.actor_org == "91330782MA2D000001"
    assert e.actor_region == "330782"
    assert (e.request_id, e.source_ip) == ("req-1", "203.0.113.9")
    assert e.before_digest is None
    assert e.after_digest == digest(after)
    assert e.target_key == target_key("upload", "u-1") == "upload#u-1"


def test_hash_covers_every_field():
    e = make_chain()[0]
    for field, value in [
        ("note", "x"),
        ("actor_username", "someone-else"),
        ("at", TIMES[2]),
        ("seq", 7),
        ("prev_hash", "f" * 64),
        ("after_digest", None),
        ("target_region", "330102"),
        ("action", AuditAction.UPLOAD_RECEIVED),
    ]:
        assert e.model_copy(update={field: value}).compute_hash() != e.hash, field


def test_chain_of_three_is_linked_and_intact():
    chain = make_chain()
    assert chain[0].prev_hash == GENESIS_HASH
    assert chain[1].prev_hash == chain[0].hash
    assert chain[2].prev_hash == chain[1].hash
    report = verify_chain("upload", "u-1", chain)
    assert report.intact
    assert report.breaks == []
    assert report.entries == 3
    assert (report.target_type, report.target_id) == ("upload", "u-1")


def test_empty_chain_is_intact():
    report = verify_chain("upload", "none", [])
    assert report.intact and report.entries == 0


@pytest.mark.parametrize(
    ("field", "value"), [("note", "文件正常"), ("actor_username", "attacker"), ("source_ip", "1.2.3.4")]
)
def test_tampered_entry_is_reported_at_its_seq(field, value):
    chain = make_chain()
    chain[1] = chain[1].model_copy(update={field: value})  # edited in storage, hash left as it was
    report = verify_chain("upload", "u-1", chain)
    assert not report.intact
    assert [b.seq for b in report.breaks] == [2]
    assert "篡改" in report.breaks[0].reason


def test_tampered_and_rehashed_entry_breaks_the_next_link():
    chain = make_chain()
    forged = chain[1].model_copy(update={"note": "文件正常"})
    chain[1] = forged.model_copy(update={"hash": forged.compute_hash()})
    report = verify_chain("upload", "u-1", chain)
    assert not report.intact
    assert [b.seq for b in report.breaks] == [3]
    assert "链接断开" in report.breaks[0].reason


def test_deleted_entry_reports_gap_and_broken_link_at_next_seq():
    chain = make_chain()
    del chain[1]
    report = verify_chain("upload", "u-1", chain)
    assert not report.intact
    assert report.entries == 2
    assert {b.seq for b in report.breaks} == {3}
    reasons = " ".join(b.reason for b in report.breaks)
    assert "序号不连续" in reasons and "应为2" in reasons
    assert "链接断开" in reasons


def test_deleted_first_entry_is_detected():
    chain = make_chain()[1:]
    report = verify_chain("upload", "u-1", chain)
    assert not report.intact
    assert {b.seq for b in report.breaks} == {2}


def test_storage_order_does_not_matter():
    chain = make_chain()
    report = verify_chain("upload", "u-1", [chain[2], chain[0], chain[1]])
    assert report.intact


def test_swapping_contents_of_two_entries_is_detected():
    a, b, c = make_chain()
    swapped_b = b.model_copy(update={"seq": 3})
    swapped_c = c.model_copy(update={"seq": 2})
    report = verify_chain("upload", "u-1", [a, swapped_b, swapped_c])
    assert not report.intact


def test_digest():
    assert digest(None) is None
    assert digest({"a": 1, "b": "浙江"}) == digest({"b": "浙江", "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    assert digest({}) is not None
    assert len(digest({"x": [1, 2]})) == 64


def test_at_shanghai_is_utc_plus_eight():
    e = make_chain()[0]
    shanghai = e.at_shanghai()
    assert shanghai.endswith("+08:00")
    assert shanghai.startswith("2026-11-29T12:00:00")


def test_every_action_has_a_chinese_label():
    assert set(ACTION_LABELS) == set(AuditAction)
