"""Intake files: what an uploaded file really is, reading its rows, and writing exports that are safe to open.

Bytes in, rows or bytes out; no I/O besides xlsxwriter's temporary files. Whole-file problems (wrong type, zip bomb,
macros, encoding, header) raise `FileRejected`; per-row problems are the row validators' business, so the readers
report nothing about cell contents and keep every cell, with the row number the user sees in Excel.

python-calamine and xlsxwriter are imported inside the functions that need them: importing `app` must not load
them (tests/infra/test_layering.py), and most requests never touch a spreadsheet.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import struct
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import InvalidInput

MiB = 1024 * 1024


class FileRejected(InvalidInput):
    """The file as a whole cannot be taken: the message says what is wrong with it; `details` carries a stable
    machine reason (e.g. {"field": "file", "reason": "zip_bomb"})."""

    code = "FILE_REJECTED"
    default_message = "文件不符合要求"


def _reject(message: str, reason: str, **extra: Any) -> FileRejected:
    return FileRejected(message, details=[{"field": "file", "reason": reason, **extra}])


class FileKind(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"
    PDF = "PDF"
    JPEG = "JPEG"
    PNG = "PNG"


KIND_LABELS: dict[FileKind, str] = {
    FileKind.CSV: "CSV表格",
    FileKind.XLSX: "Excel工作簿（.xlsx）",
    FileKind.PDF: "PDF文档",
    FileKind.JPEG: "JPEG图片",
    FileKind.PNG: "PNG图片",
}

# The first type of each kind is the canonical one (what upload_kinds.json lists). The others are what real clients
# send for the same content: Windows browsers with Excel installed declare a .csv as application/vnd.ms-excel,
# old IE sent image/pjpeg and image/x-png.
CONTENT_TYPES: dict[FileKind, tuple[str, ...]] = {
    FileKind.CSV: (
        "text/csv",
        "application/csv",
        "text/x-csv",
        "text/comma-separated-values",
        "application/vnd.ms-excel",
    ),
    FileKind.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    FileKind.PDF: ("application/pdf",),
    FileKind.JPEG: ("image/jpeg", "image/pjpeg", "image/jpg"),
    FileKind.PNG: ("image/png", "image/x-png"),
}

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx is not a zip but an OLE2 container with this stream; its name is stored in UTF-16LE.
_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")
# Signatures of files that are never acceptable: named so the user learns what they actually sent.
_OTHER_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF图片"),
    (b"GIF89a", "GIF图片"),
    (b"\x7fELF", "可执行程序"),
    (b"\x1f\x8b", "gzip压缩包"),
    (b"Rar!\x1a\x07", "RAR压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z压缩包"),
    (b"PK\x05\x06", "空的ZIP压缩包"),
    (b"PK\x07\x08", "分卷ZIP压缩包"),
    (b"II*\x00", "TIFF图片"),
    (b"MM\x00*", "TIFF图片"),
    (b"{\\rtf", "RTF文档"),
)
_TEXT_SNIFF_BYTES = 64 * 1024


def _expected(allowed: Iterable[FileKind]) -> str:
    return "、".join(KIND_LABELS[k] for k in FileKind if k in set(allowed)) or "（无）"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def sniff(data: bytes, *, filename: str, declared_content_type: str, allowed: set[FileKind]) -> FileKind:
    """What the file is, by its bytes alone: a name or a declared type costs nothing to fake. `filename` only goes
    into the error details, for the audit trail."""
    if not data:
        raise _reject("文件为空", "empty", filename=filename)
    try:
        kind = _detect(data, allowed)
    except FileRejected as exc:
        exc.details[0].setdefault("filename", filename)
        raise
    if kind not in allowed:
        raise _reject(
            f"文件实际是{KIND_LABELS[kind]}，此处只接受：{_expected(allowed)}",
            "type_not_allowed",
            filename=filename,
            detected=kind.value,
        )
    declared = _media_type(declared_content_type)
    if declared not in CONTENT_TYPES[kind]:
        shown = declared or "未声明"
        raise _reject(
            f"文件声明的类型（{shown}）与实际内容（{KIND_LABELS[kind]}）不符，请确认上传的是正确的文件",
            "content_type_mismatch",
            filename=filename,
            detected=kind.value,
            declared=declared,
        )
    return kind


def _detect(data: bytes, allowed: set[FileKind]) -> FileKind:
    if data.startswith(b"%PDF-"):
        return FileKind.PDF
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if data.startswith(_ZIP):
        check_ooxml(data)
        return FileKind.XLSX
    if data.startswith(b"MZ"):
        raise _reject("文件实际是可执行程序（.exe），不是表格文件", "executable")
    if data.startswith(_OLE2):
        if _ENCRYPTED_OOXML in data:
            raise _reject("文件已设置打开密码（加密），请取消密码后重新上传", "encrypted")
        raise _reject("不支持旧版Excel（.xls）格式，请另存为.xlsx或.csv", "legacy_xls")
    for signature, label in _OTHER_BINARY:
        if data.startswith(signature):
            raise _reject(f"文件实际是{label}，此处只接受：{_expected(allowed)}", "type_not_allowed")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _utf16_rejected()
    if b"\x00" in data[:_TEXT_SNIFF_BYTES]:
        raise _reject(
            f"文件包含二进制内容，不是文本表格（CSV），也不是可识别的类型；此处只接受：{_expected(allowed)}",
            "binary",
        )
    # Many systems export an HTML table or SpreadsheetML 2003 XML named .xls/.csv; a template header never starts
    # with "<", and "header mismatch" would not tell the user what to do.
    if data[:4096].removeprefix(codecs.BOM_UTF8).lstrip()[:1] == b"<":
        raise _reject(
            "文件实际是网页（HTML）或XML格式，不是CSV或.xlsx；请用Excel打开后另存为.xlsx或.csv",
            "html_or_xml",
        )
    return FileKind.CSV


def _utf16_rejected() -> FileRejected:
    # Excel's "Unicode 文本" save is UTF-16 (and tab-separated): a common, honest mistake worth a precise answer.
    return _reject(
        "文件是UTF-16编码（如Excel“Unicode文本”格式），请另存为“CSV UTF-8（逗号分隔）”或GBK编码的CSV",
        "utf16",
    )


# --- ZIP / OOXML ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_total_uncompressed: int = 200 * MiB
    max_ratio: float = 100.0
    max_entry_uncompressed: int = 100 * MiB


def _mb(n: int) -> str:
    return f"{n / MiB:.1f}"


def _eocd_entry_count(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile builds a ZipInfo per entry (a
    20 MB upload can hold ~400k empty entries). None when absent or ZIP64 (0xFFFF): zipfile's count then decides."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if pos < 0 or pos + 22 > len(data):
        return None
    total = struct.unpack_from("<H", data, pos + 10)[0]
    return None if total == 0xFFFF else total


def check_ooxml(data: bytes, limits: ZipLimits = ZipLimits()) -> None:
    """Accept only a macro-free OOXML workbook of sane size, judging by the central directory alone: nothing is
    decompressed, so a bomb costs nothing to refuse.

    The sizes checked are the ones the archive declares. A crafted archive can under-declare them; zipfile and
    calamine then read what is declared or fail on CRC, and the Lambda memory limit is the last line of defence."""
    count = _eocd_entry_count(data)
    if count is not None and count > limits.max_entries:
        raise _too_many_entries(count, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as exc:
        raise _reject("文件已损坏或不是有效的.xlsx文件，无法打开", "corrupt") from exc
    if len(infos) > limits.max_entries:
        raise _too_many_entries(len(infos), limits)
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_uncompressed:
        raise _reject(
            f"疑似压缩炸弹：解压后大小{_mb(total)} MB，超过上限{_mb(limits.max_total_uncompressed)} MB",
            "zip_bomb",
        )
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    if biggest is not None and biggest.file_size > limits.max_entry_uncompressed:
        raise _reject(
            f"疑似压缩炸弹：解压后单个部件“{biggest.filename}”大小{_mb(biggest.file_size)} MB，"
            f"超过上限{_mb(limits.max_entry_uncompressed)} MB",
            "zip_bomb",
        )
    compressed = sum(i.compress_size for i in infos)
    ratio = total / compressed if compressed else (math.inf if total else 0.0)
    if ratio > limits.max_ratio:
        raise _reject(
            f"疑似压缩炸弹：解压后大小{_mb(total)} MB，是压缩后的{ratio:.0f}倍，超过上限{limits.max_ratio:.0f}倍",
            "zip_bomb",
        )
    names = {i.filename for i in infos}
    if any(n.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for n in names):
        raise _reject("文件包含宏（.xlsm），出于安全原因不予接收", "macro")
    if any(i.flag_bits & 0x1 for i in infos):
        raise _reject("文件中的内容已加密，无法读取，请取消加密后重新上传", "encrypted")
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise _reject("不支持Excel二进制工作簿（.xlsb），请另存为.xlsx或.csv", "not_spreadsheet")
    if "word/document.xml" in names:
        raise _reject("文件实际是Word文档（.docx），不是表格文件", "not_spreadsheet")
    if "ppt/presentation.xml" in names:
        raise _reject("文件实际是PowerPoint演示文稿（.pptx），不是表格文件", "not_spreadsheet")
    if "mimetype" in names and "content.xml" in names:
        raise _reject("不支持OpenDocument表格（.ods），请另存为.xlsx或.csv", "not_spreadsheet")
    raise _reject("文件是ZIP压缩包，不是Excel工作簿（.xlsx）；请直接上传表格文件，不要压缩", "not_spreadsheet")


def _too_many_entries(count: int, limits: ZipLimits) -> FileRejected:
    return _reject(f"疑似压缩炸弹：压缩包内有{count}个部件，超过上限{limits.max_entries}个", "zip_bomb")


# --- Text and header ------------------------------------------------------------------------------------------------


def _clean_header(cells: list[str]) -> list[str]:
    out = [c.replace("\ufeff", "").strip() for c in cells]
    while out and not out[-1]:
        out.pop()  # Excel writes trailing empty columns when a stray cell to the right was ever touched
    return out


def _header_problem(cells: list[str], expected: list[str]) -> FileRejected | None:
    got = _clean_header(cells)
    want = [h.strip() for h in expected]
    if got == want:
        return None
    have, need = Counter(got), Counter(want)
    missing = list((need - have).elements())
    unexpected = list((have - need).elements())
    if not missing and not unexpected:
        message = "表头列的顺序与模板不一致，应为：" + "、".join(want)
    else:
        parts = []
        if missing:
            parts.append("缺少列" + "、".join(f"“{h}”" for h in missing))
        if unexpected:
            parts.append("多出列" + "、".join(f"“{h}”" if h else "（空白列）" for h in unexpected))
        message = "表头不符合模板：" + "；".join(parts)
        if not set(got) & set(want):
            # Nothing recognisable at all: usually mojibake (a UTF-8 file re-saved as GBK, or the reverse).
            message += "。如表头显示为乱码，可能是文件编码不正确，请另存为“CSV UTF-8（逗号分隔）”后重试"
    return _reject(message, "header_mismatch", missing=missing, unexpected=unexpected, found=got)


def _lines(text: str) -> Iterator[str]:
    """Lines with their endings, lazily. io.StringIO(text) would copy the text into a 4-bytes-per-character buffer
    (+36 MiB for a 16 MiB GBK file). Files from "CSV (Macintosh)" end lines with a bare CR."""
    sep = "\n" if "\n" in text or "\r" not in text else "\r"
    start, size = 0, len(text)
    while start < size:
        end = text.find(sep, start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _first_record(reader: Iterator[list[str]]) -> tuple[int, list[str]] | None:
    """The first record with any non-blank cell, with its 1-based record number."""
    for number, cells in enumerate(reader, start=1):
        if any(c.strip() for c in cells):
            return number, cells
    return None


def decode_text(data: bytes, expected_headers: list[str]) -> tuple[str, str]:
    """(text, encoding). A strict decoding is accepted only if the header row then matches the template: that is what
    tells GBK from UTF-8 reliably (charset detectors call short GBK strings big5) and what catches mojibake."""
    if not data:
        raise _reject("文件为空", "empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _utf16_rejected()
    if b"\x00" in data:
        # Valid UTF-8 may contain NUL, but no spreadsheet text does; UTF-16 without a BOM is the usual cause.
        raise _reject(
            "文件包含空字符，不是UTF-8或GBK编码的文本（可能是UTF-16编码），请另存为“CSV UTF-8（逗号分隔）”", "encoding"
        )
    # utf-8-sig, then utf-8, then gb18030: a strict utf-8-sig decoding fails exactly when utf-8 does, so the
    # first two collapse into one attempt named after whether there is a BOM.
    encodings = ("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8", "gb18030")
    first_problem: FileRejected | None = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            first = _first_record(csv.reader(_lines(text)))
        except csv.Error as exc:
            raise _reject(f"CSV格式错误：{exc}", "csv_syntax") from exc
        if first is None:
            raise _reject("文件为空", "empty")
        problem = _header_problem(first[1], expected_headers)
        if problem is None:
            return text, encoding
        first_problem = first_problem or problem
    if first_problem is not None:
        raise first_problem
    raise _reject("无法识别文件编码（支持UTF-8与GBK/GB18030）", "encoding")


# --- Readers --------------------------------------------------------------------------------------------------------


@dataclass
class Table:
    """`rows` yields (row number as the user sees it in Excel, cells) once; completely empty rows are skipped but
    still counted. Short rows are padded with ""; non-empty cells beyond the header are kept for the validator.
    Iterating may still raise FileRejected (a CSV syntax error found half-way)."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None  # of a CSV; None for XLSX


def _fit(cells: list[str], width: int) -> list[str]:
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if len(cells) > width:
        end = len(cells)
        while end > width and not cells[end - 1].strip():
            end -= 1  # trailing empties past the header: the same Excel artefact as in the header row
        return cells[:end]
    return cells


def read_csv(data: bytes, expected_headers: list[str]) -> Table:
    text, encoding = decode_text(data, expected_headers)
    reader = csv.reader(_lines(text))
    first = _first_record(reader)
    assert first is not None  # decode_text found it in the same text
    header_number, header = first
    headers = _clean_header(header)
    return Table(headers=headers, rows=_csv_rows(reader, header_number, len(headers)), encoding=encoding)


def _csv_rows(reader: Iterator[list[str]], header_number: int, width: int) -> Iterator[tuple[int, list[str]]]:
    # A record is a row in Excel even when a quoted cell spans several lines, so the number counts records.
    # Cells are passed on as read: validation strips each cell once (stripping here too cost ~0.1 s per 50k rows).
    number = header_number
    try:
        for raw in reader:
            number += 1
            for c in raw:
                if c and not c.isspace():
                    yield number, _fit(raw, width)
                    break
    except csv.Error as exc:
        raise _reject(f"CSV格式错误（第{number + 1}行附近）：{exc}", "csv_syntax", row=number + 1) from exc


def _number_text(v: float) -> str:
    if not math.isfinite(v):
        return ""
    if v.is_integer():
        if abs(v) < 2**53:
            return str(int(v))  # exact: 330782.0 -> "330782", a 16-digit code keeps every digit
        # Beyond 2**53 the float is not the number the writer meant; its shortest repr is (Excel writes at most
        # 17 significant digits), and Decimal spells it without "e+17".
        return format(Decimal(repr(v)), "f")
    # Excel shows 15 significant digits: 0.1+0.2 is "0.3" to the user, not "0.30000000000000004"; no "1e-05".
    return format(Decimal(format(v, ".15g")), "f")


def _cell_text(v: Any) -> str:
    if type(v) is str:
        return v.strip()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _number_text(v)
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat(timespec="seconds")
    if isinstance(v, timedelta):
        seconds = int(v.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if v is None:
        return ""
    return str(v).strip()


def _calamine_failed(exc: BaseException) -> FileRejected:
    return _reject("Excel文件已损坏或格式不正确，无法读取", "corrupt", error=type(exc).__name__)


@contextmanager
def _calamine_errors() -> Iterator[None]:
    """Any failure inside calamine means the file is malformed: say so instead of answering 500."""
    try:
        yield
    except Exception as exc:
        raise _calamine_failed(exc) from exc
    except BaseException as exc:
        # pyo3 turns a Rust panic into PanicException, a BaseException: a malformed upload must not kill the worker.
        if type(exc).__name__ != "PanicException":
            raise
        raise _calamine_failed(exc) from exc


def _open_workbook(data: bytes):  # -> python_calamine.CalamineWorkbook
    check_ooxml(data)  # cheap (central directory only), and read_xlsx may be called without sniff
    import python_calamine

    with _calamine_errors():
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


def sheet_names(data: bytes) -> list[str]:
    with _open_workbook(data) as wb:
        return list(wb.sheet_names)


def read_xlsx(data: bytes, expected_headers: list[str], sheet: str | None = None) -> Table:
    """The named sheet, or the first. calamine parses the whole sheet into Rust memory when it is opened (most of the
    time: ~0.8 s for 50,000 x 20); Python objects are made one row at a time."""
    with _open_workbook(data) as wb:
        names = list(wb.sheet_names)
        if sheet is not None and sheet not in names:
            raise _reject(
                f"工作簿中没有名为“{sheet}”的工作表，现有工作表：{'、'.join(names)}", "missing_sheet", sheets=names
            )
        if not names:
            raise _reject("工作簿中没有工作表", "empty")
        name = sheet if sheet is not None else names[0]
        with _calamine_errors():
            ws = wb.get_sheet_by_name(name)  # parses the whole sheet
    if ws.start is None:  # iter_rows() on an empty range is not safe in every calamine release
        raise _reject(f"工作表“{name}”为空，没有表头行", "empty", sheet=name)
    # calamine quirk (0.9.1): iter_rows() yields padding rows from sheet row 0 up to the first used row, so the
    # i-th row yielded is sheet row i, but columns start at the first used column. Pinned by a unit test.
    rows = enumerate(ws.iter_rows(), start=1)
    for _, raw in rows:
        cells = [_cell_text(v) for v in raw]
        if any(cells):
            problem = _header_problem(cells, expected_headers)
            if problem is not None:
                raise problem
            headers = _clean_header(cells)
            return Table(headers=headers, rows=_xlsx_rows(rows, len(headers)))
    raise _reject(f"工作表“{name}”为空，没有表头行", "empty", sheet=name)


def _xlsx_rows(rows: Iterator[tuple[int, list[Any]]], width: int) -> Iterator[tuple[int, list[str]]]:
    for number, raw in rows:
        # Text is most cells; skipping the call for it saves a fifth of the conversion time.
        cells = [v.strip() if type(v) is str else _cell_text(v) for v in raw]
        if any(cells):
            yield number, _fit(cells, width)


# --- Exports --------------------------------------------------------------------------------------------------------

# OWASP CSV injection: a spreadsheet treats a cell starting with these as a formula (tab/CR/NUL because some
# importers strip them first). A leading apostrophe makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")


def safe_cell(value: Any) -> str:
    """Text for one exported cell. Numbers stay plain (a number cannot carry a formula, and -1.5 must stay a
    number); any text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return _cell_text(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else ""
    text = value if isinstance(value, str) else _cell_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(headers: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 with a BOM (without it Excel reads UTF-8 as the ANSI code page, i.e. GBK mojibake) and CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


EXCEL_MAX_ROWS = 1_048_576
_WIDTH_SAMPLE_ROWS = 200
_INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(
    sheets: dict[str, tuple[list[str], Iterable[Iterable[Any]]]],
    *,
    text_columns: bool = False,
    tmpdir: str | None = None,
) -> bytes:
    """One worksheet per entry: bold, frozen header row; column widths from the header and the first rows.

    `text_columns` formats every column as Text (@), for templates: Excel then keeps what users type as typed, where
    General would turn an 18-digit ID number into 3.30782E+17 (and drop its last digits) and strip leading zeros.

    Text goes through safe_cell() and write_string(), never write() (which would turn "=..." into a formula).
    constant_memory keeps memory flat (50,000 x 20: 24 MiB instead of 227 MiB) by spooling rows to temporary files
    in `tmpdir` (default: the system temp dir, /tmp on Lambda); xlsxwriter silently turns constant_memory off when
    in_memory is set, so only the finished file is held in memory."""
    import xlsxwriter

    buf = io.BytesIO()
    options: dict[str, Any] = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    if tmpdir:
        options["tmpdir"] = tmpdir
    wb = xlsxwriter.Workbook(buf, options)
    try:
        bold = wb.add_format({"bold": True})
        column_format = wb.add_format({"num_format": 49}) if text_columns else None  # built-in Text (@)
        for name, (headers, rows) in sheets.items():
            ws = wb.add_worksheet(name.translate(_INVALID_SHEET_CHARS)[:31] or None)
            it = iter(rows)
            sample = [list(r) for _, r in zip(range(_WIDTH_SAMPLE_ROWS), it, strict=False)]
            widths = [_display_width(safe_cell(h)) for h in headers]
            for row in sample:
                for c, v in enumerate(row):
                    w = _display_width(safe_cell(v))
                    if c < len(widths):
                        widths[c] = max(widths[c], w)
                    else:
                        widths.append(w)
            for c, w in enumerate(widths):
                ws.set_column(c, c, min(max(w, 6), 60) + 2, column_format)
            for c, h in enumerate(headers):
                ws.write_string(0, c, safe_cell(h), bold)
            ws.freeze_panes(1, 0)
            r = 0
            for r, row in enumerate(_chain(sample, it), start=1):
                if r >= EXCEL_MAX_ROWS:
                    raise InvalidInput(
                        f"导出数据超过Excel单个工作表上限（{EXCEL_MAX_ROWS}行），请缩小查询范围或导出为CSV"
                    )
                for c, v in enumerate(row):
                    _write_cell(ws, r, c, v)
    finally:
        wb.close()  # also removes the constant_memory temporary files
    return buf.getvalue()


def _chain(first: list[list[Any]], rest: Iterator[Iterable[Any]]) -> Iterator[Iterable[Any]]:
    yield from first
    yield from rest


def _write_cell(ws: Any, r: int, c: int, v: Any) -> None:
    if v is None or v == "":
        return
    if isinstance(v, bool):
        ws.write_string(r, c, "是" if v else "否")
    elif isinstance(v, int) and abs(v) < 10**15:
        ws.write_number(r, c, v)  # beyond 15 digits Excel rounds: IDs stored as ints stay text
    elif isinstance(v, float) and math.isfinite(v):
        ws.write_number(r, c, v)
    elif isinstance(v, Decimal) and v.is_finite() and len(v.as_tuple().digits) <= 15:
        ws.write_number(r, c, float(v))  # an amount: summable in Excel, and 15 digits survive the float
    else:
        ws.write_string(r, c, safe_cell(v))
