"""National synchronisation: change capture from the main table's stream, and the scheduled push and pull jobs."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.names import MAIN_TABLE_STREAM_PLACEHOLDER
from chalicelib.observability import logger, metrics
from chalicelib.wiring import get_national_sync_service

bp = Blueprint(__name__)


@bp.on_dynamodb_record(stream_arn=MAIN_TABLE_STREAM_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON")
def on_main_table_change(event):
    """Mark national rows "已修改，未上报". Records are handled in stream order; on a failure the batch reports the
    failed record's sequence number, so Lambda retries from there and nothing after it is skipped (replays of
    records already handled change nothing)."""
    from chalicelib.adapters.dynamo_sync import source_change

    service = get_national_sync_service()
    totals: dict[str, int] = {}
    for record in event:
        try:
            change = source_change(record.keys or {}, record.new_image, record.sequence_number)
            if change is None:
                continue
            for k, v in service.capture([change]).items():
                totals[k] = totals.get(k, 0) + v
        except Exception:
            logger().exception("change capture failed", extra={"sequence_number": record.sequence_number})
            return {"batchItemFailures": [{"itemIdentifier": record.sequence_number}]}
    if totals:
        logger().info("changes captured for the national platform", extra=totals)
        metrics().add_metric(name="SyncRowsQueued", unit="Count", value=totals.get("queued", 0))
    return {"batchItemFailures": []}


@bp.schedule("rate(10 minutes)", name="push_to_national_platform", description="向国家平台上报已修改的数据")
def push_to_national_platform(event):
    """Push queued rows; one run at a time (lease). Reports the reconciliation figures as metrics."""
    service = get_national_sync_service()
    result = service.push()
    logger().info("national push finished", extra={"result": result})
    for counts in result.values():
        if isinstance(counts, dict):
            for name, value in counts.items():
                metrics().add_metric(name=f"SyncPush_{name}", unit="Count", value=value)
    for row in service.reconciliation()["datasets"]:
        metrics().add_metric(name=f"SyncPending_{row['dataset']}", unit="Count", value=row["pending"])
        metrics().add_metric(name=f"SyncDead_{row['dataset']}", unit="Count", value=row["dead"])
    return result


@bp.schedule(
    "rate(1 hour)", name="pull_from_national_platform", description="从国家平台获取省外入浙企业、人员及诚信记录"
)
def pull_from_national_platform(event):
    result = get_national_sync_service().pull()
    logger().info("national pull finished", extra={"result": result})
    return result
