"""Secrets Manager values, read once per process (cold start) and cached.

A secret is either a plain string or a JSON object; `field` names the key to read from a JSON secret (the template
generates `{"key": "..."}` secrets, the ministry's key is stored as `{"api_key": "..."}`).
"""

from __future__ import annotations

import json
import threading

from chalicelib.adapters import aws

_cache: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def secret_value(arn: str, field: str = "key") -> str:
    cached = _cache.get((arn, field))
    if cached is not None:
        return cached
    with _lock:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        value = str(parsed[field]) if isinstance(parsed, dict) else str(parsed)
        if not value:
            raise RuntimeError(f"secret {arn} has no value for {field!r}")
        _cache[(arn, field)] = value
        return value


def reset() -> None:
    with _lock:
        _cache.clear()
