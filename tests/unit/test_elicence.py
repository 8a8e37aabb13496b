"""电子证照 identifier: the ISO 7064 MOD 37,36 check character against hand-computed examples, the identifier's
structure, a mistyped identifier refused, and the status of a version."""

from __future__ import annotations

import pytest

from chalicelib.domain import elicence


@pytest.mark.parametrize(
    ("text", "check"),
    [
        # "0": p=36; s=(36+0) mod 36=0→36; p=2·36 mod 37=35; check=(37−35) mod 36=2 → "2"
        ("0", "2"),
        # "A1": A=10: s=(36+10) mod 36=10, p=20; 1: s=21, p=42 mod 37=5; check=(37−5) mod 36=32 → "W"
        ("A1", "W"),
        # "Z": Z=35: s=(36+35) mod 36=35, p=70 mod 37=33; check=(37−33)=4 → "4"
        ("Z", "4"),
    ],
)
def test_the_check_character_against_hand_computed_examples(text, check):
    assert elicence.mod37_36(text) == check
    assert elicence.mod37_36_ok(text + check)
    assert not elicence.mod37_36_ok(text + ("3" if check != "3" else "5"))


def test_an_identifier_carries_its_parts_and_a_mistyped_one_is_refused():
    ident = elicence.licence_id("330782", "330782202612080001", 2)
    assert ident.startswith("1.2.156.3005.2.11100000000013127D001.330782000000000000.330782202612080001.02.")
    parsed = elicence.parse_licence_id(ident)
    assert (parsed.serial, parsed.version, parsed.issuer) == ("330782202612080001", 2, "330782000000000000")
    # one digit of the permit number changed: the check character no longer fits
    typo = ident.replace("330782202612080001", "330782202612080007")
    assert elicence.parse_licence_id(typo) is None
    assert elicence.parse_licence_id("not an identifier") is None


def test_the_status_of_a_version():
    assert elicence.status("ISSUED", 2, 2) == ("VALID", "有效")
    assert elicence.status("ISSUED", 1, 2) == ("SUPERSEDED", "已被新版本取代")
    assert elicence.status("SUSPENDED", 1, 1) == ("SUSPENDED", "中止施工")
    assert elicence.status("LAPSED", 1, 1) == ("LAPSED", "已废止")
