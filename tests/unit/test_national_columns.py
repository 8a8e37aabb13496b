"""The national mapping against the standard's table definitions (data/national_tables.json): every column a row
carries exists in its table, and every value fits the column's type and length. The records below fill every field
the platform holds, at realistic maximum lengths, so a column that is emitted wrongly or not at all shows up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain import national
from chalicelib.domain.credit import CreditKind, CreditRecord, CreditSource
from chalicelib.domain.enterprise import Enterprise, QualificationCert, QualificationItem, SafetyLicence
from chalicelib.domain.permits import CompletionDetails, PermitApplication, PermitState
from chalicelib.domain.person import RegisteredPerson, Registration, SafetyCert
from chalicelib.domain.project import Project
from chalicelib.domain.records import Provenance, RecordSource, RecordState
from chalicelib.domain.stages import StageRecord
from tests.conftest import record_figure

PROV = Provenance(
    source=RecordSource.PORTAL, entered_by="s", entered_org="330782", entered_at="2026-01-01T00:00:00+00:00"
)
META = dict(state=RecordState.CONFIRMED, provenance=PROV, created_at="2026-01-01T00:00:00+00:00",
            updated_at="2026-01-01T00:00:00+00:00", region_code="330782")  # fmt: skip
BUILDER, SUPERVISOR, SURVEY, DESIGN = (
    "91330782MA2F00063N",
    "91330782677204726D",
    "91330106MA2CFE0Q4W",
    "91330782MA2A0000X4",
)
LONG_NAME = "浙江省义乌市" + "建" * 40 + "集团有限公司"  # 52 characters


def enterprise(uscc: str = BUILDER) -> Enterprise:
    return Enterprise(
        uscc=uscc,
        name=LONG_NAME,
        business_reg_no="510000000391563",
        registered_region="330782",
        address="浙江省义乌市稠城街道" + "某" * 60 + "号",
        legal_rep="欧阳建国",
        legal_rep_id_type="1",
        legal_rep_id_no="11010519491231002X",
        legal_rep_title="董事长兼总经理",
        economic_type="101",
        registered_capital="12000.5",
        contact_person="王建国",
        contact_phone="0579-85551234",
        qualifications=[
            QualificationCert(
                cert_no="D233001234",
                qualification_type="3",
                issuing_authority="浙江省住房和城乡建设厅",
                issued_on=date(2025, 1, 20),
                valid_until=date(2030, 1, 19),
                items=[
                    QualificationItem(code="D101A", is_primary=True, approval_no="浙建许〔2025〕12号",
                                      approved_on=date(2025, 1, 10), acquired_by="新申请", status="001"),
                    QualificationItem(code="D110B", is_primary=False),
                ],
            )
        ],
        safety_licence=SafetyLicence(licence_no="(浙)JZ安许证字[2024]000123", valid_until=date(2027, 5, 31)),
        **META,
    )  # fmt: skip


def person(key: str, name: str, id_no: str, cert: str) -> RegisteredPerson:
    return RegisteredPerson(
        person_key=key,
        employer_uscc=BUILDER,
        employer_name=LONG_NAME,
        name=name,
        sex="1",
        id_type="1",
        id_no=id_no,
        education="本科",
        registrations=[
            Registration(reg_type="JZS1", specialties=["建筑工程", "市政公用工程"], qualification_cert_no="0012345",
                         registration_cert_no="浙1332018000123", seal_no="浙133181900123", issued_on=date(2018, 3, 1),
                         issuing_authority="住房和城乡建设部", valid_until=date(2029, 12, 31), status="有效")
        ],
        safety_certs=[SafetyCert(category=cert, cert_no=f"浙建安{cert}（2023）0815", valid_until=date(2029, 6, 30))],
        **META,
    )  # fmt: skip


PEOPLE = {
    "a" * 24: person("a" * 24, "何志远", "330782197808150011", "B"),
    "b" * 24: person("b" * 24, "楼国华", "330782196803020037", "A"),
    "c" * 24: person("c" * 24, "吴安平", "330782198806160050", "C"),
}


def stage(kind: str, number: str, data: dict) -> StageRecord:
    return StageRecord(prj_num="3307822603150001", kind=kind, number=number, region_code="330782",
                       project_owner=BUILDER, filed_by=BUILDER, data={"kind": kind, "number": number, **data},
                       state="CONFIRMED", created_at="t", updated_at="t")  # fmt: skip


STAGES = [
    stage("tender", "3307822603150001-01-001", {"tender_class": "003", "tender_type": "001", "result_date": "2026-03-01",
          "money": "18000.25", "winner_uscc": BUILDER, "agency_uscc": SURVEY, "manager_person_key": "a" * 24}),
    stage("contract", "3307822603150001-02-001", {"contract_no": "HT-2026-0001", "contract_type": "construction",
          "money": "18000.25", "contract_date": "2026-03-05", "employer_uscc": BUILDER, "contractor_uscc": BUILDER}),
    stage("contract", "3307822603150001-02-002", {"contract_no": "HT-2026-0002", "contract_type": "survey",
          "money": "120", "contract_date": "2026-01-05", "employer_uscc": BUILDER, "contractor_uscc": SURVEY}),
    stage("contract", "3307822603150001-02-003", {"contract_no": "HT-2026-0003", "contract_type": "design",
          "money": "560", "contract_date": "2026-01-15", "employer_uscc": BUILDER, "contractor_uscc": DESIGN,
          "union_uscc": SURVEY}),
    stage("drawing_review", "3307822603150001-03-001", {"review_org_uscc": SURVEY, "review_org_name": "金华市施工图审查中心",
          "finished_on": "2026-04-01", "first_pass": False, "violations": 2, "violated_clauses": "GB 50016-2014 第5.5.17条"}),
]  # fmt: skip

PROJECT = Project(
    prj_num="3307822603150001",
    name="义乌市双江湖科创园一期工程",
    category="01",
    location_region="330782",
    build_corp_name=LONG_NAME,
    build_corp_code=BUILDER,
    approval_no="义发改投〔2026〕18号",
    approval_level="003",
    land_plan_permit_no="地字第330782202600018号",
    project_plan_permit_no="建字第330782202600018号",
    total_investment="26000.1234",
    total_area="48000.55",
    scale="地上12层、地下2层框架结构，总建筑面积48000平方米",
    nature="001",
    use="101",
    start_date=date(2026, 4, 20),
    **META,
)


class Lookups:
    def person(self, key, employer):
        return PEOPLE.get(key)

    def enterprise(self, uscc):
        return enterprise(uscc)

    def project(self, prj_num):
        return PROJECT

    def stages(self, prj_num):
        return STAGES


def permit(state=PermitState.COMPLETED) -> PermitApplication:
    return PermitApplication(
        application_id="A1",
        prj_num="3307822603150001",
        project_name=PROJECT.name,
        region_code="330782",
        applicant_uscc=BUILDER,
        construction_uscc=BUILDER,
        supervision_uscc=SUPERVISOR,
        project_manager="a" * 24,
        chief_engineer="b" * 24,
        safety_persons=["b" * 24, "c" * 24],
        contract_price=Decimal("18000.25"),
        area=Decimal("48000.55"),
        applied_on="2026-04-05",
        state=state,
        permit_no="330782202604100001",
        issued_on="2026-04-10",
        started_on="2026-04-20",
        completion_no="JG-3307822603150001-01",
        completed_on="2027-09-30",
        completion=CompletionDetails(fact_cost=Decimal("18532.6"), fact_area=Decimal("48120.3"),
                                     fact_size="地上12层、地下2层", structure_type="003", qc_corp_name="义乌市建设工程质量检测中心",
                                     qc_corp_uscc=SURVEY, remarks="按期竣工"),
        created_at="2026-04-05T00:00:00+00:00",
        updated_at="2027-09-30T00:00:00+00:00",
    )  # fmt: skip


def credit(subject_type: str) -> CreditRecord:
    return CreditRecord(
        credit_id="C" + "1" * 31,
        kind=CreditKind.BAD,
        source=CreditSource.ADMIN_PENALTY,
        subject_type=subject_type,
        subject_id=BUILDER if subject_type == "enterprise" else f"{'a' * 24}/{BUILDER}",
        subject_name=LONG_NAME if subject_type == "enterprise" else "何志远",
        owner_uscc=BUILDER,
        region_code="330782",
        behaviour_code="C1-2-05",
        category="承揽业务不良行为",
        content="将承包的工程转包给他人" * 20,
        basis="《建筑法》第二十八条；《建设工程质量管理条例》第六十二条",
        authority="义乌市住房和城乡建设局",
        authority_region="330782",
        entered_by="s",
        entered_by_name="陈静",
        entered_at="2026-12-03T02:00:00+00:00",
        happened_on="2026-10-08",
        publish_begin="2026-12-03",
        publish_end="2027-12-03",
        penalty_number="义建罚〔2026〕21号",
        penalty_department="义乌市住房和城乡建设局",
        penalty_date="2026-12-03",
        penalty_end="2027-06-03",
        penalty_amount="3",
        penalty_content="罚款3万元，责令改正",
        project_num="3307822603150001",
        reviewed_by="陈静",
    )


def all_rows() -> list[national.NationalRow]:
    lk = Lookups()
    rows = list(national.map_source(enterprise(), lk).rows)
    rows += national.map_source(PEOPLE["a" * 24], lk).rows
    rows += national.map_source(PROJECT, lk).rows
    for s in STAGES:
        rows += national.map_source(s, lk).rows
    rows += national.map_source(permit(), lk).rows
    rows += national.map_source(credit("enterprise"), lk).rows
    rows += national.map_source(credit("person"), lk).rows
    return rows


def test_every_emitted_column_exists_and_every_value_fits_its_type():
    rows = all_rows()
    tables = national.table_definitions()
    covered = {r.dataset for r in rows}
    assert covered == set(tables) == set(national.datasets()), set(tables) ^ covered
    problems = [p for r in rows for p in national.column_problems(r.dataset, r.data)]
    columns = sum(len(r.data) for r in rows)
    record_figure(
        "national-columns",
        f"{len(covered)} tables, {len(rows)} rows, {columns} column values checked against "
        f"{sum(len(t) for t in tables.values())} defined columns, mismatches: {len(problems)}",
    )
    assert problems == []


def test_columns_the_platform_holds_are_emitted():
    """D12: columns of the standard that were never sent although the platform holds the data."""
    by = {}
    for r in all_rows():
        by.setdefault(r.dataset, {}).update({k: v for k, v in r.data.items() if v is not None})
    expected = {
        "TBCorpBasicInfo": {"LegalManDuty", "LinkMan", "LinkPhone", "LicenseNum", "LegalManIDCard"},
        "TBCorpCertInfo": {"TitleLevelNum", "IsValid"},
        "TBCorpCertDetailInfo": {"TradeTypeNum", "TradeBoundNum", "TitleLevelNum"},
        "TBTenderInfo": {"TenderCorpName", "AgencyCorpName", "ConstructorName", "ConstructorIDCard"},
        "TBContractRecordManage": {"PropietorCorpName", "ContractorCorpName", "UnionCorpName", "ContractTypeNum"},
        "TBBuilderLicenceManage": {"BuldPlanNum", "ProjectPlanNum", "CensorNum", "EconCorpName", "EconCorpCode",
                                   "DesignCorpName", "DesignCorpCode", "SuperCorpName", "PrjSize"},
        "TBProjectFinishManage": {"FactCost", "FactArea", "PrjStructureTypeNum", "QCCorpName", "QCCorpCode"},
        "TBCorpBadBehaviorInfo": {"CreditClassNum", "PunishContent", "DepartName", "AuditDate"},
    }  # fmt: skip
    for dataset, cols in expected.items():
        assert cols <= set(by[dataset]), (dataset, cols - set(by[dataset]))
    assert by["TBCorpBasicInfo"]["LegalManDuty"] == "董事长兼总经理" and "LegaManProTitle" not in by["TBCorpBasicInfo"]
    assert by["TBContractRecordManage"]["ContractTypeNum"] in {"100", "200", "300", "400"}
    assert by["TBProjectFinishManage"]["FactArea"] == 48120.3  # what was built, not the 48000.55 applied for
    assert "StandardVersion" not in by["TBCorpCertInfo"] and "AptCode" not in by["TBCorpCertDetailInfo"]
    assert by["TBCorpBadBehaviorInfo"]["CreditClassNum"] == "C1-2"


@pytest.mark.parametrize(
    ("dataset", "data", "fragment"),
    [
        ("TBProjectInfo", {"Nonsense": "x"}, "标准中没有此字段"),
        ("TBProjectInfo", {"PrjTypeNum": "001"}, "超过char(2)"),
        ("TBProjectInfo", {"BuildCorpCode": "91330782MA2F00063N"}, "超过varchar(15)"),
        ("TBProjectInfo", {"AllInvest": "123456789012.5"}, "超出decimal(15,4)"),
        ("TBProjectInfo", {"CountyNum": "33O782"}, "应为整数"),
        ("TBProjectInfo", {"BDate": "2026/4/20"}, "应为日期"),
        ("TBContractRecordManage", {"ContractTypeNum": "construction"}, "超过char(3)"),
    ],
)
def test_the_column_check_fails_on_what_the_standard_refuses(dataset, data, fragment):
    problems = national.column_problems(dataset, data)
    assert problems and fragment in problems[0], problems


def test_corp_codes_go_up_as_organisation_codes_by_default():
    """An 18-character USCC does not fit the standard's varchar(15) CorpCode: the default form is XXXXXXXX-X."""
    basic = next(r for r in all_rows() if r.dataset == "TBCorpBasicInfo")
    assert basic.data["CorpCode"] == "MA2F0006-3"
