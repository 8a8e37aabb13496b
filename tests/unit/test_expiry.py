"""到期提醒: every certificate part with a validity is flagged when expired or within 90 days, most urgent first."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.enterprise import Enterprise
from chalicelib.domain.expiry import SOON_DAYS, expiries
from chalicelib.domain.person import RegisteredPerson

TODAY = date(2026, 12, 4)
PROV = {"source": "PORTAL", "entered_by": "u", "entered_org": "330782", "entered_at": "2026-01-01T00:00:00+00:00"}


def _enterprise(**parts):
    return Enterprise.model_validate(
        {"uscc": "91330782677204726D", "provenance": PROV, "created_at": "x", "updated_at": "x", **parts}
    )


def test_expired_and_soon_certificates_are_flagged_with_their_numbers():
    ent = _enterprise(
        qualifications=[
            {"cert_no": "D233000123", "valid_until": "2030-01-01"},  # far: nothing
            {"cert_no": "D233000124", "valid_until": "2026-12-01"},  # expired three days ago
            {"cert_no": "D233000125", "valid_until": date.fromordinal(TODAY.toordinal() + SOON_DAYS).isoformat()},
        ],
        safety_licence={"licence_no": "(浙)JZ安许证字[2014]100007", "valid_until": "2026-12-04"},
    )
    found = expiries(ent, TODAY)
    assert [(e.path, e.days_left, e.expired) for e in found] == [
        ("qualifications.1.valid_until", -3, True),
        ("safety_licence.valid_until", 0, False),
        ("qualifications.2.valid_until", SOON_DAYS, False),
    ]
    assert found[0].message == "资质证书D233000124已于2026年12月1日过期"
    assert found[1].message == "安全生产许可证(浙)JZ安许证字[2014]100007今天到期"
    assert found[2].message.endswith(f"到期（还有{SOON_DAYS}天）")


def test_a_day_beyond_the_window_and_an_open_validity_are_not_flagged():
    ent = _enterprise(
        qualifications=[
            {"cert_no": "D233000123", "valid_until": date.fromordinal(TODAY.toordinal() + SOON_DAYS + 1).isoformat()},
            {"cert_no": "D233000124"},
        ]
    )
    assert expiries(ent, TODAY) == []


def test_a_persons_registrations_and_safety_certificates():
    person = RegisteredPerson.model_validate(
        {
            "person_key": "k",
            "employer_uscc": "91330782677204726D",
            "id_no": "330782198001010012",
            "provenance": PROV,
            "created_at": "x",
            "updated_at": "x",
            "registrations": [
                {"reg_type": "JZS1", "registration_cert_no": "浙1332018000123", "valid_until": "2027-01-10"}
            ],
            "safety_certs": [{"category": "B", "cert_no": "浙建安B（2023）0815", "valid_until": "2026-11-30"}],
        }
    )
    assert [e.message for e in expiries(person, TODAY)] == [
        "安全生产考核合格证书浙建安B（2023）0815已于2026年11月30日过期",
        "执业注册浙1332018000123将于2027年1月10日到期（还有37天）",
    ]
