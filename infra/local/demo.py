"""Demo accounts (one per role) and demo data for the local platform. Listed in README.md."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

DEMO_PASSWORD = "Demo#2015zj"  # noqa: S105 - published demo password of the local platform only


# the qualification walkthrough's enterprise: 市政三级, one registered constructor short of 二级 (资质升级)
SHIZHENG_USCC = "91330782MA2F00880W"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    name: str
    region_code: str | None = None
    uscc: str | None = None
    org_name: str | None = None
    is_main: bool = False
    # Published second-factor keys of the demo accounts whose role needs two factors (base32, RFC 6238). Add them to
    # an authenticator app, or print the current code with `make totp USER=province`.
    totp_secret: str | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "ent_yiwu",
        "enterprise",
        "王建国（企业填报员）",
        "330782",
        "91330782677204726D",
        "义乌市示范建设有限公司",
        is_main=True,
    ),
    DemoAccount(
        "ent_hangzhou",
        "enterprise",
        "李明（企业填报员）",
        "330106",
        "91330106MA2CFE0Q4W",
        "杭州西湖示范建筑有限公司",
        is_main=True,
    ),
    DemoAccount(
        "ent_jiangong",
        "enterprise",
        "何志远（企业填报员）",
        "330782",
        "91330782MA2F00063N",
        "义乌市建工集团有限公司",
        is_main=True,
    ),
    DemoAccount(
        "ent_shizheng",
        "enterprise",
        "方晓东（企业填报员）",
        "330782",
        SHIZHENG_USCC,
        "义乌市城建市政工程有限公司",
        is_main=True,
    ),
    DemoAccount("county_yiwu", "county_official", "陈静（义乌市建设局）", "330782", org_name="义乌市住房和城乡建设局"),
    DemoAccount(
        "county_xihu", "county_official", "赵磊（西湖区建设局）", "330106", org_name="杭州市西湖区住房和城乡建设局"
    ),
    DemoAccount("city_jinhua", "city_official", "周敏（金华市建设局）", "330700", org_name="金华市住房和城乡建设局"),
    DemoAccount("city_hangzhou", "city_official", "吴涛（杭州市建委）", "330100", org_name="杭州市城乡建设委员会"),
    DemoAccount(
        "province",
        "province_official",
        "郑华（省建设厅）",
        "330000",
        org_name="浙江省住房和城乡建设厅",
        totp_secret="ZJCMSPDEMOPROVINCEOFFICIALKEYAAA",  # noqa: S106 - published demo key, local platform only
    ),
    DemoAccount(
        "admin",
        "province_admin",
        "孙亮（省住建厅）",
        "330000",
        org_name="浙江省住房和城乡建设厅",
        totp_secret="ZJCMSPDEMOSYSTEMADMINISTRATORKEY",  # noqa: S106 - published demo key, local platform only
    ),
    DemoAccount(
        "security",
        "security_admin",
        "钱敏（省住建厅）",
        "330000",
        org_name="浙江省住房和城乡建设厅",
        totp_secret="ZJCMSPDEMOSECURITYADMINKEYAAAAAA",  # noqa: S106 - published demo key, local platform only
    ),
    DemoAccount(
        "auditor",
        "audit_admin",
        "冯洁（省住建厅）",
        "330000",
        org_name="浙江省住房和城乡建设厅",
        totp_secret="ZJCMSPDEMOAUDITADMINKEYAAAAAAAAA",  # noqa: S106 - published demo key, local platform only
    ),
    DemoAccount("admin_jinhua", "city_admin", "褚刚（金华市建设局）", "330700", org_name="金华市住房和城乡建设局"),
    DemoAccount("ministry_sync", "ministry_sync", "住建部数据同步", None, org_name="住房和城乡建设部"),
    DemoAccount(
        "tender_yiwu", "tender_supervision", "义乌市公共资源交易中心", "330782", org_name="义乌市招投标监管办公室"
    ),
)

DEMO_BY_NAME = {a.username: a for a in DEMO_ACCOUNTS}


def demo_totp(username: str, at: float | None = None) -> str | None:
    """The current dynamic code of a demo account with a second factor (None for the others)."""
    import time

    import pyotp

    acct = DEMO_BY_NAME.get(username)
    if acct is None or not acct.totp_secret:
        return None
    return pyotp.TOTP(acct.totp_secret).at(at if at is not None else time.time())


def login_body(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """The POST /auth/login body for a demo account (with its current dynamic code where it has one)."""
    body = {"username": username, "password": password}
    code = demo_totp(username)
    if code:
        body["totp_code"] = code
    return body


def http_login(base_url: str, username: str, password: str = DEMO_PASSWORD) -> dict:
    """Log a demo account in over HTTP (tests, scripts): its dynamic code included; when that code was just used
    by another login of the same account (a code works once), wait for the next one."""
    import json
    import time
    import urllib.error
    import urllib.request

    for attempt in range(2):
        req = urllib.request.Request(
            f"{base_url}/auth/login",
            data=json.dumps(login_body(username, password)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            err = json.loads(exc.read() or b"{}")
            if attempt == 0 and err.get("code") == "MFA_INVALID":
                time.sleep(seconds_to_next_code())
                continue
            raise AssertionError(f"login of {username} failed: {exc.code} {err}") from None
    raise AssertionError(f"login of {username} failed")


def seconds_to_next_code() -> float:
    import time

    return 30.0 - (time.time() % 30.0) + 0.2


def create_user(acct: DemoAccount, password: str = DEMO_PASSWORD) -> None:
    """One demo account, created through the platform's own account service (IdP user + account record + audit)."""
    from chalicelib import wiring
    from chalicelib.domain.audit import RequestMeta
    from chalicelib.domain.identity import Role
    from chalicelib.services.accounts import NewAccount

    wiring.get_account_service().provision(
        NewAccount(
            username=acct.username,
            role=Role(acct.role),
            display_name=acct.name,
            region_code=acct.region_code,
            uscc=acct.uscc,
            org_name=acct.org_name,
            is_main=acct.is_main,
        ),
        password,
        RequestMeta(request_id="demo-seed"),
        mfa_secret=acct.totp_secret,
        password_hash=_password_hash(password),
    )


@cache
def _password_hash(password: str) -> str:
    """One scrypt per process for the shared demo password (its history entry), not one per account."""
    from chalicelib.domain.accounts import hash_secret

    return hash_secret(password)


def adopt_demo_accounts() -> int:
    """Give a data folder kept from before the platform's account records (Cognito users only) its demo accounts:
    only when the folder holds no account at all; the old Cognito users are replaced by provisioned ones."""
    from chalicelib import wiring

    store = wiring.get_account_store()
    if store.list(prefix="", uscc=None, role=None, state=None, text=None, limit=1, cursor=None).items:
        return 0
    from botocore.exceptions import ClientError

    admin = wiring.get_identity_admin()
    for acct in DEMO_ACCOUNTS:
        try:
            admin.delete_user(acct.username)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "UserNotFoundException":
                raise
        create_user(acct)
    return len(DEMO_ACCOUNTS)


def seed_demo(session: Any = None, pool_id: str | None = None) -> list[DemoAccount]:
    """The demo accounts (the app's settings must point at the local AWS). `session` and `pool_id` are kept for
    callers that still pass them; the account service finds the pool in the settings."""
    for acct in DEMO_ACCOUNTS:
        create_user(acct)
    return list(DEMO_ACCOUNTS)


def _uscc(prefix8: str, org8: str) -> str:
    from chalicelib.domain.identifiers import org_code_check_char, uscc_check_char

    s17 = prefix8 + org8 + org_code_check_char(org8)
    return s17 + uscc_check_char(s17)


def _id_card(first17: str) -> str:
    from chalicelib.domain.identifiers import id_card_check_char

    return first17 + id_card_check_char(first17)


def seed_registry() -> dict[str, int]:
    """A small, realistic starting point: enterprises in every review state, personnel, projects and the 2015
    campaign. Written through the application's own repositories (the app's settings must point at the local AWS)."""
    from datetime import UTC, date, datetime, timedelta

    from chalicelib import wiring
    from chalicelib.adapters.dynamo_registry import record_key
    from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
    from chalicelib.domain.campaigns import Campaign, CampaignKind
    from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem, SafetyLicence
    from chalicelib.domain.identity import system_principal
    from chalicelib.domain.labels import region_full_name
    from chalicelib.domain.person import RegisteredPerson, Registration, SafetyCert, person_key
    from chalicelib.domain.project import Project
    from chalicelib.domain.records import Provenance, RecordSource, RecordState, RecordType

    now = datetime.now(UTC)
    legacy = Provenance(
        source=RecordSource.LEGACY_IMPORT,
        source_job="demo-2014-load",
        entered_by="system:demo",
        entered_by_name="2014年省平台数据导入",
        entered_org="330000",
        entered_at=now.isoformat(),
    )

    serial = iter(range(100001, 199999))
    loaded = (now - timedelta(days=60)).isoformat()  # the 2014 data arrived before anyone submitted

    # where each record should end up, and how many days ago it was submitted: the records are loaded as the 2014
    # import left them (IMPORTED) and then moved there by the services users call (`_play`)
    targets: dict[tuple[RecordType, tuple[str, ...]], tuple[RecordState, int]] = {}

    def complete(uscc: str, name: str, county: str, state: RecordState, waited_days: int = 0) -> Enterprise:
        n = next(serial)
        targets[(RecordType.ENTERPRISE, (uscc,))] = (state, waited_days)
        return Enterprise(
            uscc=uscc,
            name=name,
            registered_region=county,
            address=f"{region_full_name(county)}某路{len(name)}号",
            legal_rep="张伟",
            economic_type="109",
            registered_capital="8000",
            established_on=date(2001, 6, 18),
            contact_person="刘洋",
            contact_phone="0571-87000000",
            qualifications=[
                QualificationCert(
                    cert_no=f"D233{n:06d}",
                    qualification_type="3",
                    issuing_authority="浙江省住房和城乡建设厅",
                    issued_on=date(2015, 1, 20),
                    valid_until=date(2020, 1, 19),
                    items=[QualificationItem(code="D101B", is_primary=True), QualificationItem(code="D110C")],
                )
            ],
            safety_licence=SafetyLicence(licence_no=f"(浙)JZ安许证字[2014]{n:06d}", valid_until=date(2017, 5, 31)),
            state=RecordState.IMPORTED,
            provenance=legacy,
            created_at=loaded,
            updated_at=loaded,
            region_code=county,
            owner_uscc=uscc,
        )

    enterprises = [
        # the demo enterprise users' own records: one to supplement, one already waiting for 西湖区
        Enterprise(
            uscc="91330782677204726D",
            name="义乌市示范建设有限公司",
            registered_region="330782",
            address="义乌市稠城街道工人北路1号",
            legal_rep="王建国",
            state=RecordState.IMPORTED,
            provenance=legacy,
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            region_code="330782",
            owner_uscc="91330782677204726D",
        ),
        complete("91330106MA2CFE0Q4W", "杭州西湖示范建筑有限公司", "330106", RecordState.SUBMITTED, 3),
        complete(_uscc("91330782", "MA2F0001"), "义乌市稠城建设工程有限公司", "330782", RecordState.SUBMITTED, 12),
        complete(_uscc("91330782", "MA2F0002"), "义乌市江东建筑安装有限公司", "330782", RecordState.SUBMITTED, 2),
        complete(_uscc("91330782", "MA2F0003"), "浙江佛堂古建园林有限公司", "330782", RecordState.IN_DOUBT, 30),
        complete(_uscc("91330702", "MA2F0004"), "金华市婺城建设集团有限公司", "330702", RecordState.CONFIRMED),
        complete(_uscc("91330102", "MA2F0005"), "杭州上城市政工程有限公司", "330102", RecordState.SUBMITTED, 5),
    ]
    secret = wiring.person_key_secret()
    persons = []
    for i, (name, idno) in enumerate(
        [("李建华", _id_card("33078219750312001")), ("陈国强", _id_card("33070219800521003"))]
    ):
        persons.append(
            RegisteredPerson(
                person_key=person_key("1", idno, secret),
                employer_uscc="91330782677204726D",
                employer_name="义乌市示范建设有限公司",
                name=name,
                sex="1",
                id_type="1",
                id_no=idno,
                birth_date=date(int(idno[6:10]), int(idno[10:12]), int(idno[12:14])),
                registrations=[
                    Registration(
                        reg_type="一级注册建造师" if i == 0 else "二级注册建造师",
                        specialties=[],
                        registration_cert_no=f"浙133{1000 + i:06d}",
                        valid_until=date(2017, 12, 31),
                    )
                ],
                state=RecordState.IMPORTED,
                provenance=legacy,
                created_at=now.isoformat(),
                updated_at=now.isoformat(),
                region_code="330782",
                owner_uscc="91330782677204726D",
            )
        )
    projects = [
        Project(
            prj_num="3307821403150001",
            name="义乌市江东小区一期工程",
            category="01",
            location_region="330782",
            address="义乌市江东街道",
            build_corp_name="义乌市城市建设投资集团",
            total_investment="12000",
            total_area="35000",
            nature="001",
            use="101",
            state=RecordState.IMPORTED,
            provenance=legacy,
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            region_code="330782",
            owner_uscc="91330782677204726D",
        )
    ]
    # a permit-ready builder (both 建设单位 and 施工单位 of its project): current certificates, a confirmed 一级建造师,
    # a confirmed project without stage records yet — the construction-permit walkthrough starts here
    jiangong = complete("91330782MA2F00063N", "义乌市建工集团有限公司", "330782", RecordState.CONFIRMED)
    jiangong = jiangong.model_copy(
        update={
            "qualifications": [
                jiangong.qualifications[0].model_copy(
                    update={"issued_on": date(2025, 1, 20), "valid_until": date(2030, 1, 19)}
                )
            ],
            "safety_licence": jiangong.safety_licence.model_copy(update={"valid_until": date(2029, 5, 31)}),
        }
    )
    enterprises.append(jiangong)
    idno = _id_card("33078219780815001")
    for name, first17, cert in (("楼国华", "33078219680302003", "A"), ("吴安平", "33078219880716005", "C")):
        other = _id_card(first17)
        persons.append(
            RegisteredPerson(
                person_key=person_key("1", other, secret),
                employer_uscc=jiangong.uscc,
                employer_name=jiangong.name,
                name=name,
                sex="1",
                id_type="1",
                id_no=other,
                birth_date=date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14])),
                safety_certs=[
                    SafetyCert(
                        category=cert, cert_no=f"浙建安{cert}（2024）{first17[-4:]}", valid_until=date(2028, 6, 30)
                    )
                ],
                state=RecordState.CONFIRMED,
                provenance=legacy,
                created_at=now.isoformat(),
                updated_at=now.isoformat(),
                region_code="330782",
                owner_uscc=jiangong.uscc,
            )
        )
    persons.append(
        RegisteredPerson(
            person_key=person_key("1", idno, secret),
            employer_uscc=jiangong.uscc,
            employer_name=jiangong.name,
            name="何志远",
            sex="1",
            id_type="1",
            id_no=idno,
            birth_date=date(1978, 8, 15),
            registrations=[
                Registration(
                    reg_type="JZS1",
                    specialties=["建筑工程"],
                    registration_cert_no="浙1332018000123",
                    valid_until=date(2029, 12, 31),
                )
            ],
            safety_certs=[SafetyCert(category="B", cert_no="浙建安B（2023）0815", valid_until=date(2029, 6, 30))],
            state=RecordState.CONFIRMED,
            provenance=legacy,
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            region_code="330782",
            owner_uscc=jiangong.uscc,
        )
    )
    for prj_num, name in (
        ("3307822603150001", "义乌市双江湖科创园一期工程"),
        ("3307822604010001", "义乌市双江湖科创园二期工程"),
    ):
        projects.append(
            Project(
                prj_num=prj_num,
                name=name,
                category="01",
                location_region="330782",
                address="义乌市稠江街道双江湖大道",
                build_corp_name=jiangong.name,
                build_corp_code=jiangong.uscc,
                land_plan_permit_no=f"地字第330782{prj_num[-6:]}号",
                project_plan_permit_no=f"建字第330782{prj_num[-6:]}号",
                scale="地上12层、地下2层框架结构，总建筑面积48000平方米",
                total_investment="26000",
                total_area="48000",
                nature="001",
                use="101",
                state=RecordState.CONFIRMED,
                provenance=legacy,
                created_at=now.isoformat(),
                updated_at=now.isoformat(),
                region_code="330782",
                owner_uscc=jiangong.uscc,
            )
        )
    shizheng, staff, works = _shizheng(now, legacy, _id_card, person_key, secret)
    enterprises.append(shizheng)
    persons.extend(staff)
    projects.extend(works)
    records = []
    for r in [*enterprises, *persons, *projects]:
        key = (r.RECORD_TYPE, record_key(r))
        if r.state != RecordState.IMPORTED:  # a confirmed person or project: the same road as the enterprises
            targets.setdefault(key, (r.state, 0))
        records.append(r.model_copy(update={"state": RecordState.IMPORTED, "created_at": loaded, "updated_at": loaded}))
    repo = wiring.get_registry_repository()
    repo.insert_batch(records)  # what an import job writes
    _play(repo, records, targets, now)
    store = wiring.get_campaign_service().store
    campaign = Campaign(
        campaign_id="demo-2015-supplement",
        name="2015年企业信息补充完善与确认",
        kind=CampaignKind.SUPPLEMENT,
        record_type=RecordType.ENTERPRISE,
        starts_on=date(2015, 1, 1),
        deadline=date(2015, 4, 15),
        grace_days=15,
        description="浙建发〔2015〕通知：企业补充缺失信息，2015年3月1日至4月15日各级主管部门分级确认",
        created_by="system:demo",
        created_at=now.isoformat(),
    )
    store.put_campaign(
        campaign,
        AuditDraft(
            target_type="campaign",
            target_id=campaign.campaign_id,
            action=AuditAction.CAMPAIGN_CREATED,
            target_region="330000",
        ),
        system_principal("demo"),
        RequestMeta(),
    )
    _issued_permit(now, legacy)
    _completed_permit(now, works[0])
    _qualification_application(now)
    return {
        "enterprises": len(enterprises),
        "persons": len(persons),
        "projects": len(projects),
        "campaigns": 1,
        "issued_permits": 1,
    }


def _play(repo, records, targets, now) -> None:
    """Move each loaded record to its demo state the way users do, at the demo's past times: the enterprise submits
    (`RegistryService.submit`: snapshot, queue, SLA clock), the county decides (`ReviewService.decide`: 真实 → base
    registry and public search entries, 存疑 → doubt pool). Every step is audited, by the demo seed's own actor."""
    from datetime import timedelta

    from chalicelib import wiring
    from chalicelib.adapters.dynamo_registry import record_key
    from chalicelib.domain.audit import RequestMeta
    from chalicelib.domain.identity import Principal, Role
    from chalicelib.domain.records import RecordState
    from chalicelib.domain.review import Outcome
    from chalicelib.services.registry import RegistryService
    from chalicelib.services.review import ReviewService

    meta = RequestMeta(request_id="demo-seed")
    outcomes = {RecordState.CONFIRMED: Outcome.CONFIRMED, RecordState.IN_DOUBT: Outcome.IN_DOUBT}
    for record in records:
        target = targets.get((record.RECORD_TYPE, record_key(record)))
        if target is None or target[0] == RecordState.IMPORTED:
            continue
        state, waited_days = target
        submitted_at = now - timedelta(days=waited_days or 40)
        filer = Principal(
            subject="system:demo-seed",
            username="demo-seed",
            role=Role.ENTERPRISE,
            uscc=record.owner_uscc,
            display_name="演示数据（企业提交）",
        )
        registry = RegistryService(repo, wiring.get_blob_store(), clock=lambda at=submitted_at: at)
        current = registry.submit(filer, meta, record.RECORD_TYPE, record_key(record), version=record.version)
        if state == RecordState.SUBMITTED:
            continue
        county = Principal(
            subject="system:demo-seed",
            username="demo-seed",
            role=Role.COUNTY_OFFICIAL,
            region_code=record.region_code,
            display_name="演示数据（县级核查）",
        )
        decided_at = submitted_at + timedelta(days=2) if state == RecordState.CONFIRMED else submitted_at
        ReviewService(repo, clock=lambda at=decided_at: at).decide(
            county,
            meta,
            record.RECORD_TYPE,
            record_key(record),
            version=current.version,
            outcome=outcomes[state],
            reason="与2014年纸质材料核对一致" if state == RecordState.CONFIRMED else "资质证书原件待核实",
        )


def _shizheng(now, provenance, id_card, person_key, secret):
    """义乌市城建市政工程有限公司: 市政公用工程施工总承包三级 (issued by 金华市), 11 confirmed 市政 constructors (二级 needs
    12), one municipal project completed in 2024 (an achievement): the enterprise of the 资质升级 walkthrough."""
    from datetime import date

    from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem, SafetyLicence
    from chalicelib.domain.person import RegisteredPerson, Registration
    from chalicelib.domain.project import Project
    from chalicelib.domain.records import RecordState

    common = {
        "state": RecordState.CONFIRMED,
        "provenance": provenance,
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "region_code": "330782",
        "owner_uscc": SHIZHENG_USCC,
    }
    name = "义乌市城建市政工程有限公司"
    enterprise = Enterprise(
        uscc=SHIZHENG_USCC,
        name=name,
        registered_region="330782",
        address="义乌市稠城街道城中中路88号",
        legal_rep="方国平",
        economic_type="101",
        registered_capital="5000",
        established_on=date(2008, 4, 16),
        contact_person="方晓东",
        contact_phone="0579-85321888",
        qualifications=[
            QualificationCert(
                cert_no="D333061208",
                qualification_type="3",
                issuing_authority="金华市住房和城乡建设局",
                issued_on=date(2023, 3, 10),
                valid_until=date(2028, 3, 9),
                items=[QualificationItem(code="D110C", is_primary=True, approval_no="金建资〔2023〕12号")],
            )
        ],
        safety_licence=SafetyLicence(
            licence_no="(浙)JZ安许证字[2023]070612",
            issuing_authority="浙江省住房和城乡建设厅",
            valid_until=date(2029, 2, 28),
        ),
        **common,
    )
    surnames = "陈吴楼朱金骆何傅龚贾鲍"
    given = ("建明", "海燕", "立新", "卫东", "晓峰", "丽君", "志强", "国庆", "雪芬", "振宇", "文斌")
    staff = []
    for i, (sur, first) in enumerate(zip(surnames, given, strict=True)):
        idno = id_card(f"3307821985{(i % 12) + 1:02d}{i + 10:02d}{i + 1:02d}{1 + i % 2}")
        staff.append(
            RegisteredPerson(
                person_key=person_key("1", idno, secret),
                employer_uscc=SHIZHENG_USCC,
                employer_name=name,
                name=sur + first,
                sex="1" if i % 2 == 0 else "2",
                id_type="1",
                id_no=idno,
                birth_date=date(1985, (i % 12) + 1, i + 10),
                registrations=[
                    Registration(
                        reg_type="JZS2",
                        specialties=["JZS08"],
                        registration_cert_no=f"浙233201{i + 1:07d}",
                        valid_until=date(2028, 12, 31),
                    )
                ],
                **common,
            )
        )
    works = [
        Project(
            prj_num="3307822306120001",
            name="义乌市稠城街道城中路改造提升工程",
            category="02",
            location_region="330782",
            address="义乌市稠城街道城中路",
            build_corp_name="义乌市城市建设投资集团有限公司",
            build_corp_code=_uscc("91330782", "MA2F0091"),
            total_investment="6800",
            total_area="0",
            nature="002",
            use="205",
            **common,
        )
    ]
    return enterprise, staff, works


DEMO_QUALIFICATION_APPLICATION = "demo-qapp-0001"


def _qualification_application(now) -> None:
    """A 资质延续 of 义乌市建工集团 (市政三级), applied for three days ago and accepted by 义乌市 the next day: it waits in
    the county's queue with its statutory clock running. Through the service users call, at the demo's past times."""
    from datetime import timedelta

    from chalicelib import wiring
    from chalicelib.domain.audit import RequestMeta
    from chalicelib.domain.identity import Principal, Role
    from chalicelib.domain.qualification_applications import AppEvent, ApplicationKind
    from chalicelib.services.qualification_applications import QualificationApplicationService

    live = wiring.get_qualification_application_service()

    def at(moment):
        return QualificationApplicationService(
            live.store,
            live.registry,
            live.data,
            live.credit_store,
            live.audit,
            clock=lambda: moment,
            new_id=lambda: DEMO_QUALIFICATION_APPLICATION,
            calendar=live.calendar,
        )

    meta = RequestMeta(request_id="demo-seed")
    filer = Principal(
        subject="system:demo-seed",
        username="demo-seed",
        role=Role.ENTERPRISE,
        uscc="91330782MA2F00063N",
        display_name="演示数据（企业申请）",
    )
    app = at(now - timedelta(days=3)).apply(
        filer, meta, kind=ApplicationKind.RENEWAL, target="D110C", statement="资质证书有效期届满前申请延续"
    )
    county = Principal(
        subject="system:demo-seed",
        username="demo-seed",
        role=Role.COUNTY_OFFICIAL,
        region_code="330782",
        display_name="演示数据（县级受理）",
    )
    at(now - timedelta(days=2)).act(
        county, meta, app.application_id, version=app.version, event=AppEvent.ACCEPT, note="材料齐全，予以受理"
    )


def _completed_permit(now, project) -> None:
    """The 2023 permit of the municipal project, completed and filed in 2024: the walkthrough enterprise's 业绩."""
    from decimal import Decimal

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item
    from chalicelib.adapters.dynamo_permits import _item
    from chalicelib.domain.permits import PermitApplication, PermitState

    app = PermitApplication(
        application_id="demo-permit-0002",
        prj_num=project.prj_num,
        project_name=project.name,
        region_code="330782",
        applicant_uscc=SHIZHENG_USCC,
        construction_uscc=SHIZHENG_USCC,
        project_manager="demo-pm",
        contract_price=Decimal("5600"),
        area=Decimal("0"),
        applied_on="2023-06-12",
        state=PermitState.COMPLETED,
        permit_no="330782202306200003",
        issued_on="2023-06-20",
        completed_on="2024-10-30",
        completion_no="义竣备2024-0137",
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    ddb = aws.client("dynamodb")
    ddb.put_item(TableName=wiring.get_settings().main_table, Item=to_item(_item(app)))


# The demo's issued permit: its certificate's QR code opens /ui/#/public/verify?vid=... (local demo data only; real
# verification ids are random).
DEMO_PERMIT_VID = "zjdemo7Kq2vNf9sWx4Lp"
DEMO_PERMIT_NO = "330702202611020001"


def _issued_permit(now, provenance) -> None:
    """An issued permit of 金华市婺城建设集团 on a confirmed project of its own, with the public references."""
    from decimal import Decimal

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamo_codec import to_item
    from chalicelib.adapters.dynamo_permits import _item
    from chalicelib.domain.permits import PermitApplication, PermitState
    from chalicelib.domain.project import Project
    from chalicelib.domain.records import RecordState

    builder = _uscc("91330702", "MA2F0004")
    prj = "3307022611020001"
    wiring.get_registry_repository().insert_batch(
        [
            Project(
                prj_num=prj,
                name="金华市婺城区江南片区安置房工程",
                category="01",
                location_region="330702",
                address="金华市婺城区宾虹西路",
                build_corp_name="金华市婺城建设集团有限公司",
                build_corp_code=builder,
                total_investment="18000",
                total_area="36000",
                nature="001",
                use="101",
                state=RecordState.CONFIRMED,
                provenance=provenance,
                created_at=now.isoformat(),
                updated_at=now.isoformat(),
                region_code="330702",
                owner_uscc=builder,
            )
        ]
    )
    app = PermitApplication(
        application_id="demo-permit-0001",
        prj_num=prj,
        project_name="金华市婺城区江南片区安置房工程",
        region_code="330702",
        applicant_uscc=builder,
        construction_uscc=builder,
        project_manager="demo-pm",
        contract_price=Decimal("15800"),
        area=Decimal("36000"),
        applied_on="2026-10-26",
        state=PermitState.ISSUED,
        permit_no=DEMO_PERMIT_NO,
        issued_on="2026-11-02",
        verification_id=DEMO_PERMIT_VID,
        start_deadline="2027-02-02",
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    table = wiring.get_settings().main_table
    ddb = aws.client("dynamodb")
    items = [
        _item(app),
        {
            "pk": f"STAGE#{prj}",
            "sk": f"PERMITAPP#{app.applied_on}#{app.application_id}",
            "entity": "permit_pointer",
            "application_id": app.application_id,
        },
        {"pk": f"PVERIFY#{DEMO_PERMIT_VID}", "sk": "REF", "entity": "permit_ref", "application_id": app.application_id},
        {"pk": f"PERMITNO#{DEMO_PERMIT_NO}", "sk": "REF", "entity": "permit_ref", "application_id": app.application_id},
    ]
    for item in items:
        ddb.put_item(TableName=table, Item=to_item(item))
