"""Demo accounts (one per role) and demo data for the local platform. Listed in README.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "Demo#2015zj"  # noqa: S105 - published demo password of the local platform only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    name: str
    region_code: str | None = None
    uscc: str | None = None
    org_name: str | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "ent_yiwu", "enterprise", "王建国（企业填报员）", "330782", "91330782677204726D", "义乌市示范建设有限公司"
    ),
    DemoAccount(
        "ent_hangzhou", "enterprise", "李明（企业填报员）", "330106", "91330106MA2CFE0Q4W", "杭州西湖示范建筑有限公司"
    ),
    DemoAccount("county_yiwu", "county_official", "陈静（义乌市建设局）", "330782", org_name="义乌市住房和城乡建设局"),
    DemoAccount(
        "county_xihu", "county_official", "赵磊（西湖区建设局）", "330106", org_name="杭州市西湖区住房和城乡建设局"
    ),
    DemoAccount("city_jinhua", "city_official", "周敏（金华市建设局）", "330700", org_name="金华市住房和城乡建设局"),
    DemoAccount("city_hangzhou", "city_official", "吴涛（杭州市建委）", "330100", org_name="杭州市城乡建设委员会"),
    DemoAccount("province", "province_official", "郑华（省建设厅）", "330000", org_name="浙江省住房和城乡建设厅"),
    DemoAccount("admin", "province_admin", "孙亮（平台管理员）", "330000", org_name="浙江省住房和城乡建设厅"),
    DemoAccount("ministry_sync", "ministry_sync", "住建部数据同步", None, org_name="住房和城乡建设部"),
)


def create_user(idp: Any, pool_id: str, acct: DemoAccount, password: str = DEMO_PASSWORD) -> None:
    attrs = [{"Name": "name", "Value": acct.name}]
    if acct.region_code:
        attrs.append({"Name": "custom:region_code", "Value": acct.region_code})
    if acct.uscc:
        attrs.append({"Name": "custom:uscc", "Value": acct.uscc})
    if acct.org_name:
        attrs.append({"Name": "custom:org_name", "Value": acct.org_name})
    idp.admin_create_user(UserPoolId=pool_id, Username=acct.username, UserAttributes=attrs, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=acct.username, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=acct.username, GroupName=acct.role)


def seed_demo(session: Any, pool_id: str) -> list[DemoAccount]:
    idp = session.client("cognito-idp")
    for acct in DEMO_ACCOUNTS:
        create_user(idp, pool_id, acct)
    return list(DEMO_ACCOUNTS)
