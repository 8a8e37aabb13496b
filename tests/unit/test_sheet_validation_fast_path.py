"""validate_rows' fast path (per-column validators memoised per distinct cell, `_cell_plan`) against the full row
model: the same rows, values, keys and per-row report (row, column, value, reason, severity) for valid, invalid,
warned, blank, repeated, short and wide rows of every sheet."""

from __future__ import annotations

import pytest

from chalicelib.domain import sheets
from chalicelib.domain.identifiers import id_card_check_char, org_code_check_char, uscc_check_char
from chalicelib.domain.sheets import (
    ENTERPRISE_BASIC,
    ENTERPRISE_QUALIFICATIONS,
    PERSON_REGISTRATIONS,
    PERSON_SAFETY_CERTS,
    PROJECTS,
    SheetResult,
    SheetSpec,
    headers,
    validate_rows,
)


def _uscc(org8: str, prefix: str = "91330782") -> str:
    s17 = f"{prefix}{org8}{org_code_check_char(org8)}"
    return s17 + uscc_check_char(s17)


def _id(s17: str) -> str:
    return s17 + id_card_check_char(s17)


def _bad_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def _rows(spec: SheetSpec, dicts: list[dict[str, str]]) -> list[tuple[int, list[str]]]:
    hdrs = headers(spec)
    return [(n, [d.get(h, "") for h in hdrs]) for n, d in enumerate(dicts, start=2)]


def _report(result: SheetResult) -> tuple:
    return (
        result.total,
        [(i.sheet, i.row, i.column, i.value, i.reason, i.severity) for i in result.issues],
        [(r.row, r.key, r.values) for r in result.rows],
    )


def _both(spec: SheetSpec, rows: list[tuple[int, list[str]]], monkeypatch) -> tuple[tuple, tuple]:
    assert sheets._cell_plan(spec) is not None, "the row model no longer qualifies for the fast path"
    fast = _report(validate_rows(spec, headers(spec), [(n, list(c)) for n, c in rows]))
    with monkeypatch.context() as m:
        m.setattr(sheets, "_cell_plan", lambda spec: None)  # every row through row_model(spec).model_validate
        full = _report(validate_rows(spec, headers(spec), [(n, list(c)) for n, c in rows]))
    return fast, full


GOOD_USCC = _uscc("MA000001")
ENT_OK = {
    "统一社会信用代码": GOOD_USCC,
    "企业名称": "义乌市示范建设有限公司",
    "注册所在地区划代码": "330782",
    "法定代表人证件类型": "1",
    "注册资本（万元）": "1000",
    "成立日期": "2001-03-05",
    "安全生产许可证编号": "(浙)JZ安许证字[2014]000123",
    "安全生产许可证发证日期": "2014-06-01",
    "安全生产许可证有效期至": "2017-05-31",
}
ENTERPRISE_CASES = [
    ENT_OK,
    ENT_OK | {"统一社会信用代码": _uscc("MA000002")},  # memo hits for every other column
    ENT_OK | {"统一社会信用代码": _uscc("MA000003"), "企业名称": ""},  # required plain column blank
    ENT_OK | {"统一社会信用代码": _bad_check(GOOD_USCC)},  # wrong check character
    ENT_OK | {"统一社会信用代码": _bad_check(GOOD_USCC)},  # the same failing value, memoised
    ENT_OK | {"统一社会信用代码": _uscc("MA000004", "91999999")},  # unknown region: a warning
    ENT_OK | {"统一社会信用代码": _uscc("MA000005", "91999999")},
    ENT_OK | {"统一社会信用代码": _uscc("MA000004", "91999999")},  # the warned value again
    ENT_OK | {"统一社会信用代码": "无"},  # sentinel in a required checked column
    ENT_OK | {"统一社会信用代码": _uscc("MA000006"), "经营地址": "／", "法定代表人": "无"},  # sentinels, full width
    ENT_OK | {"统一社会信用代码": _uscc("MA000007"), "注册所在地区划代码": "110101"},  # outside Zhejiang
    ENT_OK | {"统一社会信用代码": _uscc("MA000008"), "注册所在地区划代码": "330100"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000009"), "成立日期": "2015-02-30", "注册资本（万元）": "abc"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000010"), "成立日期": "2999-01-01"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000011"), "成立日期": "2015年3月1日", "注册资本（万元）": "1,000.5"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000012"), "安全生产许可证编号": "（浙）JZ安许证字［2014］000123"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000013"), "安全生产许可证编号": "浙JZ2014"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000014"), "企业登记注册类型": "有限责任公司（自然人独资）"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000015"), "企业登记注册类型": "不存在的类型"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000016"), "法定代表人证件类型": "居民身份证"},
    ENT_OK | {"统一社会信用代码": _uscc("MA000017"), "工商注册号": "330782000012345"},
    ENT_OK | {"统一社会信用代码": f" {_uscc('MA000018')} ", "企业名称": "  前后有空格  "},
]


def test_enterprise_rows_fast_path_matches_the_row_model(monkeypatch):
    rows = _rows(ENTERPRISE_BASIC, ENTERPRISE_CASES)
    rows.append((100, rows[0][1][:5]))  # short row: padded by the readers, not here
    rows.append((101, [*rows[1][1], "", " "]))  # blank cells beyond the header
    rows.append((102, [*rows[1][1], "x"]))  # a filled cell beyond the header
    fast, full = _both(ENTERPRISE_BASIC, rows, monkeypatch)
    assert fast == full
    _, issues, parsed = fast
    assert any(i[5] == "warning" for i in issues) and any(i[5] == "error" for i in issues)
    assert len(parsed) >= 10


PERSON_OK = {
    "证件类型": "1",
    "证件号码": _id("33078219800101123"),
    "姓名": "王伟",
    "注册单位统一社会信用代码": GOOD_USCC,
    "注册单位所在地区划代码": "330782",
    "注册类别": "一级注册建造师",
    "注册专业": "建筑工程、市政公用工程",
    "注册发证日期": "2013-05-01",
    "注册有效期至": "2016-04-30",
}
PERSON_CASES = [
    PERSON_OK,
    PERSON_OK | {"证件号码": _id("33078219800101124"), "注册专业": "建筑工程"},
    PERSON_OK | {"证件号码": "330782800101123"},  # 15 digits: converted, with a warning
    PERSON_OK | {"证件号码": _bad_check(_id("33078219800101125"))},
    PERSON_OK | {"证件号码": _id("33078219800101126"), "出生日期": "1980-01-02"},  # contradicts the number
    PERSON_OK | {"证件号码": _id("33078219800101127"), "性别": "女"},
    PERSON_OK | {"证件号码": _id("33078219800101128"), "性别": "男", "出生日期": "1980-01-01"},
    PERSON_OK | {"证件号码": _id("99999919800101129")},  # unknown address code: a warning
    PERSON_OK | {"证件号码": _id("33078219800101130"), "注册专业": "建筑工程，不存在的专业"},
    PERSON_OK | {"证件号码": _id("33078219800101131"), "注册专业": ""},
    PERSON_OK | {"证件号码": _id("33078219800101132"), "注册类别": "无"},
    PERSON_OK | {"证件类型": "2", "证件号码": "E12345678"},
    PERSON_OK | {"证件类型": "", "证件号码": _id("33078219800101133")},
    PERSON_OK | {"证件号码": ""},
    PERSON_OK | {"证件号码": _id("33078219800101134"), "注册单位统一社会信用代码": _uscc("MA000004", "91999999")},
    PERSON_OK | {"证件号码": _id("33078219800101135"), "注册单位统一社会信用代码": _uscc("MA000004", "91999999")},
    PERSON_OK | {"证件号码": _id("33078219800101136"), "注册发证日期": "20130501"},
    PERSON_OK | {"证件号码": _id("33078219800101137"), "证件类型": "不存在"},
]


def test_person_rows_fast_path_matches_the_row_model(monkeypatch):
    fast, full = _both(PERSON_REGISTRATIONS, _rows(PERSON_REGISTRATIONS, PERSON_CASES), monkeypatch)
    assert fast == full
    _, issues, parsed = fast
    assert any(i[5] == "warning" for i in issues) and any(i[5] == "error" for i in issues)
    assert any(len(r[2]["registrations[].specialties"]) == 2 for r in parsed)  # a list, split and coded
    assert any(i[4].startswith("身份证号第18位校验码") for i in issues)


@pytest.mark.parametrize(
    ("spec", "cases"),
    [
        (
            ENTERPRISE_QUALIFICATIONS,
            [
                {
                    "统一社会信用代码": GOOD_USCC,
                    "资质证书编号": "D133012345",
                    "资质代码": "D101A",
                    "资质标准版本": "2014",
                },
                {"统一社会信用代码": GOOD_USCC, "资质证书编号": "D133012345", "资质代码": "D101B", "是否主项": "是"},
                {"统一社会信用代码": GOOD_USCC, "资质证书编号": "X1", "资质代码": "建筑工程施工总承包一级"},
                {"统一社会信用代码": GOOD_USCC, "资质证书编号": "D133012346", "资质代码": "D101A", "是否主项": "也许"},
            ],
        ),
        (
            PERSON_SAFETY_CERTS,
            [
                {"证件号码": _id("33078219800101123"), "注册单位统一社会信用代码": GOOD_USCC, "证书类别": "A"},
                {"证件号码": _id("33078219800101123"), "注册单位统一社会信用代码": GOOD_USCC, "证书类别": "主要负责人"},
                {"证件号码": _id("33078219800101124"), "注册单位统一社会信用代码": GOOD_USCC, "证书类别": "Z"},
            ],
        ),
        (
            PROJECTS,
            [
                {"项目编号": "3307821501010001", "项目名称": "示范工程", "总投资（万元）": "100", "项目分类": "01"},
                {"项目编号": "3307821501010002", "项目名称": "示范工程", "总投资（万元）": "-1"},
                {"项目编号": "3307821501010003", "项目名称": "示范工程", "建设单位统一社会信用代码": "12345678-X"},
                {"项目编号": "33078215", "项目名称": "", "实际开工日期": "2015/3/1", "建设性质": "新建"},
                {"项目编号": "3307821501010004", "项目名称": "示范工程", "填报企业统一社会信用代码": GOOD_USCC},
            ],
        ),
    ],
)
def test_other_sheets_fast_path_matches_the_row_model(monkeypatch, spec, cases):
    for case in cases:
        for column in list(case):
            assert column in headers(spec), column
    fast, full = _both(spec, _rows(spec, cases), monkeypatch)
    assert fast == full


def test_a_header_row_other_than_the_template_takes_the_row_model():
    hdrs = headers(ENTERPRISE_BASIC)
    swapped = [hdrs[1], hdrs[0], *hdrs[2:]]
    row = [ENT_OK.get(h, "") for h in hdrs]
    result = validate_rows(ENTERPRISE_BASIC, swapped, [(2, row)])
    assert result.total == 1 and result.issues  # columns read under the file's own headers, as before
