"""The national (MOHURD) platform's push/pull interface over HTTPS (JSON).

The real ministry interface is not public; this client speaks the protocol of the simulator shipped in
`infra/local/national_sim.py` (push with per-record results and idempotency keys, a status query for batches whose
answer was lost, cursor-paged pulls). Address and API key come from settings; on AWS the key is read once from
Secrets Manager (`NATIONAL_API_SECRET_ARN`, a JSON secret with `api_key`).

HTTP outcomes are reduced to what the push job decides on: 200 → per-record results; 429 and 5xx → RETRY (nothing
was processed, honour Retry-After); a timeout or a dropped connection → UNKNOWN (the batch may have been stored:
the job asks `status` before sending it again).
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from chalicelib.services.ports import NationalUnavailable, PushReply


class HttpNationalPlatform:
    def __init__(self, base_url: str, *, api_key: str | None, secret_arn: str | None, timeout: float):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secret_arn = secret_arn
        self.timeout = timeout

    @cached_property
    def _http(self):
        import urllib3

        return urllib3.PoolManager(
            num_pools=2, maxsize=4, retries=False, timeout=urllib3.Timeout(connect=5.0, read=self.timeout)
        )

    @cached_property
    def api_key(self) -> str:
        if self._secret_arn:
            from chalicelib.adapters.secrets import secret_value

            return secret_value(self._secret_arn, "api_key")
        return self._api_key or ""

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None):
        import urllib3

        try:
            return self._http.request(
                method,
                self.base_url + path,
                body=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
                headers={"Content-Type": "application/json; charset=utf-8", "X-Api-Key": self.api_key},
            )
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError) as e:
            raise _NoAnswer(str(e)) from e

    def push(self, dataset: str, batch_id: str, records: list[dict[str, Any]]) -> PushReply:
        try:
            resp = self._request("POST", f"/api/v1/push/{quote(dataset)}", {"batch_id": batch_id, "records": records})
        except _NoAnswer as e:
            return PushReply(kind="UNKNOWN", message=f"国家平台无应答：{e}"[:500])
        body = _json(resp.data)
        message = str(body.get("message") or "")
        if resp.status == 200:
            return PushReply(kind="OK", results=list(body.get("results") or []), http_status=200, message=message)
        if resp.status == 504:
            # A gateway timeout may have cut off a batch the platform is still processing: treat it as no answer.
            return PushReply(kind="UNKNOWN", http_status=504, message=message or "国家平台网关超时")
        retry_after = _retry_after(resp.headers.get("Retry-After"))
        return PushReply(
            kind="RETRY", http_status=resp.status, message=message or f"HTTP {resp.status}", retry_after=retry_after
        )

    def status(self, sync_ids: list[str]) -> dict[str, str]:
        try:
            resp = self._request("POST", "/api/v1/status", {"sync_ids": sync_ids})
        except _NoAnswer as e:
            raise NationalUnavailable(str(e)) from e
        if resp.status != 200:
            raise NationalUnavailable(f"HTTP {resp.status}")
        return dict(_json(resp.data).get("results") or {})

    def pull(self, dataset: str, cursor: str | None, limit: int) -> dict[str, Any]:
        query = urlencode({"cursor": cursor or "", "limit": limit, "province": "330000"})
        try:
            resp = self._request("GET", f"/api/v1/pull/{quote(dataset)}?{query}")
        except _NoAnswer as e:
            raise NationalUnavailable(str(e)) from e
        if resp.status != 200:
            raise NationalUnavailable(f"HTTP {resp.status}")
        return _json(resp.data)

    def person_lock(self, id_card: str) -> dict[str, Any] | None:
        """The in-progress project a person is locked on anywhere in the country (None: free)."""
        try:
            resp = self._request("POST", "/api/v1/person-locks/query", {"id_card": id_card})
        except _NoAnswer as e:
            raise NationalUnavailable(str(e)) from e
        if resp.status != 200:
            raise NationalUnavailable(f"HTTP {resp.status}")
        body = _json(resp.data)
        return body if body.get("locked") else None


class _NoAnswer(Exception):
    pass


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8")) if data else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
