"""One-off generator: the State Council's holiday arrangements -> chalicelib/data/work_calendar.json.

Statutory time limits (行政许可法 第八十二条) count working days: weekends and public holidays are excluded and the
make-up working days (调休上班) are included. The arrangement is published once a year by 国务院办公厅
(《关于YYYY年部分节假日安排的通知》, usually between October and December of the year before).

The arrangements of 2004-2026 are taken from the PyPI package `chinesecalendar` (a dev-only dependency, which
transcribes those notices; the runtime never imports it), grouped into named holiday periods and make-up days.
2026 is also checked against the text of the notice itself (tests/unit/test_work_calendar.py).

A later year is added by the province administrator in the web UI (系统管理 → 节假日安排), or here by hand from the
notice's text, never from a rule. What a rule does give is the statutory days themselves (《全国年节及纪念日放假办法》,
as revised in 2024: 元旦 1, 春节 4 from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 days; 第六条: a holiday on a weekend is made up
on a working day, 补假): the `holidays` package (0.108) computes them by rule, without the make-up working days and the
bridging days of the arrangement. They are
written as `statutory_days` for the next years and serve as the documented fallback of a year without an
arrangement (weekends and the statutory days off, no make-up days), always flagged as provisional.

Run from the project root:  .venv/bin/python -m infra.gen_work_calendar [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chalicelib" / "data" / "work_calendar.json"

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
# Where the text of the notice itself was read (not only the package's transcription).
NOTICES_READ = {
    2026: "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日，新华社全文）",
}


def build() -> dict:
    from chinese_calendar import constants

    by_year: dict[int, dict] = {}
    days = sorted(constants.holidays.items())
    # consecutive days off with the same holiday name form one period
    periods: list[dict] = []
    for d, name in days:
        label = NAMES[name]
        if periods and periods[-1]["name"] == label and date.fromisoformat(periods[-1]["to"]) + timedelta(days=1) == d:
            periods[-1]["to"] = d.isoformat()
        else:
            periods.append({"name": label, "from": d.isoformat(), "to": d.isoformat()})
    for p in periods:
        start = date.fromisoformat(p["from"])
        # 元旦 periods starting in December belong to the next year's notice (2018: 2017-12-30 .. 2018-01-01)
        year = start.year + 1 if start.month == 12 and p["name"] == "元旦" else start.year
        by_year.setdefault(year, {"holidays": [], "workdays": []})["holidays"].append(p)
    for d, name in sorted(constants.workdays.items()):
        # a make-up day belongs to the arrangement of the holiday it serves (2012's 元旦 was worked off on 2011-12-31)
        year = d.year + 1 if d.month == 12 and NAMES[name] == "元旦" else d.year
        by_year.setdefault(year, {"holidays": [], "workdays": []})["workdays"].append(
            {"date": d.isoformat(), "for": NAMES[name]}
        )
    years = {}
    for year in sorted(by_year):
        entry = by_year[year]
        years[str(year)] = {
            "notice": f"国务院办公厅关于{year}年部分节假日安排的通知",
            "source": NOTICES_READ.get(year, "chinesecalendar 1.11.0 对该通知的转录"),
            "holidays": entry["holidays"],
            "workdays": entry["workdays"],
        }
    import holidays

    last = max(by_year)
    statutory = {}
    for year in range(last + 1, last + 5):
        # includes the substitute days of 放假办法 第六条 (a holiday on a weekend is made up on a working day: 补假)
        days = sorted(holidays.China(years=year, language="zh_CN").items())
        statutory[str(year)] = [{"date": d.isoformat(), "name": name} for d, name in days]
    return {
        "table": "work_calendar",
        "version": "2026-12-03",
        "source": "国务院办公厅历年《关于部分节假日安排的通知》；2004-2026年取自 chinesecalendar 1.11.0 的转录，"
        "2026年另与通知原文核对。以后年份由系统管理员在通知发布后载入。",
        "verified": "P",
        "fallback": "未载入节假日安排的年份：扣除周六、周日和《全国年节及纪念日放假办法》规定的法定节日及补假（不含调休上班日），"
        "并标注“期限待复核”",
        "statutory_source": "holidays 0.108（按《全国年节及纪念日放假办法》2024年修订规则计算，含第六条补假，不含调休上班日）",
        "years": years,
        "statutory_days": statutory,
    }


def dumps(doc: dict) -> str:
    """Pretty, but one holiday period or make-up day per line (diffs of a new year stay readable)."""

    def one(v: object) -> str:
        return json.dumps(v, ensure_ascii=False)

    lines = ["{"]
    head = [k for k in doc if k not in ("years", "statutory_days")]
    lines += [f"  {one(k)}: {one(doc[k])}," for k in head]
    lines.append('  "years": {')
    years = list(doc["years"].items())
    for i, (year, y) in enumerate(years):
        lines.append(f"    {one(year)}: {{")
        lines.append(f'      "notice": {one(y["notice"])},')
        lines.append(f'      "source": {one(y["source"])},')
        for key in ("holidays", "workdays"):
            items = y[key]
            lines.append(f'      "{key}": [')
            lines += [f"        {one(it)}{',' if j < len(items) - 1 else ''}" for j, it in enumerate(items)]
            lines.append("      ]" + ("," if key == "holidays" else ""))
        lines.append("    }" + ("," if i < len(years) - 1 else ""))
    lines.append("  },")
    lines.append('  "statutory_days": {')
    stat = list(doc["statutory_days"].items())
    for i, (year, days) in enumerate(stat):
        lines.append(f"    {one(year)}: [")
        lines += [f"      {one(d)}{',' if j < len(days) - 1 else ''}" for j, d in enumerate(days)]
        lines.append("    ]" + ("," if i < len(stat) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs from a fresh build")
    args = parser.parse_args(argv[1:])
    text = dumps(build())
    if args.check:
        if OUT.read_text("utf-8") != text:
            print(f"{OUT} is out of date: run python -m infra.gen_work_calendar", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, "utf-8")
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
