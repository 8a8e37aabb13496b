"""Steps of the permit workflow handed over by Step Functions through SQS (moto runs no Lambda tasks; neither must AWS)."""

from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.errors import InvalidInput
from chalicelib.names import PERMIT_TASKS_QUEUE
from chalicelib.observability import logger
from chalicelib.wiring import get_permit_service

bp = Blueprint(__name__)


def handle_record(record) -> None:
    try:
        task = json.loads(record.body)
    except json.JSONDecodeError:
        raise InvalidInput("流程消息不是有效的JSON") from None
    if not isinstance(task, dict) or not {"task", "application_id", "token"} <= set(task):
        raise InvalidInput("流程消息缺少 task / application_id / token")
    get_permit_service().handle_task(task, RequestMeta(request_id=record.message_id, source_ip="stepfunctions"))
    logger().info("permit step handled", extra={"step": task["task"], "application_id": task["application_id"]})


@bp.on_sqs_message(queue=PERMIT_TASKS_QUEUE, batch_size=5)
def on_permit_task(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event.to_dict(), record_handler=handle_record, processor=processor)
