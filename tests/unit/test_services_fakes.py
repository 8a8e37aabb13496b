"""Use cases over the in-memory fakes (tests/unit/fakes.py): UploadService, AuthService, AuditQueryService."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fakes import (
    META,
    FakeAccountStore,
    FakeAuditLog,
    FakeBlobStore,
    FakeClock,
    FakeIdentityAdmin,
    FakeIdentityProvider,
    FakeSecretBox,
    FakeTokenVerifier,
    FakeUploadRepository,
    Write,
    city,
    county,
    enterprise,
    province,
    province_admin,
    sequential_ids,
)

from chalicelib.domain.accounts import Account, AccountState
from chalicelib.domain.audit import GENESIS_HASH, AuditAction, AuditDraft, RequestMeta, digest, verify_chain
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.uploads import UploadState
from chalicelib.services.audit_queries import AuditQueryService
from chalicelib.services.auth import AuthService
from chalicelib.services.ports import Page
from chalicelib.services.uploads import INTAKE, SWEEPER, ArrivalOutcome, UploadService

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TTL = 900
GRACE = 300
USCC_A = "91330782MA2D000028"  # 义乌
USCC_B = "91330102MA2H000064"  # 杭州上城
SQS_META = RequestMeta(request_id="msg-1", source_ip="s3")


class World:
    """One test's wiring: fakes + services sharing a clock."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.audit = FakeAuditLog(clock=self.clock.iso)
        self.repo = FakeUploadRepository(self.audit)
        self.blobs = FakeBlobStore()
        self.uploads = UploadService(
            self.repo, self.blobs, ttl_seconds=TTL, grace_seconds=GRACE, clock=self.clock, new_id=sequential_ids()
        )
        self.queries = AuditQueryService(self.audit)

    def request(self, principal=None, **kw):
        args = {"kind": "enterprise_sheet", "filename": "企业信息表.xlsx", "content_type": XLSX, "size": 2048}
        args.update(kw)
        return self.uploads.request(principal or enterprise(USCC_A), META, **args)

    def trail(self, upload_id: str):
        return self.audit.entries_for_target("upload", upload_id)

    def assert_chain_intact(self, upload_id: str) -> None:
        report = verify_chain("upload", upload_id, self.trail(upload_id))
        assert report.intact, report.breaks


@pytest.fixture
def w() -> World:
    return World()


# ---- the fakes themselves -------------------------------------------------------------------------------------


def test_fake_audit_log_chains_and_commits_atomically():
    clock = FakeClock()
    log = FakeAuditLog(clock=clock.iso)
    d = AuditDraft(target_type="login", target_id="alice", action=AuditAction.USER_LOGIN_FAILED)
    first = log.record(d, province(), META)
    second = log.record(d, province(), META)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    applied = []

    def fail():
        raise Conflict()

    with pytest.raises(Conflict):
        log.commit(
            [Write(lambda: None, lambda: applied.append(1)), Write(fail, lambda: applied.append(2))],
            d,
            province(),
            META,
        )
    assert applied == []
    assert log.count() == 2
    assert verify_chain("login", "alice", log.entries_for_target("login", "alice")).intact


def test_fake_audit_log_actor_pages_newest_first():
    clock = FakeClock()
    log = FakeAuditLog(clock=clock.iso)
    actor = county()
    for i in range(5):
        clock.advance(60)
        log.record(AuditDraft(target_type="user", target_id=f"t{i}", action=AuditAction.USER_LOGGED_IN), actor, META)
    page1 = log.entries_for_actor(actor.subject, limit=2, cursor=None)
    assert [e.target_id for e in page1.items] == ["t4", "t3"]
    page2 = log.entries_for_actor(actor.subject, limit=2, cursor=page1.cursor)
    page3 = log.entries_for_actor(actor.subject, limit=2, cursor=page2.cursor)
    assert [e.target_id for e in page2.items + page3.items] == ["t2", "t1", "t0"]
    assert page3.cursor is None
    assert log.entries_for_actor("nobody", limit=10, cursor=None).items == []


def test_fake_repository_reads_are_copies(w):
    ticket = w.request()
    got = w.repo.get(ticket.upload.upload_id)
    got.state = UploadState.EXPIRED
    assert w.repo.get(ticket.upload.upload_id).state == UploadState.REQUESTED


def test_fake_repository_save_checks_version(w):
    u = w.request().upload
    bumped = u.model_copy(update={"version": 3})
    d = AuditDraft(target_type="upload", target_id=u.upload_id, action=AuditAction.UPLOAD_EXPIRED)
    with pytest.raises(Conflict):
        w.repo.save(bumped, 2, d, SWEEPER, META)
    assert w.audit.actions("upload", u.upload_id) == [AuditAction.UPLOAD_REQUESTED]  # nothing half-written


# ---- UploadService.request ------------------------------------------------------------------------------------


def test_request_writes_one_audit_entry_and_presigns(w):
    ent = enterprise(USCC_A)
    ticket = w.request(ent)
    u = ticket.upload
    assert u.state == UploadState.REQUESTED
    assert u.upload_id == f"{1:032x}"
    assert w.repo.get(u.upload_id) == u
    trail = w.trail(u.upload_id)
    assert len(trail) == 1 and w.audit.count() == 1
    e = trail[0]
    assert e.action == AuditAction.UPLOAD_REQUESTED
    assert (e.seq, e.prev_hash) == (1, GENESIS_HASH)
    assert e.actor_subject == ent.subject
    assert e.actor_org == USCC_A
    assert e.target_owner == USCC_A
    assert e.target_region == "330782"
    assert e.after_digest == digest(u.audit_state())
    assert e.before_digest is None
    assert e.request_id == META.request_id
    assert e.at == w.clock.iso()
    assert ticket.post["url"].startswith("https://")
    assert ticket.post["fields"]["key"] == u.key
    call = w.blobs.presigned[-1]
    assert (call.key, call.content_type, call.max_bytes, call.expires_in) == (u.key, XLSX, u.max_bytes, TTL)
    assert datetime.fromisoformat(u.expires_at) == w.clock() + timedelta(seconds=TTL)


def test_request_refused_writes_nothing(w):
    with pytest.raises(Forbidden):
        w.request(enterprise(), kind="legacy_export", content_type="text/csv")
    with pytest.raises(InvalidInput):
        w.request(size=0)
    assert w.audit.count() == 0 and w.repo.all() == [] and w.blobs.presigned == []


def test_list_mine_only_lists_own_uploads(w):
    a, b = enterprise(USCC_A), enterprise(USCC_B, region="330102")
    w.request(a)
    w.clock.advance(1)
    second = w.request(a).upload
    w.request(b)
    page = w.uploads.list_mine(a, limit=10, cursor=None)
    assert isinstance(page, Page)
    assert page.items[0].upload_id == second.upload_id
    assert len(page.items) == 2 and all(u.owner_subject == a.subject for u in page.items)


# ---- UploadService.object_arrived -----------------------------------------------------------------------------


def test_object_arrived_accepts_then_reports_duplicate(w):
    u = w.request().upload
    w.clock.advance(30)
    w.blobs.put(u.key, 2048, XLSX)
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.ACCEPTED
    stored = w.repo.get(u.upload_id)
    assert stored.state == UploadState.RECEIVED
    assert stored.version == 2
    assert stored.size == 2048
    assert stored.received_at == w.clock().isoformat()
    assert w.audit.actions("upload", u.upload_id) == [AuditAction.UPLOAD_REQUESTED, AuditAction.UPLOAD_RECEIVED]
    received = w.trail(u.upload_id)[1]
    assert received.actor_subject == INTAKE.subject and received.actor_role == "system"
    assert received.request_id == "msg-1"
    assert received.before_digest == digest(u.audit_state())
    assert received.after_digest == digest(stored.audit_state())

    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.DUPLICATE
    assert len(w.trail(u.upload_id)) == 2
    assert w.repo.get(u.upload_id).version == 2
    w.assert_chain_intact(u.upload_id)


def test_object_arrived_with_parameterised_content_type(w):
    u = w.request(filename="人员.csv", content_type="text/csv").upload
    w.blobs.put(u.key, 10, "text/csv; charset=utf-8")
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.ACCEPTED


def test_oversize_object_is_rejected_with_reason(w):
    u = w.request().upload
    w.blobs.put(u.key, u.max_bytes + 1, XLSX)
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.REJECTED
    stored = w.repo.get(u.upload_id)
    assert stored.state == UploadState.REJECTED
    assert "超过上限" in stored.reject_reason
    assert stored.size == u.max_bytes + 1
    trail = w.trail(u.upload_id)
    assert [e.action for e in trail] == [AuditAction.UPLOAD_REQUESTED, AuditAction.UPLOAD_REJECTED]
    assert trail[1].note == stored.reject_reason
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.DUPLICATE
    w.assert_chain_intact(u.upload_id)


def test_wrong_type_and_empty_object_rejected_with_all_reasons(w):
    u = w.request().upload
    w.blobs.put(u.key, 0, "application/pdf")
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.REJECTED
    reason = w.repo.get(u.upload_id).reject_reason
    assert "文件为空" in reason and "文件类型" in reason and "；" in reason


def test_unknown_upload_id_raises_not_found(w):
    key = f"uploads/enterprise_sheet/e-{USCC_A}/{'f' * 32}/x.xlsx"
    w.blobs.put(key, 10, XLSX)
    with pytest.raises(NotFound, match="没有对应的上传申请"):
        w.uploads.object_arrived(key, SQS_META)
    assert w.audit.count() == 0


def test_event_for_a_deleted_object_rejects_the_upload_with_a_reason(w):
    u = w.request().upload
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.REJECTED
    stored = w.repo.get(u.upload_id)
    assert stored.state == UploadState.REJECTED and "删除" in stored.reject_reason


@pytest.mark.parametrize("key", ["incoming/readme.txt", "uploads/enterprise_sheet/x.xlsx", "uploads/a/b//c", ""])
def test_malformed_key_is_ignored(w, key):
    assert w.uploads.object_arrived(key, SQS_META) == ArrivalOutcome.IGNORED
    assert w.blobs.heads == []
    assert w.audit.count() == 0


def test_concurrent_delivery_ends_as_duplicate(w):
    u = w.request().upload
    w.blobs.put(u.key, 2048, XLSX)
    outcomes = []

    def racing_delivery(_upload):
        w.repo.before_save = None
        outcomes.append(w.uploads.object_arrived(u.key, RequestMeta(request_id="msg-2", source_ip="s3")))

    w.repo.before_save = racing_delivery
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.DUPLICATE
    assert outcomes == [ArrivalOutcome.ACCEPTED]
    trail = w.trail(u.upload_id)
    assert [e.action for e in trail] == [AuditAction.UPLOAD_REQUESTED, AuditAction.UPLOAD_RECEIVED]
    assert trail[1].request_id == "msg-2"
    w.assert_chain_intact(u.upload_id)


def test_persistent_conflicts_give_up_after_three_attempts(w):
    u = w.request().upload
    w.blobs.put(u.key, 2048, XLSX)

    def bump(_upload):
        current = w.repo.get(u.upload_id)
        w.repo.force(current.model_copy(update={"version": current.version + 1}))

    w.repo.before_save = bump
    with pytest.raises(Conflict, match="并发"):
        w.uploads.object_arrived(u.key, SQS_META)
    assert w.repo.saves == 3
    assert w.audit.actions("upload", u.upload_id) == [AuditAction.UPLOAD_REQUESTED]


# ---- UploadService.expire_overdue -----------------------------------------------------------------------------


def test_expire_overdue(w):
    overdue_1 = w.request().upload
    overdue_2 = w.request(enterprise(USCC_B, region="330102")).upload
    in_flight = w.request().upload  # object arrived, notification not yet handled
    w.blobs.put(in_flight.key, 2048, XLSX)
    accepted = w.request().upload
    w.blobs.put(accepted.key, 2048, XLSX)
    assert w.uploads.object_arrived(accepted.key, SQS_META) == ArrivalOutcome.ACCEPTED
    w.clock.advance(800)
    fresh = w.request().upload  # expires 800 s later than the others

    w.clock.advance(TTL - 800 + GRACE)  # exactly at the end of the grace period: nothing yet
    assert w.uploads.expire_overdue(META) == 0

    w.clock.advance(1)
    entries_before = w.audit.count()
    assert w.uploads.expire_overdue(META) == 2
    assert w.audit.count() == entries_before + 2

    states = {u.upload_id: u.state for u in w.repo.all()}
    assert states[overdue_1.upload_id] == UploadState.EXPIRED
    assert states[overdue_2.upload_id] == UploadState.EXPIRED
    assert states[in_flight.upload_id] == UploadState.REQUESTED
    assert states[accepted.upload_id] == UploadState.RECEIVED
    assert states[fresh.upload_id] == UploadState.REQUESTED

    for u in (overdue_1, overdue_2):
        trail = w.trail(u.upload_id)
        assert [e.action for e in trail] == [AuditAction.UPLOAD_REQUESTED, AuditAction.UPLOAD_EXPIRED]
        assert trail[1].actor_subject == SWEEPER.subject
        assert w.repo.get(u.upload_id).version == 2
    for u in (overdue_1, overdue_2, in_flight, accepted, fresh):
        w.assert_chain_intact(u.upload_id)
    assert w.audit.actions("upload", fresh.upload_id) == [AuditAction.UPLOAD_REQUESTED]
    assert w.audit.actions("upload", in_flight.upload_id) == [AuditAction.UPLOAD_REQUESTED]

    assert w.uploads.expire_overdue(META) == 0  # idempotent
    assert w.audit.count() == entries_before + 2

    w.clock.advance(800)
    assert w.uploads.expire_overdue(META) == 1  # now `fresh` is overdue too
    assert w.repo.get(fresh.upload_id).state == UploadState.EXPIRED
    w.assert_chain_intact(fresh.upload_id)


def test_expire_overdue_respects_limit(w):
    for _ in range(3):
        w.request()
    w.clock.advance(TTL + GRACE + 1)
    assert w.uploads.expire_overdue(META, limit=2) == 2
    assert w.uploads.expire_overdue(META, limit=2) == 1


def test_late_object_after_expiry_is_reported_late(w):
    u = w.request().upload
    w.clock.advance(TTL + GRACE + 1)
    assert w.uploads.expire_overdue(META) == 1
    w.blobs.put(u.key, 2048, XLSX)
    assert w.uploads.object_arrived(u.key, SQS_META) == ArrivalOutcome.LATE
    assert w.repo.get(u.upload_id).state == UploadState.EXPIRED


# ---- UploadService.get ----------------------------------------------------------------------------------------


def test_get_visibility(w):
    owner = enterprise(USCC_A, region="330782", subject="sub-owner")
    u = w.request(owner).upload
    assert w.uploads.get(owner, u.upload_id) == u
    colleague = enterprise(USCC_A, region="330782", subject="sub-colleague")
    assert w.uploads.get(colleague, u.upload_id).upload_id == u.upload_id
    assert w.uploads.get(county("330782"), u.upload_id).upload_id == u.upload_id
    assert w.uploads.get(city("330700"), u.upload_id).upload_id == u.upload_id
    assert w.uploads.get(province(), u.upload_id).upload_id == u.upload_id
    for outsider in (enterprise(USCC_B, region="330782"), county("330781"), city("330100")):
        with pytest.raises(NotFound):
            w.uploads.get(outsider, u.upload_id)


def test_get_unknown_upload(w):
    with pytest.raises(NotFound, match="上传记录不存在"):
        w.uploads.get(province(), "nope")


def test_get_official_upload_by_owner_and_region(w):
    officer = county("330782", subject="sub-officer")
    u = w.request(officer, kind="attachment", filename="a.pdf", content_type="application/pdf").upload
    assert w.uploads.get(officer, u.upload_id) == u
    assert w.uploads.get(county("330782", subject="sub-other-officer"), u.upload_id) == u
    with pytest.raises(NotFound):
        w.uploads.get(enterprise(USCC_A), u.upload_id)


# ---- AuthService ----------------------------------------------------------------------------------------------


def auth_service(audit: FakeAuditLog | None = None, clock: FakeClock | None = None, identity: str = "cognito"):
    """An AuthService over fakes with one county account `county-yiwu` (password s3cret) and its token."""
    audit = audit if audit is not None else FakeAuditLog()
    clock = clock or FakeClock()
    principal = Principal(
        subject="sub-county-yiwu",
        username="county-yiwu",
        role=Role.COUNTY_OFFICIAL,
        region_code="330782",
        display_name="陈静",
    )
    verifier = FakeTokenVerifier({"good-token": principal})
    idp = FakeIdentityProvider({"county-yiwu": ("s3cret", "good-token")})
    store = FakeAccountStore(audit)
    store.accounts["county-yiwu"] = Account(
        username="county-yiwu",
        subject=principal.subject,
        role=Role.COUNTY_OFFICIAL,
        region_code="330782",
        display_name="陈静",
        created_by="system:test",
        created_at=clock.iso(),
        updated_at=clock.iso(),
        password_changed_at=clock.iso(),
    )
    svc = AuthService(
        idp,
        verifier,
        audit,
        store,
        FakeIdentityAdmin(idp),
        FakeSecretBox(),
        identity=identity,
        clock=clock,
        cache_seconds=0,
    )
    return svc, verifier, principal


@pytest.mark.parametrize("header", [None, ""])
def test_authenticate_missing_header(header):
    svc, verifier, _ = auth_service()
    with pytest.raises(Unauthenticated, match="缺少 Authorization"):
        svc.authenticate(header)
    assert verifier.seen == []


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "good-token", "Bearer", "Bearer    ", "Token good-token", "   "]
)
def test_authenticate_wrong_scheme(header):
    svc, verifier, _ = auth_service()
    with pytest.raises(Unauthenticated, match="Bearer"):
        svc.authenticate(header)
    assert verifier.seen == []


@pytest.mark.parametrize("header", ["Bearer good-token", "bearer good-token", "  BEARER   good-token  "])
def test_authenticate_bearer_of_an_open_session(header):
    svc, verifier, _principal = auth_service()
    with pytest.raises(Unauthenticated, match="会话已结束"):
        svc.authenticate(header)  # a valid signature is not enough: no login opened this session
    svc.login("county-yiwu", "s3cret", META)
    p = svc.authenticate(header)
    assert (p.username, p.role, p.region_code, p.session_id) == (
        "county-yiwu",
        Role.COUNTY_OFFICIAL,
        "330782",
        "sid-good-token",
    )
    assert verifier.seen[-1] == "good-token"


def test_authenticate_invalid_token_propagates_unauthenticated():
    svc, _, _ = auth_service()
    with pytest.raises(Unauthenticated):
        svc.authenticate("Bearer forged")


def test_login_success_and_failure_are_audited():
    audit = FakeAuditLog()
    svc, _, principal = auth_service(audit)
    result = svc.login("county-yiwu", "s3cret", META)
    assert result.principal.subject == principal.subject and result.principal.pending is None
    assert result.tokens.id_token == "good-token"
    ok = audit.entries_for_target("account", "county-yiwu")
    assert [e.action for e in ok] == [AuditAction.USER_LOGGED_IN]
    assert ok[0].target_region == "330782"

    with pytest.raises(Unauthenticated):
        svc.login("county-yiwu", "wrong", META)
    failed = audit.entries_for_target("login", "county-yiwu")
    assert [e.action for e in failed] == [AuditAction.USER_LOGIN_FAILED]
    assert failed[0].actor_role == Role.PUBLIC.value
    assert failed[0].actor_subject == "anonymous:county-yiwu"


def test_the_gate_refuses_disabled_revoked_and_idle_and_reads_the_account_not_the_claims():
    clock = FakeClock()
    svc, verifier, _ = auth_service(clock=clock)
    svc.login("county-yiwu", "s3cret", META)
    store = svc.accounts
    # the account's role is authoritative, whatever the token's principal says
    store.accounts["county-yiwu"].region_code = "330783"
    assert svc.authenticate("Bearer good-token").region_code == "330783"
    store.accounts["county-yiwu"].state = AccountState.DISABLED
    with pytest.raises(Unauthenticated, match="已停用"):
        svc.authenticate("Bearer good-token")
    store.accounts["county-yiwu"].state = AccountState.ACTIVE
    store.accounts["county-yiwu"].revoked_before = 10
    verifier.issued["good-token"] = 9
    with pytest.raises(Unauthenticated) as exc:
        svc.authenticate("Bearer good-token")
    assert exc.value.code == "SESSION_REVOKED"
    verifier.issued["good-token"] = 10
    assert svc.authenticate("Bearer good-token")
    clock.advance(16 * 60)
    with pytest.raises(Unauthenticated) as exc:
        svc.authenticate("Bearer good-token")
    assert exc.value.code == "SESSION_IDLE"
    assert store.sessions("county-yiwu") == []  # the idle session is gone for good


def test_the_gate_cache_is_short_and_forgotten_by_the_process_that_changes_the_account():
    svc, _, _ = auth_service()
    svc.cache.ttl = 5.0
    now = [100.0]
    svc.cache.clock = lambda: now[0]
    svc.login("county-yiwu", "s3cret", META)
    svc.authenticate("Bearer good-token")
    svc.authenticate("Bearer good-token")
    assert svc.accounts.batch_reads == 1  # one read for both requests
    now[0] += 5.1
    svc.authenticate("Bearer good-token")
    assert svc.accounts.batch_reads == 2  # expired after its few seconds
    svc.logout(svc.authenticate("Bearer good-token"), None, META)
    with pytest.raises(Unauthenticated):
        svc.authenticate("Bearer good-token")  # logged out here: refused at once, not after the cache's seconds


def test_lockout_counts_per_account_and_lifts_after_the_wait():
    clock = FakeClock()
    svc, _, _ = auth_service(clock=clock)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            svc.login("county-yiwu", "wrong", META)
    with pytest.raises(TooManyRequests) as exc:
        svc.login("county-yiwu", "s3cret", META)
    assert exc.value.code == "ACCOUNT_LOCKED" and exc.value.details["retry_after_seconds"] == 1800
    assert "30分钟" in exc.value.message
    clock.advance(1801)
    assert svc.login("county-yiwu", "s3cret", META).principal.username == "county-yiwu"


def test_pending_password_change_after_expiry():
    clock = FakeClock()
    svc, _, _ = auth_service(clock=clock)
    clock.advance(91 * 86400)
    assert svc.login("county-yiwu", "s3cret", META).principal.pending == "PASSWORD_CHANGE"


def test_oidc_variant_uses_the_binding_when_there_is_one_and_the_claims_otherwise():
    svc, _verifier, principal = auth_service(identity="oidc")
    svc.accounts.accounts["county-yiwu"].identity = "oidc"
    # no platform session needed (the province login owns sessions); the binding still decides and can disable
    assert svc.authenticate("Bearer good-token").region_code == "330782"
    svc.accounts.accounts["county-yiwu"].state = AccountState.DISABLED
    with pytest.raises(Unauthenticated):
        svc.authenticate("Bearer good-token")
    del svc.accounts.accounts["county-yiwu"]
    assert svc.authenticate("Bearer good-token") == principal  # no binding: the province login's claims


# ---- AuditQueryService ----------------------------------------------------------------------------------------


def _yiwu_upload(w: World):
    u = w.request(enterprise(USCC_A, region="330782")).upload
    w.blobs.put(u.key, 2048, XLSX)
    w.uploads.object_arrived(u.key, SQS_META)
    return u


def test_audit_queries_refuse_enterprises(w):
    u = _yiwu_upload(w)
    with pytest.raises(Forbidden, match="主管部门"):
        w.queries.target_trail(enterprise(USCC_A), "upload", u.upload_id)
    with pytest.raises(Forbidden):
        w.queries.verify_target(enterprise(USCC_A), "upload", u.upload_id)
    ent = enterprise(USCC_A)
    with pytest.raises(Forbidden):
        w.queries.actor_trail(ent, ent.subject, limit=10, cursor=None)


def test_audit_queries_hide_other_regions_as_not_found(w):
    u = _yiwu_upload(w)
    for outsider in (county("330781"), city("330100")):
        with pytest.raises(NotFound):
            w.queries.target_trail(outsider, "upload", u.upload_id)
        with pytest.raises(NotFound):
            w.queries.verify_target(outsider, "upload", u.upload_id)


def test_audit_queries_in_scope_and_province(w):
    u = _yiwu_upload(w)
    for official in (county("330782"), city("330700"), province(), province_admin()):
        trail = w.queries.target_trail(official, "upload", u.upload_id)
        assert [e.seq for e in trail] == [1, 2]
        report = w.queries.verify_target(official, "upload", u.upload_id)
        assert report.intact and report.entries == 2


def test_province_sees_targets_without_region(w):
    svc, _, _ = auth_service(w.audit)
    with pytest.raises(Unauthenticated):
        svc.login("mallory", "guess", META)  # a failed login has no region
    assert len(w.queries.target_trail(province(), "login", "mallory")) == 1
    with pytest.raises(NotFound):
        w.queries.target_trail(city("330700"), "login", "mallory")


def test_audit_query_of_a_target_without_entries_is_an_empty_trail(w):
    # Nothing recorded (e.g. a record loaded by an import): an empty trail reveals nothing, for any official.
    assert w.queries.target_trail(province(), "upload", "nope") == []
    assert w.queries.target_trail(county("330106"), "upload", "nope") == []
    # A trail that exists stays out of another region's reach.
    u = _yiwu_upload(w)
    with pytest.raises(NotFound):
        w.queries.target_trail(county("330106"), "upload", u.upload_id)


def test_verify_target_reports_tampering(w):
    u = _yiwu_upload(w)
    stored = w.audit.stored("upload", u.upload_id)
    stored[0] = stored[0].model_copy(update={"actor_username": "someone-else"})
    report = w.queries.verify_target(province(), "upload", u.upload_id)
    assert not report.intact
    assert [b.seq for b in report.breaks] == [1]


def test_actor_trail_rules(w):
    owner = enterprise(USCC_A, region="330782")
    w.request(owner)
    jinhua = city("330700")
    with pytest.raises(Forbidden, match="省级"):
        w.queries.actor_trail(jinhua, owner.subject, limit=10, cursor=None)
    with pytest.raises(Forbidden):
        w.queries.actor_trail(county("330782"), "someone-else", limit=10, cursor=None)
    own = w.queries.actor_trail(jinhua, jinhua.subject, limit=10, cursor=None)
    assert own.items == []
    page = w.queries.actor_trail(province(), owner.subject, limit=10, cursor=None)
    assert [e.action for e in page.items] == [AuditAction.UPLOAD_REQUESTED]
    assert page.cursor is None
