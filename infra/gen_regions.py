"""One-off generator: GB/T 2260 行政区划代码 history -> chalicelib/data/codetables/regions.json.

Reads python-stdnum's `stdnum/cn/loc.dat` (a dev-only dependency; the generated JSON is committed, the runtime never
imports stdnum). loc.dat is generated from Wikipedia's 中华人民共和国行政区划代码 pages and carries, per code, one or
more names with the years they were in use, e.g. `0302 county="[1983-1983]城区,[1984-]鹿城区"` (domain.md §3.9,
source S-stdnum).

Then the Zhejiang facts of domain.md §3.9 are merged on top: loc.dat (wheel 2.2, and repo HEAD as of 2026-01) lacks
330113 临平区 and 330114 钱塘区 (source S-region-js), and the script refuses to write a table whose current Zhejiang
county-level list differs from the 90 codes counted in §3.9.

loc.dat only gives years, so every period becomes `valid_from = YYYY-01-01`, `valid_to = YYYY-12-31`: during the year
of a change both the old and the new code are accepted (lenient on purpose; exact State Council approval dates are
not in any source we hold).

Run from the project root:  .venv/bin/python -m infra.gen_regions [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chalicelib" / "data" / "codetables" / "regions.json"

# Names GB/T 2260 uses for aggregation rows rather than real administrative units (e.g. 330101 市辖区, 110200 县).
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位"})

# domain.md §3.9: the current county-level units of Zhejiang (90 = 37 市辖区 + 20 县级市 + 33 县).
ZHEJIANG_CURRENT_COUNTIES = {
    "330100": "330102 330105 330106 330108 330109 330110 330111 330112 330113 330114 330122 330127 330182",
    "330200": "330203 330205 330206 330211 330212 330213 330225 330226 330281 330282",
    "330300": "330302 330303 330304 330305 330324 330326 330327 330328 330329 330381 330382 330383",
    "330400": "330402 330411 330421 330424 330481 330482 330483",
    "330500": "330502 330503 330521 330522 330523",
    "330600": "330602 330603 330604 330624 330681 330683",
    "330700": "330702 330703 330723 330726 330727 330781 330782 330783 330784",
    "330800": "330802 330803 330822 330824 330825 330881",
    "330900": "330902 330903 330921 330922",
    "331000": "331002 331003 331004 331022 331023 331024 331081 331082 331083",
    "331100": "331102 331121 331122 331123 331124 331125 331126 331127 331181",
}

# domain.md §3.9 "Changes since 2014": code -> (name, first year or day, last year or day). None = open end.
# They agree with loc.dat except 330113/330114, which loc.dat lacks; the script reports any override it makes.
# The 2021 Hangzhou reform has day precision: 《浙江省人民政府关于调整杭州市部分行政区划的通知》 (dated 2021-03-11,
# published 2021-04-09) abolished 下城区/江干区 and set up 临平区/钱塘区; the codes change on the day of
# publication [P: text of the notice as reprinted by news sites; the effective day is the publication day].
HANGZHOU_2021 = "2021-04-09"
ZHEJIANG_CHANGES: dict[str, tuple[str, int | str | None, int | str | None]] = {
    "330103": ("下城区", 1983, "2021-04-08"),
    "330104": ("江干区", 1983, "2021-04-08"),
    "330185": ("临安市", 1996, 2017),
    "330112": ("临安区", 2017, None),
    "330183": ("富阳市", 1994, 2014),
    "330111": ("富阳区", 2014, None),
    "330113": ("临平区", HANGZHOU_2021, None),
    "330114": ("钱塘区", HANGZHOU_2021, None),
    "330204": ("江东区", 1983, 2016),
    "330283": ("奉化市", 1989, 2016),
    "330213": ("奉化区", 2016, None),
    "330322": ("洞头县", 1981, 2015),
    "330305": ("洞头区", 2015, None),
    "331021": ("玉环县", 1994, 2017),
    "331083": ("玉环市", 2017, None),
    "330621": ("绍兴县", 1983, 2013),
    "330682": ("上虞市", 1992, 2013),
    "330603": ("柯桥区", 2013, None),
    "330604": ("上虞区", 2013, None),
    "330383": ("龙港市", 2019, None),
}
ZHEJIANG_SOURCES = {
    "330113": "S-region-js; 浙江省人民政府关于调整杭州市部分行政区划的通知（2021）",
    "330114": "S-region-js; 浙江省人民政府关于调整杭州市部分行政区划的通知（2021）",
    "330103": "浙江省人民政府关于调整杭州市部分行政区划的通知（2021）",
    "330104": "浙江省人民政府关于调整杭州市部分行政区划的通知（2021）",
}
# Where a retired code's territory went (domain.md §3.9 "→", and the 2021 notice). A record still carrying the old
# code is mapped to the successor for jurisdiction (which county's officials hold it) with a warning; a code split
# between several successors names the main one and the parts in a note.
ZHEJIANG_SUCCESSORS: dict[str, tuple[str, str, str]] = {
    # code: (successor, verification, note)
    "330103": ("330105", "P", "撤销下城区、拱墅区，设立新的拱墅区（2021）"),
    "330104": ("330102", "P", "撤销上城区、江干区，设立新的上城区；原江干区下沙、白杨街道划归钱塘区（330114）"),
    "330185": ("330112", "V", "撤销县级临安市，设立临安区（2017）"),
    "330183": ("330111", "V", "撤销县级富阳市，设立富阳区（2014）"),
    "330204": ("330212", "U", "撤销江东区，行政区域划归鄞州区（2016）"),
    "330283": ("330213", "V", "撤销县级奉化市，设立奉化区（2016）"),
    "330322": ("330305", "V", "撤销洞头县，设立洞头区（2015）"),
    "331021": ("331083", "V", "撤销玉环县，设立县级玉环市（2017）"),
    "330621": ("330603", "V", "撤销绍兴县，设立柯桥区（2013）"),
    "330682": ("330604", "V", "撤销县级上虞市，设立上虞区（2013）"),
}

_PROVINCE = re.compile(r'^(\d{2}) province="([^"]+)"$')
_COUNTY = re.compile(r'^  (\d{4}) county="([^"]+)"$')
_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.+)$")


def loc_dat_path() -> Path:
    import stdnum.cn

    return Path(stdnum.cn.__file__).resolve().parent / "loc.dat"


def _year_from(y: int | str | None) -> str | None:
    """First day of a period: a year (loc.dat precision) or an exact ISO day."""
    if y is None or isinstance(y, str):
        return y
    return f"{y:04d}-01-01"


def _year_to(y: int | str | None) -> str | None:
    if y is None or isinstance(y, str):
        return y
    return f"{y:04d}-12-31"


def parse_periods(raw: str) -> list[tuple[str, int | None, int | None]]:
    """`[1983-1983]城区,[1984-]鹿城区` -> [("城区", 1983, 1983), ("鹿城区", 1984, None)]; no brackets = always."""
    periods = []
    for part in raw.split(","):
        m = _PERIOD.match(part.strip())
        if m:
            start, end, name = m.groups()
            periods.append((name.strip(), int(start) if start else None, int(end) if end else None))
        else:
            periods.append((part.strip(), None, None))
    return periods


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parse_loc_dat(text: str) -> dict[str, list[tuple[str, int | None, int | None]]]:
    codes: dict[str, list[tuple[str, int | None, int | None]]] = {}
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if m := _PROVINCE.match(line):
            province = m.group(1)
            continue
        if m := _COUNTY.match(line):
            if province is None:
                raise ValueError(f"county line before any province: {line!r}")
            codes[province + m.group(1)] = parse_periods(m.group(2))
            continue
        raise ValueError(f"unexpected loc.dat line: {line!r}")
    return codes


def merge_zhejiang(codes: dict[str, list[tuple[str, int | None, int | None]]]) -> list[str]:
    """Apply ZHEJIANG_CHANGES; returns human-readable notes on what differed from loc.dat."""
    notes = []
    for code, (name, start, end) in ZHEJIANG_CHANGES.items():
        wanted = [(name, start, end)]
        have = codes.get(code)
        if have == wanted:
            continue
        if have is None:
            notes.append(f"{code} {name}: missing in loc.dat, added [{start}-{end or ''}]")
        else:
            notes.append(f"{code} {name}: loc.dat has {have}, replaced by [{start}-{end or ''}]")
        codes[code] = wanted
    return notes


def entry(code: str, periods: list[tuple[str, int | None, int | None]], known: set[str]) -> dict:
    level = level_of(code)
    if level == "province":
        parent = None
    elif level == "city":
        parent = code[:2] + "0000"
    else:
        city = code[:4] + "00"
        parent = city if city in known else code[:2] + "0000"
    name = periods[-1][0]
    starts = [p[1] for p in periods]
    ends = [p[2] for p in periods]
    extra: dict = {"level": level}
    if name in PLACEHOLDER_NAMES:
        extra["placeholder"] = True
    if len(periods) > 1:
        # Renamed, or the code was reused after a gap: is_valid() checks each period, not just the outer bounds.
        extra["history"] = [{"name": n, "valid_from": _year_from(s), "valid_to": _year_to(e)} for n, s, e in periods]
    if code in ZHEJIANG_SOURCES:
        extra["source"] = ZHEJIANG_SOURCES[code]
    if code in ZHEJIANG_SUCCESSORS:
        successor, verified, note = ZHEJIANG_SUCCESSORS[code]
        extra.update(successor=successor, successor_verified=verified, successor_note=note)
    return {
        "code": code,
        "name": name,
        "valid_from": None if None in starts else min(_year_from(s) for s in starts),
        "valid_to": None if None in ends else max(_year_to(e) for e in ends),
        "parent": parent,
        "extra": extra,
    }


def current_zhejiang_counties(entries: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for e in entries:
        x = e["extra"]
        if e["code"].startswith("33") and x["level"] == "county" and e["valid_to"] is None and not x.get("placeholder"):
            found.setdefault(e["parent"], set()).add(e["code"])
    return found


def build(loc_dat: Path, version: str) -> tuple[dict, list[str]]:
    codes = parse_loc_dat(loc_dat.read_text("utf-8"))
    notes = merge_zhejiang(codes)
    known = set(codes)
    entries = [entry(code, codes[code], known) for code in sorted(codes)]
    expected = {city: set(s.split()) for city, s in ZHEJIANG_CURRENT_COUNTIES.items()}
    found = current_zhejiang_counties(entries)
    if found != expected:
        diff = {c: (sorted(found.get(c, set()) - expected.get(c, set())), sorted(expected.get(c, set()) - found.get(c, set())))
                for c in set(found) | set(expected)}  # fmt: skip
        raise SystemExit(f"current Zhejiang counties differ from domain.md §3.9 (extra, missing): {diff}")
    table = {
        "table": "regions",
        "version": version,
        "source": "GB/T 2260 history from python-stdnum 2.2 stdnum/cn/loc.dat (Wikipedia 中华人民共和国行政区划代码); "
        "Zhejiang changes per domain.md §3.9 (330113/330114 from S-region-js)",
        "verified": "V",
        "description": (
            "行政区划代码 of all of China since 1980, current and retired (never delete: historic projects and ID "
            "numbers use them). Generated by infra/gen_regions.py; do not edit by hand. Dates have year precision "
            "where only loc.dat is known (valid_from = YYYY-01-01 of the first year, valid_to = YYYY-12-31 of the last "
            "year, so in the year of a change both codes are valid) and day precision where a source gives the day "
            "(the 2021 Hangzhou reform). extra.successor names the code a retired code's territory went to "
            "(extra.successor_note for splits). extra.level = province|city|county (by code shape); extra.placeholder "
            "marks aggregation rows (市辖区, 县, 省直辖县级行政单位) that are not real units; extra.history lists the "
            "names/periods of a code that was renamed or reused. Functional-zone pseudo codes of provincial systems "
            "(e.g. 330354) are not GB/T 2260 and are deliberately absent. Changes after the loc.dat snapshot outside "
            "Zhejiang are not included."
        ),
    }
    return table | {"entries": entries}, notes


def dumps(table: dict) -> str:
    """Header keys pretty-printed, one compact entry per line: diffs stay readable and the file stays small."""
    head = {k: v for k, v in table.items() if k != "entries"}
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append('  "entries": [')
    body = ["    " + json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in table["entries"]]
    lines.append(",\n".join(body))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs (ignoring version)")
    parser.add_argument("--version", default=date.today().isoformat(), help="table version (default: today)")
    args = parser.parse_args(argv)
    table, notes = build(loc_dat_path(), args.version)
    for note in notes:
        print("override:", note, file=sys.stderr)
    if args.check:
        current = json.loads(OUT.read_text("utf-8"))
        table["version"] = current.get("version")
        if current != json.loads(dumps(table)):
            print(f"{OUT} is out of date; re-run infra/gen_regions.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dumps(table), "utf-8")
    print(f"wrote {OUT} ({len(table['entries'])} entries, {OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
