"""Import jobs from the SQS queue: parse, validate and write one accepted sheet upload."""

from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.errors import InvalidInput
from chalicelib.names import IMPORT_JOBS_QUEUE
from chalicelib.observability import logger, metrics
from chalicelib.wiring import get_import_service

bp = Blueprint(__name__)


def job_id_of(body: str) -> str:
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidInput("导入任务消息不是有效的JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("job_id"), str):
        raise InvalidInput("导入任务消息缺少 job_id")
    return doc["job_id"]


def handle_record(record) -> None:
    job_id = job_id_of(record.body)
    state = get_import_service().run(job_id, RequestMeta(request_id=record.message_id, source_ip="sqs"))
    logger().info("import job handled", extra={"job_id": job_id, "state": state.value})
    metrics().add_metric(name=f"ImportJob{state.value.title().replace('_', '')}", unit="Count", value=1)


@bp.on_sqs_message(queue=IMPORT_JOBS_QUEUE, batch_size=1)
def on_import_job(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event.to_dict(), record_handler=handle_record, processor=processor)
