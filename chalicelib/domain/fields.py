"""Validated field types for registry models and import rows.

Each type runs the identifier checker or code table behind it and fails with the checker's Chinese reason.
Warnings (a plausibility concern that does not make the value wrong, e.g. an unknown ID-card region) are appended
to `context["warnings"]` when the caller validates with a context, so an import can report them per row.
Empty-value sentinels of the national standard ("无", "/", "无数据" ...) count as absent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from chalicelib.domain import codetables, identifiers


def _warn(info: ValidationInfo, messages: list[str]) -> None:
    ctx = info.context
    if messages and isinstance(ctx, dict) and isinstance(ctx.get("warnings"), list):
        field = info.field_name or ""
        ctx["warnings"].extend((field, m) for m in messages)


def blank_to_none(value: Any) -> Any:
    """Strip text; blank text and the national standard's empty sentinels become None. Hot: once per import cell."""
    if type(value) is not str:
        return None if value is None or (isinstance(value, float) and value != value) else value
    stripped = value.strip()
    if not stripped or stripped in _sentinels():
        return None
    if stripped.isascii():
        return stripped
    normalised = unicodedata.normalize("NFKC", stripped).strip()  # full-width spaces, full-width slash ...
    if not normalised or normalised in _sentinels():
        return None
    return stripped


@cache
def _sentinels() -> frozenset[str]:
    return frozenset(codetables.empty_sentinels())


@cache
def blank_sentinels() -> frozenset[str]:
    """The sentinels plus their full-width forms, for callers that blank stripped cells without NFKC."""
    base = _sentinels()
    wide = {s.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}) for s in base}
    return frozenset(base | wide)


Blank = BeforeValidator(blank_to_none)


def _checked(checker: Callable[..., Any]) -> AfterValidator:
    def validate(value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        result = checker(value)
        if not result.ok:
            raise ValueError("；".join(result.errors))
        if result.warnings:
            _warn(info, list(result.warnings))
        return result.value

    return AfterValidator(validate)


def _in_table(table: Callable[[], Any], label: str) -> AfterValidator:
    @cache
    def lookup() -> dict[str, str]:
        # Accept the Chinese name too: spreadsheets are filled by people, who write "新建" rather than "001".
        tbl = table()
        index = {e.name: e.code for e in tbl.entries}
        index.update({e.code: e.code for e in tbl.entries})
        return index

    def validate(value: str | None) -> str | None:
        if value is None:
            return None
        code = lookup().get(value)
        if code is None:
            found = table().find_by_name(value)  # bracket widths, aliases
            if found is None:
                raise ValueError(f"{label}“{value}”不在代码表中")
            return found.code
        return code

    return AfterValidator(validate)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T].*)?$"), "ymd"),
    (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"), "ymd"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
)


def parse_cn_date(value: Any) -> Any:
    """Dates as people write them in Chinese spreadsheets: 2015-03-01, 2015/3/1, 2015.3.1, 2015年3月1日, 20150301."""
    value = blank_to_none(value)
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    return _parse_date_text(str(value).strip())


@lru_cache(maxsize=8192)
def _parse_date_text(text: str) -> date:
    """Memoised: the same dates repeat on many rows of a sheet."""
    for pattern, _ in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"“{text}”不是有效日期") from None
    raise ValueError(f"日期“{text}”格式不正确，应为YYYY-MM-DD")


def parse_amount(value: Any) -> Any:
    value = blank_to_none(value)
    if value is None or isinstance(value, Decimal):
        return value
    text = str(value).replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"“{value}”不是有效数字") from None
    if not amount.is_finite():
        raise ValueError(f"“{value}”不是有效数字")
    return amount


_TRUE = {"是", "y", "yes", "true", "1", "主项", "√"}
_FALSE = {"否", "n", "no", "false", "0", "增项", ""}


def parse_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"“{value}”应填“是”或“否”")


def _not_future(value: date | None) -> date | None:
    if value is not None and value > identifiers._today():
        raise ValueError(f"日期{value.isoformat()}晚于今天")
    return value


def _region(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    result = identifiers.check_region_code(value, province_prefix=None)
    if not result.ok:
        raise ValueError("；".join(result.errors))
    if result.warnings:
        _warn(info, list(result.warnings))
    return result.value


def _zhejiang_region(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    result = identifiers.check_region_code(value, province_prefix="33")
    if not result.ok:
        raise ValueError("；".join(result.errors))
    if result.warnings:
        _warn(info, list(result.warnings))
    return result.value


def _corp_code(value: str | None, info: ValidationInfo) -> str | None:
    """建设单位代码: a USCC (18) or, in older data, an organisation code (9, with or without the hyphen)."""
    if value is None:
        return None
    text = value.strip().upper()
    result = identifiers.check_uscc(text) if len(text) == 18 else identifiers.check_org_code(text)
    if not result.ok:
        raise ValueError("；".join(result.errors))
    if result.warnings:
        _warn(info, list(result.warnings))
    return result.value


Text = Annotated[str | None, Blank]
Uscc = Annotated[str | None, Blank, _checked(identifiers.check_uscc)]
CorpCode = Annotated[str | None, Blank, AfterValidator(_corp_code)]
BusinessRegNo = Annotated[str | None, Blank, _checked(identifiers.check_business_reg_no)]
IdCardNo = Annotated[str | None, Blank, _checked(identifiers.check_id_card)]
RegionCode = Annotated[str | None, Blank, AfterValidator(_region)]
ZhejiangRegion = Annotated[str | None, Blank, AfterValidator(_zhejiang_region)]
ProjectNumber = Annotated[str | None, Blank, _checked(identifiers.check_project_number)]
PermitNumber = Annotated[str | None, Blank, _checked(identifiers.check_permit_number)]
QualificationCertNo = Annotated[str | None, Blank, _checked(identifiers.check_qualification_cert_no)]
SafetyLicenceNo = Annotated[str | None, Blank, _checked(identifiers.check_safety_licence_no)]
CnDate = Annotated[date | None, BeforeValidator(parse_cn_date)]
PastDate = Annotated[date | None, BeforeValidator(parse_cn_date), AfterValidator(_not_future)]
Amount = Annotated[Decimal | None, BeforeValidator(parse_amount)]
YesNo = Annotated[bool | None, BeforeValidator(parse_bool)]

QualificationCode = Annotated[str | None, Blank, _in_table(codetables.qualification_codes, "资质代码")]
QualificationType = Annotated[str | None, Blank, _in_table(codetables.qualification_types, "资质类型")]
RegistrationType = Annotated[str | None, Blank, _in_table(codetables.registration_types, "注册类别")]
Specialty = Annotated[str | None, Blank, _in_table(codetables.registration_specialties, "注册专业")]
SafetyCertType = Annotated[str | None, Blank, _in_table(codetables.safety_cert_types, "安全生产考核证书类别")]
ProjectCategory = Annotated[str | None, Blank, _in_table(codetables.project_categories, "项目分类")]
ProjectNature = Annotated[str | None, Blank, _in_table(codetables.project_natures, "建设性质")]
ProjectUse = Annotated[str | None, Blank, _in_table(codetables.project_uses, "工程用途")]
ApprovalLevel = Annotated[str | None, Blank, _in_table(codetables.approval_levels, "立项级别")]
IdCardType = Annotated[str | None, Blank, _in_table(codetables.id_card_types, "证件类型")]
EconomicType = Annotated[str | None, Blank, _in_table(codetables.economic_types, "企业登记注册类型")]
