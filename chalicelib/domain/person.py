"""Registered-personnel registry (人员库): identity, registrations, safety certificates.

A record is one person as registered with one enterprise (注册单位): key (person key, employer USCC). The person key
is an HMAC of the ID-card number with a server-side secret, so keys, indexes and logs never carry the number itself
and cannot be reversed by enumerating the (small) space of valid ID numbers. The same person filed by two
enterprises is two records in one partition — exactly the situation (一人多处注册) officials must see.
National standard table: TBRegPersonRegInfo.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from pydantic import Field, model_validator

from chalicelib.domain.fields import (
    PERSON_RULES,
    CnDate,
    IdCardType,
    Mobile,
    PastDate,
    RegistrationType,
    RequiredIdDocumentNo,
    SafetyCertType,
    Sex,
    Specialty,
    Text,
    Uscc,
    cross_problems,
    filled_from_id,
)
from chalicelib.domain.records import RecordType
from chalicelib.domain.registry_base import Part, RecordBase, nat


class Registration(Part):
    """执业注册：注册类别/专业、证书与印章号、有效期."""

    reg_type: RegistrationType = Field(title="注册类别", json_schema_extra=nat("TBRegPersonRegInfo.SpecialtyTypNum"))
    specialties: list[Specialty] = Field(
        default_factory=list, title="注册专业", json_schema_extra=nat("TBRegPersonRegInfo.RegTradeTypeNum")
    )
    qualification_cert_no: Text = Field(
        default=None, title="资格证书号", json_schema_extra=nat("TBRegPersonRegInfo.CertNum")
    )
    registration_cert_no: Text = Field(
        default=None, title="注册证书编号", json_schema_extra=nat("TBRegPersonRegInfo.CertId")
    )
    seal_no: Text = Field(default=None, title="执业印章号", json_schema_extra=nat("TBRegPersonRegInfo.StampNum"))
    issued_on: PastDate = Field(
        default=None, title="注册发证日期", json_schema_extra=nat("TBRegPersonRegInfo.AwardDate")
    )
    issuing_authority: Text = Field(
        default=None, title="注册发证机关", json_schema_extra=nat("TBRegPersonRegInfo.AwardDepart")
    )
    valid_until: CnDate = Field(
        default=None, title="注册有效期至", json_schema_extra=nat("TBRegPersonRegInfo.EffectDate")
    )
    status: Text = Field(default=None, title="执业状态", json_schema_extra=nat("TBRegPersonRegInfo.QState"))


class SafetyCert(Part):
    """安全生产考核合格证书（三类人员 A/B/C）."""

    category: SafetyCertType = Field(title="证书类别", json_schema_extra=nat("TBProjectBuilderUserInfo.UserType"))
    cert_no: Text = Field(title="安全生产考核合格证书编号", json_schema_extra=nat("TBProjectBuilderUserInfo.CertID"))
    issuing_authority: Text = Field(default=None, title="安全证书发证机关")
    issued_on: PastDate = Field(default=None, title="安全证书发证日期")
    valid_until: CnDate = Field(default=None, title="安全证书有效期至")


class RegisteredPerson(RecordBase):
    """注册人员（在某注册单位的注册记录）."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.PERSON

    person_key: str = Field(title="人员标识", description="证件号码的不可逆摘要")
    employer_uscc: Uscc = Field(title="注册单位统一社会信用代码", json_schema_extra=nat("TBRegPersonRegInfo.CorpCode"))
    employer_name: Text = Field(
        default=None, title="注册单位名称", json_schema_extra=nat("TBRegPersonRegInfo.CorpName")
    )
    name: Text = Field(default=None, title="姓名", json_schema_extra=nat("TBRegPersonRegInfo.PersonName"))
    sex: Sex = Field(default=None, title="性别", json_schema_extra=nat("TBRegPersonRegInfo.SexNum"))
    id_type: IdCardType = Field(
        default="1", title="证件类型", json_schema_extra=nat("TBRegPersonRegInfo.IDCardTypeNum")
    )
    id_no: RequiredIdDocumentNo = Field(
        title="证件号码", json_schema_extra=nat("TBRegPersonRegInfo.IDCard18", pii=True)
    )
    birth_date: CnDate = Field(default=None, title="出生日期", json_schema_extra=nat("TBRegPersonRegInfo.Birthday"))
    education: Text = Field(default=None, title="学历", json_schema_extra=nat("TBRegPersonRegInfo.EduLevelNum"))
    mobile: Mobile = Field(default=None, title="手机号码", json_schema_extra={"pii": True})
    registrations: list[Registration] = Field(default_factory=list, title="执业注册")
    safety_certs: list[SafetyCert] = Field(default_factory=list, title="安全生产考核合格证书")

    @property
    def record_id(self) -> str:
        return f"{self.person_key}/{self.employer_uscc}"

    CROSS_RULES: ClassVar = PERSON_RULES

    @model_validator(mode="after")
    def _identity_fits(self) -> RegisteredPerson:
        """证件类型 / 证件号码 / 性别 / 出生日期 agree (a 居民身份证 number states birth date and sex, which fill
        them in when they are absent — whichever way the record came in)."""
        problems = [m for _, m in cross_problems(PERSON_RULES, self.__dict__)]
        if problems:
            raise ValueError("；".join(problems))
        self.sex, self.birth_date = filled_from_id(self.id_type, self.id_no, self.sex, self.birth_date)
        return self


def person_key(id_type: str, id_no: str, secret: bytes) -> str:
    """Stable, non-reversible identifier of a person (HMAC-SHA256, 24 hex chars)."""
    msg = f"{id_type}:{id_no.strip().upper()}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:24]
