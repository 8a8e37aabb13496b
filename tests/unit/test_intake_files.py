"""Intake files (chalicelib.domain.intake_files): sniffing, zip-bomb and macro checks, encodings, headers, readers and
formula-safe exports. Every fixture is built here; nothing is committed as a binary file."""

from __future__ import annotations

import codecs
import csv
import io
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import python_calamine
import xlsxwriter

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.intake_files import (
    FileKind,
    FileRejected,
    Table,
    ZipLimits,
    check_ooxml,
    decode_text,
    read_csv,
    read_xlsx,
    safe_cell,
    sheet_names,
    sniff,
    write_csv,
    write_xlsx,
)

ROOT = Path(__file__).resolve().parents[2]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = {FileKind.CSV, FileKind.XLSX}
ATTACHMENTS = {FileKind.PDF, FileKind.JPEG, FileKind.PNG}
HEADERS = ["统一社会信用代码", "企业名称", "法定代表人", "注册资本（万元）", "成立日期"]
ROW = ["91330100MA2AB1234X", "杭州市西湖区某某建设工程有限公司", "王伟", "1000", "2020-01-02"]
REPORT_HEADERS = ["行号", "列名", "值", "错误原因"]
INJECTIONS = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1"]


def csv_text(*rows: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def reason(exc: pytest.ExceptionInfo[FileRejected]) -> str:
    return exc.value.details[0]["reason"]


def make_xlsx(sheets: dict[str, list[tuple[int, int, object]]]) -> bytes:
    """A workbook from (row, col, value) cells, written with the type xlsxwriter infers (numbers stay numbers)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, cells in sheets.items():
        ws = wb.add_worksheet(name)
        for r, c, v in cells:
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, dt_fmt)
            elif isinstance(v, date):
                ws.write_datetime(r, c, v, date_fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write(r, c, v)
    wb.close()
    return buf.getvalue()


def header_cells(row: int = 0, headers: list[str] = HEADERS) -> list[tuple[int, int, object]]:
    return [(row, c, h) for c, h in enumerate(headers)]


@pytest.fixture(scope="module")
def xlsx() -> bytes:
    return make_xlsx({"企业": [*header_cells(), *((1, c, v) for c, v in enumerate(ROW))]})


def with_entry(xlsx_bytes: bytes, name: str, payload: bytes) -> bytes:
    buf = io.BytesIO(xlsx_bytes)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(name, payload)
    return buf.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries.items():
            zf.writestr(name, payload)
    return buf.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A genuine bomb: one entry of 300 MiB of zeros, streamed in 1 MiB chunks (~1.4 MB compressed, ~0.4 s)."""
    buf = io.BytesIO()
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for _ in range(300):
                f.write(chunk)
    return buf.getvalue()


# --- sniff ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", FileKind.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", FileKind.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", FileKind.PNG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "IMAGE/PNG; foo=bar", FileKind.PNG),
    ],
)
def test_sniff_attachments_by_magic_bytes(data, declared, kind):
    assert sniff(data, filename="扫描件.bin", declared_content_type=declared, allowed=ATTACHMENTS) == kind


def test_sniff_spreadsheets_ignores_the_name(xlsx):
    gbk = csv_text(HEADERS, ROW).encode("gb18030")
    assert sniff(gbk, filename="企业.xlsx", declared_content_type="text/csv", allowed=SHEETS) == FileKind.CSV
    # Windows browsers with Excel installed declare a .csv as application/vnd.ms-excel
    assert sniff(gbk, filename="a.csv", declared_content_type="application/vnd.ms-excel", allowed=SHEETS) == "CSV"
    assert sniff(xlsx, filename="企业.csv", declared_content_type=XLSX_TYPE, allowed=SHEETS) == FileKind.XLSX


@pytest.mark.parametrize(
    ("data", "message", "why"),
    [
        (b"", "文件为空", "empty"),
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
            "文件实际是可执行程序（.exe），不是表格文件",
            "executable",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "不支持旧版Excel（.xls）格式，请另存为.xlsx或.csv",
            "legacy_xls",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "EncryptedPackage".encode("utf-16-le"),
            "文件已设置打开密码（加密），请取消密码后重新上传",
            "encrypted",
        ),
        (b"GIF89a\x01\x00", "文件实际是GIF图片，此处只接受：CSV表格、Excel工作簿（.xlsx）", "type_not_allowed"),
        (b"<html><table><tr><td>1</td></tr></table>", "文件实际是网页（HTML）或XML格式", "html_or_xml"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><Workbook/>", "文件实际是网页（HTML）或XML格式", "html_or_xml"),
        ("统一社会信用代码".encode("utf-16"), "UTF-16编码", "utf16"),
        (b"abc\x00\x01\x02", "文件包含二进制内容", "binary"),
        (b"PK\x03\x04garbage", "文件已损坏或不是有效的.xlsx文件", "corrupt"),
        (zip_of({"readme.txt": b"hi"}), "文件是ZIP压缩包，不是Excel工作簿（.xlsx）", "not_spreadsheet"),
        (
            zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
            "文件实际是Word文档（.docx），不是表格文件",
            "not_spreadsheet",
        ),
    ],
)
def test_sniff_rejects_what_is_not_a_sheet(data, message, why):
    with pytest.raises(FileRejected) as exc:
        sniff(data, filename="企业.csv", declared_content_type="text/csv", allowed=SHEETS)
    assert message in exc.value.message
    assert reason(exc) == why
    assert isinstance(exc.value, InvalidInput) and exc.value.code == "FILE_REJECTED"


def test_sniff_names_what_it_is_and_what_is_expected(xlsx):
    with pytest.raises(FileRejected) as exc:
        sniff(b"%PDF-1.4\n", filename="企业.csv", declared_content_type="application/pdf", allowed=SHEETS)
    assert exc.value.message == "文件实际是PDF文档，此处只接受：CSV表格、Excel工作簿（.xlsx）"
    assert exc.value.details[0]["filename"] == "企业.csv"
    with pytest.raises(FileRejected, match=r"文件实际是Excel工作簿（\.xlsx），此处只接受：PDF文档、JPEG图片、PNG图片"):
        sniff(xlsx, filename="扫描件.pdf", declared_content_type="application/pdf", allowed=ATTACHMENTS)
    with pytest.raises(FileRejected, match="文件实际是CSV表格，此处只接受：PDF文档"):
        sniff(b"a,b\r\n", filename="x.pdf", declared_content_type="application/pdf", allowed=ATTACHMENTS)


@pytest.mark.parametrize(
    ("data", "declared", "allowed"),
    [
        ("csv", XLSX_TYPE, SHEETS),
        ("xlsx", "text/csv", SHEETS),
        (b"%PDF-1.4\n", "image/png", ATTACHMENTS),
        (b"\x89PNG\r\n\x1a\n", "image/jpeg", ATTACHMENTS),
        (b"\xff\xd8\xff\xdb", "", ATTACHMENTS),
    ],
)
def test_sniff_rejects_a_declared_type_that_the_bytes_contradict(data, declared, allowed, xlsx):
    data = {"csv": csv_text(HEADERS).encode(), "xlsx": xlsx}.get(data, data)
    with pytest.raises(FileRejected, match="与实际内容") as exc:
        sniff(data, filename="f", declared_content_type=declared, allowed=allowed)
    assert reason(exc) == "content_type_mismatch"


# --- check_ooxml ----------------------------------------------------------------------------------------------------


def test_a_real_xlsx_passes(xlsx):
    check_ooxml(xlsx)


def test_zip_bomb_is_refused_from_the_central_directory(zip_bomb):
    t0 = time.perf_counter()
    with pytest.raises(FileRejected, match=r"疑似压缩炸弹：解压后大小300\.0 MB，超过上限200\.0 MB") as exc:
        sniff(zip_bomb, filename="企业.xlsx", declared_content_type=XLSX_TYPE, allowed=SHEETS)
    assert time.perf_counter() - t0 < 0.05  # nothing was decompressed
    assert reason(exc) == "zip_bomb" and exc.value.details[0]["filename"] == "企业.xlsx"
    with pytest.raises(FileRejected, match=r"单个部件“xl/worksheets/sheet1\.xml”大小300\.0 MB"):
        check_ooxml(zip_bomb, ZipLimits(max_total_uncompressed=1024 * 1024 * 1024))


def test_compression_ratio_and_entry_count_limits(xlsx):
    small_bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": bytes(10 << 20)})
    with pytest.raises(FileRejected, match=r"疑似压缩炸弹：解压后大小10\.0 MB，是压缩后的[0-9]+倍，超过上限100倍"):
        check_ooxml(small_bomb)
    with pytest.raises(FileRejected, match=r"疑似压缩炸弹：压缩包内有[0-9]+个部件，超过上限3个"):
        check_ooxml(xlsx, ZipLimits(max_entries=3))
    many = zip_of({f"xl/media/{i}.bin": b"" for i in range(2001)})
    with pytest.raises(FileRejected, match="压缩包内有2001个部件，超过上限2000个"):
        check_ooxml(many)


def test_xlsm_with_macros_is_refused(xlsx):
    xlsm = with_entry(xlsx, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0fake vba")
    with pytest.raises(FileRejected, match=r"文件包含宏（\.xlsm），出于安全原因不予接收"):
        check_ooxml(xlsm)
    with pytest.raises(FileRejected, match="文件包含宏"):
        read_xlsx(xlsm, HEADERS)


def test_corrupt_and_partial_zips_become_file_rejected(xlsx):
    for data in (xlsx[: len(xlsx) // 2], b"PK\x03\x04" + bytes(100)):
        with pytest.raises(FileRejected) as exc:
            check_ooxml(data)
        assert reason(exc) == "corrupt"
    missing_workbook = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"<x/>"})
    with pytest.raises(FileRejected, match="不是Excel工作簿"):
        check_ooxml(missing_workbook)


# --- decode_text ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda s: s.encode("gbk"), "gb18030"),
        (lambda s: s.encode("gb18030"), "gb18030"),
        (lambda s: s.encode("utf-8"), "utf-8"),
        (lambda s: codecs.BOM_UTF8 + s.encode("utf-8"), "utf-8-sig"),
    ],
)
def test_decode_text_confirms_the_encoding_by_the_header(encode, encoding):
    source = csv_text(HEADERS, ROW)
    text, used = decode_text(encode(source), HEADERS)
    assert (text, used) == (source, encoding)


def test_gb18030_keeps_rare_name_characters():
    row = ["91330100MA2AB1234X", "某某公司", "吉𠮷䶮", "1", "2020-01-02"]
    text, used = decode_text(csv_text(HEADERS, row).encode("gb18030"), HEADERS)
    assert used == "gb18030" and "吉𠮷䶮" in text


def test_header_whitespace_bom_and_trailing_empty_columns_are_tolerated():
    data = codecs.BOM_UTF8 + (" \ufeff统一社会信用代码 ,企业名称,法定代表人, 注册资本（万元）,成立日期,,\r\n").encode()
    assert decode_text(data, HEADERS)[1] == "utf-8-sig"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADERS[1:], "表头不符合模板：缺少列“统一社会信用代码”"),
        ([*HEADERS, "备注"], "表头不符合模板：多出列“备注”"),
        (["企业代码", *HEADERS[1:]], "表头不符合模板：缺少列“统一社会信用代码”；多出列“企业代码”"),
        ([HEADERS[1], HEADERS[0], *HEADERS[2:]], "表头列的顺序与模板不一致，应为：统一社会信用代码、企业名称"),
        ([HEADERS[0], "", *HEADERS[1:]], "表头不符合模板：多出列（空白列）"),
    ],
)
def test_header_mismatch_says_what_is_missing_or_unexpected(header, message):
    for encoding in ("utf-8", "gbk"):
        with pytest.raises(FileRejected) as exc:
            decode_text(csv_text(header, ROW).encode(encoding), HEADERS)
        assert exc.value.message.startswith(message)
        assert reason(exc) == "header_mismatch"


def test_mojibake_is_caught_by_the_header():
    # A UTF-8 file opened as GBK and saved again: every byte decodes, nothing matches.
    utf8 = csv_text(HEADERS, ROW).encode("utf-8")
    mojibake = utf8.decode("gb18030", errors="replace").encode("gb18030")
    with pytest.raises(FileRejected, match=r"表头不符合模板：缺少列“统一社会信用代码”.*乱码") as exc:
        decode_text(mojibake, HEADERS)
    assert exc.value.details[0]["missing"] == HEADERS
    # And GBK bytes of a different template (the personnel sheet uploaded as an enterprise sheet).
    with pytest.raises(FileRejected, match="缺少列"):
        decode_text(csv_text(["姓名", "身份证号"], ["王伟", "330782199001011234"]).encode("gbk"), HEADERS)


def test_utf16_fails_clearly():
    text = csv_text(HEADERS, ROW)
    with pytest.raises(FileRejected, match="UTF-16编码") as exc:
        decode_text(text.encode("utf-16"), HEADERS)  # with a BOM, as Excel writes it
    assert reason(exc) == "utf16"
    with pytest.raises(FileRejected, match="可能是UTF-16编码"):
        decode_text(text.encode("utf-16-le"), HEADERS)  # without


def test_undecodable_and_empty_files():
    with pytest.raises(FileRejected, match=r"^无法识别文件编码（支持UTF-8与GBK/GB18030）$"):
        decode_text(csv_text(HEADERS).encode("gbk") + b"\xff\xfe\x80", HEADERS)
    for data in (b"", b"\r\n \r\n,,,\r\n"):
        with pytest.raises(FileRejected, match=r"^文件为空$"):
            decode_text(data, HEADERS)


# --- read_csv -------------------------------------------------------------------------------------------------------


def test_header_only_file_has_no_rows():
    table = read_csv(csv_text(HEADERS).encode("gbk"), HEADERS)
    assert isinstance(table, Table) and table.headers == HEADERS and list(table.rows) == []
    assert table.encoding == "gb18030"


def test_blank_lines_are_skipped_but_counted():
    data = ("\r\n" + csv_text(HEADERS, ROW) + "\r\n,,,\r\n" + csv_text(ROW) + " , ,\r\n").encode("gbk")
    rows = list(read_csv(data, HEADERS).rows)
    assert [n for n, _ in rows] == [3, 6]  # header on line 2 (a blank line above it)
    assert rows[0][1] == ROW


def test_quoted_commas_and_newlines_are_one_record_and_one_excel_row():
    body = [["91330100MA2AB1234X", "某公司, 杭州分公司", "王伟", "1", "地址：\r\n第二行"], ROW]
    rows = list(read_csv(csv_text(HEADERS, *body).encode("utf-8"), HEADERS).rows)
    assert rows == [(2, body[0]), (3, ROW)]


def test_short_rows_padded_long_rows_kept_blank_rows_skipped_cells_as_read():
    # Cells come as read (row validation strips each cell once); whitespace-only rows and trailing empty cells
    # past the header are dropped as Excel artefacts.
    data = csv_text(HEADERS, ["  a ", "b\t"], [*ROW, "多余", ""], [" ", "\t"], [*ROW, "", " "]).encode("utf-8")
    rows = list(read_csv(data, HEADERS).rows)
    assert rows == [(2, ["  a ", "b\t", "", "", ""]), (3, [*ROW, "多余"]), (5, ROW)]


def test_classic_mac_line_endings():
    data = csv_text(HEADERS, ROW, ROW).replace("\r\n", "\r").encode("gbk")
    assert [n for n, _ in read_csv(data, HEADERS).rows] == [2, 3]


def test_a_csv_syntax_error_half_way_is_a_file_rejection():
    data = csv_text(HEADERS, ROW, ["x" * (csv.field_size_limit() + 1)]).encode("utf-8")
    rows = read_csv(data, HEADERS).rows
    assert next(rows)[0] == 2
    with pytest.raises(FileRejected, match="CSV格式错误（第3行附近）"):
        next(rows)


def test_fifty_thousand_rows():
    row = ",".join(ROW) + "\r\n"
    data = (",".join(HEADERS) + "\r\n" + row * 50_000).encode("gbk")
    t0 = time.perf_counter()
    count = last = 0
    for last, cells in read_csv(data, HEADERS).rows:  # noqa: B007 - `last` is read after the loop
        count += 1
        assert len(cells) == 5
    assert (count, last) == (50_000, 50_001)
    assert time.perf_counter() - t0 < 1.0


# --- read_xlsx ------------------------------------------------------------------------------------------------------


def test_xlsx_cells_read_as_the_user_sees_them():
    cells = [
        *header_cells(),
        (1, 0, 330782),  # a region code stored as a number
        (1, 1, 330782.0),
        (1, 2, 330782199001011234),  # an 18-digit ID typed as a number: Excel keeps 15-17 digits
        (1, 3, 1234.5),
        (1, 4, date(2020, 1, 2)),
        (2, 0, True),
        (2, 1, False),
        (2, 2, 0.1 + 0.2),
        (2, 3, -0.0),
        (2, 4, datetime(2020, 1, 2, 3, 4, 5)),
        (4, 1, "  有空格  "),  # row 4 (Excel row 4) empty: skipped, numbering kept
        (5, 0, 0.00001),
        (5, 1, 1e20),
        (5, 2, 1358.0160000000001),  # =1234.56*1.1 as Excel stores it; the user sees 1358.016
        (5, 3, 6222021234567890),  # 16 digits, below 2**53: kept exactly
    ]
    data = make_xlsx({"企业": cells, "说明": [(0, 0, "填写说明")]})
    table = read_xlsx(data, HEADERS)
    assert table.headers == HEADERS and table.encoding is None
    rows = list(table.rows)
    assert [n for n, _ in rows] == [2, 3, 5, 6]
    first = rows[0][1]
    assert first[:2] == ["330782", "330782"]
    assert first[2].isdigit() and len(first[2]) == 18 and first[2].startswith("3307821990010")  # no "e+17"
    assert first[3:] == ["1234.5", "2020-01-02"]
    assert rows[1][1] == ["是", "否", "0.3", "0", "2020-01-02 03:04:05"]
    assert rows[2][1] == ["", "有空格", "", "", ""]
    assert rows[3][1] == ["0.00001", "100000000000000000000", "1358.016", "6222021234567890", ""]
    assert sheet_names(data) == ["企业", "说明"]


def test_xlsx_named_sheet_missing_sheet_and_empty_sheet():
    data = make_xlsx({"说明": [], "企业": [*header_cells(), *((1, c, v) for c, v in enumerate(ROW))]})
    assert list(read_xlsx(data, HEADERS, sheet="企业").rows) == [(2, ROW)]
    with pytest.raises(FileRejected, match="工作簿中没有名为“人员”的工作表，现有工作表：说明、企业"):
        read_xlsx(data, HEADERS, sheet="人员")
    with pytest.raises(FileRejected, match="工作表“说明”为空"):
        read_xlsx(data, HEADERS)  # the first sheet


def test_xlsx_row_numbers_follow_the_sheet_when_the_header_is_not_on_row_1():
    # Pins a calamine quirk: iter_rows() starts at sheet row 1 even when the used range starts lower or to the right.
    cells = [*((2, c + 1, h) for c, h in enumerate(HEADERS)), *((3, c + 1, v) for c, v in enumerate(ROW))]
    cells.append((6, 3, "王五"))
    rows = list(read_xlsx(make_xlsx({"S": cells}), HEADERS).rows)
    assert rows == [(4, ROW), (7, ["", "", "王五", "", ""])]


def test_xlsx_header_mismatch_and_non_workbooks():
    data = make_xlsx({"S": header_cells(headers=[*HEADERS[:4], "备注"])})
    with pytest.raises(FileRejected, match="表头不符合模板：缺少列“成立日期”；多出列“备注”"):
        read_xlsx(data, HEADERS)
    with pytest.raises(FileRejected) as exc:
        read_xlsx(zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<broken"}), HEADERS)
    assert reason(exc) == "corrupt"


# --- exports --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*INJECTIONS, "\r=1", "\x00=1", "-", "=", "@"])
def test_safe_cell_prefixes_formula_starts(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("正常文本", "正常文本"),
        ("a=1", "a=1"),
        ("", ""),
        (None, ""),
        (-1, "-1"),  # a number cannot carry a formula
        (-1.5, "-1.5"),
        (Decimal("-12.50"), "-12.50"),
        (True, "是"),
        (date(2020, 1, 2), "2020-01-02"),
    ],
)
def test_safe_cell_leaves_other_values_alone(value, text):
    assert safe_cell(value) == text


def test_write_csv_is_excel_friendly_and_round_trips():
    rows = [[i + 2, "备注", v, "不允许以公式开头"] for i, v in enumerate(INJECTIONS)]
    data = write_csv(REPORT_HEADERS, rows)
    assert data.startswith(codecs.BOM_UTF8) and data.count(b"\r\n") == len(rows) + 1
    back = list(read_csv(data, REPORT_HEADERS).rows)
    assert [cells[2] for _, cells in back] == ["'" + v for v in INJECTIONS]


def test_write_xlsx_writes_text_never_formulas():
    report = [[i + 2, "备注", v, "不允许以公式开头"] for i, v in enumerate(INJECTIONS)]
    records = [["91330100MA2AB1234X", "某公司", 330782199001011234, 1234.5, None]]
    data = write_xlsx({"错误明细": (REPORT_HEADERS, iter(report)), "企业": (HEADERS, records)})
    assert sniff(data, filename="r.xlsx", declared_content_type=XLSX_TYPE, allowed=SHEETS) == FileKind.XLSX
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet_xml = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")]
    assert len(sheet_xml) == 2 and all(b"<f>" not in x and b"<f " not in x for x in sheet_xml)
    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    got = wb.get_sheet_by_name("错误明细").to_python()
    assert got[0] == REPORT_HEADERS
    assert [r[2] for r in got[1:]] == ["'" + v for v in INJECTIONS]
    assert [r[0] for r in got[1:]] == [2.0, 3.0, 4.0, 5.0, 6.0]  # numbers stay numbers
    enterprise = read_xlsx(data, HEADERS, sheet="企业")
    assert list(enterprise.rows) == [(2, ["91330100MA2AB1234X", "某公司", "330782199001011234", "1234.5", ""])]


def test_write_xlsx_text_columns_for_templates():
    data = write_xlsx({"企业": (HEADERS, [])}, text_columns=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert b'numFmtId="49"' in zf.read("xl/styles.xml")  # 49 is Excel's built-in Text (@) format
        assert b'style="2"' in zf.read("xl/worksheets/sheet1.xml")  # every <col> carries it
    table = read_xlsx(data, HEADERS)
    assert table.headers == HEADERS and list(table.rows) == []


def test_write_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch):
    import chalicelib.domain.intake_files as intake_files

    monkeypatch.setattr(intake_files, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(InvalidInput, match="超过Excel单个工作表上限"):
        write_xlsx({"S": (["a"], [["1"]] * 3)})


def test_the_module_does_not_load_spreadsheet_libraries_on_import():
    code = "import sys, chalicelib.domain.intake_files; print(sorted({'python_calamine', 'xlsxwriter'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
