"""Code tables (chalicelib.domain.codetables) and their data files (chalicelib/data/codetables/*.json)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from chalicelib.domain import codetables as ct
from chalicelib.domain.codetables import CodeEntry, CodeTable
from chalicelib.domain.identifiers import city_of, counties_of

DATA = Path(ct.__file__).resolve().parent.parent / "data" / "codetables"

# domain.md §3.9, copied independently of infra/gen_regions.py so a generator bug cannot hide itself.
ZJ_CITIES = {
    "330100": "杭州市",
    "330200": "宁波市",
    "330300": "温州市",
    "330400": "嘉兴市",
    "330500": "湖州市",
    "330600": "绍兴市",
    "330700": "金华市",
    "330800": "衢州市",
    "330900": "舟山市",
    "331000": "台州市",
    "331100": "丽水市",
}
ZJ_COUNTIES = {
    "330102": "上城区", "330105": "拱墅区", "330106": "西湖区", "330108": "滨江区", "330109": "萧山区", "330110": "余杭区",
    "330111": "富阳区", "330112": "临安区", "330113": "临平区", "330114": "钱塘区", "330122": "桐庐县", "330127": "淳安县",
    "330182": "建德市",
    "330203": "海曙区", "330205": "江北区", "330206": "北仑区", "330211": "镇海区", "330212": "鄞州区", "330213": "奉化区",
    "330225": "象山县", "330226": "宁海县", "330281": "余姚市", "330282": "慈溪市",
    "330302": "鹿城区", "330303": "龙湾区", "330304": "瓯海区", "330305": "洞头区", "330324": "永嘉县", "330326": "平阳县",
    "330327": "苍南县", "330328": "文成县", "330329": "泰顺县", "330381": "瑞安市", "330382": "乐清市", "330383": "龙港市",
    "330402": "南湖区", "330411": "秀洲区", "330421": "嘉善县", "330424": "海盐县", "330481": "海宁市", "330482": "平湖市",
    "330483": "桐乡市",
    "330502": "吴兴区", "330503": "南浔区", "330521": "德清县", "330522": "长兴县", "330523": "安吉县",
    "330602": "越城区", "330603": "柯桥区", "330604": "上虞区", "330624": "新昌县", "330681": "诸暨市", "330683": "嵊州市",
    "330702": "婺城区", "330703": "金东区", "330723": "武义县", "330726": "浦江县", "330727": "磐安县", "330781": "兰溪市",
    "330782": "义乌市", "330783": "东阳市", "330784": "永康市",
    "330802": "柯城区", "330803": "衢江区", "330822": "常山县", "330824": "开化县", "330825": "龙游县", "330881": "江山市",
    "330902": "定海区", "330903": "普陀区", "330921": "岱山县", "330922": "嵊泗县",
    "331002": "椒江区", "331003": "黄岩区", "331004": "路桥区", "331022": "三门县", "331023": "天台县", "331024": "仙居县",
    "331081": "温岭市", "331082": "临海市", "331083": "玉环市",
    "331102": "莲都区", "331121": "青田县", "331122": "缙云县", "331123": "遂昌县", "331124": "松阳县", "331125": "云和县",
    "331126": "庆元县", "331127": "景宁畲族自治县", "331181": "龙泉市",
}  # fmt: skip
# §3.9 "Changes since 2014": retired code -> last year; new code -> first year.
RETIRED = {
    "330103": ("下城区", date(2021, 4, 8)),  # day precision: the 2021 Hangzhou reform
    "330104": ("江干区", date(2021, 4, 8)),
    "330185": ("临安市", 2017),
    "330183": ("富阳市", 2014),
    "330204": ("江东区", 2016),
    "330283": ("奉化市", 2016),
    "330322": ("洞头县", 2015),
    "331021": ("玉环县", 2017),
    "330621": ("绍兴县", 2013),
    "330682": ("上虞市", 2013),
}
NEW = {
    "330383": 2019,
    "330113": date(2021, 4, 9),
    "330114": date(2021, 4, 9),
    "330112": 2017,
    "330111": 2014,
    "330213": 2016,
    "330305": 2015,
    "331083": 2017,
    "330603": 2013,
    "330604": 2013,
}

TABLE_LOADERS = [
    ct.regions,
    ct.qualification_types,
    ct.qualification_classes,
    ct.qualification_codes,
    ct.grades,
    ct.registration_types,
    ct.registration_specialties,
    ct.safety_cert_types,
    ct.project_categories,
    ct.project_natures,
    ct.project_uses,
    ct.approval_levels,
    ct.id_card_types,
    ct.economic_types,
    ct.uscc_authorities,
]


# ------------------------------------------------------------------------------------------------ generic table


def small_table(**kw) -> CodeTable:
    entries = [
        {"code": "A", "name": "甲", "valid_from": "2010-01-01", "valid_to": "2014-12-31"},
        {"code": "B", "name": "乙", "valid_from": "2015-01-01", "parent": "A"},
        {"code": "C", "name": "丙", "parent": "A", "extra": {"aliases": ["丙(旧)"]}},
        {
            "code": "R",
            "name": "新名",
            "valid_from": "1983-01-01",
            "extra": {
                "history": [
                    {"name": "旧名", "valid_from": "1983-01-01", "valid_to": "1987-12-31"},
                    {"name": "新名", "valid_from": "2003-01-01", "valid_to": None},
                ]
            },
        },
    ]
    data = {"table": "t", "version": "2026-11-29", "source": "test", "verified": "U", "entries": entries} | kw
    return CodeTable.model_validate(data)


def test_generic_table_lookups():
    t = small_table()
    assert t.get("B").name == "乙" and t.get("X") is None and t.get(None) is None
    assert t.is_valid("A") and not t.is_valid("X") and not t.is_valid(None)
    assert t.is_valid("A", date(2014, 12, 31)) and not t.is_valid("A", date(2015, 1, 1))
    assert not t.is_valid("B", date(2014, 12, 31)) and t.is_valid("B", date(2015, 1, 1))
    assert [e.code for e in t.valid_on(date(2012, 6, 1))] == ["A", "C", "R"]
    assert [e.code for e in t.valid_on(date(1995, 6, 1))] == ["C"]
    assert [e.code for e in t.children("A")] == ["B", "C"]
    assert [e.code for e in t.children("A", on=date(2012, 1, 1))] == ["C"]
    assert t.children("Z") == []
    assert t.codes() == ["A", "B", "C", "R"] and len(t) == 4 and "A" in t and "Z" not in t and 1 not in t
    assert t.name("B") == "乙"
    assert t.name("nope") == "nope" and t.name(None) == ""  # display fallback, never raises


def test_history_gap_and_names_on_dates():
    t = small_table()
    # A code reused after a gap (330502: 城区 1983-1987, 吴兴区 from 2003) is not valid inside the gap.
    assert (
        t.is_valid("R", date(1985, 1, 1))
        and not t.is_valid("R", date(1995, 1, 1))
        and t.is_valid("R", date(2010, 1, 1))
    )
    assert t.name("R", on=date(1985, 1, 1)) == "旧名" and t.name("R") == "新名"


def test_find_by_name_normalises_bracket_width_and_aliases():
    t = small_table()
    assert t.find_by_name("丙（旧）").code == "C"  # alias written with full-width brackets
    assert t.find_by_name(" 乙 ").code == "B"
    assert t.find_by_name("无此名") is None and t.find_by_name(None) is None and t.find_by_name("") is None


def test_duplicate_codes_are_a_data_error():
    with pytest.raises(ValueError, match="duplicate code 'A'"):
        small_table(entries=[{"code": "A", "name": "x"}, {"code": "A", "name": "y"}])


def test_entries_are_immutable():
    e = ct.regions().get("330782")
    with pytest.raises(ValueError):
        e.name = "x"
    assert isinstance(e, CodeEntry)


# ------------------------------------------------------------------------------------------------ every data file


@pytest.mark.parametrize("loader", TABLE_LOADERS, ids=lambda f: f.__name__)
def test_every_table_loads_with_metadata(loader):
    t = loader()
    assert t is loader()  # loaded once
    assert t.table == loader.__name__ and t.source and t.verified in {"V", "P", "U"} and t.description
    assert len(t) > 0 and all(e.name or e.code == "" for e in t.entries)


def test_every_json_file_is_a_loadable_table():
    names = sorted(p.stem for p in DATA.glob("*.json") if p.stem != "identifier_rules")
    assert set(names) >= {f.__name__ for f in TABLE_LOADERS} | {"empty_sentinels"}
    for name in names:
        raw = json.loads((DATA / f"{name}.json").read_text("utf-8"))
        assert set(raw) >= {"table", "version", "source", "verified", "description", "entries"}, name
        assert ct.load_table(name).table == name


def test_unverified_facts_are_marked_as_such():
    for loader in (ct.project_categories, ct.project_natures, ct.project_uses, ct.approval_levels, ct.economic_types):
        assert loader().verified == "U", loader.__name__
    assert ct.id_card_types().get("1").extra["verified"] == "P"
    assert {e.extra["verified"] for e in ct.id_card_types().entries if e.code != "1"} == {"U"}


def test_identifier_rules_file():
    rules = ct.identifier_rules()
    assert rules["project_number"]["length"] == 16 and rules["project_number"]["verified"] == "U"
    assert rules["permit_number"]["length"] == 18
    assert rules["qualification_cert"]["pattern"] == r"^[A-Z][1-4]\d{8}(-\d{2})?$"
    assert rules["safety_licence"]["verified"] == "U"


def test_empty_sentinels():
    assert ct.empty_sentinels() == frozenset({"", " ", "无", "无数据", "/"})


# ------------------------------------------------------------------------------------------------ regions


def test_all_90_current_zhejiang_counties_with_names_and_cities():
    r = ct.regions()
    assert len(ZJ_COUNTIES) == 90
    today = date(2026, 11, 29)
    for code, name in ZJ_COUNTIES.items():
        e = r.get(code)
        assert e is not None and e.name == name, code
        assert e.extra["level"] == "county" and e.parent == code[:4] + "00" and r.is_valid(code, today), code
    current = {
        e.code
        for e in r.valid_on(today)
        if e.code.startswith("33") and e.extra["level"] == "county" and not e.extra.get("placeholder")
    }
    assert current == set(ZJ_COUNTIES)


def test_zhejiang_province_and_cities():
    r = ct.regions()
    assert r.get("330000").name == "浙江省" and r.get("330000").extra["level"] == "province"
    cities = {e.code: e.name for e in r.children("330000", on=date(2026, 1, 1)) if e.extra["level"] == "city"}
    assert cities == ZJ_CITIES
    for code in ZJ_CITIES:
        assert r.get(code).parent == "330000"


@pytest.mark.parametrize(("code", "fact"), RETIRED.items())
def test_retired_zhejiang_codes_are_kept_with_valid_to(code, fact):
    name, last = fact
    last_day = last if isinstance(last, date) else date(last, 12, 31)  # year precision where only loc.dat is known
    e = ct.regions().get(code)
    assert e.name == name and e.valid_to == last_day
    assert ct.regions().is_valid(code)  # known at some time
    assert ct.regions().is_valid(code, last_day)
    assert not ct.regions().is_valid(code, last_day + timedelta(days=1))
    # and it names the code that took over its territory, itself in force today
    successor = e.extra["successor"]
    assert ct.regions().is_valid(successor, date(2026, 12, 3)) and e.extra["successor_note"]


@pytest.mark.parametrize(("code", "first_year"), NEW.items())
def test_new_zhejiang_codes_have_valid_from(code, first_year):
    first_day = first_year if isinstance(first_year, date) else date(first_year, 1, 1)
    e = ct.regions().get(code)
    assert e.valid_from == first_day and e.valid_to is None
    assert not ct.regions().is_valid(code, first_day - timedelta(days=1))
    assert ct.regions().is_valid(code, first_day)


def test_linping_and_qiantang_from_the_day_of_the_2021_reform():
    r = ct.regions()
    for code in ("330113", "330114"):
        assert r.get(code).valid_from == date(2021, 4, 9)
        assert r.is_valid(code, date(2021, 4, 9)) and not r.is_valid(code, date(2021, 4, 8))
    # the day before the reform 下城区 still exists, the day of it no longer: never both, never neither
    assert r.is_valid("330103", date(2021, 4, 8)) and not r.is_valid("330103", date(2021, 4, 9))


def test_counties_of_hangzhou_by_date():
    in_2015 = counties_of("330100", on=date(2015, 6, 1))
    assert "330103" in in_2015 and "330104" in in_2015 and "330185" in in_2015
    assert "330113" not in in_2015 and "330112" not in in_2015
    in_2026 = counties_of("330100", on=date(2026, 1, 1))
    assert "330113" in in_2026 and "330114" in in_2026
    assert "330103" not in in_2026 and "330104" not in in_2026
    assert in_2026 == sorted(c for c in ZJ_COUNTIES if c.startswith("3301"))
    assert "330101" not in counties_of("330100")  # 市辖区 aggregation row
    assert {"330103", "330113", "330107"} <= set(counties_of("330100"))  # on=None: every county ever


def test_city_of():
    assert city_of("330782") == "330700"
    assert city_of("330103") == "330100"  # retired counties keep their city
    assert city_of("330700") == "330700"
    assert city_of("330000") is None and city_of("999999") is None and city_of(None) is None


def test_rest_of_china_for_id_plausibility():
    r = ct.regions()
    provinces = [e for e in r.entries if e.extra["level"] == "province"]
    assert len(provinces) == 34  # 31 + 台湾 + 香港 + 澳门
    assert r.get("110101").name == "东城区" and r.get("110101").parent == "110100"
    assert r.get("500108").valid_from == date(1997, 1, 1)  # 重庆南岸区 (§4.5)
    assert r.get("330109").valid_from == date(2001, 1, 1)
    assert len(r) > 6000


def test_region_history_names_and_placeholders():
    r = ct.regions()
    assert r.name("330302", on=date(1983, 6, 1)) == "城区" and r.name("330302") == "鹿城区"
    assert r.get("330101").extra.get("placeholder") is True
    assert "330354" not in r  # functional-zone pseudo code (§3.9) is not GB/T 2260


def test_generated_regions_match_the_generator():
    pytest.importorskip("stdnum")
    from infra import gen_regions

    table, notes = gen_regions.build(gen_regions.loc_dat_path(), "x")
    committed = json.loads((DATA / "regions.json").read_text("utf-8"))
    assert committed["entries"] == json.loads(gen_regions.dumps(table))["entries"]
    assert any("330113" in n for n in notes)  # loc.dat still lacks 临平区; the merge supplies it


# ------------------------------------------------------------------------------------------------ qualifications


def test_qualification_types():
    t = ct.qualification_types()
    assert t.codes() == [str(i) for i in range(1, 13)]
    assert t.name("3") == "建筑业" and t.get("3").extra["trade_type_prefix"] == "104"
    assert t.get("2").extra["apt_family"] == "A" and t.get("8").extra["apt_family"] is None


def test_general_contracting_grades():
    q = ct.qualification_codes()
    for i in range(1, 11):
        assert f"D1{i:02d}T" in q
    assert "D111T" not in q and "D112T" not in q
    for i in range(1, 13):
        for g in "ABC":
            assert f"D1{i:02d}{g}" in q
    d101a = q.get("D101A")
    assert d101a.name == "建筑工程施工总承包一级"
    assert d101a.extra == {"family": "D", "class": "D101", "grade": "A", "grade_code": "02", "category": "施工总承包"}
    assert q.get("D101T").name == "建筑工程施工总承包特级"


def test_specialty_contracting_classes():
    classes = ct.qualification_classes()
    d2 = [e for e in classes.entries if e.code.startswith("D2") and len(e.code) == 4]
    assert len(d2) == 36
    q = ct.qualification_codes()
    for code in ("D203", "D210", "D236"):
        assert f"{code}X" in q and f"{code}A" not in q
    assert q.get("D203X").name == "预拌混凝土专业承包不分等级"
    assert "D201C" in q and "D204C" not in q and "D220C" not in q and "D235C" in q
    assert q.get("D21801A").parent == "D21801" and classes.get("D21801").parent == "D218"


def test_supervision_codes():
    q = ct.qualification_codes()
    assert "E1X" in q and "E3X" in q
    for i in range(1, 15):
        assert f"E2{i:02d}A" in q and f"E2{i:02d}B" in q
    assert {c for c in q.codes() if c.startswith("E2") and c.endswith("C")} == {"E201C", "E205C", "E209C", "E213C"}
    assert "E202C" not in q
    assert q.get("E201C").name == "工程监理房屋建筑工程专业丙级"


def test_other_families():
    q = ct.qualification_codes()
    for code in (
        "A1A",
        "A221A",
        "A32101A",
        "A32101D",
        "A213A1",
        "A213A2",
        "B1A",
        "B201C",
        "B203B",
        "B301X",
        "FA",
        "FZ",
        "IB",
    ):
        assert code in q, code
    for code in ("C1A", "C2B", "C3C", "C4A"):
        assert code in q and q.get(code).extra["family"] == "C"
    assert q.get("C1C").extra["verified"] == "U" and "verified" not in q.get("C3C").extra  # C3C is in the list
    assert q.get("FZ").extra["grade_code"] == "91"  # 暂定级
    assert q.get("A32101A").name == "工程设计建筑行业（建筑工程）甲级"


def test_qualification_codes_are_consistent():
    q, classes, grades = ct.qualification_codes(), ct.qualification_classes(), ct.grades()
    for e in q.entries:
        x = e.extra
        assert e.code == x["class"] + x["grade"] and e.parent == x["class"] and x["family"] == e.code[0], e.code
        assert x["class"] in classes and x["grade"] in classes.get(x["class"]).extra["grades"], e.code
        assert grades.get(x["grade_code"]).extra["suffix"] == x["grade"], e.code
    for c in classes.entries:
        assert c.parent is None or c.parent in classes, c.code


def test_grade_ranks():
    g = ct.grades()

    def rank(name):
        return g.find_by_name(name).extra["rank"]

    assert rank("特级") > rank("一级") > rank("二级") > rank("三级")
    assert rank("综合") > rank("甲级") > rank("乙级") > rank("丙级") > rank("丁级") > rank("暂定级")
    assert rank("甲(Ⅰ)级") == rank("甲级") > rank("甲(Ⅱ)级") > rank("乙级")
    assert rank("不分等级") is None
    assert g.find_by_name("一级").extra["print_name"] == "壹级"
    assert g.find_by_name("甲（Ⅰ）级").code == g.find_by_name("甲(Ⅰ)级").code


# ------------------------------------------------------------------------------------------------ persons, projects, misc


def test_registration_types():
    t = ct.registration_types()
    names = {e.name for e in t.entries}
    assert {
        "一级注册建筑师",
        "二级注册建筑师",
        "一级注册结构工程师",
        "二级注册结构工程师",
        "注册监理工程师",
        "一级注册建造师",
        "二级注册建造师",
        "一级临时注册建造师",
        "二级临时注册建造师",
        "注册造价工程师",
    } <= names
    assert t.get("JZS1").name == "一级注册建造师" and t.get("JZS1").extra["group"] == "注册建造师"
    assert t.get("YT").extra["seal_prefix"] == "AY"


def test_registration_specialties():
    sp, types = ct.registration_specialties(), ct.registration_types()
    for e in sp.entries:
        assert e.extra["applies_to"] and all(code in types for code in e.extra["applies_to"]), e.code
    builders1 = [e.name for e in sp.entries if "JZS1" in e.extra["applies_to"]]
    builders2 = [e.name for e in sp.entries if "JZS2" in e.extra["applies_to"]]
    assert len(builders1) == 10 and len(builders2) == 6 and set(builders2) <= set(builders1)
    supervision = [e for e in sp.entries if e.extra["applies_to"] == ["JL"]]
    assert len(supervision) == 14
    classes = ct.qualification_classes()
    for e in supervision:
        assert classes.get(e.extra["apt_class"]).name == f"工程监理{e.name}专业"
    assert {e.name for e in sp.entries if "ZJ" in e.extra["applies_to"]} == {"土建", "安装"}


def test_safety_cert_types():
    t = ct.safety_cert_types()
    assert {e.code: (e.name, e.extra["user_type"]) for e in t.entries} == {
        "A": ("主要负责人", 1),
        "B": ("项目负责人", 2),
        "C": ("专职安全生产管理人员", 3),
    }


def test_project_tables():
    cats = ct.project_categories()
    assert cats.codes() == ["01", "02", "99"] and cats.name("02") == "市政基础设施工程"
    natures = ct.project_natures()
    assert all(len(c) == 3 for c in natures.codes())
    assert [e.name for e in natures.entries] == ["新建", "改建", "扩建", "重建", "迁建", "恢复", "其他"]
    uses = ct.project_uses()
    assert all(len(c) == 3 for c in uses.codes())
    assert {
        "居住建筑",
        "公共建筑",
        "工业建筑",
        "商住楼",
        "给水",
        "排水",
        "燃气",
        "热力",
        "道路",
        "桥隧",
        "风景园林",
        "环境园林",
        "公共交通",
        "其他",
    } == {e.name for e in uses.entries}
    assert all(e.extra["category"] in (None, *cats.codes()) for e in uses.entries)
    assert [e.name for e in ct.approval_levels().entries] == ["国家级", "省级", "市级", "县级", "其他"]


def test_id_card_types_and_economic_types():
    assert ct.id_card_types().name("1") == "居民身份证"
    assert ct.id_card_types().get("1").extra["checker"] == "id_card"
    econ = ct.economic_types()
    assert econ.find_by_name("其他有限责任公司").name == "有限责任公司（其他）"  # S-hlj rename (§3.8)
    assert econ.find_by_name("有限责任公司(自然人投资或控股)").name == "有限责任公司（自然人投资或控股）"
    assert econ.find_by_name("股份有限公司（非上市）") is not None and econ.find_by_name("集体所有制") is not None


def test_uscc_authorities():
    t = ct.uscc_authorities()
    assert [e.code for e in t.children("9")] == ["91", "92", "93", "99"]
    assert t.name("91") == "企业" and t.name("12") == "事业单位" and t.name("A") == "中央军委改革和编制办公室"
    assert {e.code for e in t.entries if e.extra["level"] == "authority"} == set("123456789ANY")
