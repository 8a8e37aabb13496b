"""AccountService over fakes: creation and its compensation, the bindings-only (OIDC) variant, activation."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from fakes import (
    META,
    FakeAccountStore,
    FakeAuditLog,
    FakeClock,
    FakeIdentityAdmin,
    FakeIdentityProvider,
    FakeSecretBox,
    FakeTokenVerifier,
)

from chalicelib.adapters.oidc_password_idp import BindingsOnlyIdentityAdmin
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput
from chalicelib.domain.identity import Principal, Role
from chalicelib.services.accounts import AccountService, NewAccount
from chalicelib.services.auth import AuthService

USCC = "91330782MA2F00063N"


class Registry:
    def __init__(self, *enterprises):
        self.items = {e.uscc: e for e in enterprises}

    def get(self, record_type, key):
        return self.items.get(key[0])


def world(admin_cls=None, clock=None):
    clock = clock or FakeClock()
    audit = FakeAuditLog(clock=clock.iso)
    store = FakeAccountStore(audit)
    idp = FakeIdentityProvider()
    admin = admin_cls() if admin_cls else FakeIdentityAdmin(idp)
    auth = AuthService(idp, FakeTokenVerifier(), audit, store, admin, FakeSecretBox(), clock=clock, cache_seconds=0)
    # the enterprise record as the registry holds it (only the fields the account service reads)
    ent = SimpleNamespace(uscc=USCC, name="义乌市建工集团有限公司", region_code="330782")
    svc = AccountService(store, admin, auth, Registry(ent), FakeSecretBox(), clock=clock)
    return svc, store, idp, audit


ADMIN = Principal(subject="s-admin", username="admin", role=Role.PROVINCE_ADMIN, region_code="330000")
COUNTY = Principal(
    subject="s-cy",
    username="county_yiwu",
    role=Role.COUNTY_OFFICIAL,
    region_code="330782",
    display_name="陈静",
    org_name="义乌市住房和城乡建设局",
)


def test_a_created_account_has_a_one_time_password_and_must_change_it():
    svc, store, idp, audit = world()
    account, temp = svc.create(ADMIN, NewAccount("county_pujiang", Role.COUNTY_OFFICIAL, "浦江审核员", "330726"), META)
    assert idp.users["county_pujiang"][0] == temp and account.must_change_password
    assert store.get("county_pujiang").password_history  # the temporary password counts for the history rule
    assert [e.action for e in audit.entries_for_target("account", "county_pujiang")] == ["ACCOUNT_CREATED"]


def test_a_failed_record_write_removes_the_identity_provider_user():
    svc, _store, idp, _ = world()
    svc.create(ADMIN, NewAccount("county_pujiang", Role.COUNTY_OFFICIAL, "浦江审核员", "330726"), META)
    del idp.users["county_pujiang"]  # the IdP forgot it, the record stays: the second create conflicts on the record
    with pytest.raises(Conflict):
        svc.create(ADMIN, NewAccount("county_pujiang", Role.COUNTY_OFFICIAL, "另一个", "330726"), META)
    assert "county_pujiang" not in idp.users  # compensated: no orphan IdP user with the platform's name


def test_binding_checks_refuse_a_wrong_region_for_the_role():
    svc, *_ = world()
    with pytest.raises(InvalidInput, match="县级"):
        svc.create(ADMIN, NewAccount("x_county", Role.COUNTY_OFFICIAL, "某", "330700"), META)
    with pytest.raises(Forbidden):
        svc.create(COUNTY, NewAccount("x_county", Role.COUNTY_OFFICIAL, "某", "330782"), META)


def test_the_oidc_variant_keeps_bindings_only():
    svc, _store, _, _ = world(BindingsOnlyIdentityAdmin)
    account, temp = svc.create(
        ADMIN, NewAccount("zhang.san", Role.COUNTY_OFFICIAL, "张三", "330782", subject="zj-sso-42"), META
    )
    assert temp is None and account.subject == "zj-sso-42" and not account.password_history
    with pytest.raises(InvalidInput, match="省统一身份认证"):
        svc.reset_password(ADMIN, "zhang.san", META)


def test_activation_opens_the_main_account_once_and_expires():
    clock = FakeClock()
    svc, _store, idp, _ = world(clock=clock)
    issued = svc.issue_code(COUNTY, USCC, META)
    account = svc.activate(USCC, issued.code, "jiangong_main", "Jiangong#2026x", "何志远", None, META)
    assert account.is_main and account.uscc == USCC and idp.users["jiangong_main"][0] == "Jiangong#2026x"
    with pytest.raises(InvalidInput, match="已使用"):
        svc.activate(USCC, issued.code, "other_name", "Jiangong#2026x", "何志远", None, META)
    # a new code for an enterprise with a main account resets that account's password
    again = svc.issue_code(COUNTY, USCC, META)
    assert again.has_account
    with pytest.raises(InvalidInput, match="jiangong_main"):
        svc.activate(USCC, again.code, "someone_else", "Jiangong#2027y", "何志远", None, META)
    clock.advance(timedelta(days=31).total_seconds())
    with pytest.raises(InvalidInput, match="已过期"):
        svc.activate(USCC, again.code, "jiangong_main", "Jiangong#2027y", "何志远", None, META)
