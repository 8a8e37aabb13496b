"""电子证照: the construction permit as an electronic licence — its identifier (证照标识), check character and status.

The identifier is the root OID, the licence type code, the issuing authority's code, the sequence number (the
permit number, unique nationally), the version (the certificate's 版次: an extension re-issues it) and a check
character computed with ISO 7064 MOD 37,36 over the identifier's letters and digits. Every value that the published
standard could not confirm is data (`data/elicence.json`, [U]).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

ALPHABET = string.digits + string.ascii_uppercase  # 0-9 → 0-9, A-Z → 10-35


@cache
def rules() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.data").joinpath("elicence.json").read_text("utf-8"))


def _values(text: str) -> list[int]:
    out = []
    for ch in text.upper():
        if ch in ALPHABET:
            out.append(ALPHABET.index(ch))
        elif ch not in ".-":
            raise ValueError(f"证照标识含有无效字符“{ch}”")
    return out


def mod37_36(text: str) -> str:
    """The ISO 7064 MOD 37,36 (hybrid) check character of `text` (letters and digits; dots and dashes ignored)."""
    p = 36
    for v in _values(text):
        s = (p + v) % 36 or 36
        p = (2 * s) % 37
    return ALPHABET[(37 - p) % 36]


def mod37_36_ok(text: str) -> bool:
    """Does `text` end with its right check character (the running sum ends at 1)?"""
    p, s = 36, 0
    for v in _values(text):
        s = (p + v) % 36 or 36
        p = (2 * s) % 37
    return s == 1


def issuer_code(region: str) -> str:
    codes = rules()["issuer_codes"]
    return codes.get(region) or region.ljust(18, "0")


@dataclass(frozen=True)
class LicenceId:
    type_code: str
    issuer: str
    serial: str
    version: int

    @property
    def text(self) -> str:
        r = rules()
        sep = r["separator"]
        body = sep.join(
            [r["root_oid"], self.type_code, self.issuer, self.serial, f"{self.version:0{r['version_digits']}d}"]
        )
        return f"{body}{sep}{mod37_36(body)}"


def licence_id(region: str, permit_no: str, version: int) -> str:
    """证照标识 of a permit's version: e.g. 1.2.156.3005.2.11100000000013127D001.330782000000000000.330782202612080001.01.K"""
    return LicenceId(rules()["type_code"], issuer_code(region), permit_no, version).text


def parse_licence_id(text: str) -> LicenceId | None:
    """The parts of an identifier whose check character is right (None: not one of ours, or mistyped)."""
    r = rules()
    sep = r["separator"]
    root = r["root_oid"] + sep
    if not text or not text.startswith(root) or not mod37_36_ok(text):
        return None
    parts = text[len(root) :].split(sep)
    if len(parts) != 5 or not parts[3].isdigit():
        return None
    return LicenceId(parts[0], parts[1], parts[2], int(parts[3]))


def status(permit_state: str, version: int, current_version: int) -> tuple[str, str]:
    """The licence's status (code, name) for a version, from its permit's state: an older version is superseded."""
    names = rules()["statuses"]
    if version < current_version:
        code = "SUPERSEDED"
    elif permit_state in ("ISSUED", "COMPLETED"):
        code = "VALID"
    elif permit_state == "SUSPENDED":
        code = "SUSPENDED"
    elif permit_state == "LAPSED":
        code = "LAPSED"
    else:
        code = "REVOKED"
    return code, names[code]
