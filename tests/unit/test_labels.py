"""The label layer: names for codes, Chinese titles for field paths, authorities by name."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.labels import all_labels, authority_name, field_path_label, region_full_name, region_name


def test_regions_by_name_also_as_they_were():
    assert region_name("330782") == "义乌市" and region_name("330000") == "浙江省"
    assert region_full_name("330106") == "杭州市西湖区" and region_full_name("330782") == "金华市义乌市"
    # 330103 下城区 merged into 拱墅区 in 2021: the name it had when a record was made
    assert region_name("330103", date(2015, 6, 1)) == "下城区"


def test_field_paths_read_as_titles_with_positions():
    assert field_path_label("qualifications[0].cert_no") == "资质证书（第1项）·资质证书编号"
    assert field_path_label("registrations.0.issued_on") == "执业注册（第1项）·注册发证日期"
    assert field_path_label("mobile") == "手机号码"


def test_authorities_are_printed_by_name():
    assert authority_name("330782") == "义乌市住房和城乡建设局"
    assert authority_name("330106") == "杭州市西湖区住房和城乡建设局"
    assert authority_name("330100") == "杭州市城乡建设委员会"  # named otherwise: data/authorities.json
    assert authority_name(None) == "浙江省住房和城乡建设厅"


def test_the_served_labels_cover_what_screens_show():
    t = all_labels()
    assert t["regions"]["330782"] == "义乌市" and t["regions"]["110000"] == "北京市"
    assert t["sex"]["1"] == "男" and t["record_states"]["CONFIRMED"].startswith("已确认")
    assert t["datasets"]["TBCorpBasicInfo"] and not t["datasets"]["TBCorpBasicInfo"].isascii()
    assert t["permit_states"]["ISSUED"] == "已发证" and t["roles"]["audit_admin"] == "审计管理员"
