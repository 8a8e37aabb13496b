"""Cross-cutting middleware for every handler: structured logs with a correlation id, metrics, and a last-resort
error body so that nothing unexpected leaks a stack trace to a client."""

from __future__ import annotations

import time
import uuid

from chalice import Response

from chalicelib.domain.errors import DomainError
from chalicelib.entrypoints.http import ErrorBody, error_response, json_response
from chalicelib.observability import flush_metrics, logger, metrics


def http_middleware(event, get_response):
    log = logger()
    ctx = event.context or {}
    request_id = ctx.get("requestId") or (event.headers or {}).get("x-request-id") or uuid.uuid4().hex
    ctx["requestId"] = request_id
    log.set_correlation_id(request_id)
    started = time.perf_counter()
    try:
        response = get_response(event)
    except DomainError as exc:  # a domain error raised outside api_route (should not happen, but never a 500)
        response = error_response(exc, request_id)
    except Exception:
        log.exception("unhandled error", extra={"path": event.path, "method": event.method})
        response = json_response(
            ErrorBody(code="INTERNAL_ERROR", message="系统内部错误，请稍后重试", details={"request_id": request_id}),
            500,
        )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if isinstance(response, Response):
        response.headers.setdefault("X-Request-Id", request_id)
        status = response.status_code
    else:
        status = 200
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


def event_middleware(event, get_response):
    log = logger()
    log.set_correlation_id(uuid.uuid4().hex)
    started = time.perf_counter()
    try:
        return get_response(event)
    except Exception:
        log.exception("event handler failed", extra={"event_type": type(event).__name__})
        raise
    finally:
        log.info(
            "event handled",
            extra={"event_type": type(event).__name__, "ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        flush_metrics()
