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
    raise ValueError(f"日期“{text}”格式不正确，应写作年-月-日（如2026-03-20）或2026年3月20日")


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
    if amount < 0:
        raise ValueError(f"“{value}”不能为负数")
    return amount


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 固定电话: 区号 (3 digits 010/02x, else 4 digits) + a 7-8 digit number not starting with 0/1, optional 分机号;
# without 区号, the local number alone.
_FIXED_LINE = re.compile(r"^\(?(0[12]\d|0[3-9]\d{2})\)?-?([2-9]\d{6,7})(?:(?:-|转)(\d{1,6}))?$")
_LOCAL_LINE = re.compile(r"^([2-9]\d{6,7})(?:(?:-|转)(\d{1,6}))?$")


def _phone_text(value: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", value).split())
    return re.sub(r"^\+?86-?(?=1\d{10}$)", "", text)  # +86 13805790000


def _mobile(value: str | None) -> str | None:
    """手机号码: 11 digits starting 13-19 (spaces, hyphens and a +86 prefix are dropped)."""
    if value is None:
        return None
    text = _phone_text(value).replace("-", "")
    if not _MOBILE.match(text):
        raise ValueError(f"手机号码“{value}”格式不正确（应为11位手机号，如13805790000）")
    return text


def _phone(value: str | None) -> str | None:
    """联系电话: a mobile number or a fixed line (0579-85123456, (0579)85123456, 057985123456, 0579-85123456-801)."""
    if value is None:
        return None
    text = _phone_text(value)
    if _MOBILE.match(compact := text.replace("-", "")):
        return compact
    if m := _FIXED_LINE.match(text):
        return f"{m[1]}-{m[2]}" + (f"-{m[3]}" if m[3] else "")
    if m := _LOCAL_LINE.match(text):
        return m[1] + (f"-{m[2]}" if m[2] else "")
    raise ValueError(f"联系电话“{value}”格式不正确（手机号为11位；固定电话含区号，如0579-85123456）")


def _email(value: str | None) -> str | None:
    """电子邮箱: syntax checked by email-validator (no DNS lookup); the domain is stored in lower case."""
    if value is None:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError(f"电子邮箱“{value}”格式不正确（如 name@example.com）") from None


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


def _zhejiang_county(value: str | None, info: ValidationInfo) -> str | None:
    """A county-level unit of Zhejiang (县、县级市、市辖区): never the province or a city (330100), which no
    county official holds. Retired codes (330103 下城区) are accepted here; whether a code was in force on the
    record's own date is the aggregate's check (`region_in_force`), and jurisdiction follows the successor."""
    if value is None:
        return None
    result = identifiers.check_region_code(value, province_prefix="33", level="county")
    if not result.ok:
        raise ValueError("；".join(result.errors))
    if result.warnings:
        _warn(info, list(result.warnings))
    return result.value


_ID_CARD_SHAPE = re.compile(r"^(\d{15}|\d{17}[\dXx])$")
_OTHER_ID = re.compile(r"^[0-9A-Za-z\-()（）]{4,30}$")


def _id_document(value: str | None, info: ValidationInfo) -> str | None:
    """证件号码 of any 证件类型: a number shaped like a 居民身份证号 is checked as one (check digit, birth date; a
    15-digit number becomes 18), anything else must be 4-30 letters, digits or hyphens (passports, 港澳台 permits).
    Whether the number fits the declared 证件类型 is the aggregate's check (`id_document_fits`)."""
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if _ID_CARD_SHAPE.match(text):
        result = identifiers.check_id_card(text)
        if not result.ok:
            raise ValueError("；".join(result.errors))
        if result.warnings:
            _warn(info, list(result.warnings))
        return result.value
    if not _OTHER_ID.match(text):
        raise ValueError(f"证件号码“{value}”格式不正确（身份证为18位，其他证件为4～30位字母、数字）")
    return text


def _required_document(value: str, info: ValidationInfo) -> str:
    if not value or not value.strip():
        raise ValueError("证件号码不能为空")
    return _id_document(value, info) or ""


def _required_county(value: str, info: ValidationInfo) -> str:
    if not value or not value.strip():
        raise ValueError("行政区划代码不能为空")
    return _zhejiang_county(value.strip(), info) or ""


def _required_checked(checker: Callable[..., Any]) -> AfterValidator:
    """For required identifiers: the checker also judges the empty string (统一社会信用代码不能为空)."""

    def validate(value: str, info: ValidationInfo) -> str:
        result = checker(value)
        if not result.ok:
            raise ValueError("；".join(result.errors))
        if result.warnings:
            _warn(info, list(result.warnings))
        return result.value

    return AfterValidator(validate)


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
# One checked type per identifier (optional: blank = absent; Required*: the value must be given and valid). Every
# model that carries an identifier uses one of these: import rows, stored records, PATCH bodies, stage filings and
# API request models (tests/unit/test_identifier_fields.py walks every model and fails on a plain str).
Uscc = Annotated[str | None, Blank, _checked(identifiers.check_uscc)]
RequiredUscc = Annotated[str, _required_checked(identifiers.check_uscc)]
OrgCode = Annotated[str | None, Blank, _checked(identifiers.check_org_code)]
CorpCode = Annotated[str | None, Blank, AfterValidator(_corp_code)]
BusinessRegNo = Annotated[str | None, Blank, _checked(identifiers.check_business_reg_no)]
IdCardNo = Annotated[str | None, Blank, _checked(identifiers.check_id_card)]
IdDocumentNo = Annotated[str | None, Blank, AfterValidator(_id_document)]
RequiredIdDocumentNo = Annotated[str, AfterValidator(_required_document)]
RegionCode = Annotated[str | None, Blank, AfterValidator(_region)]
ZhejiangRegion = Annotated[str | None, Blank, AfterValidator(_zhejiang_region)]
ZhejiangCounty = Annotated[str | None, Blank, AfterValidator(_zhejiang_county)]
RequiredZhejiangCounty = Annotated[str, AfterValidator(_required_county)]
ProjectNumber = Annotated[str | None, Blank, _checked(identifiers.check_project_number)]
RequiredProjectNumber = Annotated[str, _required_checked(identifiers.check_project_number)]
PermitNumber = Annotated[str | None, Blank, _checked(identifiers.check_permit_number)]
RequiredPermitNumber = Annotated[str, _required_checked(identifiers.check_permit_number)]
QualificationCertNo = Annotated[str | None, Blank, _checked(identifiers.check_qualification_cert_no)]
SafetyLicenceNo = Annotated[str | None, Blank, _checked(identifiers.check_safety_licence_no)]
CnDate = Annotated[date | None, BeforeValidator(parse_cn_date)]
PastDate = Annotated[date | None, BeforeValidator(parse_cn_date), AfterValidator(_not_future)]
Amount = Annotated[Decimal | None, BeforeValidator(parse_amount)]  # 金额、面积: a number, never negative
Phone = Annotated[str | None, Blank, AfterValidator(_phone)]
Mobile = Annotated[str | None, Blank, AfterValidator(_mobile)]
Email = Annotated[str | None, Blank, AfterValidator(_email)]
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
Sex = Annotated[str | None, Blank, _in_table(codetables.sexes, "性别")]
EconomicType = Annotated[str | None, Blank, _in_table(codetables.economic_types, "企业登记注册类型")]


# ---- cross-field rules shared by every way a record comes in -------------------------------------------------------

ID_CARD_TYPE = "1"  # 居民身份证 (TBIDCardTypeDic)
_SEX_NAMES = {"1": "男", "2": "女"}


def filled_from_id(id_type: str | None, id_no: str | None, sex: str | None, birth: date | None):
    """(sex, birth date) with what a valid 居民身份证 number states filled in where they are absent."""
    if (id_type or ID_CARD_TYPE) != ID_CARD_TYPE or not id_no or not _ID_CARD_SHAPE.match(id_no):
        return sex, birth
    check = identifiers.check_id_card(id_no)
    if not check.ok:
        return sex, birth
    number = check.value or id_no
    stated_sex = "1" if int(number[16]) % 2 else "2"
    return sex or stated_sex, birth or date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# Cross-field rules per aggregate: (the fields a rule reads, the field its message belongs to, the rule).
# The aggregates' model validators run them, and so does `registry_base.validate_input` on the fields that are
# valid on their own when others are not, so a row, a PATCH body or a form reports every problem at once.
CrossRule = tuple[tuple[str, ...], str, Callable[[dict[str, Any]], list[str]]]

PERSON_RULES: tuple[CrossRule, ...] = (
    (
        ("id_type", "id_no", "sex", "birth_date"),
        "id_no",
        lambda v: identity_problems(v.get("id_type"), v.get("id_no"), sex=v.get("sex"), birth_date=v.get("birth_date")),
    ),
)
ENTERPRISE_RULES: tuple[CrossRule, ...] = (
    (
        ("legal_rep_id_type", "legal_rep_id_no"),
        "legal_rep_id_no",
        lambda v: identity_problems(v.get("legal_rep_id_type"), v.get("legal_rep_id_no"), label="法定代表人证件号码"),
    ),
)


def cross_problems(rules: tuple[CrossRule, ...], values: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) of every rule broken by `values` (rules whose fields are not all in `values` are skipped)."""
    out: list[tuple[str, str]] = []
    for needs, field_name, rule in rules:
        if all(n in values for n in needs):
            out.extend((field_name, m) for m in rule(values))
    return out


def identity_problems(
    id_type: str | None,
    id_no: str | None,
    *,
    sex: str | None = None,
    birth_date: date | None = None,
    label: str = "证件号码",
) -> list[str]:
    """证件类型 vs 证件号码, and for a 居民身份证 the sex (17th digit) and birth date the number states."""
    if not id_no:
        return []
    if (id_type or ID_CARD_TYPE) != ID_CARD_TYPE:
        if _ID_CARD_SHAPE.match(id_no):
            return [f"{label}是居民身份证号，证件类型应为“居民身份证”"]
        return []
    check = identifiers.check_id_card(id_no)
    if not check.ok:
        return [f"{label}：" + "；".join(check.errors)]
    number = check.value or id_no
    problems = []
    stated_sex = "1" if int(number[16]) % 2 else "2"
    if sex in _SEX_NAMES and sex != stated_sex:
        problems.append(f"性别“{_SEX_NAMES[sex]}”与身份证号（第17位表示{_SEX_NAMES[stated_sex]}）不一致")
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if birth_date is not None and birth_date != born:
        problems.append(f"出生日期{birth_date.isoformat()}与身份证号中的{born.isoformat()}不一致")
    return problems
