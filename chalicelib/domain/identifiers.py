"""Identifier checkers: 统一社会信用代码, 组织机构代码, 工商注册号, 居民身份证号码, 行政区划代码, 项目编号, 施工许可证编号,
资质证书编号, 安全生产许可证编号 (domain.md §2.4, §2.5, §4).

Every checker takes whatever an import or a form delivered (None, numbers, full-width text, "无" …), never raises,
and returns a `Check`: `errors` make the value unusable, `warnings` are for a reviewer. Messages are Chinese and say
exactly what is wrong and where. `value` is the normalised identifier (trimmed, NFKC, upper-case, converted).

Check characters follow the verified algorithms of §4 (python-stdnum is only a test-time cross-check: it rejects
USCCs starting with A/N/Y and crashes on 330113/330114 ID numbers, §4.5). Formats the sources do not fix are read
from `identifier_rules.json` so they can be relaxed without a code change.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from operator import mul
from typing import Any, Literal

from chalicelib.domain.clock import beijing_today
from chalicelib.domain.codetables import empty_sentinels, identifier_rules, regions, uscc_authorities


@dataclass(frozen=True, slots=True)
class Check:
    """Outcome of one identifier check. ok = no errors; value = the normalised identifier when ok, else None.

    A plain frozen dataclass, not a pydantic model: an import builds a few of these per row (50,000 rows in a
    second is the budget). Checks of repeated values (an employer's USCC on every row) are memoised, so the lists
    are shared between callers and must never be mutated.
    """

    ok: bool
    value: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """Errors then warnings, joined for a single-cell report."""
        return "；".join([*self.errors, *self.warnings])


class _Result:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def add(self, severity: str, msg: str) -> None:
        (self.warnings if severity == "warning" else self.errors).append(msg)

    def done(self, value: str | None) -> Check:
        ok = not self.errors
        return Check(ok=ok, value=value if ok else None, errors=self.errors, warnings=self.warnings)


def _fail(msg: str) -> Check:
    return Check(ok=False, value=None, errors=[msg])


# ------------------------------------------------------------------------------------------------ normalisation

_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−－"})
_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "[", "〕": "]", "﹝": "[", "﹞": "]", "〖": "[", "〗": "]"})


def is_empty(value: Any) -> bool:
    """None, NaN, whitespace-only text (incl. full-width spaces) and the §2.5 sentinels ("无", "无数据", "/" …)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if not isinstance(value, str):
        return False
    sentinels = empty_sentinels()
    stripped = value.strip()
    if not stripped or stripped in sentinels or value in sentinels:
        return True
    if stripped.isascii():
        return False  # NFKC changes nothing that matters for ASCII text
    text = unicodedata.normalize("NFKC", value).strip()
    return text == "" or text in sentinels


def _text(value: Any, label: str) -> tuple[str | None, str | None]:
    """(normalised text, None) or (None, Chinese error). Spreadsheet cells arrive as int/float, hence the number cases."""
    if is_empty(value):
        return None, f"{label}不能为空"
    if isinstance(value, bool):
        return None, f"{label}应为文本，实际为布尔值"
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        # A float has already lost digits beyond the 15th (18-digit ID numbers, 16-digit project numbers).
        return None, f"{label}应为文本，实际为数值{value!r}；请将该列设为文本格式，避免长数字丢失精度"
    elif not isinstance(value, str):
        return None, f"{label}应为文本，实际为{type(value).__name__}类型"
    text = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return text, None


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _today() -> date:
    """Today, re-read at most once a minute: imports ask for it on every row."""
    now = time.monotonic()
    if now - _TODAY_CACHE[1] > 60:
        _TODAY_CACHE[0], _TODAY_CACHE[1] = beijing_today(), now
    return _TODAY_CACHE[0]


_TODAY_CACHE: list = [beijing_today(), time.monotonic()]


def _this_year() -> int:
    return _today().year


def _day(on: date | None) -> date:
    if on is None:
        return _today()
    return on.date() if isinstance(on, datetime) else on


def _bad_chars(text: str, allowed: str | re.Pattern[str], label: str, what: str, start: int = 1) -> list[str]:
    out = []
    for i, c in enumerate(text, start):
        ok = allowed.fullmatch(c) if isinstance(allowed, re.Pattern) else c in allowed
        if not ok:
            out.append(f"{label}第{i}位“{c}”不是{what}")
    return out


@cache
def _region_codes() -> frozenset[str]:
    return frozenset(regions().codes())


def _region_known(code: str) -> bool:
    return code in _region_codes()


# ------------------------------------------------------------------------------------------------ 组织机构代码 GB 11714

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = re.compile(r"[0-9A-Z]")
_ORG_VALUE = {c: (int(c) if c.isdigit() else ord(c) - ord("A") + 10) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10  # A=10 … Z=35


# Character -> value tables for bytes.translate (255 = not allowed): an ASCII check string is weighted in C.
_ORG_BYTE_VALUE = bytes(_ORG_VALUE.get(chr(b), 255) for b in range(256))


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character body (digits / upper-case letters). Raises ValueError on bad input."""
    if type(body8) is str and len(body8) == 8 and body8.isascii():
        values = body8.encode("ascii").translate(_ORG_BYTE_VALUE)
        if 255 not in values:
            c = 11 - sum(map(mul, values, _ORG_WEIGHTS)) % 11
            return "X" if c == 10 else "0" if c == 11 else str(c)
    if len(body8) != 8 or not _ORG_VALUE.keys() >= set(body8):
        raise ValueError(f"not an organisation-code body: {body8!r}")
    c = 11 - sum(map(mul, map(_ORG_VALUE.__getitem__, body8), _ORG_WEIGHTS)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def check_org_code(s: Any) -> Check:
    return _check_org_code_cached(s) if isinstance(s, str) else _check_org_code(s)


@lru_cache(maxsize=65536)
def _check_org_code_cached(s: str) -> Check:
    return _check_org_code(s)


def _check_org_code(s: Any) -> Check:
    """组织机构代码: "XXXXXXXX-X" or 9 characters without the hyphen (§4.2, §2.5); value is "XXXXXXXX-X"."""
    label = "组织机构代码"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    text = text.translate(_DASHES)
    if len(text) == 10 and text[8] == "-":
        code = text[:8] + text[9]
    elif "-" in text:
        return _fail(f"{label}“{text}”格式不正确，应为XXXXXXXX-X（连字符在第8位之后）")
    else:
        code = text
    if len(code) != 9:
        return _fail(f"{label}应为9位（XXXXXXXX-X，连字符可省略），实际为{len(code)}位")
    r = _Result()
    r.errors += _bad_chars(code[:8], _ORG_BODY, label, "数字或大写字母")
    if not (code[8].isdigit() or code[8] == "X"):
        r.errors.append(f"{label}第9位校验码“{code[8]}”无效，应为数字或X")
    if not r.errors:
        expected = org_code_check_char(code[:8])
        if code[8] != expected:
            r.errors.append(f"{label}校验码应为{expected}，实际为{code[8]}")
        elif code[:8] == "00000000":
            r.warnings.append(f"{label}为全零，疑似占位值")
    return r.done(f"{code[:8]}-{code[8]}")


# ------------------------------------------------------------------------------------------------ 统一社会信用代码 GB 32100

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, Z, S, V
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}


@cache
def _authority_codes() -> frozenset[str]:
    return frozenset(uscc_authorities().codes())


_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # W_i = 3^(i-1) mod 31


_USCC_BYTE_VALUE = bytes(_USCC_VALUE.get(chr(b), 255) for b in range(256))


def uscc_check_char(body17: str) -> str:
    """Check character of the first 17 characters. Raises ValueError on characters outside the 31-symbol alphabet."""
    if type(body17) is str and len(body17) == 17 and body17.isascii():
        values = body17.encode("ascii").translate(_USCC_BYTE_VALUE)
        if 255 not in values:
            return USCC_ALPHABET[(31 - sum(map(mul, values, _USCC_WEIGHTS)) % 31) % 31]
    if len(body17) != 17 or not _USCC_VALUE.keys() >= set(body17):
        raise ValueError(f"not a USCC body: {body17!r}")
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, body17), _USCC_WEIGHTS))
    # The outer "mod 31" matters: without it a sum ≡ 0 gives index 31 (the S-usccjs bug, §4.1).
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(s: Any) -> Check:
    return _check_uscc_cached(s) if isinstance(s, str) else _check_uscc(s)


@lru_cache(maxsize=65536)
def _check_uscc_cached(s: str) -> Check:
    return _check_uscc(s)


_USCC_FAST = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


@cache
def _uscc_fast_tables() -> tuple[str, frozenset[str], frozenset[str]]:
    return identifier_rules()["uscc"]["first_chars"], _authority_codes(), _region_codes()


def _uscc_fast(text: str) -> Check | None:
    """The common case, a well-formed valid code without warnings, in a few microseconds; None = take the slow path
    that explains every problem."""
    first_chars, authorities, region_codes = _uscc_fast_tables()
    if (
        _USCC_FAST.fullmatch(text)
        and text[0] in first_chars
        and text[:2] in authorities
        and text[2:8] in region_codes
        and org_code_check_char(text[8:16]) == text[16]
        and uscc_check_char(text[:17]) == text[17]
    ):
        return Check(ok=True, value=text)
    return None


def _check_uscc(s: Any) -> Check:
    """统一社会信用代码 (§4.1): alphabet, 登记管理部门, 机构类别 (warning), region (warning), embedded 组织机构代码, check char.

    First characters A, N and Y are accepted (python-stdnum wrongly requires the first 8 characters to be digits).
    """
    if type(s) is str and len(s) == 18:
        fast = _uscc_fast(s)
        if fast is not None:
            return fast
    label = "统一社会信用代码"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    rules = identifier_rules()["uscc"]
    r = _Result()
    for i, c in enumerate(text, 1):
        if c not in _USCC_VALUE:
            why = "（统一社会信用代码不使用I、O、Z、S、V）" if c in "IOZSV" else "（只能是数字或大写字母）"
            r.errors.append(f"{label}第{i}位“{c}”不是有效字符{why}")
    if len(text) != 18:
        r.errors.insert(0, f"{label}应为18位，实际为{len(text)}位")
        return r.done(None)
    clean = not r.errors

    first = text[0]
    if first not in rules["first_chars"]:
        allowed = "、".join(["1～9", *[c for c in rules["first_chars"] if not c.isdigit()]])
        r.errors.append(f"{label}第1位登记管理部门代码“{first}”无效，应为{allowed}")
    elif text[1] in _USCC_VALUE and text[:2] not in _authority_codes():
        authority = uscc_authorities().name(first)
        r.warnings.append(f"{label}第2位机构类别代码“{text[1]}”不是登记管理部门“{authority}”已知的机构类别")

    region = text[2:8]
    if not region.isdigit():
        r.errors.append(f"{label}第3～8位登记管理机关行政区划码应为6位数字，实际为“{region}”")
    elif region not in rules["national_region_codes"] and not _region_known(region):
        r.warnings.append(f"{label}第3～8位登记管理机关行政区划码{region}不是已知的行政区划代码")

    org = text[8:17]
    if all(c in _USCC_VALUE for c in org[:8]):
        expected_org = org_code_check_char(org[:8])
        if org[8] != expected_org:
            r.errors.append(
                f"{label}第9～17位主体标识码（组织机构代码）的校验码（第17位）应为{expected_org}，实际为{org[8]}"
            )

    if clean:
        expected = uscc_check_char(text[:17])
        if text[17] != expected:
            r.errors.append(f"{label}第18位校验码应为{expected}，实际为{text[17]}")
    return r.done(text)


def uscc_to_org_code(uscc: Any) -> str | None:
    """The embedded 组织机构代码 as "XXXXXXXX-X" (what legacy consumers expect in CorpCode, §2.5); None if invalid."""
    c = check_uscc(uscc)
    if not c.ok or c.value is None:
        return None
    return f"{c.value[8:16]}-{c.value[16]}"


# ------------------------------------------------------------------------------------------------ 工商注册号 GS 15-2006


def business_reg_no_check_digit(first14: str) -> str:
    """ISO 7064 MOD 11,10 check digit for 14 digits. Raises ValueError on bad input."""
    if len(first14) != 14 or not first14.isdigit():
        raise ValueError(f"not 14 digits: {first14!r}")
    p = 10
    for d in first14:
        p = (((p % 11) + int(d)) % 10 or 10) * 2
    return str((1 - p % 11) % 10)  # the digit d with ((p mod 11) + d) mod 10 == 1


def check_business_reg_no(s: Any) -> Check:
    return _check_business_reg_no_cached(s) if isinstance(s, str) else _check_business_reg_no(s)


@lru_cache(maxsize=65536)
def _check_business_reg_no_cached(s: str) -> Check:
    return _check_business_reg_no(s)


def _check_business_reg_no(s: Any) -> Check:
    """15-digit 工商注册号 (§4.3, `LicenseNum` in 2015 data)."""
    label = "工商注册号"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    r = _Result()
    if len(text) != 15:
        r.errors.append(f"{label}应为15位数字，实际为{len(text)}位")
    r.errors += _bad_chars(text, "0123456789", label, "数字")
    if r.errors:
        return r.done(None)
    expected = business_reg_no_check_digit(text[:14])
    if text[14] != expected:
        r.errors.append(f"{label}第15位校验码应为{expected}，实际为{text[14]}")
    if text[:6] not in identifier_rules()["uscc"]["national_region_codes"] and not _region_known(text[:6]):
        r.warnings.append(f"{label}前6位登记机关代码{text[:6]}不是已知的行政区划代码")
    return r.done(text)


_COMPOSITE_SPLIT = re.compile(r"[/|、;；]")
_ORG_SHAPE = re.compile(r"^[0-9A-Z]{8}-?[0-9X]$")
_REG_SHAPE = re.compile(r"^\d{15}$")


def split_composite_code(s: Any) -> tuple[str, str] | None:
    """Split jzsc's "30934873-4 / 510000000391563" (§4.3) into (组织机构代码 "XXXXXXXX-X", 工商注册号), by shape only.

    The parts are not checked here, so the caller can report a bad check character precisely with
    `check_org_code` / `check_business_reg_no`. Either order is accepted; anything else returns None.
    """
    if not isinstance(s, str):
        return None
    parts = [
        "".join(unicodedata.normalize("NFKC", p).split()).upper().translate(_DASHES)
        for p in _COMPOSITE_SPLIT.split(unicodedata.normalize("NFKC", s))
    ]
    parts = [p for p in parts if p]
    if len(parts) != 2:
        return None
    for org, reg in (parts, parts[::-1]):
        if _ORG_SHAPE.match(org) and _REG_SHAPE.match(reg):
            body = org.replace("-", "")
            return f"{body[:8]}-{body[8]}", reg
    return None


# ------------------------------------------------------------------------------------------------ 居民身份证号码 GB 11643

_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # W_i = 2^(18-i) mod 11
_ID_CHECK = "10X98765432"
_ID_ASCII_OFFSET = 48 * sum(_ID_WEIGHTS)


def id_card_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits. Raises ValueError on bad input."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"not 17 digits: {first17!r}")
    if type(first17) is str and first17.isascii():  # weighted in C: ord(d) - 48 is the digit
        return _ID_CHECK[(sum(map(mul, first17.encode("ascii"), _ID_WEIGHTS)) - _ID_ASCII_OFFSET) % 11]
    return _ID_CHECK[sum(map(mul, map(int, first17), _ID_WEIGHTS)) % 11]  # other Unicode digits, as int() reads them


def _parse_date(digits: str, fmt: str) -> date | None:
    if fmt == "%Y%m%d" and len(digits) == 8 and digits.isdigit():  # fast path: strptime costs ~15 µs a call
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            return None
    try:
        return datetime.strptime(digits, fmt).date()
    except ValueError:
        return None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def check_id_card(s: Any, on: date | None = None) -> Check:
    """居民身份证号码 (§4.4). Checksum and birth date are errors; unknown address code and implausible age warnings.

    `on` is the reference date (the record's date for historic data; default today): the birth date may not be
    after it. A 15-digit legacy number is converted to 18 digits (value) with a warning. The address code is only
    checked to exist at some time: numbers keep the code valid when they were issued (500108 born 1990 is genuine).
    """
    label = "身份证号"
    rules = identifier_rules()["id_card"]
    if type(s) is str and on is None and len(s) == 18 and s[:17].isdigit():
        fast = _id_card_fast(s, rules)
        if fast is not None:
            return fast
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    today = _day(on)
    r = _Result()
    if len(text) == 15:
        r.errors += _bad_chars(text, "0123456789", label, "数字")
        if r.errors:
            return r.done(None)
        first17 = text[:6] + "19" + text[6:]
        number = first17 + id_card_check_char(first17)
        r.warnings.append("15位旧身份证号已转换为18位")
    elif len(text) == 18:
        r.errors += _bad_chars(text[:17], "0123456789", label, "数字")
        if not (text[17].isdigit() or text[17] == "X"):
            r.errors.append(f"{label}第18位“{text[17]}”不是数字或X")
        if r.errors:
            return r.done(None)
        number = text
        expected = id_card_check_char(number[:17])
        if number[17] != expected:
            r.errors.append(f"{label}第18位校验码应为{expected}，实际为{number[17]}")
    else:
        return _fail(f"{label}应为18位（旧号码为15位），实际为{len(text)}位")

    digits = number[6:14]
    born = _parse_date(digits, "%Y%m%d")
    if born is None:
        r.errors.append(f"{label}出生日期{digits}不是有效日期")
    elif born.year < rules["min_birth_year"]:
        r.errors.append(f"{label}出生日期{digits}早于{rules['min_birth_year']}年")
    elif born > today:
        r.errors.append(f"{label}出生日期{digits}晚于{today.isoformat()}")
    else:
        age = _age(born, today)
        if not rules["min_age"] <= age <= rules["max_age"]:
            r.warnings.append(
                f"{label}按出生日期{digits}计算，至{today.isoformat()}年龄为{age}岁，"
                f"不在{rules['min_age']}～{rules['max_age']}岁的常见从业年龄范围内"
            )
    if not _region_known(number[:6]):
        r.warnings.append(f"{label}前6位地址码{number[:6]}不是已知的行政区划代码")
    return r.done(number)


def _id_card_fast(s: str, rules: dict[str, Any]) -> Check | None:
    """A valid 18-digit number without any warning, in a few microseconds; None = take the explaining path."""
    if s[17] != id_card_check_char(s[:17]):
        return None
    born = _parse_date(s[6:14], "%Y%m%d")
    today = _today()
    if born is None or born.year < rules["min_birth_year"] or born > today:
        return None
    if not rules["min_age"] <= _age(born, today) <= rules["max_age"] or not _region_known(s[:6]):
        return None
    return Check(ok=True, value=s)


def id_card_birth_date(value: Any) -> date | None:
    """Birth date of a valid ID number (15 or 18 digits); None if the number does not pass `check_id_card`."""
    c = check_id_card(value)
    if not c.ok or c.value is None:
        return None
    return _parse_date(c.value[6:14], "%Y%m%d")


def id_card_sex(value: Any) -> Literal["1", "2"] | None:
    """GB/T 2261.1 sex code from the 17th digit: odd "1" 男, even "2" 女; None for an invalid number."""
    c = check_id_card(value)
    if not c.ok or c.value is None:
        return None
    return "1" if int(c.value[16]) % 2 else "2"


def mask_id_card(value: Any) -> str:
    """Public display (§6.1): first 6 + "********" + last 4. Anything unrecognised is fully starred, never echoed."""
    if not isinstance(value, str):
        return ""
    text = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(text) == 15 and text.isdigit():
        first17 = text[:6] + "19" + text[6:]
        text = first17 + id_card_check_char(first17)
    if len(text) == 18:
        return text[:6] + "*" * 8 + text[-4:]
    return "*" * len(text)


# ------------------------------------------------------------------------------------------------ 行政区划代码 GB/T 2260

_LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级"}


def check_region_code(
    s: Any,
    on: date | None = None,
    province_prefix: str | None = None,
    level: Literal["province", "city", "county"] | None = None,
) -> Check:
    if isinstance(s, str) and (on is None or type(on) is date):
        return _check_region_code_cached(s, on, province_prefix, level)
    return _check_region_code(s, on, province_prefix, level)


@lru_cache(maxsize=65536)
def _check_region_code_cached(s: str, on: date | None, province_prefix: str | None, level: str | None) -> Check:
    return _check_region_code(s, on, province_prefix, level)  # type: ignore[arg-type]


def _check_region_code(
    s: Any,
    on: date | None = None,
    province_prefix: str | None = None,
    level: Literal["province", "city", "county"] | None = None,
) -> Check:
    """行政区划代码 (§3.9): a known GB/T 2260 code; with `on`, in force on that date (pass the record's own date, so
    2015 data may use 330103 下城区); with `province_prefix` ("33"), inside that province; with `level`, of that level
    (ProvinceNum / CityNum / CountyNum)."""
    label = "行政区划代码"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    if len(text) != 6 or not text.isdigit():
        return _fail(f"{label}应为6位数字，实际为“{text}”")
    entry = regions().get(text)
    if entry is None:
        return _fail(f"{label}{text}不存在（不是已知的GB/T 2260代码）")
    r = _Result()
    shown = f"{label}{text}（{entry.name}）"
    if province_prefix and not text.startswith(province_prefix):
        province = regions().name(province_prefix.ljust(6, "0"))
        r.errors.append(f"{shown}不属于{province}")
    if on is not None:
        day = _day(on)
        if not entry.is_valid_on(day):
            if entry.valid_to is not None and day > entry.valid_to:
                r.errors.append(
                    f"{shown}已于{entry.valid_to.year}年撤销（有效期至{entry.valid_to.isoformat()}），{day.isoformat()}时不可使用"
                )
            elif entry.valid_from is not None and day < entry.valid_from:
                r.errors.append(f"{shown}自{entry.valid_from.isoformat()}起设立，{day.isoformat()}时尚未设立")
            else:
                r.errors.append(f"{shown}在{day.isoformat()}时未在使用")
    actual_level = entry.extra.get("level")
    if level is not None and actual_level != level:
        r.errors.append(
            f"{shown}是{_LEVEL_LABELS.get(actual_level, actual_level)}代码，此处应为{_LEVEL_LABELS[level]}代码"
        )
    if entry.extra.get("placeholder"):
        r.warnings.append(f"{shown}是汇总代码，不是具体的行政区")
    return r.done(text)


@dataclass(frozen=True)
class RegionOnDate:
    """A region code as a record dated `on` may carry it: the code to keep, the county that holds it today
    (jurisdiction), and what to tell the user."""

    code: str | None
    jurisdiction: str | None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def successor_of(code: str, on: date | None = None) -> str | None:
    """Follow `extra.successor` from a retired code to the code in force on `on` (default today); None if the
    chain ends without one (a retired code nobody took over)."""
    day = _day(on)
    seen = set()
    current = code
    while current and current not in seen:
        seen.add(current)
        entry = regions().get(current)
        if entry is None:
            return None
        if entry.is_valid_on(day):
            return current
        current = entry.extra.get("successor")
    return None


def jurisdiction_of(code: str | None) -> str | None:
    """The county whose officials hold a record located at `code` today: the code itself, or its successor after
    a reform (330103 下城区 → 330105 拱墅区). None for an unknown code or one without successor."""
    if not code:
        return None
    return successor_of(code) if regions().get(code) is not None else None


def region_on(code: str | None, on: date | None = None) -> RegionOnDate:
    """A county code given for a record dated `on` (the data's own date: a project's start, today for a current
    registration). In force that day: kept. Retired before it: replaced by its successor, with a warning. Not yet
    set up that day, or retired without successor: an error. Jurisdiction is always today's county."""
    if not code:
        return RegionOnDate(None, None)
    entry = regions().get(code)
    if entry is None:
        return RegionOnDate(code, None, (f"行政区划代码{code}不存在",))
    day = _day(on)
    shown = f"行政区划代码{code}（{entry.name_on(day)}）"
    if entry.is_valid_on(day):
        return RegionOnDate(code, jurisdiction_of(code))
    if entry.valid_from is not None and day < entry.valid_from:
        return RegionOnDate(
            code, None, (f"{shown}自{entry.valid_from.isoformat()}起设立，{day.isoformat()}时尚未设立",)
        )
    successor = successor_of(code, day)
    if successor is None:
        return RegionOnDate(code, None, (f"{shown}已撤销（有效期至{entry.valid_to}），且没有承继的行政区",))
    target = regions().get(successor)
    note = entry.extra.get("successor_note")
    warning = (
        f"{shown}已于{entry.valid_to.isoformat() if entry.valid_to else ''}撤销，按现行区划改为"
        f"{successor}（{target.name if target else ''}）" + (f"：{note}" if note else "")
    )
    return RegionOnDate(successor, jurisdiction_of(successor), (), (warning,))


def region_name(code: Any, on: date | None = None) -> str | None:
    """Name of a region code (as it was called on `on`, if given); None for an unknown code."""
    entry = regions().get(code) if isinstance(code, str) else None
    return None if entry is None else entry.name_on(_day(on) if on is not None else None)


def city_of(code: Any) -> str | None:
    """The city-level code a county belongs to ("330782" -> "330700"); a city returns itself; otherwise None."""
    entry = regions().get(code) if isinstance(code, str) else None
    if entry is None:
        return None
    level = entry.extra.get("level")
    if level == "city":
        return entry.code
    if level == "county" and entry.parent:
        parent = regions().get(entry.parent)
        if parent is not None and parent.extra.get("level") == "city":
            return parent.code
    return None


def counties_of(city_code: str, on: date | None = None) -> list[str]:
    """County-level codes of a city (aggregation rows like 市辖区 excluded); with `on`, only those in force that day."""
    kids = regions().children(city_code, _day(on) if on is not None else None)
    return sorted(e.code for e in kids if e.extra.get("level") == "county" and not e.extra.get("placeholder"))


# ------------------------------------------------------------------------------------------------ 项目编号 / 施工许可证编号


def _check_dated_number(text: str, rule: dict[str, Any], label: str, on: date | None, r: _Result) -> None:
    """Shared region + date composition check (project number §2.4, permit number §4.6)."""
    severity = rule.get("severity", "error")
    rd, dd = rule["region_digits"], rule["date_digits"]
    region = text[:rd]
    if not _region_known(region):
        r.add(severity, f"{label}前{rd}位{region}不是已知的行政区划代码")
    digits = text[rd : rd + dd]
    pattern = rule["date_format"].replace("%Y", "yyyy").replace("%y", "yy").replace("%m", "MM").replace("%d", "dd")
    when = _parse_date(digits, rule["date_format"])
    span = f"第{rd + 1}～{rd + dd}位"
    if when is None:
        r.add(severity, f"{label}{span}日期{digits}不是有效日期（应为{pattern}）")
    elif when > _day(on):
        r.add(severity, f"{label}{span}日期{when.isoformat()}晚于{_day(on).isoformat()}")


def check_project_number(s: Any, on: date | None = None) -> Check:
    """项目编号 / 全国统一项目编号 (§2.4): exactly 16 digits (anchored, unlike the Wuxi regex); composition
    region + yyMMdd + sequence per identifier_rules.json ([U]; retired region codes allowed)."""
    label = "项目编号"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    rule = identifier_rules()["project_number"]
    r = _Result()
    if len(text) != rule["length"]:
        r.errors.append(f"{label}应为由数字组成的{rule['length']}位编码，实际为{len(text)}位")
    r.errors += _bad_chars(text, "0123456789", label, "数字")
    if r.errors:
        return r.done(None)
    _check_dated_number(text, rule, label, on, r)
    return r.done(text)


def check_permit_number(s: Any, on: date | None = None) -> Check:
    """施工许可证编号 (§4.6): 18 digits = 6-digit 行政区划代码 (possibly retired) + YYYYMMDD (not after `on`/today)
    + 4 unconstrained digits. The Jiangsu `{PrjNum}-NN-NNN` style is accepted with a warning."""
    label = "施工许可证编号"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    text = text.translate(_DASHES)
    rule = identifier_rules()["permit_number"]
    child = re.fullmatch(rule["child_pattern"], text)
    if child:
        inner = check_project_number(child.group(1), on)
        r = _Result()
        r.errors += [f"{label}中的{e}" for e in inner.errors]
        r.warnings += [f"{label}中的{w}" for w in inner.warnings]
        r.warnings.append(f"{label}为江苏式“项目编号-{child.group(2)}-{child.group(3)}”格式，非浙江18位编号")
        return r.done(text)
    r = _Result()
    if len(text) != rule["length"]:
        r.errors.append(f"{label}应为{rule['length']}位数字，实际为{len(text)}位")
    r.errors += _bad_chars(text, "0123456789", label, "数字")
    if r.errors:
        return r.done(None)
    _check_dated_number(text, rule, label, on, r)
    return r.done(text)


# ------------------------------------------------------------------------------------------------ 资质证书 / 安全生产许可证

_FAMILY_LABELS = "A设计、B勘察、C设计施工一体化、D建筑业、E监理、F招标代理、I造价咨询"


def check_qualification_cert_no(s: Any) -> Check:
    return _check_qualification_cert_no_cached(s) if isinstance(s, str) else _check_qualification_cert_no(s)


@lru_cache(maxsize=65536)
def _check_qualification_cert_no_cached(s: str) -> Check:
    return _check_qualification_cert_no(s)


def _check_qualification_cert_no(s: Any) -> Check:
    """资质证书编号 (§4.7): letter + issuing-level digit + 2-digit province + 6-digit serial, optional copy "-NN"."""
    label = "资质证书编号"
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    text = text.translate(_DASHES)
    rule = identifier_rules()["qualification_cert"]
    if not re.fullmatch(rule["pattern"], text):
        return _fail(
            f"{label}“{text}”格式不正确，应为1位大写字母+1位发证级别数字(1～4)+2位省份代码+6位序号"
            f"（如{rule['example']}），副本可带“-NN”"
        )
    r = _Result()
    if text[0] not in rule["family_letters"]:
        r.warnings.append(f"{label}首字母“{text[0]}”不是已知的资质类别字母（{_FAMILY_LABELS}）")
    province = regions().get(text[2:4] + "0000")
    if province is None or province.extra.get("level") != "province":
        r.warnings.append(f"{label}第3～4位省份代码{text[2:4]}不是已知的省级行政区划代码")
    return r.done(text)


@cache
def _licence_fast_rule() -> tuple[re.Pattern[str], str, int]:
    rule = identifier_rules()["safety_licence"]
    return _pattern(rule["pattern"]), rule["province_abbreviations"], rule["min_year"]


def check_safety_licence_no(s: Any, on: date | None = None) -> Check:
    """建筑施工企业安全生产许可证编号 (§3.6, §4.8 [U]) like "(浙)JZ安许证字[2014]001234"; full-width or half-width
    brackets (（）［］【】〔〕) are accepted and normalised to half-width. Pattern configurable in identifier_rules.json."""
    label = "安全生产许可证编号"
    if type(s) is str and on is None:
        pattern, provinces, min_year = _licence_fast_rule()
        m = pattern.fullmatch(s)
        if m is not None and m.group("province") in provinces and min_year <= int(m.group("year")) <= _this_year():
            return Check(ok=True, value=s)  # the common, already well-formed case
    text, err = _text(s, label)
    if text is None:
        return _fail(err or "")
    text = text.translate(_BRACKETS)
    rule = identifier_rules()["safety_licence"]
    severity = rule.get("severity", "error")
    m = re.fullmatch(rule["pattern"], text)
    r = _Result()
    if m is None:
        r.add(severity, f"{label}“{text}”格式不正确，应如“{rule['example']}”")
        return r.done(text)
    if m.group("province") not in rule["province_abbreviations"]:
        r.warnings.append(f"{label}中的省份简称“{m.group('province')}”不是已知的省级简称")
    year, this_year = int(m.group("year")), _day(on).year
    if not rule["min_year"] <= year <= this_year:
        r.add(severity, f"{label}中的年份{year}不在{rule['min_year']}～{this_year}年之间")
    return r.done(text)
