"""Pure permit rules: dated thresholds and clocks, after-issue deadlines, extensions, lapse, suspension."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.permits import (
    PermitApplication,
    PermitExtension,
    PermitState,
    TransitionRefused,
    check_extension_request,
    decision_days,
    lapses,
    require,
    resume_needs_check,
    start_deadline,
    suspension_late,
    threshold,
)
from chalicelib.domain.records import RecordState
from chalicelib.domain.workdays import file_calendar

# valid USCCs standing for enterprises A .. G
UA = "91330782MA2A0000X4"
UB = "91330782MA2B00000W"
UC = "91330782MA2C00001J"
UD = "91330782MA2D000028"
UE = "91330782MA2E00003X"
UF = "91330782MA2F00004K"
UG = "91330782MA2G000059"


def issued(**kw) -> PermitApplication:
    base = dict(
        application_id="a1",
        prj_num="3307821503100001",
        region_code="330782",
        applicant_uscc="91330782MA2HXXXX6K",
        construction_uscc="91330782MA2HXXXX6K",
        project_manager="0" * 24,
        contract_price=Decimal("800"),
        area=Decimal("5000"),
        applied_on="2026-01-05",
        state=PermitState.ISSUED,
        permit_no="330782202601150001",
        issued_on="2026-01-15",
        start_deadline="2026-04-15",
        created_at="t",
        updated_at="t",
    )
    base.update(kw)
    return PermitApplication(**base)


def test_dated_rules_follow_the_application_date():
    assert decision_days(date(2015, 3, 1)) == 15 and decision_days(date(2018, 9, 28)) == 7
    assert threshold(date(2015, 3, 1))["investment_wan"] == 30


def test_working_days_skip_the_national_day_holiday():
    # 2025-09-30 (Tue) + 1 working day: 10-01..10-08 are holidays, 2025-10-09 is the next working day
    assert file_calendar().add(date(2025, 9, 30), 1).day == date(2025, 10, 9)


def test_start_deadline_is_three_months_then_each_extension_from_the_deadline_in_force():
    assert start_deadline(date(2026, 1, 15), []) == date(2026, 4, 15)
    # issued 2025-11-30: deadline 2026-02-28 (February has no 30th); extending that deadline by 3 months -> 05-28
    assert start_deadline(date(2025, 11, 30), []) == date(2026, 2, 28)
    assert start_deadline(date(2025, 11, 30), [3]) == date(2026, 5, 28)
    assert start_deadline(date(2025, 11, 30), [3, 2]) == date(2026, 7, 28)
    assert start_deadline(date(2026, 1, 31), []) == date(2026, 4, 30)  # month-end clamps


def test_extension_limits():
    app = issued()
    check_extension_request(app, 3, date(2026, 4, 15))  # on the last day: still in time
    with pytest.raises(TransitionRefused, match="届满前"):
        check_extension_request(app, 3, date(2026, 4, 16))
    with pytest.raises(TransitionRefused, match="不超过3个月"):
        check_extension_request(app, 4, date(2026, 2, 1))
    two = [
        PermitExtension(months=3, reason="r", requested_on="2026-04-01", approved=True),
        PermitExtension(months=3, reason="r", requested_on="2026-07-01", approved=True),
    ]
    with pytest.raises(TransitionRefused, match="2次为限"):
        check_extension_request(issued(extensions=two, start_deadline="2026-10-15"), 1, date(2026, 9, 1))
    pending = [PermitExtension(months=2, reason="r", requested_on="2026-04-01")]
    with pytest.raises(TransitionRefused, match="待审核"):
        check_extension_request(issued(extensions=pending), 1, date(2026, 4, 2))
    with pytest.raises(TransitionRefused, match="已开工"):
        check_extension_request(issued(started_on="2026-02-01"), 1, date(2026, 3, 1))


def test_lapse_only_when_not_started_past_the_deadline_and_nothing_pending():
    assert not lapses(issued(), date(2026, 4, 15))
    assert lapses(issued(), date(2026, 4, 16))
    assert not lapses(issued(started_on="2026-04-01"), date(2026, 5, 1))
    pending = [PermitExtension(months=2, reason="r", requested_on="2026-04-10")]
    assert not lapses(issued(extensions=pending), date(2026, 4, 20))
    assert not lapses(issued(state=PermitState.LAPSED), date(2026, 5, 1))


def test_explicit_after_issue_transitions():
    assert require(issued(), "suspend") == PermitState.SUSPENDED
    assert require(issued(state=PermitState.SUSPENDED), "resume") == PermitState.ISSUED
    with pytest.raises(TransitionRefused, match="中止施工"):
        require(issued(state=PermitState.SUSPENDED), "complete")
    with pytest.raises(TransitionRefused):
        require(issued(state=PermitState.LAPSED), "start")


def test_suspension_reporting_and_resumption_check_count_calendar_months():
    # 一个月内: up to the same day of the next month
    assert not suspension_late(date(2025, 3, 1), date(2025, 4, 1))  # 31 days, still within one month
    assert suspension_late(date(2025, 3, 1), date(2025, 4, 2))
    assert suspension_late(date(2025, 1, 31), date(2025, 3, 2))  # one month after 01-31 is 02-28: late
    assert not suspension_late(date(2025, 1, 31), date(2025, 2, 28))
    # 满一年: a calendar year (2024 is a leap year: 366 days)
    assert not resume_needs_check(date(2024, 3, 1), date(2025, 2, 28))
    assert resume_needs_check(date(2024, 3, 1), date(2025, 3, 1))
    assert not resume_needs_check(date(2026, 3, 1), date(2027, 2, 28))
    assert resume_needs_check(date(2026, 3, 1), date(2027, 3, 1))


def _stage(data, state="CONFIRMED"):
    from chalicelib.domain.stages import StageRecord

    return StageRecord(
        prj_num="3307821503100001",
        kind=data["kind"],
        number=data["number"],
        region_code="330782",
        project_owner=UA,
        filed_by=UA,
        data=data,
        state=state,
        created_at="t",
        updated_at="t",
    )


def _contract(ctype, contractor, n):
    return {
        "kind": "contract",
        "number": f"HT-000{n}",
        "contract_no": "c",
        "contract_type": ctype,
        "money": "1",
        "contract_date": "2026-01-01",
        "employer_uscc": UA,
        "contractor_uscc": contractor,
    }


def test_stage_gaps_name_each_missing_filing():
    from chalicelib.domain.stages import stage_gaps

    builder, supervisor = UB, UC
    review = {
        "kind": "drawing_review",
        "number": "SC-0001",
        "review_org_uscc": UD,
        "review_org_name": "审图中心",
        "finished_on": "2026-03-01",
        "first_pass": True,
        "violations": 0,
    }
    reg = {"kind": "supervision_registration", "number": "JD-0001", "station": "监督站", "registered_on": "2026-03-02"}
    stages = [
        _stage(_contract("survey", UE, 1)),
        _stage(_contract("design", UE, 2)),
        _stage(_contract("construction", UF, 3)),  # another builder's contract does not count
        _stage(_contract("supervision", supervisor, 4), state="SUBMITTED"),  # not yet checked
        _stage(review),
        _stage(reg),
    ]
    required = ["survey", "design", "construction", "supervision"]
    gaps = stage_gaps(
        stages, construction_uscc=builder, supervision_uscc=supervisor, required_contracts=required, on=date(2026, 3, 1)
    )
    assert gaps == ["缺少已核查的与申请的施工单位施工合同备案", "缺少已核查的与申请的监理单位监理合同备案"]
    stages[2] = _stage(_contract("construction", builder, 3))
    assert (
        stage_gaps(
            stages, construction_uscc=builder, supervision_uscc=None, required_contracts=required, on=date(2026, 3, 1)
        )
        == []
    )
    # a review finished after the application day does not count yet
    assert stage_gaps(
        stages, construction_uscc=builder, supervision_uscc=None, required_contracts=required, on=date(2026, 2, 28)
    ) == ["缺少已核查的施工图审查合格书"]


def test_who_may_file_a_stage():
    from chalicelib.domain.stages import ContractFiling, DrawingReview, may_file

    c = ContractFiling.model_validate(_contract("construction", UF, 1))
    assert may_file(c, filer=UA, project_owner=UA) is None
    assert may_file(c, filer=UF, project_owner=UA) is None  # the contractor files its own contract
    assert "建设单位" in may_file(c, filer=UG, project_owner=UA)
    d = DrawingReview(
        number="SC-0001",
        review_org_uscc=UD,
        review_org_name="审图中心",
        finished_on=date(2026, 3, 1),
        first_pass=True,
        violations=0,
    )
    assert may_file(d, filer=UF, project_owner=UA) == "施工图审查合格书应由建设单位填报"


def test_splitting_one_project_into_applications_under_the_threshold_is_flagged():
    from chalicelib.domain.permits import splitting_flag

    on = date(2015, 3, 1)  # 30万元 / 300 m²
    first = issued(application_id="a1", contract_price=Decimal("25"), area=Decimal("280"))
    second = issued(application_id="a2", contract_price=Decimal("20"), area=Decimal("250"))
    assert splitting_flag(second, [], on) is None
    flag = splitting_flag(second, [first], on)
    assert "分解工程" in flag and "45万元" in flag and "530平方米" in flag
    rejected = first.model_copy(update={"state": PermitState.REJECTED})
    assert splitting_flag(second, [rejected], on) is None
    big = issued(application_id="a3", contract_price=Decimal("800"), area=Decimal("5000"))
    assert splitting_flag(big, [first], on) is None  # above the threshold on its own: nothing to dodge


def _person(state="CONFIRMED", certs=(), specialties=("建筑工程",)):
    from types import SimpleNamespace as NS

    return NS(
        state=RecordState(state),
        registrations=[NS(reg_type="JZS1", specialties=list(specialties), valid_until=None)],
        safety_certs=[NS(category=c, valid_until=date(2030, 1, 1)) for c in certs],
    )


def test_category_qualification_specialty_and_safety_personnel():
    from types import SimpleNamespace as NS

    from chalicelib.domain.permits import check_preconditions

    project = NS(state=RecordState.CONFIRMED, category="02")  # 市政公用工程
    builder = NS(
        state=RecordState.CONFIRMED,
        qualifications=[NS(valid_until=date(2030, 1, 1), items=[NS(code="D101A")])],
        safety_licence=NS(valid_until=date(2030, 1, 1)),
    )
    app = issued(state=PermitState.SUBMITTED)
    gaps = check_preconditions(
        app,
        project=project,
        construction=builder,
        manager=_person(certs=("B",)),
        supervision=None,
        chief=None,
        manager_locked_by=None,
        on=date(2026, 3, 1),
        safety=[_person(certs=("A",))],
    )
    assert gaps == [
        "施工单位的资质不含市政公用工程施工总承包资质",
        "项目经理的注册专业与工程类别（市政公用工程）不符",
        "缺少持有效安全生产考核合格证书的专职安全生产管理人员（C证）",
    ]
    builder.qualifications[0].items.append(NS(code="D110B"))
    gaps = check_preconditions(
        app,
        project=project,
        construction=builder,
        manager=_person(certs=("B",), specialties=("JZS08",)),
        supervision=None,
        chief=None,
        manager_locked_by=None,
        on=date(2026, 3, 1),
        safety=[_person(certs=("A",)), _person(certs=("C",))],
    )
    assert gaps == []


def test_price_mismatch_with_contract_and_tender_is_flagged():
    from chalicelib.domain.stages import price_flags

    builder = UB
    contract = _stage(_contract("construction", builder, 1))  # money 1
    tender = _stage(
        {
            "kind": "tender",
            "number": "ZB-0001",
            "tender_class": "003",
            "tender_type": "001",
            "result_date": "2026-01-01",
            "money": "2",
            "winner_uscc": builder,
        }
    )
    assert price_flags([contract], construction_uscc=builder, contract_price=Decimal("1")) == []
    assert price_flags([contract, tender], construction_uscc=builder, contract_price=Decimal("1")) == [
        "申请的合同价格1万元与中标金额（2万元）不一致"
    ]
    assert price_flags([contract], construction_uscc=UC, contract_price=Decimal("5")) == []


def test_every_date_has_a_decision_limit_and_a_threshold():
    assert decision_days(date(2014, 10, 24)) == 15  # the day before 令第18号: the 1999/2001 rule, 15 days
    assert decision_days(date(1980, 1, 1)) == 15  # before any rule the platform holds: the oldest one
    assert decision_days(date(2018, 9, 27)) == 15 and decision_days(date(2018, 9, 28)) == 7
    assert threshold(date(1990, 1, 1))["investment_wan"] == 30


def test_threshold_boundaries_are_as_each_rule_says():
    from chalicelib.domain.permits import below_threshold

    # Zhejiang 200万元 / 1000平方米, both exclusive: exactly at the limit needs a permit
    on = date(2026, 12, 3)
    assert not below_threshold(Decimal("200"), Decimal("5000"), on)
    assert below_threshold(Decimal("199.99"), Decimal("5000"), on)
    assert not below_threshold(Decimal("800"), Decimal("1000"), on)
    assert below_threshold(Decimal("800"), Decimal("999.9"), on)
    # the national 30万元 / 300平方米 of 2014: "以下" includes the limit
    on = date(2015, 3, 1)
    assert below_threshold(Decimal("30"), Decimal("5000"), on)
    assert not below_threshold(Decimal("30.01"), Decimal("301"), on)


def test_supervision_and_funds_items_follow_the_rule_of_the_application_date():
    from types import SimpleNamespace as NS

    from chalicelib.domain.permits import article4_checks

    project = NS(land_plan_permit_no="地字1", project_plan_permit_no="建字1")
    app = issued(applied_on="2016-05-01", contract_price=Decimal("5000"), supervision_uscc=None, site_ready=True)
    checks = {c.item: c for c in article4_checks(app, project=project, on=date(2016, 5, 1), other_gaps={})}
    assert not checks["第四条（七）"].ok and "应当委托监理" in checks["第四条（七）"].detail  # ≥ 3000万 in 2016
    # 2014 text: funds in place ≥ 50% of the contract price for a contract under one year
    assert not checks["第四条（八）"].ok and "合同开工、竣工日期" in checks["第四条（八）"].detail
    app = app.model_copy(
        update={"contract_start": date(2016, 6, 1), "contract_end": date(2017, 3, 1), "funds_in_place": Decimal("2600")}
    )
    checks = {c.item: c for c in article4_checks(app, project=project, on=date(2016, 5, 1), other_gaps={})}
    assert checks["第四条（八）"].ok and "50%" in checks["第四条（八）"].detail
    # since 2018-09-28: item 7 deleted, item 8 a commitment
    app = issued(applied_on="2026-05-01", contract_price=Decimal("5000"), funds_committed=True)
    checks = {c.item: c for c in article4_checks(app, project=project, on=date(2026, 5, 1), other_gaps={})}
    assert checks["第四条（七）"].source == "不适用" and checks["第四条（八）"].ok


def test_business_steps_follow_the_procedure_not_the_engine():
    from chalicelib.domain.permits import PermitApplication, PermitState, business_steps

    def steps(**kw):
        base = dict(
            application_id="a",
            prj_num="3307822603150001",
            applicant_uscc="91330782MA2F00063N",
            construction_uscc="91330782MA2F00063N",
            region_code="330782",
            applied_on="2026-11-02",
        )
        app = PermitApplication.model_construct(**{**base, **kw})  # defaults for the rest; the rule is pure
        return [(s["name"], s["status"]) for s in business_steps(app)]

    review = steps(state=PermitState.UNDER_REVIEW)
    assert [n for n, _ in review] == ["申请", "条件审查", "补正", "审查决定", "发证", "开工", "竣工"]
    assert dict(review)["审查决定"] == "current" and dict(review)["补正"] == "skipped"
    waiting = dict(steps(state=PermitState.INCOMPLETE, notice_issued_on="2026-11-03"))
    assert waiting["补正"] == "current" and waiting["审查决定"] == "todo"
    refused = dict(steps(state=PermitState.REJECTED))
    assert refused["审查决定"] == "stopped" and refused["发证"] == "stopped"
    issued = dict(steps(state=PermitState.ISSUED, permit_no="330782202611020001", issued_on="2026-11-09"))
    assert issued["发证"] == "done" and issued["开工"] == "current"


def _layout(pdf: bytes) -> dict[str, tuple[float, ...]]:
    import io

    from pypdf import PdfReader

    keywords = PdfReader(io.BytesIO(pdf)).metadata.get("/Keywords", "")
    out = {}
    for part in keywords.removeprefix("layout ").split():
        name, _, values = part.partition("=")
        out[name] = tuple(float(v) for v in values.split(","))
    return out


def _fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(base font, embedded?) of every font on every page: embedded = its descriptor carries the font program."""
    import io

    from pypdf import PdfReader

    out = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            desc = desc.get_object() if desc else {}
            embedded = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            out.append((str(font["/BaseFont"]), embedded))
    return out


def test_the_certificate_prints_every_field_of_the_form_and_nothing_overlaps():
    import io

    from pypdf import PdfReader

    from chalicelib.domain.certificate import render_permit_pdf

    long_name = "金华市婺城区江南片区城中村改造安置房工程（一期）" * 3
    fields = {
        "permit_no": "330702202611020001",
        "project_name": long_name,
        "address": "金华市婺城区江南街道某路1号",
        "build_unit": "金华市婺城区城市建设投资有限公司",
        "scale": "52000平方米",
        "contract_price": "15800",
        "survey_unit": "浙江省工程勘察院",
        "design_unit": "浙江大学建筑设计研究院有限公司",
        "construction_unit": "金华市婺城建设集团有限公司",
        "project_manager": "王强",
        "supervision_unit": "浙江江南工程管理股份有限公司",
        "chief_engineer": "赵明",
        "prj_num": "3307022611020001",
        "contract_period": "2026年11月1日至2027年10月31日",
        "remarks": "分期施工，本证为一期工程",
        "issuer": "金华市婺城区住房和城乡建设局",
        "issued_on": "2026-11-02",
        "start_deadline": "2027-02-02",
        "verification_id": "zjdemo7Kq2vNf9sWx4Lp",
    }
    pdf = render_permit_pdf(fields, copy="正本", verify_url="https://example.cn/ui/#/public/verify?vid=x", reprint=0)
    text = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    for label in (
        "建设单位",
        "工程名称",
        "建设地址",
        "建设规模",
        "合同价格",
        "勘察单位",
        "勘察单位项目负责人",
        "设计单位",
        "设计单位项目负责人",
        "施工单位",
        "施工单位项目负责人",
        "监理单位",
        "总监理工程师",
        "合同工期",
        "备注",
        "发证机关",
        "发证日期",
    ):
        assert label in text, label
    assert "发证机关：金华市婺城区住房和城乡建设局（盖章）" in text and "发证日期：2026年11月2日" in text
    assert long_name in text  # wrapped over lines, never cut
    assert "2026年11月1日至2027年10月31日" in text and "分期施工，本证为一期工程" in text
    box = _layout(pdf)
    tx, ty, tw, th = box["table"]
    qx, qy, qw, qh = box["qr"]
    assert qy + qh <= ty or qy >= ty + th or qx >= tx + tw or qx + qw <= tx  # the QR code's box is not in the table
    assert box["bottom"][0] > 30  # everything on its page, above the bottom margin (the notes may go overleaf)
    from chalicelib.domain.elicence import licence_id

    normal = render_permit_pdf(
        {
            **fields,
            "project_name": "金华市婺城区江南片区安置房工程",
            "edition": 2,
            "licence_id": licence_id("330702", "330702202611020001", 2),
        },
        copy="正本",
        verify_url="https://example.cn/v",
        reprint=0,
    )
    assert len(PdfReader(io.BytesIO(normal)).pages) == 1  # the usual certificate is one page, identifier included
    assert "电子证照标识：1.2.156.3005.2." in "".join(PdfReader(io.BytesIO(normal)).pages[0].extract_text().split())
    box = _layout(normal)
    (tx, ty, tw, th), (qx, qy, qw, qh), (sx, sy, sw, sh) = box["table"], box["qr"], box["seal"]
    assert sy + sh <= ty  # the seal is below the table
    assert sx + sw <= qx  # and left of the QR code: nothing overlaps it but the 发证机关 line it seals
    fonts = _fonts(pdf)
    assert fonts and all(embedded for _, embedded in fonts), fonts  # every glyph comes with the document
    assert all("UMing" in name for name, _ in fonts), fonts  # the Song face, subset (no reader substitution)


def test_the_incomplete_notice_wraps_its_paragraphs_within_the_margins():
    import io

    from pypdf import PdfReader

    from chalicelib.domain.certificate import render_notice_pdf

    pdf = render_notice_pdf(
        {
            "applicant": "义乌市建工集团有限公司",
            "project_name": "义乌市某小区1期工程（长名称）" * 4,
            "prj_num": "3307822603150001",
            "application_id": "a1",
            "applied_on": "2026-11-02",
            "issued_on": "2026-11-03",
            "due_by": "2026-11-09",
            "missing": ["建设工程规划许可证" * 5],
            "issuer": "义乌市住房和城乡建设局",
        }
    )
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = "".join(page.extract_text().split())
    assert "义乌市某小区1期工程（长名称）" * 4 in text and "建设工程规划许可证" * 5 in text
    assert "告知日期：2026年11月3日" in text

    widths = []

    def visitor(txt, cm, tm, font, size):
        if txt.strip():
            widths.append(tm[4] * cm[0] + cm[4])

    page.extract_text(visitor_text=visitor)
    assert widths and max(widths) < float(page.mediabox.width) - 60  # no line starts beyond the right margin
    assert all(embedded for _, embedded in _fonts(pdf))
