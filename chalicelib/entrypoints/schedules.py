"""Scheduled jobs."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.audit import RequestMeta
from chalicelib.observability import logger, metrics
from chalicelib.wiring import get_campaign_service, get_credit_service, get_import_service, get_upload_service

bp = Blueprint(__name__)


@bp.schedule("rate(5 minutes)", name="expire_abandoned_uploads", description="将过期未上传的申请标记为已过期")
def expire_abandoned_uploads(event):
    """Upload requests whose presigned URL expired without an object become EXPIRED (audited)."""
    meta = RequestMeta(request_id=getattr(event, "event_id", "") or "", source_ip="scheduler")
    count = get_upload_service().expire_overdue(meta)
    logger().info("expired abandoned uploads", extra={"count": count})
    metrics().add_metric(name="UploadsExpired", unit="Count", value=count)
    return {"expired": count}


@bp.schedule("rate(5 minutes)", name="redispatch_stalled_imports", description="重新派发长时间未完成的导入任务")
def redispatch_stalled_imports(event):
    """Import jobs still PENDING/RUNNING after 20 minutes (a lost message, a killed worker) are queued again."""
    count = get_import_service().redispatch_stale(older_than_seconds=1200)
    logger().info("re-dispatched stalled import jobs", extra={"count": count})
    metrics().add_metric(name="ImportJobsRedispatched", unit="Count", value=count)
    return {"redispatched": count}


@bp.schedule(
    "cron(30 1 * * ? *)",
    name="check_campaign_deadlines",
    description="专项工作逾期未报送：先警告，宽限期后记入不良行为",
)
def check_campaign_deadlines(event):
    """Daily at 09:30 Beijing time (01:30 UTC). Idempotent: one notice per enterprise, campaign and kind."""
    meta = RequestMeta(request_id=getattr(event, "event_id", "") or "", source_ip="scheduler")
    result = get_campaign_service().check_deadlines(meta)
    logger().info("campaign deadlines checked", extra=result)
    for name, value in result.items():
        metrics().add_metric(name=f"CampaignNotices_{name}", unit="Count", value=value)
    return result


@bp.schedule("cron(0 16 * * ? *)", name="snapshot_credit_scores", description="每日信用评分快照")
def snapshot_credit_scores(event):
    """Daily at 00:00 Beijing time: every enterprise's score of the new day, kept for history and monthly pulls."""
    count = get_credit_service().snapshot_scores()
    logger().info("credit scores snapshotted", extra={"count": count})
    metrics().add_metric(name="CreditScoresSnapshotted", unit="Count", value=count)
    return {"scores": count}


@bp.schedule("cron(10 16 * * ? *)", name="lapse_unstarted_permits", description="逾期未开工的施工许可证自行废止")
def lapse_unstarted_permits(event):
    """Daily at 00:10 Beijing time: permits not started by their deadline lapse once, with one notice."""
    from chalicelib.wiring import get_permit_after_issue

    meta = RequestMeta(request_id=getattr(event, "event_id", "") or "", source_ip="scheduler")
    count = get_permit_after_issue().lapse_overdue(meta)
    logger().info("unstarted permits lapsed", extra={"count": count})
    metrics().add_metric(name="PermitsLapsed", unit="Count", value=count)
    return {"lapsed": count}


@bp.schedule("cron(0 1 * * ? *)", name="check_work_calendar", description="检查节假日安排是否已载入")
def check_work_calendar(event):
    """Daily at 09:00 Beijing time: a year that statutory deadlines may reach without the State Council's holiday
    arrangement is reported (metric WorkCalendarYearsMissing > 0 raises the alarm; the dashboard shows it too)."""
    from chalicelib.wiring import get_work_calendar_service

    missing = get_work_calendar_service().missing_years()
    if missing:
        logger().warning("holiday arrangement missing", extra={"years": missing})
    metrics().add_metric(name="WorkCalendarYearsMissing", unit="Count", value=len(missing))
    return {"missing_years": missing}


@bp.schedule(
    "rate(5 minutes)", name="finish_qualification_decisions", description="补完已准予许可但资质证书尚未变更的资质申请"
)
def finish_qualification_decisions(event):
    """An approval changes the certificate in a second write; one that a stopped process left undone is finished."""
    from chalicelib.wiring import get_qualification_application_service

    meta = RequestMeta(request_id=getattr(event, "event_id", "") or "", source_ip="scheduler")
    count = get_qualification_application_service().finish_pending(meta)
    metrics().add_metric(name="QualificationEffectsFinished", unit="Count", value=count)
    return {"finished": count}
