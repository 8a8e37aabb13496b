"""Expiry warnings (到期提醒) of a record's certificates: 资质证书, 安全生产许可证, 执业注册, 安全生产考核合格证书.

Every part of a record that carries a `valid_until` is a certificate with a validity; on a given day it is expired
(已过期) or expires soon (即将到期, within `SOON_DAYS` days). Reviewers see these on the record page, the enterprise
in its portal; the reminders of the notification work use the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from chalicelib.domain.clock import cn_date

SOON_DAYS = 90  # 到期前三个月提醒 (the 90/30-day reminders count down from the same date)

# What each certificate is called, and which of its fields names it (its number).
_CERTIFICATES = {
    "qualifications": ("资质证书", "cert_no"),
    "safety_licence": ("安全生产许可证", "licence_no"),
    "registrations": ("执业注册", "registration_cert_no"),
    "safety_certs": ("安全生产考核合格证书", "cert_no"),
}


@dataclass(frozen=True)
class Expiry:
    path: str  # where the date is: qualifications.0.valid_until
    certificate: str  # 资质证书
    number: str | None  # the certificate's number
    valid_until: date
    days_left: int  # negative when expired
    expired: bool

    @property
    def message(self) -> str:
        name = f"{self.certificate}{self.number or ''}"
        if self.expired:
            return f"{name}已于{cn_date(self.valid_until)}过期"
        if self.days_left == 0:
            return f"{name}今天到期"
        return f"{name}将于{cn_date(self.valid_until)}到期（还有{self.days_left}天）"


def expiries(record: BaseModel, today: date, soon_days: int = SOON_DAYS) -> list[Expiry]:
    """The record's certificates that are expired or expire within `soon_days`, the most urgent first."""
    out: list[Expiry] = []
    for field, (certificate, number_field) in _CERTIFICATES.items():
        value = getattr(record, field, None)
        if value is None:
            continue
        parts = [(f"{field}.{i}", p) for i, p in enumerate(value)] if isinstance(value, list) else [(field, value)]
        for path, part in parts:
            until = getattr(part, "valid_until", None)
            if until is None:
                continue
            left = (until - today).days
            if left <= soon_days:
                out.append(
                    Expiry(f"{path}.valid_until", certificate, getattr(part, number_field, None), until, left, left < 0)
                )
    return sorted(out, key=lambda e: e.days_left)
