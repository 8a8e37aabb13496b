"""Simulator of the ministry's (MOHURD) national database interface, for local runs and tests only.

This is NOT deployed code. The local runtime and the tests start it to stand in for the national
"四库一平台" data-exchange interface that the platform pushes its records to and pulls national records from.
Standard library only.

HTTP API (every ``/api/...`` request needs the header ``X-Api-Key``):

* ``POST /api/v1/push/{dataset}`` — ``{"batch_id", "records": [{"sync_id", "key", "op", "data"}]}`` (≤ 500 records).
  One result per record: ACCEPTED (code OK or ALREADY_ACCEPTED), REJECTED (code INVALID, Chinese message naming
  the fields) or RETRY (code BUSY, only under the ``partial`` fault). ``sync_id`` is the idempotency key: an
  already accepted sync_id is answered ALREADY_ACCEPTED, not stored again and counted in ``duplicates``.
* ``POST /api/v1/status`` — ``{"sync_ids": [...]}`` -> ``{"results": {sync_id: ACCEPTED|REJECTED|UNKNOWN}}``.
* ``GET /api/v1/pull/{dataset}?cursor=&limit=&province=330000`` — national records (enterprises that entered the
  province, registered persons, national bad-behaviour records) in national change order (``seq``).

Control endpoints (no key): ``GET /__control/stats``, ``POST /__control/faults``, ``POST /__control/reset``,
``POST /__control/national/{dataset}`` (``{"records": [{"key", "data"}]}``, like ``load_national``) and
``GET /__control/accepted/{dataset}/{key}`` (like ``accepted``).

Fault injection (``set_faults`` / ``POST /__control/faults``): with probability ``failure_rate`` a push, status or
pull request gets one of ``timeout`` (sleep, then 504, nothing processed), ``reset_after_accept`` (push processed,
connection closed without a response), ``error_5xx`` (503), ``throttle`` (429 + Retry-After) or ``partial`` (push
processed, ~30 % of the records that would be accepted answered RETRY and not stored). ``reset_after_accept`` and
``partial`` on status/pull requests act as ``error_5xx``.

Run: ``python -m infra.local.national_sim --port 8600 [--host 127.0.0.1] [--api-key KEY] [--demo]``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import logging
import math
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("cmsp.national_sim")

MAX_BATCH = 500
DEFAULT_PULL_LIMIT = 100
PROVINCE = "330000"
PARTIAL_RETRY_SHARE = 0.3
FAULT_KINDS = ("timeout", "reset_after_accept", "error_5xx", "throttle", "partial")
PUSH_ONLY_FAULTS = frozenset({"reset_after_accept", "partial"})
PULL_DATASETS = ("TBCorpBasicInfo", "TBRegPersonRegInfo", "TBCorpBadBehaviorInfo")
EMPTY_VALUES = frozenset({"", "无", "无数据", "/", "-"})

# ---------------------------------------------------------------------------------------------------------------
# Validation rules
# ---------------------------------------------------------------------------------------------------------------

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ORG_CODE = re.compile(r"^[0-9A-Z]{8}-[0-9X]$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PRJNUM = re.compile(r"^\d{16}$")
_REGION6 = re.compile(r"^33\d{4}$|^\d{6}$")
_PROVINCE = re.compile(r"^\d{2}0000$")
_CITY = re.compile(r"^\d{4}00$")
_ID18 = re.compile(r"^\d{17}[\dX]$")


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _is_non_negative(text: str) -> bool:
    number = _as_number(text)
    return number is not None and number >= 0


@dataclass(frozen=True)
class Check:
    """A format check on the stripped text of a non-empty value, and what to say when it fails."""

    test: Callable[[str], bool]
    problem: str = "格式不正确"


CHECKS: dict[str, Check] = {
    "uscc_or_org": Check(lambda s: bool(_USCC.match(s) or _ORG_CODE.match(s))),
    "date": Check(_is_date, "不是有效日期（应为YYYY-MM-DD）"),
    "prjnum": Check(lambda s: bool(_PRJNUM.match(s)), "格式不正确（应为16位数字）"),
    "region6": Check(lambda s: bool(_REGION6.match(s)), "格式不正确（应为6位行政区划代码）"),
    "province": Check(lambda s: bool(_PROVINCE.match(s)), "格式不正确（应为省级行政区划代码）"),
    "city": Check(lambda s: bool(_CITY.match(s)), "格式不正确（应为市级行政区划代码）"),
    "id18": Check(lambda s: bool(_ID18.match(s)), "格式不正确（应为18位身份证号码）"),
    "numeric": Check(lambda s: _as_number(s) is not None, "不是有效数字"),
    "non_negative": Check(_is_non_negative, "应为不小于0的数字"),
    "user_type": Check(lambda s: s in {"1", "2", "3"}, "取值不正确（应为1、2或3）"),
}


@dataclass(frozen=True)
class Rule:
    """What the national side requires of one dataset's UPSERT data."""

    required: tuple[str, ...]
    formats: Mapping[str, str] = field(default_factory=dict)  # field -> CHECKS name, applied when non-empty
    # (when_field, when_value, field, CHECKS name): the check applies only when data[when_field] == when_value
    conditional: tuple[tuple[str, str, str, str], ...] = ()


RULES: dict[str, Rule] = {
    "TBCorpBasicInfo": Rule(
        required=("CorpName", "CorpCode", "ProvinceNum", "CountyNum", "LegalMan"),
        formats={
            "CorpCode": "uscc_or_org",
            "ProvinceNum": "province",
            "CityNum": "city",
            "CountyNum": "region6",
            "RegPrin": "numeric",
        },
    ),
    "TBCorpCertInfo": Rule(
        required=("CertID", "CorpCode", "CertTypeNum"),
        formats={"CorpCode": "uscc_or_org", "OrganDate": "date", "EndDate": "date"},
    ),
    "TBCorpCertDetailInfo": Rule(required=("CertID", "CorpCode", "TradeBoundNum"), formats={"NoteDate": "date"}),
    "TBRegPersonRegInfo": Rule(
        required=("PersonName", "IDCardTypeNum", "IDCard18", "SpecialtyTypNum", "CorpName", "CorpCode"),
        formats={"AwardDate": "date", "EffectDate": "date", "Birthday": "date"},
        conditional=(("IDCardTypeNum", "1", "IDCard18", "id18"),),
    ),
    "TBProjectInfo": Rule(
        required=("PrjNum", "PrjName", "BuildCorpName", "CountyNum", "PrjSize"),
        formats={
            "PrjNum": "prjnum",
            "CountyNum": "region6",
            "BuildCorpCode": "uscc_or_org",
            "AllInvest": "non_negative",
            "AllArea": "non_negative",
            "BDate": "date",
            "EDate": "date",
            "CreateDate": "date",
        },
    ),
    "TBTenderInfo": Rule(
        required=("TenderNum", "PrjNum", "TenderCorpCode", "TenderResultDate"),
        formats={
            "PrjNum": "prjnum",
            "TenderCorpCode": "uscc_or_org",
            "TenderResultDate": "date",
            "TenderMoney": "numeric",
        },
    ),
    "TBContractRecordManage": Rule(
        required=("RecordNum", "PrjNum", "ContractorCorpCode", "ContractDate"),
        formats={"PrjNum": "prjnum", "ContractDate": "date", "ContractMoney": "numeric"},
    ),
    "TBProjectCensorInfo": Rule(
        required=("CensorNum", "PrjNum", "CensorCorpCode", "CensorEDate"),
        formats={"PrjNum": "prjnum", "CensorEDate": "date"},
    ),
    "TBBuilderLicenceManage": Rule(
        required=("BuilderLicenceNum", "PrjNum", "ConsCorpCode", "IssueCertDate"),
        formats={"PrjNum": "prjnum", "IssueCertDate": "date"},
    ),
    "TBBuilderLicenceECert": Rule(
        required=("LicenceID", "BuilderLicenceNum", "PrjNum", "Version", "IssuerName", "IssueDate", "StatusCode"),
        formats={"PrjNum": "prjnum", "IssueDate": "date"},
    ),
    "TBProjectBuilderUserInfo": Rule(
        required=("PrjNum", "BuilderLicenceNum", "CorpCode", "UserName", "IDCard", "UserType"),
        formats={"UserType": "user_type"},
    ),
    "TBCorpBadBehaviorInfo": Rule(
        required=("CorpName", "CorpCode", "CreditCode", "Content", "HappenDate", "PunishDepartName"),
        formats={"HappenDate": "date"},
    ),
    "TBPersonBadBehaviorInfo": Rule(
        required=("PersonName", "IDCard18", "CreditCode", "Content", "HappenDate", "PunishDepartName"),
        formats={"HappenDate": "date"},
    ),
}

FIELD_LABELS: dict[str, str] = {
    "key": "记录主键",
    "CorpName": "企业名称",
    "CorpCode": "组织机构代码/统一社会信用代码",
    "ProvinceNum": "注册地所在省份",
    "CityNum": "注册地所在城市",
    "CountyNum": "所在区县",
    "LegalMan": "法定代表人",
    "RegPrin": "注册资本",
    "CertID": "资质证书编号",
    "CertTypeNum": "证书类型",
    "OrganDate": "发证日期",
    "EndDate": "证书有效期截止日期",
    "TradeBoundNum": "资质类别及等级",
    "NoteDate": "资质批准日期",
    "PersonName": "人员姓名",
    "IDCardTypeNum": "证件类型",
    "IDCard18": "证件号码",
    "SpecialtyTypNum": "注册类别",
    "AwardDate": "发证日期",
    "EffectDate": "注册有效期",
    "Birthday": "出生日期",
    "PrjNum": "项目编号",
    "PrjName": "项目名称",
    "BuildCorpName": "建设单位名称",
    "BuildCorpCode": "建设单位组织机构代码/统一社会信用代码",
    "PrjSize": "建设规模",
    "AllInvest": "总投资",
    "AllArea": "总面积",
    "BDate": "计划开工日期",
    "EDate": "计划竣工日期",
    "CreateDate": "立项日期",
    "TenderNum": "中标通知书编号",
    "TenderCorpCode": "中标单位组织机构代码/统一社会信用代码",
    "TenderResultDate": "中标日期",
    "TenderMoney": "中标金额",
    "RecordNum": "合同备案编号",
    "ContractorCorpCode": "承包单位组织机构代码/统一社会信用代码",
    "ContractDate": "合同签订日期",
    "ContractMoney": "合同金额",
    "CensorNum": "施工图审查合格书编号",
    "CensorCorpCode": "施工图审查机构组织机构代码/统一社会信用代码",
    "CensorEDate": "审查完成日期",
    "BuilderLicenceNum": "施工许可证编号",
    "ConsCorpCode": "施工单位组织机构代码/统一社会信用代码",
    "IssueCertDate": "发证日期",
    "UserName": "人员姓名",
    "IDCard": "身份证号码",
    "UserType": "人员类型",
    "CreditCode": "不良行为代码",
    "Content": "不良行为内容",
    "HappenDate": "发生日期",
    "PunishDepartName": "处罚部门",
}


def field_name(name: str) -> str:
    """``PrjSize（建设规模）``, or the bare field name when there is no label."""
    label = FIELD_LABELS.get(name)
    return f"{name}（{label}）" if label else name


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_empty(value: Any) -> bool:
    return _text(value) in EMPTY_VALUES


def _format_error(name: str, value: Any, check_name: str) -> str | None:
    if is_empty(value):
        return None
    check = CHECKS[check_name]
    return None if check.test(_text(value)) else f"{field_name(name)}{check.problem}：{_text(value)}"


@lru_cache(maxsize=1)
def standard_tables() -> dict[str, dict[str, str]]:
    """The columns and SQL types of the standard's tables (the same data file the platform maps to: the standard)."""
    path = Path(__file__).resolve().parents[2] / "chalicelib" / "data" / "national_tables.json"
    return {name: t["columns"] for name, t in json.loads(path.read_text("utf-8"))["tables"].items()}


_LENGTH = re.compile(r"^(?:var)?char\((\d+)\)$")


def schema_errors(dataset: str, data: Mapping[str, Any]) -> list[str]:
    """Like the ministry's database would: a column the table does not have, or text longer than its column."""
    columns = standard_tables().get(dataset, {})
    errors = [f"数据集中没有字段{name}" for name in data if name not in columns]
    for name, value in data.items():
        m = _LENGTH.match(columns.get(name, ""))
        if m and value is not None and len(_text(value)) > int(m.group(1)):
            errors.append(f"{field_name(name)}超长（{columns[name]}）：{_text(value)}")
    return errors


def validate_data(dataset: str, data: Mapping[str, Any]) -> list[str]:
    """The Chinese problems of one UPSERT record's data; empty when the national side accepts it."""
    rule = RULES[dataset]
    formats = list(rule.formats.items())
    formats += [(name, check) for when, value, name, check in rule.conditional if _text(data.get(when)) == value]
    missing = [f"{field_name(name)}不能为空" for name in rule.required if is_empty(data.get(name))]
    malformed = [_format_error(name, data.get(name), check) for name, check in formats]
    return missing + [e for e in malformed if e]


def validate_record(dataset: str, record: Mapping[str, Any]) -> list[str]:
    if is_empty(record.get("key")):
        return [f"{field_name('key')}不能为空"]
    if record["op"] == "DELETE":
        return []
    # what a province pushes must fit the standard's tables (the national side's own records may carry more)
    return schema_errors(dataset, record["data"]) + validate_data(dataset, record["data"])


# ---------------------------------------------------------------------------------------------------------------
# Check characters (for demo data)
# ---------------------------------------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECKS = "10X98765432"


def org_code_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_check(body17: str) -> str:
    """GB 32100 check character of the first 17 characters of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(region6: str, org_body8: str, prefix: str = "91") -> str:
    """A well-formed USCC: registration department/type, region, organisation code (with its check), check."""
    body = f"{prefix}{region6}{org_body8}{org_code_check(org_body8)}"
    return body + uscc_check(body)


def id_card_check(body17: str) -> str:
    """GB 11643 check character of the first 17 digits of a citizen identity number."""
    return ID_CHECKS[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def make_id_card(region6: str, birthday: str, sequence3: str) -> str:
    body = f"{region6}{birthday.replace('-', '')}{sequence3}"
    return body + id_card_check(body)


# ---------------------------------------------------------------------------------------------------------------
# Demo national data
# ---------------------------------------------------------------------------------------------------------------


def _demo_corp(name: str, region: tuple[str, str, str], org_body: str, legal_man: str, reg_prin: str) -> dict:
    province, city, county = region
    code = make_uscc(county, org_body)
    return {
        "CorpName": name,
        "CorpCode": code,
        "LicenseNum": code,
        "ProvinceNum": province,
        "CityNum": city,
        "CountyNum": county,
        "LegalMan": legal_man,
        "RegPrin": reg_prin,
        "RegPrinUnit": "万元",
        "EconomicNum": "1",
        "EntryProvinceNum": PROVINCE,
    }


def _demo_person(name: str, corp: dict, id_parts: tuple[str, str, str], specialty: str, award: str) -> dict:
    region, birthday, sequence = id_parts
    return {
        "PersonName": name,
        "IDCardTypeNum": "1",
        "IDCard18": make_id_card(region, birthday, sequence),
        "Birthday": birthday,
        "SpecialtyTypNum": specialty,
        "CorpName": corp["CorpName"],
        "CorpCode": corp["CorpCode"],
        "AwardDate": award,
        "EffectDate": "2018-06-30",
    }


def _demo_bad(corp_name: str, corp_code: str, credit_code: str, content: str, happen: str, depart: str) -> dict:
    return {
        "CorpName": corp_name,
        "CorpCode": corp_code,
        "CreditCode": credit_code,
        "Content": content,
        "HappenDate": happen,
        "PunishDepartName": depart,
        "ProvinceNum": PROVINCE,
    }


def demo_national_records() -> dict[str, list[dict]]:
    """Demo national records: out-of-province enterprises in Zhejiang, two of their persons, two bad records."""
    corps = [
        _demo_corp("江苏示范建工集团有限公司", ("320000", "320100", "320106"), "13480117", "张卫东", "30000"),
        _demo_corp("北京示范城建工程有限公司", ("110000", "110100", "110105"), "10268421", "刘海涛", "50000"),
        _demo_corp("广东示范建设工程有限公司", ("440000", "440100", "440106"), "19052736", "黄志强", "12000"),
    ]
    persons = [
        _demo_person("王示范", corps[0], ("320106", "1978-03-15", "031"), "1", "2013-06-30"),
        _demo_person("李演示", corps[1], ("110105", "1982-11-02", "046"), "1", "2014-09-12"),
    ]
    bad = [
        _demo_bad(
            "义乌市示范建设有限公司",
            "91330782677204726D",
            "C3-2",
            "在江苏省承接工程期间，未按规定办理施工许可擅自施工",
            "2015-03-18",
            "南京市城乡建设委员会",
        ),
        _demo_bad(
            "杭州西湖示范建筑有限公司",
            "91330106MA2CFE0Q4W",
            "C1-3",
            "投标过程中提供虚假业绩材料",
            "2015-05-06",
            "住房和城乡建设部",
        ),
    ]
    return {
        "TBCorpBasicInfo": [{"key": c["CorpCode"], "data": c} for c in corps],
        "TBRegPersonRegInfo": [{"key": f"{p['IDCard18']}:{p['SpecialtyTypNum']}", "data": p} for p in persons],
        "TBCorpBadBehaviorInfo": [{"key": f"NB-{b['CorpCode']}-{b['CreditCode']}", "data": b} for b in bad],
    }


# ---------------------------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "BAD_REQUEST", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    api_key: str | None
    body: bytes


@dataclass
class Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without any HTTP response


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"code": code, "message": message}, headers or {})


def _default_faults() -> dict[str, Any]:
    return {"failure_rate": 0.0, "kinds": list(FAULT_KINDS), "timeout_seconds": 0.5}


def _fresh_stats() -> dict[str, Any]:
    counters = ("requests", "push_requests", "records_received", "accepted", "rejected", "duplicates")
    stats: dict[str, Any] = dict.fromkeys((*counters, "status_requests", "pull_requests"), 0)
    stats["faults"] = dict.fromkeys(FAULT_KINDS, 0)
    for name in ("accepted_by_dataset", "rejected_by_dataset", "duplicates_by_dataset"):
        stats[name] = dict.fromkeys(RULES, 0)
    return stats


def _parse_faults(cfg: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(cfg) - {"failure_rate", "kinds", "timeout_seconds", "seed"}
    if unknown:
        raise ValueError(f"未知的故障配置项：{', '.join(sorted(unknown))}")
    faults = _default_faults()
    rate = cfg.get("failure_rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError("failure_rate 应为0到1之间的数字")
    faults["failure_rate"] = float(rate)
    kinds = cfg.get("kinds", list(FAULT_KINDS))
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(FAULT_KINDS):
        raise ValueError(f"kinds 应为非空列表，取值范围：{', '.join(FAULT_KINDS)}")
    faults["kinds"] = list(kinds)
    timeout = cfg.get("timeout_seconds", faults["timeout_seconds"])
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
        raise ValueError("timeout_seconds 应为不小于0的数字")
    faults["timeout_seconds"] = float(timeout)
    return faults


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"请求体不是有效的JSON：{exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequest("请求体应为JSON对象")
    return payload


def _check_batch_size(items: list, what: str) -> None:
    if len(items) > MAX_BATCH:
        raise BadRequest(f"单批次最多{MAX_BATCH}条{what}，本批次{len(items)}条", "BATCH_TOO_LARGE")


def _check_push_record(index: int, record: Any) -> None:
    where = f"records[{index}]"
    if not isinstance(record, dict):
        raise BadRequest(f"{where} 应为JSON对象")
    if not isinstance(record.get("sync_id"), str) or not record["sync_id"].strip():
        raise BadRequest(f"{where}.sync_id 缺失或为空")
    if not isinstance(record.get("key"), str):
        raise BadRequest(f"{where}.key 缺失或不是字符串")
    if record.get("op") not in ("UPSERT", "DELETE"):
        raise BadRequest(f"{where}.op 只能是 UPSERT 或 DELETE")
    if record["op"] == "UPSERT" and not isinstance(record.get("data"), dict):
        raise BadRequest(f"{where}.data 缺失或不是JSON对象")


def parse_push(body: bytes) -> tuple[str, list[dict]]:
    payload = _json_body(body)
    batch_id, records = payload.get("batch_id"), payload.get("records")
    if not isinstance(batch_id, str) or not batch_id:
        raise BadRequest("batch_id 缺失或不是字符串")
    if not isinstance(records, list):
        raise BadRequest("records 缺失或不是数组")
    _check_batch_size(records, "记录")
    for index, record in enumerate(records):
        _check_push_record(index, record)
    return batch_id, records


def parse_status(body: bytes) -> list[str]:
    sync_ids = _json_body(body).get("sync_ids")
    if not isinstance(sync_ids, list) or not all(isinstance(s, str) for s in sync_ids):
        raise BadRequest("sync_ids 缺失或不是字符串数组")
    _check_batch_size(sync_ids, "sync_id")
    return sync_ids


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = (query.get(name) or [""])[-1].strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise BadRequest(f"{name} 应为非负整数：{raw}")
    return int(raw)


def parse_pull(query: dict[str, list[str]]) -> tuple[int, int, str]:
    cursor = _query_int(query, "cursor", 0)
    limit = _query_int(query, "limit", DEFAULT_PULL_LIMIT)
    if not 1 <= limit <= MAX_BATCH:
        raise BadRequest(f"limit 应在1到{MAX_BATCH}之间：{limit}")
    province = (query.get("province") or [PROVINCE])[-1].strip() or PROVINCE
    return cursor, limit, province


def _result(record: Mapping[str, Any], status: str, code: str, message: str) -> dict[str, str]:
    return {"sync_id": record["sync_id"], "key": record["key"], "status": status, "code": code, "message": message}


_PUSH_PATH = re.compile(r"^/api/v1/push/([^/]+)$")
_PULL_PATH = re.compile(r"^/api/v1/pull/([^/]+)$")
_NATIONAL_PATH = re.compile(r"^/__control/national/([^/]+)$")
_ACCEPTED_PATH = re.compile(r"^/__control/accepted/([^/]+)/(.+)$")


class NationalSimulator:
    """The national interface, in memory, served over HTTP by a ThreadingHTTPServer in a daemon thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "local-national-key",
        seed: int | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.host, self.port, self.api_key, self.seed = host, port, api_key, seed
        # The ministry keeps what it accepted: with a state file (the local platform's data folder) the simulator
        # remembers accepted and refused records across restarts, as the real national database would.
        self.state_file = state_file
        self._lock = threading.Lock()
        self._server: _SimServer | None = None
        self._thread: threading.Thread | None = None
        self._init_state()
        self._load()

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        doc = json.loads(self.state_file.read_text("utf-8"))
        self._stored = {(d, k): v for d, k, v in doc["stored"]}
        self._accepted_ids = {s: (d, k) for s, d, k in doc["accepted"]}
        self._rejected_ids = set(doc["rejected"])

    def _save(self) -> None:
        """The caller holds the lock. Written after every push: small, and the ministry never forgets."""
        if self.state_file is None:
            return
        doc = {
            "stored": [[d, k, v] for (d, k), v in self._stored.items()],
            "accepted": [[s, d, k] for s, (d, k) in self._accepted_ids.items()],
            "rejected": sorted(self._rejected_ids),
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        tmp.replace(self.state_file)

    def _init_state(self) -> None:
        self._rng = random.Random(self.seed)
        self._faults = _default_faults()
        self._stats = _fresh_stats()
        self._stored: dict[tuple[str, str], dict[str, Any]] = {}
        self._accepted_ids: dict[str, tuple[str, str]] = {}
        self._rejected_ids: set[str] = set()
        self._national: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {d: {} for d in PULL_DATASETS}
        self._seq = 0
        # persons locked on in-progress projects of other provinces (项目经理、总监): ID number -> the project
        self._person_locks: dict[str, dict[str, str]] = {}

    # -- lifecycle ------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("国家平台模拟器尚未启动")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> NationalSimulator:
        server = _SimServer((self.host, self.port), _Handler)
        server.sim = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="national-sim", daemon=True
        )
        self._thread.start()
        log.info("national simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> NationalSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- direct access ---------------------------------------------------------------------------------------------

    def set_faults(self, **cfg: Any) -> None:
        """Replace the fault configuration (``failure_rate``, ``kinds``, ``timeout_seconds``; ``seed`` reseeds)."""
        faults = _parse_faults(cfg)
        with self._lock:
            self._faults = faults
            if cfg.get("seed") is not None:
                self._rng = random.Random(cfg["seed"])

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._faults)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._stats)

    def reset(self) -> None:
        """Forget everything: stored records, sync_ids, stats, national pull data; faults off."""
        with self._lock:
            self._init_state()

    def load_national(self, dataset: str, records: Iterable[Mapping[str, Any]]) -> None:
        """Seed national records for the pull API; each gets the next national sequence number."""
        if dataset not in self._national:
            raise ValueError(f"拉取接口不提供数据集：{dataset}")
        items = list(records)
        for item in items:
            if not isinstance(item.get("key"), str) or not isinstance(item.get("data"), dict):
                raise ValueError("每条国家数据应包含字符串 key 和对象 data")
        with self._lock:
            for item in items:
                self._seq += 1
                self._national[dataset][item["key"]] = (self._seq, copy.deepcopy(item["data"]))

    def lock_person(self, id_card: str, prj_num: str, prj_name: str, province_code: str, province_name: str) -> None:
        """A person locked on an in-progress project of another province (what the national query answers)."""
        with self._lock:
            self._person_locks[id_card.upper()] = {
                "prj_num": prj_num,
                "prj_name": prj_name,
                "province_code": province_code,
                "province_name": province_name,
            }

    def accepted(self, dataset: str, key: str) -> dict[str, Any] | None:
        """The stored national record: the pushed data plus ``UpdateFlag`` ("U", or "D" once deleted)."""
        with self._lock:
            record = self._stored.get((dataset, key))
            return copy.deepcopy(record) if record is not None else None

    # -- request handling -------------------------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply:
        try:
            if req.path.startswith("/__control/"):
                return self._control(req)
            if req.path.startswith("/api/"):
                return self._api(req)
        except BadRequest as exc:
            return _error(exc.status, exc.code, exc.message)
        return _error(404, "NOT_FOUND", "接口不存在")

    def _count(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._stats[name] += 1

    def _api(self, req: Request) -> Reply:
        self._count("requests")
        if req.api_key != self.api_key:
            return _error(401, "UNAUTHORIZED", "接口密钥无效")
        if req.method == "POST" and (m := _PUSH_PATH.match(req.path)):
            return self._push(unquote(m.group(1)), req)
        if req.method == "POST" and req.path == "/api/v1/status":
            return self._status(req)
        if req.method == "GET" and (m := _PULL_PATH.match(req.path)):
            return self._pull(unquote(m.group(1)), req)
        if req.method == "POST" and req.path == "/api/v1/person-locks/query":
            return self._person_lock(req)
        return _error(404, "NOT_FOUND", "接口不存在")

    def _person_lock(self, req: Request) -> Reply:
        """人员在建项目锁定查询: is this ID number locked on an in-progress project anywhere in the country?"""
        refusal = self._refusal(self._roll_fault(push=False))
        if refusal is not None:
            return refusal
        id_card = str(_json_body(req.body).get("id_card") or "").strip().upper()
        if not id_card:
            raise BadRequest("id_card 缺失")
        with self._lock:
            lock = copy.deepcopy(self._person_locks.get(id_card))
        return Reply(200, {"locked": lock is not None, **(lock or {})})

    def _roll_fault(self, push: bool) -> str | None:
        with self._lock:
            if self._faults["failure_rate"] <= 0 or self._rng.random() >= self._faults["failure_rate"]:
                return None
            kind = self._rng.choice(self._faults["kinds"])
            if kind in PUSH_ONLY_FAULTS and not push:
                kind = "error_5xx"
            self._stats["faults"][kind] += 1
            return kind

    def _refusal(self, kind: str | None) -> Reply | None:
        """The answer of a fault that stops the request before anything is processed."""
        if kind == "timeout":
            reply = _error(504, "GATEWAY_TIMEOUT", "国家平台处理超时")
            with self._lock:
                reply.delay = self._faults["timeout_seconds"]
            return reply
        if kind == "error_5xx":
            return _error(503, "UNAVAILABLE", "国家平台服务暂不可用")
        if kind == "throttle":
            return _error(429, "THROTTLED", "请求过于频繁，请稍后再试", {"Retry-After": "1"})
        return None

    def _push(self, dataset: str, req: Request) -> Reply:
        self._count("push_requests")
        if dataset not in RULES:
            return _error(404, "UNKNOWN_DATASET", f"未知的数据集：{dataset}")
        kind = self._roll_fault(push=True)
        if (refusal := self._refusal(kind)) is not None:
            return refusal
        batch_id, records = parse_push(req.body)
        with self._lock:
            self._stats["records_received"] += len(records)
            results = [self._process(dataset, record, kind == "partial") for record in records]
            self._save()
        return Reply(200, {"batch_id": batch_id, "results": results}, drop=kind == "reset_after_accept")

    def _process(self, dataset: str, record: dict[str, Any], partial: bool) -> dict[str, str]:
        """One record of a push; the caller holds the lock."""
        sync_id = record["sync_id"]
        if sync_id in self._accepted_ids:
            self._bump("duplicates", dataset)
            return _result(record, "ACCEPTED", "ALREADY_ACCEPTED", "该记录已接收，无需重复上报")
        errors = validate_record(dataset, record)
        if errors:
            self._bump("rejected", dataset)
            self._rejected_ids.add(sync_id)
            return _result(record, "REJECTED", "INVALID", "；".join(errors))
        if partial and self._rng.random() < PARTIAL_RETRY_SHARE:
            return _result(record, "RETRY", "BUSY", "系统繁忙，请稍后重发")
        self._store(dataset, record)
        self._bump("accepted", dataset)
        return _result(record, "ACCEPTED", "OK", "接收成功")

    def _bump(self, counter: str, dataset: str) -> None:
        self._stats[counter] += 1
        by_dataset = self._stats[f"{counter}_by_dataset"]
        by_dataset[dataset] = by_dataset.get(dataset, 0) + 1

    def _store(self, dataset: str, record: dict[str, Any]) -> None:
        where = (dataset, record["key"])
        if record["op"] == "DELETE":
            stored = dict(self._stored.get(where) or {})
            stored["UpdateFlag"] = "D"
        else:
            stored = copy.deepcopy(record["data"])
            stored.setdefault("UpdateFlag", "U")
        self._stored[where] = stored
        self._accepted_ids[record["sync_id"]] = where
        self._rejected_ids.discard(record["sync_id"])

    def _status(self, req: Request) -> Reply:
        self._count("status_requests")
        if (refusal := self._refusal(self._roll_fault(push=False))) is not None:
            return refusal
        sync_ids = parse_status(req.body)
        with self._lock:
            results = {s: self._sync_status(s) for s in sync_ids}
        return Reply(200, {"results": results})

    def _sync_status(self, sync_id: str) -> str:
        if sync_id in self._accepted_ids:
            return "ACCEPTED"
        return "REJECTED" if sync_id in self._rejected_ids else "UNKNOWN"

    def _pull(self, dataset: str, req: Request) -> Reply:
        self._count("pull_requests")
        if dataset not in self._national:
            return _error(404, "UNKNOWN_DATASET", f"拉取接口不提供数据集：{dataset}")
        if (refusal := self._refusal(self._roll_fault(push=False))) is not None:
            return refusal
        cursor, limit, province = parse_pull(req.query)
        with self._lock:
            rows = sorted(self._national[dataset].items(), key=lambda item: item[1][0]) if province == PROVINCE else []
            newer = [{"key": k, "seq": seq, "data": copy.deepcopy(d)} for k, (seq, d) in rows if seq > cursor]
        page = newer[:limit]
        next_cursor = str(page[-1]["seq"]) if page else (req.query.get("cursor") or [""])[-1].strip() or "0"
        return Reply(200, {"records": page, "next_cursor": next_cursor, "has_more": len(newer) > limit})

    def _control(self, req: Request) -> Reply:
        if req.method == "GET" and req.path == "/__control/stats":
            return Reply(200, self.stats())
        if req.method == "POST" and req.path == "/__control/faults":
            return self._control_faults(req)
        if req.method == "POST" and req.path == "/__control/reset":
            self.reset()
            return Reply(200, {"ok": True})
        if req.method == "POST" and (m := _NATIONAL_PATH.match(req.path)):
            return self._control_national(unquote(m.group(1)), req)
        if req.method == "POST" and req.path == "/__control/person-locks":
            body = _json_body(req.body)
            try:
                self.lock_person(
                    str(body["id_card"]),
                    str(body["prj_num"]),
                    str(body.get("prj_name") or ""),
                    str(body["province_code"]),
                    str(body["province_name"]),
                )
            except KeyError as exc:
                raise BadRequest(f"缺少字段：{exc.args[0]}") from exc
            return Reply(200, {"ok": True})
        if req.method == "GET" and (m := _ACCEPTED_PATH.match(req.path)):
            record = self.accepted(unquote(m.group(1)), unquote(m.group(2)))
            return Reply(200, record) if record is not None else _error(404, "NOT_FOUND", "国家平台无此记录")
        return _error(404, "NOT_FOUND", "接口不存在")

    def _control_faults(self, req: Request) -> Reply:
        try:
            self.set_faults(**_json_body(req.body))
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        return Reply(200, {"faults": self.faults()})

    def _control_national(self, dataset: str, req: Request) -> Reply:
        records = _json_body(req.body).get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise BadRequest("records 缺失或不是对象数组")
        try:
            self.load_national(dataset, records)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        return Reply(200, {"loaded": len(records)})

    def load_demo(self) -> None:
        for dataset, records in demo_national_records().items():
            self.load_national(dataset, records)


# ---------------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------------------------


class _SimServer(ThreadingHTTPServer):
    daemon_threads = True
    sim: NationalSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out, disconnected) is expected here; anything else is reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _SimServer
    server_version = "NationalSim/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(method, parts.path, parse_qs(parts.query), self.headers.get("X-Api-Key"), body)
        reply = self.server.sim.handle(request)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True  # processed, but the client never hears about it
            return
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        data = json.dumps(reply.payload, ensure_ascii=False).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Simulator of the MOHURD national database interface (local only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--api-key", default="local-national-key")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--demo", action="store_true", help="load demo national records for the pull API")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sim = NationalSimulator(host=args.host, port=args.port, api_key=args.api_key, seed=args.seed).start()
    if args.demo:
        sim.load_demo()
    print(f"国家平台模拟器已启动：{sim.url}（X-Api-Key: {args.api_key}），按 Ctrl-C 退出", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
