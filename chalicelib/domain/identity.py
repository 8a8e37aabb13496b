"""Who is acting, and what their role lets them see (pure rules; no token handling here).

Roles follow the 2015 notice's division of duties (省、市、县三级建设行政主管部门; 企业; 住建部 sync; 公众).
Region scope uses GB/T 2260 codes: a province official (330000) sees every code starting "33", a city official
(e.g. 330700 金华市) every code starting "3307", a county official only its own 6-digit code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import Forbidden, NotFound


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # 企业用户, bound to one enterprise by 统一社会信用代码
    COUNTY_OFFICIAL = "county_official"  # 县级建设行政主管部门
    CITY_OFFICIAL = "city_official"  # 设区市建设行政主管部门
    PROVINCE_OFFICIAL = "province_official"  # 省住房和城乡建设厅
    PROVINCE_ADMIN = "province_admin"  # 系统管理员（省级）: accounts of officials and configuration
    CITY_ADMIN = "city_admin"  # 市级系统管理员: accounts of its own counties only
    SECURITY_ADMIN = "security_admin"  # 安全管理员: administrator roles, security policy, lockouts, second factors
    AUDIT_ADMIN = "audit_admin"  # 审计管理员: reads, exports and verifies the audit trail; changes nothing else
    MINISTRY_SYNC = "ministry_sync"  # 住建部数据同步客户端
    TENDER_SUPERVISION = "tender_supervision"  # 招投标监管机构（核验企业、人员、项目）
    PUBLIC = "public"  # 社会公众 (anonymous)
    SYSTEM = "system"  # the platform's own event handlers and schedules; never granted to a token


OFFICIAL_ROLES = frozenset({Role.COUNTY_OFFICIAL, Role.CITY_OFFICIAL, Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN})
PROVINCE_ROLES = frozenset({Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN})
# 三员分立: the three administrators of the platform itself (with the city-level system administrator). None of them
# holds a business role: they cannot decide, record or approve anything in the registries.
ADMIN_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
PROVINCE_LEVEL_ROLES = frozenset({Role.PROVINCE_OFFICIAL, Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
TOKEN_ROLES = frozenset(Role) - {Role.PUBLIC, Role.SYSTEM}

ROLE_LABELS = {
    Role.ENTERPRISE: "企业用户",
    Role.COUNTY_OFFICIAL: "县级主管部门",
    Role.CITY_OFFICIAL: "市级主管部门",
    Role.PROVINCE_OFFICIAL: "省级主管部门",
    Role.PROVINCE_ADMIN: "系统管理员",
    Role.CITY_ADMIN: "市级系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
    Role.MINISTRY_SYNC: "住建部同步客户端",
    Role.TENDER_SUPERVISION: "招投标监管机构",
    Role.PUBLIC: "社会公众",
    Role.SYSTEM: "平台系统",
}

# Precedence when an identity carries several roles (an unusual but possible IdP set-up): the narrowest wins,
# so a misconfigured account never gains more than its least-privileged role.
# The machine client of the ministry sees no region at all, so it ranks just after the enterprise.
_ROLE_PRECEDENCE = [
    Role.ENTERPRISE,
    Role.MINISTRY_SYNC,
    Role.AUDIT_ADMIN,
    Role.TENDER_SUPERVISION,
    Role.COUNTY_OFFICIAL,
    Role.CITY_OFFICIAL,
    Role.PROVINCE_OFFICIAL,
    Role.CITY_ADMIN,
    Role.PROVINCE_ADMIN,
    Role.SECURITY_ADMIN,
]

_REGION_RE = re.compile(r"^\d{6}$")
# Shape only (GB 32100 alphabet); the full check-character validation lives with the registry validators.
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
PROVINCE_CODE = "330000"  # 浙江省


@dataclass(frozen=True)
class Principal:
    """The authenticated actor of one request or event."""

    subject: str  # stable id from the IdP (`sub`)
    username: str
    role: Role
    region_code: str | None = None  # GB/T 2260, for officials (and the enterprise's registered county)
    uscc: str | None = None  # 统一社会信用代码, for enterprise users
    display_name: str | None = None
    org_name: str | None = None
    session_id: str | None = None  # the platform session the token belongs to (logout ends it)
    # Set while the account must first change its password or enrol a second factor: every route refuses except
    # the few that let it do so (see api_route's `pending_ok`).
    pending: str | None = None

    @property
    def is_official(self) -> bool:
        return self.role in OFFICIAL_ROLES

    @property
    def region_prefix(self) -> str | None:
        """The code prefix this principal's region scope covers; None = no region scope at all."""
        if self.region_code is None:
            return None
        if self.role in PROVINCE_LEVEL_ROLES:
            return self.region_code[:2]
        if self.role in (Role.CITY_OFFICIAL, Role.CITY_ADMIN):
            return self.region_code[:4]
        if self.role == Role.COUNTY_OFFICIAL:
            return self.region_code
        return None

    @property
    def org_key(self) -> str:
        """The organisation the actor acts for: the enterprise's USCC or the authority's region code."""
        if self.role == Role.ENTERPRISE and self.uscc:
            return self.uscc
        return self.region_code or self.role.value


SYSTEM_PRINCIPAL = Principal(subject="system", username="system", role=Role.SYSTEM, display_name="平台系统")


def system_principal(component: str) -> Principal:
    return Principal(subject=f"system:{component}", username=component, role=Role.SYSTEM, display_name="平台系统")


def pick_role(candidates: list[str], role_map: dict[str, str]) -> Role | None:
    """Map IdP group names to one platform role (see `_ROLE_PRECEDENCE`).

    With a role map configured only mapped names count, so an IdP group that happens to be called
    "province_admin" grants nothing unless the map says so. Without a map, group names are role names (Cognito).
    """
    mapped = set()
    for name in candidates:
        value = role_map.get(name) if role_map else name
        if value is None:
            continue
        try:
            role = Role(value)
        except ValueError:
            continue
        if role in TOKEN_ROLES:
            mapped.add(role)
    for role in _ROLE_PRECEDENCE:
        if role in mapped:
            return role
    return None


def check_principal_shape(p: Principal) -> None:
    """A principal whose claims do not fit its role is refused outright (403), never half-trusted."""
    if p.role == Role.ENTERPRISE:
        if not p.uscc:
            raise Forbidden("企业账号未绑定统一社会信用代码，请联系管理员")
        if not _USCC_SHAPE.match(p.uscc):
            raise Forbidden("企业账号绑定的统一社会信用代码格式不正确，请联系管理员")
        return
    if p.role in OFFICIAL_ROLES | ADMIN_ROLES:
        code = p.region_code or ""
        if not _REGION_RE.match(code) or not code.startswith("33"):
            raise Forbidden("主管部门账号未绑定有效的浙江省行政区划代码，请联系管理员")
        if p.role in PROVINCE_LEVEL_ROLES and code != PROVINCE_CODE:
            raise Forbidden("省级账号的行政区划代码必须为330000")
        if p.role in (Role.CITY_OFFICIAL, Role.CITY_ADMIN) and (code.endswith("0000") or not code.endswith("00")):
            raise Forbidden("市级账号的行政区划代码必须是设区市代码（如330700）")
        if p.role == Role.COUNTY_OFFICIAL and code.endswith("00"):
            raise Forbidden("县级账号的行政区划代码必须是县级代码（如330782）")


def require_role(p: Principal, *roles: Role) -> None:
    if p.role not in roles:
        raise Forbidden()


def in_region_scope(p: Principal, region_code: str | None) -> bool:
    prefix = p.region_prefix
    if prefix is None or not region_code:
        return False
    return region_code.startswith(prefix)


def can_see(p: Principal, *, owner_uscc: str | None, region_code: str | None) -> bool:
    """Visibility of a record owned by an enterprise and located in a region."""
    if p.role == Role.SYSTEM:
        return True
    if p.role == Role.ENTERPRISE:
        return owner_uscc is not None and owner_uscc == p.uscc
    if p.role in OFFICIAL_ROLES:
        return in_region_scope(p, region_code)
    return False


def ensure_visible(p: Principal, *, owner_uscc: str | None, region_code: str | None) -> None:
    """404 rather than 403, so another party's object is not even confirmed to exist."""
    if not can_see(p, owner_uscc=owner_uscc, region_code=region_code):
        raise NotFound()
