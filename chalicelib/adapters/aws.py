"""Lazily created, cached boto3 clients. `AWS_ENDPOINT_URL` points them at moto locally; unset on AWS."""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                import boto3  # imported here: a route that touches no AWS service does not pay for it
                from botocore.config import Config

                cfg = Config(retries={"max_attempts": 4, "mode": "standard"}, signature_version=None)
                if service == "s3":
                    cfg = cfg.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))
                c = boto3.client(service, config=cfg)
                _clients[service] = c
    return c


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    with _lock:
        _clients.clear()
