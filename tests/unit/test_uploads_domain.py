"""Upload rules (chalicelib.domain.uploads) and the transition table (chalicelib.domain.lifecycle)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fakes import city, county, enterprise, province, province_admin

from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.uploads import (
    UPLOAD_LIFECYCLE,
    ArrivedObject,
    UploadEvent,
    UploadState,
    check_arrival,
    is_overdue,
    new_upload,
    safe_filename,
    upload_id_from_key,
    upload_kinds,
)

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UID = "0123456789abcdef0123456789abcdef"


def make(principal: Principal | None = None, **kw):
    args = {
        "upload_id": UID,
        "principal": principal or enterprise(),
        "kind": "enterprise_sheet",
        "filename": "企业信息表.xlsx",
        "content_type": XLSX,
        "size": 1024,
        "now": NOW,
        "ttl_seconds": 900,
    }
    args.update(kw)
    return new_upload(**args)


# ---- kinds table ----------------------------------------------------------------------------------------------


def test_upload_kinds_table_loads():
    table = upload_kinds()
    codes = {k.code for k in table.kinds}
    assert {"enterprise_sheet", "personnel_sheet", "project_sheet", "legacy_export", "attachment"} <= codes
    assert table.get("legacy_export").roles == [Role.PROVINCE_ADMIN]


def test_unknown_kind_is_invalid_input_listing_choices():
    with pytest.raises(InvalidInput, match="不支持的上传类型") as exc:
        make(kind="virus")
    assert "enterprise_sheet" in exc.value.message


# ---- new_upload -----------------------------------------------------------------------------------------------


def test_new_upload_fields():
    ent = enterprise(uscc="91330782MA2D000028", region="330782", subject="sub-e1")
    u = make(ent)
    assert u.state == UploadState.REQUESTED
    assert u.version == 1
    assert u.owner_subject == "sub-e1"
    assert u.owner_uscc == "91330782MA2D000028"
    assert u.region_code == "330782"
    assert u.max_bytes == 20 * 1024 * 1024
    assert u.filename == "企业信息表.xlsx"
    assert datetime.fromisoformat(u.requested_at) == NOW
    assert datetime.fromisoformat(u.expires_at) == NOW + timedelta(seconds=900)
    assert u.received_at is None and u.size is None and u.reject_reason is None


def test_official_upload_has_no_owner_uscc():
    u = make(county("330782"))
    assert u.owner_uscc is None
    assert u.region_code == "330782"


@pytest.mark.parametrize("p", [enterprise(), county(), city(), province()])
def test_legacy_export_only_for_province_admin(p):
    with pytest.raises(Forbidden, match="省平台历史数据导出"):
        make(p, kind="legacy_export", content_type="text/csv")


def test_legacy_export_for_province_admin():
    u = make(
        province_admin(), kind="legacy_export", content_type="text/csv", size=100 * 1024 * 1024, record_type="person"
    )
    assert u.max_bytes == 100 * 1024 * 1024 and u.record_type == "person"
    with pytest.raises(InvalidInput, match="记录类型"):
        make(province_admin(), kind="legacy_export", content_type="text/csv", size=100)


@pytest.mark.parametrize(
    "p",
    [
        Principal(subject="m", username="m", role=Role.MINISTRY_SYNC),
        Principal(subject="anon", username="anon", role=Role.PUBLIC),
    ],
)
def test_roles_without_upload_rights(p):
    with pytest.raises(Forbidden):
        make(p)


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [
        ("enterprise_sheet", "application/pdf"),
        ("enterprise_sheet", "text/csv; charset=utf-8"),  # declared type must be one of the listed ones exactly
        ("attachment", "text/csv"),
        ("attachment", "application/x-msdownload"),
    ],
)
def test_content_type_must_be_allowed_for_the_kind(kind, content_type):
    with pytest.raises(InvalidInput, match="不接受文件类型") as exc:
        make(kind=kind, content_type=content_type)
    assert exc.value.details == [{"field": "content_type"}]


@pytest.mark.parametrize(("kind", "content_type"), [("attachment", "application/pdf"), ("attachment", "image/png")])
def test_allowed_content_types(kind, content_type):
    assert make(kind=kind, content_type=content_type).content_type == content_type


@pytest.mark.parametrize("size", [0, -1, 20 * 1024 * 1024 + 1])
def test_size_bounds(size):
    with pytest.raises(InvalidInput, match="文件大小") as exc:
        make(size=size)
    assert exc.value.details == [{"field": "size"}]


@pytest.mark.parametrize("size", [1, 20 * 1024 * 1024])
def test_size_bounds_inclusive(size):
    assert make(size=size).upload_id == UID


# ---- key layout -----------------------------------------------------------------------------------------------


def test_key_layout_for_enterprise():
    u = make(enterprise(uscc="91330782MA2D000028"))
    assert u.key == f"uploads/enterprise_sheet/e-91330782MA2D000028/{UID}/企业信息表.xlsx"
    assert upload_id_from_key(u.key) == UID


def test_key_layout_for_official():
    u = make(
        county("330782", subject="5f0c7a8e-1111-2222-3333-444455556666"),
        kind="attachment",
        content_type="application/pdf",
        filename="扫描件 1.pdf",
    )
    digest = hashlib.sha256(b"5f0c7a8e-1111-2222-3333-444455556666").hexdigest()[:16]
    assert u.key == f"uploads/attachment/r-330782-{digest}/{UID}/扫描件_1.pdf"
    assert upload_id_from_key(u.key) == UID


def test_key_keeps_only_the_file_name():
    u = make(filename="../../etc/passwd")
    assert u.key.endswith(f"/{UID}/passwd")
    assert upload_id_from_key(u.key) == UID


@pytest.mark.parametrize(
    "key",
    [
        "",
        "uploads",
        "uploads/",
        "uploads/enterprise_sheet/e-x/file.xlsx",  # 4 parts
        "uploads/enterprise_sheet/e-x//file.xlsx",  # empty id
        "uploads/enterprise_sheet/e-x/id/sub/file.xlsx",  # 6 parts
        "other/enterprise_sheet/e-x/id/file.xlsx",
        "Uploads/enterprise_sheet/e-x/id/file.xlsx",
        "/uploads/enterprise_sheet/e-x/id",
    ],
)
def test_upload_id_from_malformed_key_is_none(key):
    assert upload_id_from_key(key) is None


def test_key_round_trip_with_slash_in_oidc_subject():
    p = county("330782", subject="https://idp.example/users/42")
    u = make(p, kind="attachment", content_type="application/pdf", filename="a.pdf")
    assert upload_id_from_key(u.key) == UID


# ---- safe_filename --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("企业信息表.xlsx", "企业信息表.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\系统.ini", "系统.ini"),
        ("C:\\Users\\张三\\报表（2026）.xlsx", "报表（2026）.xlsx"),
        ("a b?c*.pdf", "a_b_c_.pdf"),
        ("..", "file"),
        ("", "file"),
        ("   ", "file"),
        ("dir/", "file"),
        (".hidden", "hidden"),
        ("report-v1.2(final).csv", "report-v1.2(final).csv"),
    ],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_safe_filename_normalises_to_nfc_and_keeps_the_extension_when_truncating():
    assert safe_filename("Cafe\u0301.pdf") == "Caf\u00e9.pdf"
    long = "长" * 200 + ".xlsx"
    out = safe_filename(long)
    assert len(out) == 120
    assert out.endswith(".xlsx")


# ---- check_arrival --------------------------------------------------------------------------------------------


def arrival(u, **kw) -> ArrivedObject:
    args = {"key": u.key, "size": 1024, "content_type": u.content_type}
    args.update(kw)
    return ArrivedObject(**args)


def test_check_arrival_accepts_matching_object():
    u = make()
    assert check_arrival(u, arrival(u)) == []
    assert check_arrival(u, arrival(u, content_type=None)) == []  # no type reported: nothing to compare
    assert check_arrival(u, arrival(u, size=u.max_bytes)) == []


def test_check_arrival_key_mismatch():
    u = make()
    reasons = check_arrival(u, arrival(u, key=u.key.replace("企业信息表", "other")))
    assert len(reasons) == 1 and "存放位置" in reasons[0]


def test_check_arrival_empty():
    u = make()
    assert check_arrival(u, arrival(u, size=0)) == ["文件为空"]


def test_check_arrival_oversize():
    u = make()
    reasons = check_arrival(u, arrival(u, size=u.max_bytes + 1))
    assert len(reasons) == 1
    assert "超过上限" in reasons[0] and str(u.max_bytes + 1) in reasons[0]


def test_check_arrival_content_type_mismatch():
    u = make()
    reasons = check_arrival(u, arrival(u, content_type="application/pdf"))
    assert len(reasons) == 1 and "文件类型" in reasons[0]


def test_check_arrival_content_type_parameters_are_ignored():
    u = make(content_type="text/csv", filename="a.csv")
    assert check_arrival(u, arrival(u, content_type="text/csv; charset=utf-8")) == []
    assert check_arrival(u, arrival(u, content_type="text/csv;charset=GBK")) == []
    assert check_arrival(u, arrival(u, content_type="text/plain; charset=utf-8")) != []


def test_check_arrival_reports_every_problem():
    u = make()
    reasons = check_arrival(u, ArrivedObject(key="uploads/x/y/z/w", size=0, content_type="image/png"))
    assert len(reasons) == 3


def test_arrived_object_rejects_negative_size():
    with pytest.raises(ValueError):
        ArrivedObject(key="k", size=-1)


# ---- is_overdue -----------------------------------------------------------------------------------------------


def test_is_overdue_with_grace():
    u = make()  # expires NOW + 900 s
    expires = NOW + timedelta(seconds=900)
    assert not is_overdue(u, expires, 300)
    assert not is_overdue(u, expires + timedelta(seconds=300), 300)  # exactly at the end of grace: not yet
    assert is_overdue(u, expires + timedelta(seconds=301), 300)
    assert is_overdue(u, expires + timedelta(seconds=1), 0)


@pytest.mark.parametrize("state", [UploadState.RECEIVED, UploadState.REJECTED, UploadState.EXPIRED])
def test_only_requested_uploads_are_overdue(state):
    u = make().model_copy(update={"state": state})
    assert not is_overdue(u, NOW + timedelta(days=30), 300)


# ---- lifecycle ------------------------------------------------------------------------------------------------


def test_lifecycle_happy_paths():
    assert UPLOAD_LIFECYCLE.next_state(UploadState.REQUESTED, UploadEvent.OBJECT_ACCEPTED) == UploadState.RECEIVED
    assert UPLOAD_LIFECYCLE.next_state(UploadState.REQUESTED, UploadEvent.OBJECT_REFUSED) == UploadState.REJECTED
    assert UPLOAD_LIFECYCLE.next_state(UploadState.REQUESTED, UploadEvent.URL_EXPIRED) == UploadState.EXPIRED


def test_lifecycle_refuses_a_second_acceptance_in_chinese():
    with pytest.raises(InvalidTransition) as exc:
        UPLOAD_LIFECYCLE.next_state(UploadState.RECEIVED, UploadEvent.OBJECT_ACCEPTED)
    assert exc.value.message == "当前状态为“已接收”，不能执行“接收文件”"
    assert exc.value.details == {"state": "RECEIVED", "event": "OBJECT_ACCEPTED"}
    assert exc.value.code == "INVALID_TRANSITION"
    assert isinstance(exc.value, Conflict)  # mapped to 409


@pytest.mark.parametrize("state", [UploadState.RECEIVED, UploadState.REJECTED, UploadState.EXPIRED])
@pytest.mark.parametrize("event", list(UploadEvent))
def test_final_states_are_final(state, event):
    assert UPLOAD_LIFECYCLE.allowed_events(state) == []
    with pytest.raises(InvalidTransition):
        UPLOAD_LIFECYCLE.next_state(state, event)


def test_lifecycle_edges():
    assert set(UPLOAD_LIFECYCLE.allowed_events(UploadState.REQUESTED)) == set(UploadEvent)
    assert len(UPLOAD_LIFECYCLE.edges()) == 3
