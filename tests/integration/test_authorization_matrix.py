"""The authorization matrix: every secured operation of the OpenAPI document × every role (one demo account each)
× own / other enterprise or region, plus no token at all. Generated from /openapi.json, so a new route is in it
the day it is declared.

- no token → 401; a role the operation does not list → 403 (the edge refuses before any handler runs);
- a listed role is never refused as unauthenticated and never answered with a server error;
- an enterprise or a county official never reads or changes another enterprise's or county's object (no 2xx).
Bodies are `{}` (refused by validation after authorization), so no cell changes data.
"""

from __future__ import annotations

import json
import re

from tests.conftest import record_figure, today_in_beijing

ROLE_ACCOUNTS = {
    "enterprise": "ent_yiwu",
    "county_official": "county_yiwu",
    "city_official": "city_jinhua",
    "province_official": "province",
    "province_admin": "admin",
    "city_admin": "admin_jinhua",
    "security_admin": "security",
    "audit_admin": "auditor",
    "ministry_sync": "ministry_sync",
    "tender_supervision": "tender_yiwu",
}
OWN = {"uscc": "91330782677204726D", "region": "330782", "county": "330782", "city": "330700"}
OTHER = {"uscc": "91330106MA2CFE0Q4W", "region": "330106", "county": "330106", "city": "330100"}
# 核验 (verification of a bidder, a person, a project) is province-wide by rule: a county checks a bidder from
# anywhere in the province (services/data_use.py); every other scoped object stays within its owner or county.
CROSS_REGION_READS = ("/verify/",)
# Operations whose allowed-role cell would end the caller's own session (checked for the refused roles only).
SELF_ENDING = {("POST", "/auth/logout")}


def _fill(path: str, variant: dict[str, str]) -> str:
    def value(m: re.Match) -> str:
        name = m.group(1)
        if name in variant:
            return variant[name]
        if name == "day":
            return today_in_beijing().isoformat()
        return "matrix-nobody"

    return re.sub(r"\{([^}]+)\}", value, path)


def _call(client, method: str, path: str, headers: dict[str, str]):
    h = dict(headers)
    kwargs = {}
    if method in ("POST", "PUT", "PATCH"):
        h["Content-Type"] = "application/json"
        kwargs["body"] = "{}"
    return getattr(client.http, method.lower())(path, headers=h, **kwargs)


def test_every_secured_route_for_every_role_own_and_other(client, login):
    doc = json.loads(client.http.get("/openapi.json").body)
    tokens = {role: login(user) for role, user in ROLE_ACCOUNTS.items()}
    failures, cells, ops = [], 0, 0
    operations = [(p, m.upper(), op) for p, item in doc["paths"].items() for m, op in item.items()]
    operations.sort(key=lambda o: ((o[1], o[0]) in SELF_ENDING, o[0], o[1]))  # the session-ending ones last
    for path, method, op in operations:
        if True:
            if "x-roles" not in op and not op.get("security"):
                continue
            ops += 1
            listed = set(op.get("x-roles") or ())
            allowed = set(ROLE_ACCOUNTS) if listed <= {"(任何已登录用户)"} else listed  # any authenticated user
            has_scope = any(k in path for k in ("{uscc}", "{region}", "{county}", "{city}"))
            variants = [("own", OWN), ("other", OTHER)] if has_scope else [("own", OWN)]
            for label, variant in variants:
                url = _fill(path, variant)
                cells += 1
                anon = _call(client, method, url, {})
                if anon.status_code != 401:
                    failures.append(f"{method} {url} without a token → {anon.status_code}")
                for role, headers in tokens.items():
                    if role in allowed and (method, path) in SELF_ENDING:
                        continue
                    cells += 1
                    resp = _call(client, method, url, headers)
                    status = resp.status_code
                    if role not in allowed:
                        if status != 403:
                            failures.append(f"{method} {url} as {role} (not allowed) → {status}")
                        continue
                    if status == 401 or status >= 500:
                        failures.append(f"{method} {url} as {role} (allowed) → {status} {resp.body[:120]!r}")
                    cross = path.startswith(CROSS_REGION_READS) and role != "enterprise"
                    if (
                        label == "other"
                        and role in ("enterprise", "county_official")
                        and 200 <= status < 300
                        and not cross
                    ):
                        failures.append(f"{method} {url} as {role}: another party's object answered {status}")
    record_figure(
        "authorization-matrix",
        f"authorization matrix: {ops} secured operations × {len(ROLE_ACCOUNTS)} roles (+ no token), "
        f"own/other where scoped: {cells} cells checked",
    )
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} of {cells} cells)"
