"""Powertools Logger, Metrics and Tracer, shared by the Chalice middleware, the HTTP edge and the services.

Every module logs through `logger()` (JSON lines with the correlation id of the request or message being handled);
there are no stdlib loggers in `chalicelib/`. The Powertools logger is named after POWERTOOLS_SERVICE_NAME
("zj-cmsp"), which must differ from the Chalice app name ("cmsp"): Chalice configures a logger of its own under the
app name. The Tracer (X-Ray) is created only where tracing is switched on (POWERTOOLS_TRACE_DISABLED=false, set by
the AWS template): locally and in tests its SDK is never imported.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def logger():
    from aws_lambda_powertools import Logger

    return Logger(use_rfc3339=True)


@cache
def metrics():
    from aws_lambda_powertools import Metrics

    return Metrics()


def flush_metrics() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "No application metrics to publish" when disabled locally
        metrics().flush_metrics()


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() == "false"


@cache
def tracer():
    from aws_lambda_powertools import Tracer

    return Tracer()


@contextmanager
def traced(name: str, **annotations: Any):
    """An X-Ray subsegment around a handler (no-op where tracing is off)."""
    if not tracing_enabled():
        yield
        return
    with tracer().provider.in_subsegment(f"## {name}") as sub:
        for k, v in annotations.items():
            if v:
                sub.put_annotation(k, str(v))
        yield
