"""Powertools Logger and Metrics, shared by the Chalice middleware and the services.

The Powertools logger is named after POWERTOOLS_SERVICE_NAME ("zj-cmsp"), which must differ from the Chalice
app name ("cmsp"): Chalice configures a logger of its own under the app name.
"""

from __future__ import annotations

import warnings
from functools import cache


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
