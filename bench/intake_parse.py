"""Intake parsing: 50,000 rows x 20 columns of Chinese enterprise data, as a GBK CSV and as an XLSX.

    .venv/bin/python bench/intake_parse.py [runs]

Generates both files in a temporary directory, then times (best of `runs`, default 3) in a fresh interpreter per
case, so each case's peak RSS is its own:

  a) baseline: bytes.decode("gb18030") + csv.reader + pydantic validation of every row;
  b) ours: sniff() + read_csv() / read_xlsx() (chalicelib.domain.intake_files) + the same validation.

Also times python-calamine on its own (iter_rows + str) and write_xlsx() of the same rows, for reference.
Targets (issue): CSV <= 1.5 s, XLSX <= 3 s, validation included. The validation is a placeholder until the real row
validators land: one pydantic model of 20 str fields, four of them regex-constrained, behind a TypeAdapter built once.
"""

from __future__ import annotations

import csv
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROWS = 50_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TARGETS = {"csv": 1.5, "xlsx": 3.0}

HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "企业类型",
    "法定代表人",
    "法定代表人身份证号",
    "注册资本（万元）",
    "成立日期",
    "注册地址",
    "经营地址",
    "联系人",
    "联系电话",
    "资质类别",
    "资质等级",
    "资质证书编号",
    "发证日期",
    "有效期至",
    "所属地区代码",
    "安全生产许可证编号",
    "开户银行",
    "备注",
]
FIELDS = [f"f{i:02d}" for i in range(len(HEADERS))]

USCC = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")]
RIC = Annotated[str, Field(pattern=r"^\d{17}[\dX]$")]
DAY = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class EnterpriseRow(BaseModel):
    """Placeholder for the real row validator: 20 str fields, four regex-constrained."""

    f00: USCC
    f01: str
    f02: str
    f03: str
    f04: RIC
    f05: str
    f06: DAY
    f07: str
    f08: str
    f09: str
    f10: Annotated[str, Field(pattern=r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")]
    f11: str
    f12: str
    f13: str
    f14: str
    f15: str
    f16: str
    f17: str
    f18: str
    f19: str = ""


ROW_ADAPTER = TypeAdapter(EnterpriseRow)


def validate(rows) -> tuple[int, int]:
    ok = bad = 0
    for cells in rows:
        try:
            ROW_ADAPTER.validate_python(dict(zip(FIELDS, cells, strict=False)))
            ok += 1
        except ValidationError:
            bad += 1
    return ok, bad


# --- data ------------------------------------------------------------------------------------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CITIES = {
    "330102": "杭州市上城区",
    "330106": "杭州市西湖区",
    "330110": "杭州市余杭区",
    "330203": "宁波市海曙区",
    "330212": "宁波市鄞州区",
    "330302": "温州市鹿城区",
    "330402": "嘉兴市南湖区",
    "330502": "湖州市吴兴区",
    "330602": "绍兴市越城区",
    "330702": "金华市婺城区",
    "330782": "义乌市",
    "330802": "衢州市柯城区",
    "330902": "舟山市定海区",
    "331002": "台州市椒江区",
    "331102": "丽水市莲都区",
}
BRANDS = [
    "宏达",
    "中天",
    "华建",
    "城建",
    "恒远",
    "东方",
    "永安",
    "鼎盛",
    "正泰",
    "精工",
    "广厦",
    "天元",
    "金诚",
    "浙峰",
    "信达",
    "瑞丰",
    "新世纪",
    "之江",
    "钱塘",
    "四明",
]
TRADES = ["建设工程", "建筑工程", "市政工程", "装饰工程", "钢结构工程", "园林绿化", "水利水电工程", "机电安装"]
TYPES = ["有限责任公司", "股份有限公司", "有限责任公司（自然人独资）", "个人独资企业"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢傅钟"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华志国海峰文斌浩宇晨婷䶮𠮷"
ROADS = ["文三路", "解放路", "中山北路", "人民大道", "江南大道", "钱江路", "环城西路", "工人路", "新华路", "迎宾大道"]
QUALS = ["建筑工程施工总承包", "市政公用工程施工总承包", "建筑装修装饰工程专业承包", "钢结构工程专业承包"]
GRADES = ["特级", "一级", "二级", "三级"]
BANKS = ["中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "浙江农商银行", "杭州银行", "宁波银行"]
REMARKS = ["", "", "", "分公司已注销", "资质延续审查中", "2024年度信用评价A级", "含“双随机”抽查记录"]


def uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    check = (31 - sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True)) % 31) % 31
    return body + _USCC_CHARS[check]


def ric(rng: random.Random, region: str) -> str:
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    body = region + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _RIC_WEIGHTS, strict=True)) % 11]
    return body + check


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def make_rows(n: int, seed: int = 20261129) -> list[list[object]]:
    """Typed rows: amounts are floats and dates are dates, as a user's workbook holds them."""
    rng = random.Random(seed)
    regions = list(CITIES)
    rows: list[list[object]] = []
    for i in range(n):
        region = rng.choice(regions)
        city = CITIES[region]
        name = f"浙江{rng.choice(BRANDS)}{rng.choice(TRADES)}{'集团' if i % 17 == 0 else ''}有限公司"
        founded = date(1990, 1, 1) + timedelta(days=rng.randrange(365 * 34))
        issued = founded + timedelta(days=rng.randrange(365 * 3, 365 * 5))
        address = f"浙江省{city}{rng.choice(ROADS)}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}楼"
        rows.append(
            [
                uscc(rng, region),
                name,
                rng.choice(TYPES),
                person(rng),
                ric(rng, region),
                round(rng.uniform(50, 200000), 2),
                founded,
                address,
                address if rng.random() < 0.7 else f"浙江省{rng.choice(list(CITIES.values()))}{rng.choice(ROADS)}88号",
                person(rng),
                f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
                if rng.random() < 0.8
                else f"0571-{rng.randrange(10**7, 10**8)}",
                rng.choice(QUALS),
                rng.choice(GRADES),
                f"D{rng.choice('123')}{region}{rng.randrange(10**4):04d}",
                issued,
                issued + timedelta(days=365 * 5),
                region,
                f"（浙）JZ安许证字〔{founded.year + 3}〕{rng.randrange(10**6):06d}",
                rng.choice(BANKS) + city + "支行",
                rng.choice(REMARKS),
            ]
        )
    return rows


def as_text(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return v.isoformat() if isinstance(v, date) else str(v)


def write_files(folder: Path) -> tuple[Path, Path, dict[str, float]]:
    import xlsxwriter

    rows = make_rows(ROWS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([as_text(v) for v in row] for row in rows)
    csv_path = folder / "enterprises-gbk.csv"
    csv_path.write_bytes(out.getvalue().encode("gb18030"))

    # As Excel would save it: shared strings, amounts as numbers, dates as date serials with a date format.
    xlsx_path = folder / "enterprises.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx_path))
    ws = wb.add_worksheet("企业信息")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if isinstance(v, date):
                ws.write_datetime(r, c, v, day)
            elif isinstance(v, float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    wb.close()

    from chalicelib.domain.intake_files import write_csv, write_xlsx

    t0 = time.perf_counter()
    write_xlsx({"企业信息": (HEADERS, rows)})
    t1 = time.perf_counter()
    write_csv(HEADERS, rows)
    return csv_path, xlsx_path, {"write_xlsx": t1 - t0, "write_csv": time.perf_counter() - t1}


# --- cases (each runs in its own interpreter) -------------------------------------------------------------------------


def case_csv_baseline(data: bytes) -> tuple[int, int]:
    reader = csv.reader(io.StringIO(data.decode("gb18030")))
    next(reader)
    return validate(reader)


def case_csv_ours(data: bytes) -> tuple[int, int]:
    from chalicelib.domain.intake_files import FileKind, read_csv, sniff

    sniff(data, filename="企业.csv", declared_content_type="text/csv", allowed={FileKind.CSV, FileKind.XLSX})
    return validate(cells for _, cells in read_csv(data, HEADERS).rows)


def case_xlsx_calamine(data: bytes) -> tuple[int, int]:
    import python_calamine

    rows = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).iter_rows()
    next(rows)
    return validate([str(v) for v in row] for row in rows)


def case_xlsx_ours(data: bytes) -> tuple[int, int]:
    from chalicelib.domain.intake_files import FileKind, read_xlsx, sniff

    sniff(data, filename="企业.xlsx", declared_content_type=XLSX_TYPE, allowed={FileKind.CSV, FileKind.XLSX})
    return validate(cells for _, cells in read_xlsx(data, HEADERS).rows)


CASES = {
    "idle": lambda data: (0, 0),
    "csv_baseline": case_csv_baseline,
    "csv_ours": case_csv_ours,
    "xlsx_calamine": case_xlsx_calamine,
    "xlsx_ours": case_xlsx_ours,
}


def child(case: str, path: str, runs: int) -> None:
    data = Path(path).read_bytes()
    best = float("inf")
    result = (0, 0)
    for _ in range(runs):
        t0 = time.perf_counter()
        result = CASES[case](data)
        best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": best, "ok": result[0], "bad": result[1], "rss_mib": rss}))


def run_child(*args: str) -> dict:
    # A fresh interpreter per step: Linux carries ru_maxrss over fork, so the parent must stay small and generate
    # nothing itself.
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def generate(folder: str) -> None:
    t0 = time.perf_counter()
    csv_path, xlsx_path, writes = write_files(Path(folder))
    info = {"csv": str(csv_path), "xlsx": str(xlsx_path), "seconds": time.perf_counter() - t0, **writes}
    print(json.dumps(info))


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        info = run_child("--generate", tmp)
        csv_path, xlsx_path = Path(info["csv"]), Path(info["xlsx"])
        print(
            f"generated {ROWS:,} rows x {len(HEADERS)} columns in {info['seconds']:.1f} s: "
            f"GBK CSV {csv_path.stat().st_size / 2**20:.1f} MiB, XLSX {xlsx_path.stat().st_size / 2**20:.1f} MiB"
        )
        res = {
            case: run_child("--child", case, str(csv_path if case.startswith("csv") else xlsx_path), str(runs))
            for case in CASES
            if case != "idle"
        }
        idle = run_child("--child", "idle", str(csv_path), "1")["rss_mib"]

    base = res["csv_baseline"]["seconds"]
    print(
        f"\nbest of {runs}, each case in a fresh interpreter; peak RSS is the whole process "
        f"(interpreter + pydantic + file bytes alone: {idle:.0f} MiB)\n"
    )
    print("| case | seconds | ratio vs CSV baseline | rows ok / invalid | peak RSS | target |")
    print("|---|---|---|---|---|---|")
    labels = {
        "csv_baseline": "(a) CSV: decode('gb18030') + csv.reader + validate",
        "csv_ours": "(b) CSV: sniff + read_csv + validate",
        "xlsx_calamine": "XLSX: python-calamine iter_rows + str() + validate",
        "xlsx_ours": "(b) XLSX: sniff + read_xlsx + validate",
    }
    failed = False
    for case, r in res.items():
        target = TARGETS.get(case.split("_")[0]) if case.endswith("_ours") else None
        verdict = ""
        if target is not None:
            passed = r["seconds"] <= target
            failed |= not passed
            verdict = f"≤ {target} s {'PASS' if passed else 'FAIL'}"
        print(
            f"| {labels[case]} | {r['seconds']:.2f} | {r['seconds'] / base:.2f} | "
            f"{r['ok']:,} / {r['bad']:,} | {r['rss_mib']:.0f} MiB | {verdict} |"
        )
    print(
        f"\nread_xlsx vs raw calamine: {res['xlsx_ours']['seconds'] / res['xlsx_calamine']['seconds']:.2f}x; "
        f"exports of the same rows: write_xlsx (constant_memory) {info['write_xlsx']:.2f} s, "
        f"write_csv {info['write_csv']:.2f} s"
    )
    print(
        "validation: placeholder model (20 str fields, 4 regex-constrained: USCC, ID number, date, phone) through a "
        "TypeAdapter built once; the real row validators come later and will cost more."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        raise SystemExit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        generate(sys.argv[2])
        raise SystemExit(0)
    raise SystemExit(main())
