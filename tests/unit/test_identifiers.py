"""Identifier checkers (chalicelib.domain.identifiers): every vector published in domain.md §2.4-§4.8, each error path's
Chinese reason, and a cross-check against python-stdnum (a dev-only reference, never imported by the domain)."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime

import pytest
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from chalicelib.domain import identifiers as ids
from chalicelib.domain.codetables import identifier_rules, regions
from chalicelib.domain.identifiers import (
    USCC_ALPHABET,
    Check,
    business_reg_no_check_digit,
    check_business_reg_no,
    check_id_card,
    check_org_code,
    check_permit_number,
    check_project_number,
    check_qualification_cert_no,
    check_region_code,
    check_safety_licence_no,
    check_uscc,
    id_card_birth_date,
    id_card_check_char,
    id_card_sex,
    is_empty,
    mask_id_card,
    org_code_check_char,
    region_name,
    split_composite_code,
    uscc_check_char,
    uscc_to_org_code,
)

ON = date(2026, 1, 1)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ref_org_check(body8: str) -> str:
    """Independent GB 11714 reference: weights written as 2^(9-i) mod 11 (§4.2) rather than the literal table."""
    weights = [pow(2, 9 - i, 11) for i in range(1, 9)]
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(body8, weights, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def make_uscc(head8: str, org_body8: str) -> str:
    """A USCC with a correct embedded organisation code and check character."""
    body17 = head8 + org_body8 + ref_org_check(org_body8)
    return body17 + uscc_check_char(body17)


def errs(c: Check) -> str:
    return "；".join(c.errors)


def warns(c: Check) -> str:
    return "；".join(c.warnings)


# ------------------------------------------------------------------------------------------------ Check, empties


def test_check_is_frozen_and_has_a_message():
    c = check_uscc("91330782677204726E")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.ok = True
    assert c.message == "统一社会信用代码第18位校验码应为D，实际为E"


@pytest.mark.parametrize("value", [None, "", " ", "　", "无", "无数据", "/", "／", float("nan")])
def test_empty_values(value):
    assert is_empty(value)
    for checker in (check_uscc, check_org_code, check_id_card, check_project_number, check_region_code):
        c = checker(value)
        assert not c.ok and c.value is None and c.errors[0].endswith("不能为空"), (checker.__name__, value)


def test_not_empty():
    assert not is_empty("0") and not is_empty(0) and not is_empty("无效")


CHECKERS = [
    check_uscc,
    check_org_code,
    check_business_reg_no,
    check_id_card,
    check_region_code,
    check_project_number,
    check_permit_number,
    check_qualification_cert_no,
    check_safety_licence_no,
]
WEIRD = [0, -1, 1.0, 3.3e17, True, [], {}, object(), b"913307", "🙂" * 18, "9" * 5000, "\x00", "-", "—", "()", "[]"]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda f: f.__name__)
def test_checkers_never_raise(checker):
    for value in WEIRD:
        c = checker(value)
        assert isinstance(c, Check) and not c.ok and c.value is None and c.errors, (checker.__name__, value)
    assert checker(["x"]).errors[0].endswith("实际为list类型")
    assert "文本格式" in checker(3.3e17).errors[0]  # a float cell has already lost digits


def test_helpers_never_raise():
    for value in [*WEIRD, None, "", "无"]:
        assert uscc_to_org_code(value) is None
        assert split_composite_code(value) is None
        assert id_card_birth_date(value) is None and id_card_sex(value) is None
        assert region_name(value) is None
        assert isinstance(mask_id_card(value), str)


# ------------------------------------------------------------------------------------------------ USCC (§4.1)


@pytest.mark.parametrize(
    "code",
    ["91330782677204726D", "91440101190437587Y", "91110000600037341L", "913208000535020631", "9135052155323005XL"],
)
def test_uscc_published_valid_vectors(code):
    c = check_uscc(code)
    assert c.ok and c.value == code and c.errors == [] and c.warnings == []
    assert stdnum_uscc.is_valid(code)


def test_uscc_published_invalid_vector():
    c = check_uscc("91330782677204726E")
    assert not c.ok and c.value is None
    assert c.errors == ["统一社会信用代码第18位校验码应为D，实际为E"]


def test_uscc_other_known_codes():
    assert check_uscc("121200004013590816").ok  # 事业单位, from python-stdnum's tests (§4.1)
    assert check_uscc("91330106MA2CFE0Q4W").ok  # the README's demo enterprise (post-2015 MA… body)


def test_uscc_normalisation():
    c = check_uscc(" ９１３３０７８２６７７２０４７２６ｄ ")
    assert c.ok and c.value == "91330782677204726D"
    assert check_uscc("9133 0782 6772 0472 6D").value == "91330782677204726D"


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_uscc_accepts_a_n_y_that_stdnum_rejects(first):
    category = "9" if first == "Y" else "1"  # Y (其他) has only the category 9 其他 in our table
    code = make_uscc(f"{first}{category}330782", "67720472")
    c = check_uscc(code)
    assert c.ok and c.warnings == [], c.message
    assert not stdnum_uscc.is_valid(code)  # stdnum requires 8 leading digits (§4.5)


@pytest.mark.parametrize(("char", "pos"), [("I", 10), ("O", 11), ("Z", 12), ("S", 13), ("V", 14)])
def test_uscc_forbidden_letters_name_char_and_position(char, pos):
    code = "91330782677204726D"
    bad = code[: pos - 1] + char + code[pos:]
    c = check_uscc(bad)
    assert not c.ok
    assert f"第{pos}位“{char}”不是有效字符" in errs(c) and "不使用I、O、Z、S、V" in errs(c)


def test_uscc_length_and_other_characters():
    assert check_uscc("91330782677204726").errors == ["统一社会信用代码应为18位，实际为17位"]
    c = check_uscc("91330782677204726#")
    assert "第18位“#”不是有效字符（只能是数字或大写字母）" in errs(c)


def test_uscc_first_character():
    c = check_uscc(make_uscc("01330782", "67720472"))
    assert "第1位登记管理部门代码“0”无效，应为1～9、A、N、Y" in errs(c)
    c = check_uscc(make_uscc("B1330782", "67720472"))
    assert "登记管理部门代码“B”无效" in errs(c)


def test_uscc_unknown_category_is_only_a_warning():
    c = check_uscc(make_uscc("97330782", "67720472"))
    assert c.ok and warns(c) == "统一社会信用代码第2位机构类别代码“7”不是登记管理部门“工商（市场监管）”已知的机构类别"


def test_uscc_region_digits():
    c = check_uscc(make_uscc("91999999", "67720472"))
    assert c.ok and "第3～8位登记管理机关行政区划码999999不是已知的行政区划代码" in warns(c)
    assert check_uscc(make_uscc("91100000", "67720472")).warnings == []  # central-level authority
    assert check_uscc(make_uscc("91330103", "67720472")).warnings == []  # retired 下城区: fine, known at some time
    c = check_uscc(make_uscc("913307A2", "67720472"))
    assert "第3～8位登记管理机关行政区划码应为6位数字，实际为“3307A2”" in errs(c)


def test_uscc_embedded_org_code_is_checked():
    body17 = "9133078267720472" + "5"  # org code 67720472-6 is right; 5 is wrong
    code = body17 + uscc_check_char(body17)  # the USCC check character itself is consistent
    assert stdnum_uscc.is_valid(code)  # stdnum does not look at the embedded code (§4.5)
    c = check_uscc(code)
    assert not c.ok and "主体标识码（组织机构代码）的校验码（第17位）应为6，实际为5" in errs(c)


def test_uscc_outer_mod_31():
    # A body whose weighted sum is ≡ 0 (mod 31) must get check char "0", not index 31 (the S-usccjs bug).
    rng = random.Random(31)
    for _ in range(5000):
        org = "".join(rng.choice("0123456789") for _ in range(8))
        body17 = "91330782" + org + ref_org_check(org)
        if uscc_check_char(body17) == "0":
            break
    else:
        pytest.fail("no body with check char 0 found")
    assert check_uscc(body17 + "0").ok and stdnum_uscc.is_valid(body17 + "0")


def test_uscc_cross_check_with_stdnum():
    rng = random.Random(20151)
    alphabet = USCC_ALPHABET
    zj = [e.code for e in regions().entries if e.code.startswith("33")]
    for _ in range(300):
        head = rng.choice("123456789") + rng.choice("1239") + rng.choice(zj)
        org = "".join(rng.choice(alphabet) for _ in range(8))
        code = make_uscc(head, org)
        assert check_uscc(code).ok, code
        assert stdnum_uscc.is_valid(code), code
        assert stdnum_uscc.calc_check_digit(code[:17]) == code[17]
        # Any single substituted character is caught by both (31 is prime and every weight is non-zero).
        pos = rng.randrange(18)
        other = rng.choice([c for c in alphabet if c != code[pos] and (pos >= 8 or c.isdigit())])
        bad = code[:pos] + other + code[pos + 1 :]
        assert not check_uscc(bad).ok and not stdnum_uscc.is_valid(bad), bad


def test_uscc_to_org_code():
    assert uscc_to_org_code("91440101190437587Y") == "19043758-7"  # OLD_CODE 190437587 on jzsc (§3.8)
    assert uscc_to_org_code("91330782677204726D") == "67720472-6"
    assert uscc_to_org_code("91330782677204726E") is None


# ------------------------------------------------------------------------------------------------ 组织机构代码 (§4.2)


def test_org_code_vector_and_forms():
    c = check_org_code("30934873-4")
    assert c.ok and c.value == "30934873-4"
    assert check_org_code("309348734").value == "30934873-4"  # 9 chars without hyphen (§2.5)
    assert check_org_code("30934873－4").value == "30934873-4"  # full-width hyphen
    assert check_org_code("19043758-7").ok


def test_org_code_errors():
    assert check_org_code("30934873-5").errors == ["组织机构代码校验码应为4，实际为5"]
    assert check_org_code("30934873").errors == ["组织机构代码应为9位（XXXXXXXX-X，连字符可省略），实际为8位"]
    assert "连字符在第8位之后" in errs(check_org_code("3093487-3"))
    assert "连字符在第8位之后" in errs(check_org_code("3093487-34"))
    assert "第3位“#”不是数字或大写字母" in errs(check_org_code("30#34873-4"))
    assert "第9位校验码“A”无效，应为数字或X" in errs(check_org_code("30934873-A"))


def test_org_code_letters_and_special_check_values():
    rng = random.Random(11714)
    seen = set()
    for _ in range(2000):
        body = "".join(rng.choice(ORG_ALPHABET) for _ in range(8))
        check = ref_org_check(body)
        assert org_code_check_char(body) == check
        assert check_org_code(f"{body}-{check}").ok
        seen.add(check)
    assert {"X", "0"} <= seen  # 10 -> X and 11 -> 0 both exercised
    assert "全零" in warns(check_org_code("00000000-0"))


# ------------------------------------------------------------------------------------------------ 工商注册号 (§4.3)


def test_business_reg_no():
    c = check_business_reg_no("510000000391563")
    assert c.ok and c.value == "510000000391563" and c.warnings == []
    assert business_reg_no_check_digit("51000000039156") == "3"
    assert check_business_reg_no("510000000391564").errors == ["工商注册号第15位校验码应为3，实际为4"]
    assert check_business_reg_no("51000000039156").errors == ["工商注册号应为15位数字，实际为14位"]
    assert "第2位“A”不是数字" in errs(check_business_reg_no("5A0000000391563"))


def test_business_reg_no_every_check_digit_is_unique():
    rng = random.Random(15)
    for _ in range(200):
        first14 = "".join(rng.choice("0123456789") for _ in range(14))
        good = [
            d
            for d in "0123456789"
            if check_business_reg_no(first14 + d).ok or "校验码" not in errs(check_business_reg_no(first14 + d))
        ]
        assert good == [business_reg_no_check_digit(first14)]


def test_split_composite_code():
    assert split_composite_code("30934873-4 / 510000000391563") == ("30934873-4", "510000000391563")
    assert split_composite_code("510000000391563／309348734") == ("30934873-4", "510000000391563")
    assert split_composite_code("91330782677204726D") is None
    assert split_composite_code("30934873-4 / 5100") is None
    assert split_composite_code("a/b/c") is None


# ------------------------------------------------------------------------------------------------ 居民身份证 (§4.4, §4.5)


@pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071"])
def test_id_card_published_vectors(number):
    c = check_id_card(number, on=ON)
    assert c.ok and c.value == number and c.errors == [] and c.warnings == []


def test_id_card_linping_does_not_crash():
    # python-stdnum raises KeyError('county') here (330113 missing from loc.dat, §4.5).
    c = check_id_card("330113202201010010", on=ON)
    assert c.ok and c.value == "330113202201010010" and c.errors == []
    assert "年龄为4岁" in warns(c) and "16～100岁" in warns(c)


@pytest.mark.parametrize("number", ["500108199003079558", "330109196001010013"])
def test_id_card_region_code_not_yet_valid_at_birth_is_fine(number):
    # stdnum rejects both (region valid from 1997 / 2001); real numbers keep the code valid at registration.
    c = check_id_card(number, on=ON)
    assert c.ok and c.errors == [] and c.warnings == []
    assert not stdnum_ric.is_valid(number)


def test_id_card_lower_case_x_and_legacy_15_digits():
    assert check_id_card("11010519491231002x", on=ON).value == "11010519491231002X"
    c = check_id_card("110105491231002", on=ON)
    assert c.ok and c.value == "11010519491231002X" and c.warnings == ["15位旧身份证号已转换为18位"]
    assert "第3位“A”不是数字" in errs(check_id_card("11A105491231002", on=ON))


def test_id_card_checksum_error():
    c = check_id_card("110105194912310021", on=ON)
    assert c.errors == ["身份证号第18位校验码应为X，实际为1"]


def test_id_card_impossible_birth_date():
    first17 = "110105" + "19900230" + "001"
    number = first17 + stdnum_ric.calc_check_digit(first17 + "0")
    c = check_id_card(number, on=ON)
    assert not c.ok and c.errors == ["身份证号出生日期19900230不是有效日期"]


def test_id_card_birth_date_bounds():
    def number(birth: str) -> str:
        first17 = "330782" + birth + "123"
        return first17 + id_card_check_char(first17)

    assert check_id_card(number("20300101"), on=ON).errors == ["身份证号出生日期20300101晚于2026-01-01"]
    assert check_id_card(number("20250101"), on=date(2024, 12, 31)).errors == ["身份证号出生日期20250101晚于2024-12-31"]
    assert check_id_card(number("18991231"), on=ON).errors == ["身份证号出生日期18991231早于1900年"]
    old = check_id_card(number("19200101"), on=ON)
    assert old.ok and "年龄为106岁" in warns(old)
    assert check_id_card(number("19900101"), on=datetime(2026, 1, 1, 8, 0)).ok  # a datetime is accepted as `on`


def test_id_card_unknown_region_is_a_warning():
    first17 = "123456" + "19900101" + "001"
    c = check_id_card(first17 + id_card_check_char(first17), on=ON)
    assert c.ok and warns(c) == "身份证号前6位地址码123456不是已知的行政区划代码"


def test_id_card_shape_errors():
    assert check_id_card("1101051949123100", on=ON).errors == ["身份证号应为18位（旧号码为15位），实际为16位"]
    assert "第18位“Y”不是数字或X" in errs(check_id_card("11010519491231002Y", on=ON))


def test_id_card_cross_check_with_stdnum():
    rng = random.Random(11643)
    counties = [e.code for e in regions().entries if e.code.startswith("33") and e.extra["level"] == "county"]
    start = date(1950, 1, 1).toordinal()
    for _ in range(300):
        birth = date.fromordinal(rng.randrange(start, date(2005, 12, 31).toordinal()))
        first17 = rng.choice(counties) + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
        number = first17 + id_card_check_char(first17)
        assert stdnum_ric.calc_check_digit(number) == number[17]
        c = check_id_card(number, on=ON)
        assert c.ok and c.errors == [], (number, c.errors)
        wrong = number[:17] + rng.choice([d for d in "0123456789X" if d != number[17]])
        assert not check_id_card(wrong, on=ON).ok
        assert stdnum_ric.calc_check_digit(wrong) != wrong[17]


def test_id_card_helpers():
    assert id_card_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_card_birth_date("110105491231002") == date(1949, 12, 31)
    assert id_card_sex("11010519491231002X") == "2"  # 17th digit 2: even = 女
    assert id_card_sex("360426199101010071") == "1"  # 7: odd = 男
    assert id_card_birth_date("110105194912310021") is None and id_card_sex("bad") is None


def test_mask_id_card():
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_id_card(" 11010519491231002x ") == "110105********002X"
    assert mask_id_card("110105491231002") == "110105********002X"
    assert mask_id_card("1234567") == "*******"  # unrecognised: starred, never echoed
    assert mask_id_card(None) == ""


# ------------------------------------------------------------------------------------------------ 行政区划代码 (§3.9)


def test_region_code_basics():
    assert check_region_code("330782").value == "330782"
    assert check_region_code(330782).ok
    assert check_region_code("33078").errors == ["行政区划代码应为6位数字，实际为“33078”"]
    assert check_region_code("330799").errors == ["行政区划代码330799不存在（不是已知的GB/T 2260代码）"]


def test_region_code_retired_depends_on_the_record_date():
    assert check_region_code("330103").ok  # known code, no date: fine
    assert check_region_code("330103", on=date(2015, 6, 1)).ok  # 2015-era data uses its own date
    c = check_region_code("330103", on=date(2022, 3, 1))
    assert c.errors == ["行政区划代码330103（下城区）已于2021年撤销（有效期至2021-04-08），2022-03-01时不可使用"]
    c = check_region_code("330113", on=date(2015, 6, 1))
    assert c.errors == ["行政区划代码330113（临平区）自2021-04-09起设立，2015-06-01时尚未设立"]
    c = check_region_code("330502", on=date(1995, 1, 1))  # 城区 until 1987, 吴兴区 from 2003
    assert c.errors == ["行政区划代码330502（吴兴区）在1995-01-01时未在使用"]


def test_region_code_province_and_level():
    c = check_region_code("110101", province_prefix="33")
    assert c.errors == ["行政区划代码110101（东城区）不属于浙江省"]
    assert check_region_code("330782", province_prefix="33", level="county").ok
    c = check_region_code("330700", level="county")
    assert c.errors == ["行政区划代码330700（金华市）是市级代码，此处应为县级代码"]
    assert check_region_code("330000", level="province").ok
    assert "汇总代码" in warns(check_region_code("330101"))


def test_region_name():
    assert region_name("330782") == "义乌市"
    assert region_name("330302", on=date(1983, 6, 1)) == "城区"
    assert region_name("999999") is None


# ------------------------------------------------------------------------------------------------ 项目编号 (§2.4)


def test_project_number():
    c = check_project_number("3307821501010001")
    assert c.ok and c.value == "3307821501010001" and c.warnings == []
    assert check_project_number("3301031501010001", on=date(2015, 6, 1)).ok  # retired region allowed


def test_project_number_errors():
    assert check_project_number("330782150101001").errors == ["项目编号应为由数字组成的16位编码，实际为15位"]
    # The Wuxi regex ^[\d]{16} was not anchored at the end; ours is.
    assert check_project_number("33078215010100012").errors == ["项目编号应为由数字组成的16位编码，实际为17位"]
    assert "第5位“A”不是数字" in errs(check_project_number("3307A21501010001"))
    assert check_project_number("3307821513010001").errors == ["项目编号第7～12位日期151301不是有效日期（应为yyMMdd）"]
    assert check_project_number("9999991501010001").errors == ["项目编号前6位999999不是已知的行政区划代码"]
    c = check_project_number("3307822601010001", on=date(2025, 12, 31))
    assert c.errors == ["项目编号第7～12位日期2026-01-01晚于2025-12-31"]


def test_project_number_composition_is_configurable(monkeypatch):
    rules = identifier_rules() | {"project_number": identifier_rules()["project_number"] | {"severity": "warning"}}
    monkeypatch.setattr(ids, "identifier_rules", lambda: rules)
    c = check_project_number("9999991513010001")
    assert c.ok and len(c.warnings) == 2 and c.errors == []
    assert not check_project_number("999999151301000").ok  # the length (V) is not relaxed


# ------------------------------------------------------------------------------------------------ 施工许可证编号 (§4.6)


def test_permit_number_vector():
    c = check_permit_number("330109202101210222")
    assert c.ok and c.value == "330109202101210222" and c.warnings == []


def test_permit_number_errors():
    assert check_permit_number("33010920210121022").errors == ["施工许可证编号应为18位数字，实际为17位"]
    assert check_permit_number("330109202102300222").errors == [
        "施工许可证编号第7～14位日期20210230不是有效日期（应为yyyyMMdd）"
    ]
    c = check_permit_number("330109202101210222", on=date(2020, 12, 31))
    assert c.errors == ["施工许可证编号第7～14位日期2021-01-21晚于2020-12-31"]
    assert check_permit_number("999999202101210222").errors == ["施工许可证编号前6位999999不是已知的行政区划代码"]
    assert check_permit_number("330103201506010001", on=date(2015, 6, 2)).ok  # retired 下城区, in its time


def test_permit_number_jiangsu_child_style():
    c = check_permit_number("3201021501010001-05-001")
    assert c.ok and c.value == "3201021501010001-05-001"
    assert "江苏式" in warns(c)
    bad = check_permit_number("3201021513010001-05-001")
    assert not bad.ok and "施工许可证编号中的项目编号第7～12位日期151301不是有效日期" in errs(bad)


# ------------------------------------------------------------------------------------------------ 资质证书 / 安全生产许可证


@pytest.mark.parametrize("number", ["D323002117", "D151101420", "D233012345-01", "d333012345"])
def test_qualification_cert_valid(number):
    c = check_qualification_cert_no(number)
    assert c.ok and c.value == number.upper() and c.warnings == []


def test_qualification_cert_errors_and_warnings():
    c = check_qualification_cert_no("D53300211")
    assert not c.ok and "资质证书编号“D53300211”格式不正确" in errs(c)
    assert not check_qualification_cert_no("D533002117-1").ok
    c = check_qualification_cert_no("G333002117")
    assert c.ok and "首字母“G”不是已知的资质类别字母" in warns(c)
    c = check_qualification_cert_no("D399002117")
    assert c.ok and "第3～4位省份代码99不是已知的省级行政区划代码" in warns(c)


@pytest.mark.parametrize(
    "number",
    [
        "(浙)JZ安许证字[2014]001234",
        "（浙）JZ安许证字［2014］001234",
        "（浙）JZ安许证字【2014】001234",
        "(浙)jz安许证字〔2014〕001234",
        " (浙) JZ 安许证字 [2014] 001234 ",
    ],
)
def test_safety_licence_normalised_to_half_width(number):
    c = check_safety_licence_no(number, on=ON)
    assert c.ok and c.value == "(浙)JZ安许证字[2014]001234", c.message


def test_safety_licence_errors():
    c = check_safety_licence_no("浙JZ安许证字2014001234", on=ON)
    assert not c.ok and "格式不正确，应如“(浙)JZ安许证字[2014]001234”" in errs(c)
    c = check_safety_licence_no("(浙)JZ安许证字[2003]001234", on=ON)
    assert c.errors == ["安全生产许可证编号中的年份2003不在2004～2026年之间"]
    c = check_safety_licence_no("(浙)JZ安许证字[2027]001234", on=ON)
    assert not c.ok
    c = check_safety_licence_no("(港)JZ安许证字[2014]001234", on=ON)
    assert c.ok and "省份简称“港”" in warns(c)


def test_regions_on_the_records_own_date_with_successors():
    """D4/D5: day-precision validity, successors, jurisdiction."""
    from chalicelib.domain.identifiers import jurisdiction_of, region_on, successor_of

    # a 2019 project in 下城区 keeps its code; the county that holds it today is 拱墅区
    r = region_on("330103", date(2019, 5, 1))
    assert r.code == "330103" and r.jurisdiction == "330105" and not r.errors and not r.warnings
    # today's registration in 下城区: replaced by the successor, with a warning that says why
    r = region_on("330103", date(2026, 12, 3))
    assert r.code == "330105" and r.jurisdiction == "330105"
    assert r.warnings == (
        "行政区划代码330103（下城区）已于2021-04-08撤销，按现行区划改为330105（拱墅区）：撤销下城区、拱墅区，设立新的拱墅区（2021）",
    )
    # the day of the reform: the new code, not yet the day before
    assert region_on("330113", date(2021, 4, 9)).errors == ()
    assert region_on("330113", date(2021, 4, 8)).errors == (
        "行政区划代码330113（临平区）自2021-04-09起设立，2021-04-08时尚未设立",
    )
    # splits name the main successor and the note
    assert region_on("330104", date(2026, 1, 1)).code == "330102"
    assert "钱塘区" in region_on("330104", date(2026, 1, 1)).warnings[0]
    assert jurisdiction_of("330185") == "330112" and jurisdiction_of("330782") == "330782"
    assert successor_of("330103", date(2020, 1, 1)) == "330103"
    assert jurisdiction_of("999999") is None
