"""S3 ObjectCreated notifications for the upload bucket, delivered through SQS.

Partial batch failures: a record that raises is reported back and redelivered; after the queue's
maxReceiveCount it lands in the dead-letter queue. Redelivered records are harmless: the service
treats an upload already moved past REQUESTED as a duplicate.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.errors import InvalidInput
from chalicelib.names import UPLOAD_EVENTS_QUEUE
from chalicelib.observability import logger, metrics
from chalicelib.wiring import get_upload_service

bp = Blueprint(__name__)


def s3_keys(body: str) -> list[str]:
    """ObjectCreated keys in one S3 notification body. The first `s3:TestEvent` has no Records."""
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidInput("消息不是有效的JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput("消息格式不正确")
    if doc.get("Event") == "s3:TestEvent":
        return []
    records = doc.get("Records")
    if not isinstance(records, list):
        raise InvalidInput("消息缺少 Records")
    keys = []
    for r in records:
        if str(r.get("eventName", "")).startswith("ObjectCreated"):
            keys.append(unquote_plus(r["s3"]["object"]["key"]))
    return keys


def handle_record(record: Any) -> None:
    service = get_upload_service()
    for key in s3_keys(record.body):
        outcome = service.object_arrived(key, RequestMeta(request_id=record.message_id, source_ip="s3"))
        logger().info("upload object handled", extra={"key": key, "outcome": outcome.value})
        metrics().add_metric(name=f"UploadArrival{outcome.value.title()}", unit="Count", value=1)


@bp.on_sqs_message(queue=UPLOAD_EVENTS_QUEUE, batch_size=10)
def on_upload_object_created(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event.to_dict(), record_handler=handle_record, processor=processor)
