"""Campaigns and the late/missing-reporting job (迟报、漏报): warnings first, bad-behaviour records after the grace."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.campaigns import (
    NOTICE_LABELS,
    REPORTED_STATES,
    Campaign,
    CampaignKind,
    Notice,
    NoticeKind,
    notice_id,
    notice_message,
)
from chalicelib.domain.clock import utcnow
from chalicelib.domain.credit import CreditSource, bad_record, credit_id
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.identity import Principal, Role, in_region_scope, system_principal
from chalicelib.domain.records import RecordState, RecordType
from chalicelib.services.ports import CampaignStore, Page, RegistryRepository

JOB = system_principal("campaign-deadlines")


class CampaignService:
    def __init__(
        self,
        store: CampaignStore,
        registry: RegistryRepository,
        *,
        cities: Callable[[], list[str]],
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12],
    ):
        self.store = store
        self.registry = registry
        self.cities = cities
        self.clock = clock
        self.new_id = new_id

    def create(self, p: Principal, meta: RequestMeta, **fields) -> Campaign:
        if p.role != Role.PROVINCE_ADMIN:
            raise Forbidden("只有系统管理员可以创建专项工作")
        campaign = Campaign(
            campaign_id=self.new_id(), created_by=p.subject, created_at=self.clock().isoformat(), **fields
        )
        if campaign.kind == CampaignKind.PROJECT_FILING and campaign.record_type != RecordType.PROJECT:
            raise InvalidInput("项目备案专项工作的记录类型应为 project")
        self.store.put_campaign(
            campaign,
            AuditDraft(
                target_type="campaign",
                target_id=campaign.campaign_id,
                action=AuditAction.CAMPAIGN_CREATED,
                target_region="330000",
                after=campaign.model_dump(mode="json"),
            ),
            p,
            meta,
        )
        return campaign

    def list(self) -> list[Campaign]:
        return self.store.list_campaigns()

    def get(self, campaign_id: str) -> Campaign:
        c = self.store.get_campaign(campaign_id)
        if c is None:
            raise NotFound("专项工作不存在")
        return c

    def my_notices(self, p: Principal, *, limit: int, cursor: dict | None) -> Page[Notice]:
        if p.role != Role.ENTERPRISE or not p.uscc:
            raise Forbidden("只有企业用户可以查看本企业的通知")
        return self.store.notices_for_owner(p.uscc, limit=limit, cursor=cursor)

    def late_in_region(
        self, p: Principal, campaign_id: str, *, city: str | None, county: str | None, limit: int, cursor: dict | None
    ) -> Page[Notice]:
        if not p.is_official:
            raise Forbidden("只有主管部门可以查看逾期名单")
        self.get(campaign_id)
        if p.role == Role.COUNTY_OFFICIAL:
            county, city = p.region_code, (p.region_code or "")[:4] + "00"
        elif p.role == Role.CITY_OFFICIAL:
            city = p.region_code
            if county and not in_region_scope(p, county):
                raise NotFound("该地区不在管辖范围内")
        elif not city:
            if not county:
                raise InvalidInput("省级查看请指定设区市（city）", details=[{"field": "city"}])
            city = county[:4] + "00"
        return self.store.notices_for_region(campaign_id, city or "", county, limit=limit, cursor=cursor)

    # ---- the scheduled job ------------------------------------------------------------------------------------

    def check_deadlines(self, meta: RequestMeta, *, today: date | None = None) -> dict[str, int]:
        """Warn, then record, every enterprise that has not reported by a campaign's deadline. Idempotent: a notice
        exists once per enterprise, campaign and kind, so running this any number of times adds nothing new."""
        today = today or self.clock().date()
        created = {"warnings": 0, "bad_records": 0, "already": 0}
        for c in self.store.list_campaigns():
            stage = c.stage(today)
            if stage not in ("late", "overdue"):
                continue
            for owner, name, region in self._unreported(c):
                kinds = [NoticeKind.WARNING] + ([NoticeKind.BAD_RECORD] if stage == "overdue" else [])
                for kind in kinds:
                    if self._issue(c, kind, owner, name, region, today, meta):
                        created["warnings" if kind == NoticeKind.WARNING else "bad_records"] += 1
                    else:
                        created["already"] += 1
        return created

    def _unreported(self, c: Campaign):
        """(USCC, name, county) of every enterprise in the campaign's region that has not reported. Reads the region
        index city by city (a Query per page, never a Scan)."""
        for city in self.cities():
            if not (city.startswith(c.region_prefix) or c.region_prefix.startswith(city[:4])):
                continue
            cursor = None
            while True:
                page = self.registry.list_by_region(RecordType.ENTERPRISE, city, None, limit=200, cursor=cursor)
                for ent in page.items:
                    if not c.applies_to(ent.region_code):
                        continue
                    if not self._reported(c, ent):
                        yield ent.record_id, getattr(ent, "name", None), ent.region_code
                cursor = page.cursor
                if not cursor:
                    break

    def _reported(self, c: Campaign, enterprise) -> bool:
        if c.kind == CampaignKind.SUPPLEMENT and c.record_type == RecordType.ENTERPRISE:
            return enterprise.state in REPORTED_STATES
        # Project filing (and personnel campaigns): at least one record of that type submitted by the enterprise.
        cursor = None
        while True:
            page = self.registry.list_by_owner(c.record_type, enterprise.record_id, limit=100, cursor=cursor)
            if any(r.state in REPORTED_STATES or r.state == RecordState.CONFIRMED for r in page.items):
                return True
            cursor = page.cursor
            if not cursor:
                return False

    def _issue(
        self,
        c: Campaign,
        kind: NoticeKind,
        uscc: str,
        name: str | None,
        region: str | None,
        today: date,
        meta: RequestMeta,
    ) -> bool:
        nid = notice_id(c.campaign_id, uscc, kind)
        credit = None
        if kind == NoticeKind.BAD_RECORD:
            credit = bad_record(
                CreditSource.LATE_OR_MISSING_REPORT,
                credit_id_=credit_id(c.campaign_id, uscc, "late"),
                subject_type="enterprise",
                subject_id=uscc,
                subject_name=name,
                owner_uscc=uscc,
                region_code=region,
                authority="浙江省住房和城乡建设厅",
                authority_region="330000",
                entered_by=JOB.subject,
                entered_by_name="平台系统",
                now_iso=self.clock().isoformat(),
                on=today,
                reason=f"专项工作“{c.name}”截止日期{c.deadline.isoformat()}",
                campaign_id=c.campaign_id,
            )
        notice = Notice(
            notice_id=nid,
            campaign_id=c.campaign_id,
            campaign_name=c.name,
            kind=kind,
            uscc=uscc,
            enterprise_name=name,
            region_code=region,
            message=notice_message(c, kind, today),
            created_at=self.clock().isoformat(),
            credit_id=credit.credit_id if credit else None,
        )
        return self.store.create_notice(
            notice,
            credit,
            AuditDraft(
                target_type="notice",
                target_id=nid,
                action=AuditAction.NOTICE_ISSUED,
                target_region=region,
                target_owner=uscc,
                after=notice.model_dump(mode="json"),
                note=f"{NOTICE_LABELS[kind]}：{name or uscc}",  # what a reader of the trail sees: by name
            ),
            JOB,
            meta,
        )
