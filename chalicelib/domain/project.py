"""Project registry (工程项目库): a project's basic information; stage records are added by later workflows.

National standard table: TBProjectInfo. Keyed by the 16-digit 项目编号 (PrjNum).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, ValidationInfo, model_validator

from chalicelib.domain import identifiers
from chalicelib.domain.fields import (
    Amount,
    ApprovalLevel,
    CnDate,
    CorpCode,
    ProjectCategory,
    ProjectNature,
    ProjectNumber,
    ProjectUse,
    Text,
    ZhejiangCounty,
)
from chalicelib.domain.records import RecordType
from chalicelib.domain.registry_base import RecordBase, input_date, input_warn, nat


class Project(RecordBase):
    """工程项目."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.PROJECT

    prj_num: ProjectNumber = Field(title="项目编号", json_schema_extra=nat("TBProjectInfo.PrjNum"))
    name: Text = Field(default=None, title="项目名称", json_schema_extra=nat("TBProjectInfo.PrjName"))
    category: ProjectCategory = Field(default=None, title="项目分类", json_schema_extra=nat("TBProjectInfo.PrjTypeNum"))
    location_region: ZhejiangCounty = Field(
        default=None, title="建设地点区划代码", json_schema_extra=nat("TBProjectInfo.CountyNum")
    )
    address: Text = Field(default=None, title="建设地点", json_schema_extra=nat("TBProjectInfo.Address"))
    build_corp_name: Text = Field(
        default=None, title="建设单位名称", json_schema_extra=nat("TBProjectInfo.BuildCorpName")
    )
    build_corp_code: CorpCode = Field(
        default=None, title="建设单位统一社会信用代码", json_schema_extra=nat("TBProjectInfo.BuildCorpCode")
    )
    approval_no: Text = Field(default=None, title="立项文号", json_schema_extra=nat("TBProjectInfo.PrjApprovalNum"))
    approval_level: ApprovalLevel = Field(
        default=None, title="立项级别", json_schema_extra=nat("TBProjectInfo.PrjApprovalLevelNum")
    )
    land_plan_permit_no: Text = Field(
        default=None, title="建设用地规划许可证号", json_schema_extra=nat("TBProjectInfo.BuldPlanNum")
    )
    project_plan_permit_no: Text = Field(
        default=None, title="建设工程规划许可证号", json_schema_extra=nat("TBProjectInfo.ProjectPlanNum")
    )
    total_investment: Amount = Field(
        default=None, ge=0, title="总投资（万元）", json_schema_extra=nat("TBProjectInfo.AllInvest")
    )
    total_area: Amount = Field(
        default=None, ge=0, title="总面积（平方米）", json_schema_extra=nat("TBProjectInfo.AllArea")
    )
    scale: Text = Field(default=None, title="建设规模", json_schema_extra=nat("TBProjectInfo.PrjSize"))
    nature: ProjectNature = Field(default=None, title="建设性质", json_schema_extra=nat("TBProjectInfo.PrjPropertyNum"))
    use: ProjectUse = Field(default=None, title="工程用途", json_schema_extra=nat("TBProjectInfo.PrjFunctionNum"))
    start_date: CnDate = Field(default=None, title="实际开工日期", json_schema_extra=nat("TBProjectInfo.BDate"))
    end_date: CnDate = Field(default=None, title="实际竣工日期", json_schema_extra=nat("TBProjectInfo.EDate"))

    @property
    def record_id(self) -> str:
        return self.prj_num

    @model_validator(mode="after")
    def _location_in_force(self, info: ValidationInfo) -> Project:
        """建设地点 on the project's own date (its start, or today): a 2019 project in 下城区 keeps 330103; a code
        not yet set up on that date is an error, one retired before it becomes its successor."""
        as_of = input_date(info)
        if as_of is not None and self.location_region:
            on = self.start_date if self.start_date and self.start_date < as_of else as_of
            r = identifiers.region_on(self.location_region, on)
            if r.errors:
                raise ValueError("；".join(r.errors))
            for w in r.warnings:
                input_warn(info, w)
            self.location_region = r.code
        return self
