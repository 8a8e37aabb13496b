"""Cross-cutting middleware for every handler: structured logs with a correlation id, metrics, tracing, and the
platform's error shape for everything that does not come from `api_route` (Chalice's own 4xx answers, an exception
that escapes), so that no response leaves in another shape and nothing leaks a stack trace to a client."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from chalice import Response

from chalicelib.domain.errors import DomainError
from chalicelib.entrypoints.http import ErrorBody, error_response, json_response
from chalicelib.observability import flush_metrics, logger, metrics, traced

# Chalice answers some requests itself ({"Code": "...", "Message": "..."}, English): same status, our body.
_CHALICE_ERRORS = {
    400: ("INVALID_INPUT", "请求数据格式不正确"),
    401: ("UNAUTHENTICATED", "请先登录"),
    403: ("FORBIDDEN", "无权执行此操作"),
    404: ("NOT_FOUND", "请求的地址不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持的请求方法"),
    409: ("CONFLICT", "请求与当前状态冲突"),
    413: ("REQUEST_TOO_LARGE", "请求内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的请求内容类型（应为 application/json）"),
    429: ("TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试"),
}


def internal_error(request_id: str) -> Response:
    return json_response(
        ErrorBody(code="INTERNAL_ERROR", message="系统内部错误，请稍后重试", details={"request_id": request_id}),
        500,
        {"X-Request-Id": request_id},
    )


def _platform_shape(response: Response, request_id: str) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict | str | bytes):
        return response
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if isinstance(body, dict) and {"code", "message"} <= set(body):
        return response
    if response.status_code >= 500:
        return internal_error(request_id)
    code, message = _CHALICE_ERRORS.get(response.status_code, ("BAD_REQUEST", "请求无法处理"))
    shaped = json_response(
        ErrorBody(code=code, message=message, details={"request_id": request_id}), response.status_code
    )
    for k, v in (response.headers or {}).items():
        if k.lower() in ("allow", "retry-after"):
            shaped.headers[k] = v
    return shaped


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def request_id_of(event) -> str:
    """API Gateway's request id; locally a client's X-Request-Id if it is a plain token (it is echoed in a response
    header and written to logs and audit entries), else a new one."""
    ctx = event.context or {}
    for candidate in (ctx.get("requestId"), (event.headers or {}).get("x-request-id")):
        if isinstance(candidate, str) and _REQUEST_ID.match(candidate):
            return candidate
    return uuid.uuid4().hex


def http_middleware(event, get_response):
    log = logger()
    ctx = event.context or {}
    request_id = request_id_of(event)
    ctx["requestId"] = request_id
    log.set_correlation_id(request_id)
    started = time.perf_counter()
    try:
        with traced(f"{event.method} {ctx.get('resourcePath') or event.path}", request_id=request_id):
            response = get_response(event)
    except DomainError as exc:  # a domain error raised outside api_route (should not happen, but never a 500)
        response = error_response(exc, request_id)
    except Exception:
        log.exception("unhandled error", extra={"path": event.path, "method": event.method})
        response = internal_error(request_id)
    if isinstance(response, Response):
        response = _platform_shape(response, request_id)
        response.headers.setdefault("X-Request-Id", request_id)
        status = response.status_code
    else:
        status = 200
    elapsed_ms = (time.perf_counter() - started) * 1000
    log.info(
        "request", extra={"method": event.method, "path": event.path, "status": status, "ms": round(elapsed_ms, 1)}
    )
    m = metrics()
    m.add_metric(name="Requests", unit="Count", value=1)
    if status >= 500:
        m.add_metric(name="ServerErrors", unit="Count", value=1)
    m.add_metric(name="Latency", unit="Milliseconds", value=elapsed_ms)
    flush_metrics()
    return response


def event_correlation(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id that ties an event's log lines to its source: the SQS message id, the stream record's event id, the
    schedule's event id (several records: the first, with the others listed)."""
    records = raw.get("Records") or []
    ids = [str(r.get("messageId") or r.get("eventID") or "") for r in records if isinstance(r, dict)]
    ids = [i for i in ids if i]
    if ids:
        return ids[0], ({"message_ids": ids} if len(ids) > 1 else {})
    if raw.get("id"):
        return str(raw["id"]), {"event_source": raw.get("source"), "resources": raw.get("resources")}
    return uuid.uuid4().hex, {}


def event_middleware(event, get_response):
    log = logger()
    try:
        raw = event.to_dict()
    except Exception:  # an event type without a dict form
        raw = {}
    correlation, extra = event_correlation(raw if isinstance(raw, dict) else {})
    lambda_context = getattr(event, "context", None)
    aws_request_id = getattr(lambda_context, "aws_request_id", None)
    log.set_correlation_id(correlation)
    started = time.perf_counter()
    kind = type(event).__name__
    try:
        with traced(kind, correlation_id=correlation):
            return get_response(event)
    except Exception:
        log.exception("event handler failed", extra={"event_type": kind, **extra})
        raise
    finally:
        log.info(
            "event handled",
            extra={
                "event_type": kind,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **({"aws_request_id": aws_request_id} if aws_request_id else {}),
                **extra,
            },
        )
        flush_metrics()
