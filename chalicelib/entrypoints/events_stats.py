"""Statistics kept on write: counters from the main table's stream, and the daily assessment snapshot."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.names import MAIN_TABLE_STREAM_PLACEHOLDER
from chalicelib.observability import logger
from chalicelib.wiring import get_statistics_service

bp = Blueprint(__name__)


@bp.on_dynamodb_record(stream_arn=MAIN_TABLE_STREAM_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON")
def on_main_table_change_for_statistics(event):
    """Count each change once (a marker per item keeps the stream sequence number: replays change nothing). In
    stream order; a failure reports its record so the batch resumes there."""
    from chalicelib.adapters.dynamo_stats import stat_change

    service = get_statistics_service()
    counted = 0
    for record in event:
        try:
            change = stat_change(record.keys or {}, record.new_image)
            if change is None:
                continue
            pk, sk, entity, data = change
            counted += int(service.apply(pk, sk, record.sequence_number, entity, data))
        except Exception:
            logger().exception("statistics update failed", extra={"sequence_number": record.sequence_number})
            return {"batchItemFailures": [{"itemIdentifier": record.sequence_number}]}
    if counted:
        logger().info("statistics updated", extra={"changes": counted})
    return {"batchItemFailures": []}


@bp.schedule("cron(50 15 * * ? *)", name="snapshot_assessment", description="每日更新本月考核快照（月末保留）")
def snapshot_assessment(event):
    """23:50 Beijing time every day: the current month's scorecards; the last run of a month is the month's record."""
    count = get_statistics_service().snapshot_month()
    logger().info("assessment snapshot written", extra={"cards": count})
    return {"cards": count}
