"""Enterprise registry (企业库): basic information, qualification certificates and items, safety licence, contacts.

National standard tables: TBCorpBasicInfo (basic information), TBCorpCertInfo (资质证书), TBCorpCertDetailInfo
(资质项, one per qualification item). Keyed by the 统一社会信用代码 (USCC).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, model_validator

from chalicelib.domain import identifiers
from chalicelib.domain.fields import (
    ENTERPRISE_RULES,
    Amount,
    BusinessRegNo,
    CnDate,
    EconomicType,
    Email,
    IdCardType,
    IdDocumentNo,
    PastDate,
    Phone,
    QualificationCertNo,
    QualificationCode,
    QualificationType,
    SafetyLicenceNo,
    Text,
    Uscc,
    YesNo,
    ZhejiangCounty,
    cross_problems,
)
from chalicelib.domain.records import RecordType
from chalicelib.domain.registry_base import Part, RecordBase, input_date, input_warn, nat


class QualificationItem(Part):
    """资质项：one qualification (序列 + 类别 + 等级) on a certificate."""

    code: QualificationCode = Field(
        title="资质代码", json_schema_extra=nat("TBCorpCertDetailInfo.TradeBoundNum+TitleLevelNum")
    )
    is_primary: YesNo = Field(default=None, title="是否主项", json_schema_extra=nat("TBCorpCertDetailInfo.IsMaster"))
    approval_no: Text = Field(default=None, title="批准文号", json_schema_extra=nat("TBCorpCertDetailInfo.NoteNumber"))
    approved_on: PastDate = Field(
        default=None, title="批准日期", json_schema_extra=nat("TBCorpCertDetailInfo.NoteDate")
    )
    acquired_by: Text = Field(default=None, title="取得方式", json_schema_extra=nat("TBCorpCertDetailInfo.AddTypeNum"))
    status: Text = Field(
        default=None, title="资质状态", json_schema_extra=nat("TBCorpCertDetailInfo.CertTradeStatusNum")
    )


class QualificationCert(Part):
    """资质证书."""

    cert_no: QualificationCertNo = Field(title="资质证书编号", json_schema_extra=nat("TBCorpCertInfo.CertID"))
    qualification_type: QualificationType = Field(
        default=None, title="资质类型", json_schema_extra=nat("TBCorpCertInfo.CertTypeNum")
    )
    issuing_authority: Text = Field(default=None, title="发证机关", json_schema_extra=nat("TBCorpCertInfo.OrganName"))
    issued_on: PastDate = Field(default=None, title="发证日期", json_schema_extra=nat("TBCorpCertInfo.OrganDate"))
    valid_until: CnDate = Field(default=None, title="有效期至", json_schema_extra=nat("TBCorpCertInfo.EndDate"))
    standard_version: Literal["2001", "2014"] = Field(
        default="2014", title="资质标准版本", description="2001版或2014版《建筑业企业资质标准》（建市〔2014〕159号）"
    )
    items: list[QualificationItem] = Field(default_factory=list, title="资质项")

    def valid_on(self, on: date) -> bool:
        return self.valid_until is not None and self.valid_until >= on


class SafetyLicence(Part):
    """建筑施工企业安全生产许可证 (valid 3 years)."""

    licence_no: SafetyLicenceNo = Field(
        title="安全生产许可证编号", json_schema_extra=nat("TBBuilderLicenceManage.SafetyCerID")
    )
    issuing_authority: Text = Field(default=None, title="安全生产许可证发证机关")
    issued_on: PastDate = Field(default=None, title="安全生产许可证发证日期")
    valid_until: CnDate = Field(default=None, title="安全生产许可证有效期至")
    scope: Text = Field(default=None, title="许可范围")


class Enterprise(RecordBase):
    """企业."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.ENTERPRISE

    uscc: Uscc = Field(title="统一社会信用代码", json_schema_extra=nat("TBCorpBasicInfo.CorpCode"))
    name: Text = Field(default=None, title="企业名称", json_schema_extra=nat("TBCorpBasicInfo.CorpName"))
    business_reg_no: BusinessRegNo = Field(
        default=None, title="工商注册号", json_schema_extra=nat("TBCorpBasicInfo.LicenseNum")
    )
    registered_region: ZhejiangCounty = Field(
        default=None, title="注册所在地区划代码", json_schema_extra=nat("TBCorpBasicInfo.CountyNum")
    )
    address: Text = Field(default=None, title="经营地址", json_schema_extra=nat("TBCorpBasicInfo.Address"))
    legal_rep: Text = Field(default=None, title="法定代表人", json_schema_extra=nat("TBCorpBasicInfo.LegalMan"))
    legal_rep_id_type: IdCardType = Field(
        default=None, title="法定代表人证件类型", json_schema_extra=nat("TBCorpBasicInfo.IDCardTypeNum")
    )
    legal_rep_id_no: IdDocumentNo = Field(
        default=None, title="法定代表人证件号码", json_schema_extra=nat("TBCorpBasicInfo.LegalManIDCard", pii=True)
    )
    legal_rep_title: Text = Field(
        default=None, title="法定代表人职务", json_schema_extra=nat("TBCorpBasicInfo.LegalManDuty")
    )
    economic_type: EconomicType = Field(
        default=None, title="企业登记注册类型", json_schema_extra=nat("TBCorpBasicInfo.EconomicNum")
    )
    registered_capital: Amount = Field(
        default=None, title="注册资本（万元）", json_schema_extra=nat("TBCorpBasicInfo.RegPrin")
    )
    established_on: PastDate = Field(default=None, title="成立日期")
    contact_person: Text = Field(default=None, title="联系人", json_schema_extra=nat("TBCorpBasicInfo.LinkMan"))
    contact_phone: Phone = Field(
        default=None, title="联系电话", json_schema_extra=nat("TBCorpBasicInfo.LinkPhone", pii=True)
    )
    email: Email = Field(default=None, title="电子邮箱")
    qualifications: list[QualificationCert] = Field(default_factory=list, title="资质证书")
    safety_licence: SafetyLicence | None = Field(default=None, title="安全生产许可证")

    @property
    def record_id(self) -> str:
        return self.uscc

    CROSS_RULES: ClassVar = ENTERPRISE_RULES

    @model_validator(mode="after")
    def _legal_rep_id_fits(self) -> Enterprise:
        problems = [m for _, m in cross_problems(ENTERPRISE_RULES, self.__dict__)]
        if problems:
            raise ValueError("；".join(problems))
        return self

    @model_validator(mode="after")
    def _region_in_force(self, info: ValidationInfo) -> Enterprise:
        """注册所在地 is today's registration: a code retired by a reform becomes its successor (with a warning)."""
        as_of = input_date(info)
        if as_of is not None and self.registered_region:
            r = identifiers.region_on(self.registered_region, as_of)
            if r.errors:
                raise ValueError("；".join(r.errors))
            for w in r.warnings:
                input_warn(info, w)
            self.registered_region = r.code
        return self

    def holds_construction_qualification(self) -> bool:
        return any(item.code and item.code.startswith("D") for c in self.qualifications for item in c.items)
