"""Code tables (字典表): versioned data files, loaded once, never enums.

The national dictionaries of 建市〔2014〕108号 are mostly unverified (domain.md §2.3, §9), so every table is a JSON
file under `chalicelib/data/codetables/` carrying its own version, source citation and verification status
(V verified / P partially / U unverified). Changing a value is a data change, not a code change.

Validity is part of the data: a code has `valid_from` / `valid_to` (inclusive; None = open), and a code that was
renamed or reused after a gap lists its periods in `extra["history"]` (行政区划代码 such as 330302 城区→鹿城区).
Retired codes are never deleted, because historic projects and ID numbers keep using them.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

_DIR = Path(__file__).resolve().parent.parent / "data" / "codetables"


class CodePeriod(BaseModel):
    """One name of a code and the dates it was in use (both inclusive; None = open)."""

    model_config = ConfigDict(frozen=True)

    name: str
    valid_from: date | None = None
    valid_to: date | None = None

    def contains(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)


class CodeEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    parent: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def periods(self) -> list[CodePeriod]:
        """The periods the code was valid: `extra.history` when the code was renamed or reused, else one period."""
        history = self.extra.get("history")
        if history:
            return [CodePeriod.model_validate(p) for p in history]
        return [CodePeriod(name=self.name, valid_from=self.valid_from, valid_to=self.valid_to)]

    def is_valid_on(self, on: date) -> bool:
        if not ((self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)):
            return False
        return "history" not in self.extra or any(p.contains(on) for p in self.periods)

    def name_on(self, on: date | None) -> str:
        """The name in use on a date (330302 was 城区 in 1983), falling back to the current name."""
        if on is not None and "history" in self.extra:
            for p in self.periods:
                if p.contains(on):
                    return p.name
        return self.name


def _norm_name(text: str) -> str:
    # NFKC makes full-width and half-width brackets equal: jzsc and provincial exports mix 有限责任公司（其他）/(其他).
    return "".join(unicodedata.normalize("NFKC", text).split())


class CodeTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    table: str
    version: date
    source: str
    verified: Literal["V", "P", "U"]
    description: str = ""
    entries: list[CodeEntry]

    _index: dict[str, CodeEntry] = PrivateAttr(default_factory=dict)
    _children: dict[str, list[CodeEntry]] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, CodeEntry] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for e in self.entries:
            if e.code in self._index:
                raise ValueError(f"code table {self.table}: duplicate code {e.code!r}")
            self._index[e.code] = e
            if e.parent is not None:
                self._children.setdefault(e.parent, []).append(e)
        # Names are not unique everywhere (e.g. two "市辖区"); the first entry wins, aliases never override a name.
        for e in self.entries:
            self._by_name.setdefault(_norm_name(e.name), e)
        for e in self.entries:
            for alias in e.extra.get("aliases", ()):
                self._by_name.setdefault(_norm_name(alias), e)

    def get(self, code: str | None) -> CodeEntry | None:
        if not isinstance(code, str):
            return None
        return self._index.get(code)

    def is_valid(self, code: str | None, on: date | None = None) -> bool:
        """Known code (on=None), or a code in force on the given date."""
        e = self.get(code)
        if e is None:
            return False
        return on is None or e.is_valid_on(on)

    def name(self, code: str | None, on: date | None = None) -> str:
        """Display name; an unknown code is returned as it is (never raises: used when rendering stored data)."""
        e = self.get(code)
        if e is None:
            return code or ""
        return e.name_on(on)

    def valid_on(self, on: date) -> list[CodeEntry]:
        return [e for e in self.entries if e.is_valid_on(on)]

    def children(self, parent_code: str, on: date | None = None) -> list[CodeEntry]:
        kids = self._children.get(parent_code, [])
        return list(kids) if on is None else [e for e in kids if e.is_valid_on(on)]

    def codes(self) -> list[str]:
        return [e.code for e in self.entries]

    def find_by_name(self, name: str | None) -> CodeEntry | None:
        """Match free text (an imported 登记注册类型, a grade name …) against names and `extra.aliases`."""
        if not isinstance(name, str) or not name.strip():
            return None
        return self._by_name.get(_norm_name(name))

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index


@cache
def load_table(name: str) -> CodeTable:
    """Load `chalicelib/data/codetables/{name}.json` once per process."""
    path = _DIR / f"{name}.json"
    return CodeTable.model_validate(json.loads(path.read_text("utf-8")))


def regions() -> CodeTable:
    """行政区划代码 (GB/T 2260) of all China, current and retired (domain.md §3.9); extra.level, extra.placeholder."""
    return load_table("regions")


def qualification_types() -> CodeTable:
    """资质类型 TBAptitudeKindDic 1..12 (§3.1)."""
    return load_table("qualification_types")


def qualification_classes() -> CodeTable:
    """资质类别: APT_CODE without the grade suffix (D101 建筑工程施工总承包 …) (§3.2)."""
    return load_table("qualification_classes")


def qualification_codes() -> CodeTable:
    """National platform APT_CODE incl. grade suffix (D101A 建筑工程施工总承包一级 …) (§3.2)."""
    return load_table("qualification_codes")


def grades() -> CodeTable:
    """资质等级 with extra.rank for highest-grade comparisons within one extra.scale (§3.3)."""
    return load_table("grades")


def registration_types() -> CodeTable:
    """注册类别 of 注册执业人员 (§3.7); platform codes."""
    return load_table("registration_types")


def registration_specialties() -> CodeTable:
    """注册专业 of 建造师 / 监理 / 造价 with extra.applies_to (§3.7)."""
    return load_table("registration_specialties")


def safety_cert_types() -> CodeTable:
    """三类人员 A/B/C with extra.user_type = TBProjectBuilderUserInfo.UserType (§3.6)."""
    return load_table("safety_cert_types")


def project_categories() -> CodeTable:
    """项目分类 TBPrjTypeDic [U] (§2.3)."""
    return load_table("project_categories")


def project_natures() -> CodeTable:
    """建设性质 TBPrjPropertyDic [U codes] (§2.3)."""
    return load_table("project_natures")


def project_uses() -> CodeTable:
    """工程用途 TBPrjFunctionDic [U] (§2.3)."""
    return load_table("project_uses")


def approval_levels() -> CodeTable:
    """立项级别 TBLxjbDic [U] (§2.3)."""
    return load_table("approval_levels")


def id_card_types() -> CodeTable:
    """证件类型 TBIDCardTypeDic: 1 居民身份证 [P], others [U] (§2.3)."""
    return load_table("id_card_types")


def sexes() -> CodeTable:
    """性别 TBSexDic, per GB/T 2261.1 (§2.3)."""
    return load_table("sexes")


def economic_types() -> CodeTable:
    """企业登记注册类型 (市场监管 free text, §3.8) [U]."""
    return load_table("economic_types")


def contract_types() -> CodeTable:
    """合同类别 TBContractTypeDic (codes [U])."""
    return load_table("contract_types")


def uscc_authorities() -> CodeTable:
    """统一社会信用代码 登记管理部门 (1 char) and 机构类别 (2 chars) (§4.1)."""
    return load_table("uscc_authorities")


@cache
def empty_sentinels() -> frozenset[str]:
    """Texts that mean "missing" (§2.5): "", " ", "无", "无数据", "/"."""
    return frozenset(load_table("empty_sentinels").codes())


@cache
def identifier_rules() -> dict[str, Any]:
    """Composition rules of identifiers whose format is not fixed by a verified standard (identifier_rules.json).

    Returns the parsed JSON (shared: do not mutate). See `chalicelib.domain.identifiers` for how each rule is used.
    """
    return json.loads((_DIR / "identifier_rules.json").read_text("utf-8"))
