"""Roles from IdP groups, principal shape checks, region scope and visibility (chalicelib.domain.identity)."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.identity import (
    SYSTEM_PRINCIPAL,
    TOKEN_ROLES,
    Principal,
    Role,
    can_see,
    check_principal_shape,
    ensure_visible,
    in_region_scope,
    pick_role,
    system_principal,
)

ROLE_MAP = {
    "zj-enterprise": "enterprise",
    "zj-county": "county_official",
    "zj-city": "city_official",
    "zj-province": "province_official",
    "zj-admin": "province_admin",
    "mohurd-sync": "ministry_sync",
}


def P(role: Role, region: str | None = None, uscc: str | None = None, subject: str = "s-1") -> Principal:
    return Principal(subject=subject, username="u", role=role, region_code=region, uscc=uscc)


# ---- pick_role -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "role"),
    [
        ("zj-enterprise", Role.ENTERPRISE),
        ("zj-county", Role.COUNTY_OFFICIAL),
        ("zj-city", Role.CITY_OFFICIAL),
        ("zj-province", Role.PROVINCE_OFFICIAL),
        ("zj-admin", Role.PROVINCE_ADMIN),
        ("mohurd-sync", Role.MINISTRY_SYNC),
    ],
)
def test_pick_role_maps_idp_groups(group, role):
    assert pick_role([group], ROLE_MAP) == role


def test_pick_role_accepts_platform_role_names_without_a_map():
    assert pick_role(["city_official"], {}) == Role.CITY_OFFICIAL


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["zj-admin", "zj-county"], Role.COUNTY_OFFICIAL),
        (["zj-province", "zj-city"], Role.CITY_OFFICIAL),
        (["zj-admin", "zj-province"], Role.PROVINCE_OFFICIAL),
        (["zj-county", "zj-enterprise"], Role.ENTERPRISE),
        (["mohurd-sync", "zj-admin"], Role.MINISTRY_SYNC),  # a machine client never gains an official role
        (["zj-admin", "zj-city", "zj-county", "zj-province", "zj-enterprise"], Role.ENTERPRISE),
    ],
)
def test_pick_role_narrowest_wins(groups, expected):
    assert pick_role(groups, ROLE_MAP) == expected
    assert pick_role(list(reversed(groups)), ROLE_MAP) == expected  # order of the claim does not matter


def test_pick_role_ignores_unknown_groups():
    assert pick_role(["staff", "zj-city", "admins"], ROLE_MAP) == Role.CITY_OFFICIAL
    assert pick_role(["staff", "Province_Admin"], ROLE_MAP) is None  # case matters: no fuzzy matching
    assert pick_role([], ROLE_MAP) is None


@pytest.mark.parametrize("groups", [["public"], ["system"], ["public", "system"]])
def test_pick_role_never_grants_public_or_system(groups):
    assert pick_role(groups, ROLE_MAP) is None


def test_pick_role_never_grants_system_even_through_the_map():
    role_map = {"ops": "system", "everyone": "public"}
    assert pick_role(["ops"], role_map) is None
    assert pick_role(["everyone"], role_map) is None
    assert pick_role(["ops", "zj-city"], {**ROLE_MAP, **role_map}) == Role.CITY_OFFICIAL
    assert Role.SYSTEM not in TOKEN_ROLES and Role.PUBLIC not in TOKEN_ROLES


# ---- check_principal_shape ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p",
    [
        P(Role.ENTERPRISE, "330782", uscc="91330782MA2D000028"),
        P(Role.ENTERPRISE, None, uscc="91330782MA2D000028"),
        P(Role.COUNTY_OFFICIAL, "330782"),
        P(Role.COUNTY_OFFICIAL, "330102"),
        P(Role.CITY_OFFICIAL, "330700"),
        P(Role.CITY_OFFICIAL, "330100"),
        P(Role.PROVINCE_OFFICIAL, "330000"),
        P(Role.PROVINCE_ADMIN, "330000"),
        P(Role.MINISTRY_SYNC),
    ],
)
def test_check_principal_shape_accepts(p):
    check_principal_shape(p)


def test_enterprise_without_uscc_is_forbidden():
    with pytest.raises(Forbidden, match="统一社会信用代码"):
        check_principal_shape(P(Role.ENTERPRISE, "330782", uscc=None))
    with pytest.raises(Forbidden):
        check_principal_shape(P(Role.ENTERPRISE, "330782", uscc=""))


@pytest.mark.parametrize(
    ("p", "fragment"),
    [
        (P(Role.PROVINCE_OFFICIAL, "330700"), "330000"),
        (P(Role.PROVINCE_ADMIN, "330782"), "330000"),
        (P(Role.CITY_OFFICIAL, "330000"), "设区市"),
        (P(Role.CITY_OFFICIAL, "330782"), "设区市"),
        (P(Role.COUNTY_OFFICIAL, "330700"), "县级"),
        (P(Role.COUNTY_OFFICIAL, "330000"), "县级"),
    ],
)
def test_official_level_must_match_region_code(p, fragment):
    with pytest.raises(Forbidden, match=fragment):
        check_principal_shape(p)


@pytest.mark.parametrize("code", ["110000", "320500", "320582", "440300", None, "", "3307", "33078200", "33O782"])
@pytest.mark.parametrize(
    "role", [Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN]
)
def test_official_needs_a_valid_zhejiang_code(role, code):
    with pytest.raises(Forbidden, match="浙江省"):
        check_principal_shape(P(role, code))


# ---- region scope ---------------------------------------------------------------------------------------------


def test_region_prefix_by_level():
    assert P(Role.PROVINCE_OFFICIAL, "330000").region_prefix == "33"
    assert P(Role.PROVINCE_ADMIN, "330000").region_prefix == "33"
    assert P(Role.CITY_OFFICIAL, "330700").region_prefix == "3307"
    assert P(Role.COUNTY_OFFICIAL, "330782").region_prefix == "330782"
    assert P(Role.ENTERPRISE, "330782", uscc="x").region_prefix is None
    assert P(Role.MINISTRY_SYNC, "330000").region_prefix is None
    assert P(Role.COUNTY_OFFICIAL, None).region_prefix is None


def test_province_sees_every_zhejiang_code():
    p = P(Role.PROVINCE_OFFICIAL, "330000")
    assert in_region_scope(p, "330782")
    assert in_region_scope(p, "330102")
    assert in_region_scope(p, "330000")
    assert not in_region_scope(p, "320582")


def test_city_sees_its_counties_only():
    p = P(Role.CITY_OFFICIAL, "330700")  # 金华市
    assert in_region_scope(p, "330782")  # 义乌市
    assert in_region_scope(p, "330700")
    assert not in_region_scope(p, "330102")  # 杭州市上城区
    assert not in_region_scope(p, "330000")


def test_county_sees_only_itself():
    p = P(Role.COUNTY_OFFICIAL, "330782")
    assert in_region_scope(p, "330782")
    assert not in_region_scope(p, "330781")
    assert not in_region_scope(p, "330700")


def test_no_region_means_out_of_scope():
    assert not in_region_scope(P(Role.PROVINCE_OFFICIAL, "330000"), None)
    assert not in_region_scope(P(Role.PROVINCE_OFFICIAL, "330000"), "")
    assert not in_region_scope(P(Role.ENTERPRISE, "330782", uscc="x"), "330782")


# ---- visibility -----------------------------------------------------------------------------------------------

USCC_A = "91330782MA2D000028"
USCC_B = "91330102MA2H000064"


def test_enterprise_sees_only_its_own_records():
    ent = P(Role.ENTERPRISE, "330782", uscc=USCC_A)
    assert can_see(ent, owner_uscc=USCC_A, region_code="330782")
    assert can_see(ent, owner_uscc=USCC_A, region_code=None)
    assert not can_see(ent, owner_uscc=USCC_B, region_code="330782")  # same county, other enterprise
    assert not can_see(ent, owner_uscc=None, region_code="330782")


def test_enterprise_without_uscc_sees_nothing():
    ent = P(Role.ENTERPRISE, "330782", uscc=None)
    assert not can_see(ent, owner_uscc=None, region_code="330782")


def test_ensure_visible_hides_other_parties_records_as_not_found():
    ent = P(Role.ENTERPRISE, "330782", uscc=USCC_A)
    ensure_visible(ent, owner_uscc=USCC_A, region_code="330782")
    with pytest.raises(NotFound):
        ensure_visible(ent, owner_uscc=USCC_B, region_code="330782")
    with pytest.raises(NotFound):
        ensure_visible(P(Role.COUNTY_OFFICIAL, "330781"), owner_uscc=USCC_A, region_code="330782")


def test_officials_see_by_region_not_by_owner():
    assert can_see(P(Role.COUNTY_OFFICIAL, "330782"), owner_uscc=USCC_A, region_code="330782")
    assert can_see(P(Role.CITY_OFFICIAL, "330700"), owner_uscc=USCC_A, region_code="330782")
    assert not can_see(P(Role.CITY_OFFICIAL, "330100"), owner_uscc=USCC_A, region_code="330782")
    assert can_see(P(Role.PROVINCE_ADMIN, "330000"), owner_uscc=None, region_code="330782")


def test_public_and_ministry_sync_see_nothing():
    assert not can_see(P(Role.PUBLIC), owner_uscc=USCC_A, region_code="330782")
    assert not can_see(P(Role.MINISTRY_SYNC), owner_uscc=USCC_A, region_code="330782")


def test_system_sees_everything():
    for p in (SYSTEM_PRINCIPAL, system_principal("upload-intake")):
        assert p.role == Role.SYSTEM
        assert can_see(p, owner_uscc=USCC_A, region_code="330782")
        assert can_see(p, owner_uscc=None, region_code=None)
        ensure_visible(p, owner_uscc=USCC_B, region_code="110000")


def test_org_key():
    assert P(Role.ENTERPRISE, "330782", uscc=USCC_A).org_key == USCC_A
    assert P(Role.COUNTY_OFFICIAL, "330782").org_key == "330782"
    assert P(Role.MINISTRY_SYNC).org_key == "ministry_sync"
    assert P(Role.COUNTY_OFFICIAL, "330782").is_official
    assert not P(Role.ENTERPRISE, uscc=USCC_A).is_official
    assert not P(Role.MINISTRY_SYNC).is_official
