"""The HTTP edge: one decorator that parses, authenticates, calls a service, maps errors and documents the route.

Every route is declared with `api_route(...)`, which
- registers the Chalice route on a blueprint,
- parses the JSON body / query string with the route's pydantic model (400 with field-level Chinese details),
- verifies the bearer token and checks the route's roles (401 / 403) before the handler runs,
- maps domain errors to the uniform body `{code, message, details}`,
- records the route, its models and roles for `/openapi.json`.
Handlers therefore only call one service function and return a pydantic model.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.domain.accounts import PENDING_MESSAGES
from chalicelib.domain.audit import RequestMeta
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.labels import field_info_label
from chalicelib.observability import logger

STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 400),
    (TooManyRequests, 429),
]


class ErrorBody(BaseModel):
    """统一错误响应"""

    code: str
    message: str
    details: Any = None


@dataclass
class Endpoint:
    path: str
    method: str
    summary: str
    tags: tuple[str, ...]
    roles: frozenset[Role] | None  # None = public (no token)
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    name: str
    errors: tuple[int, ...] = ()  # error statuses beyond those implied by roles/body/method (documentation)


@dataclass
class ApiRegistry:
    endpoints: list[Endpoint] = field(default_factory=list)


REGISTRY = ApiRegistry()


@dataclass
class Ctx:
    """What a handler knows about its request."""

    principal: Principal | None
    meta: RequestMeta
    path_params: dict[str, str]

    @property
    def user(self) -> Principal:
        if self.principal is None:  # routes with roles always have one; this guards a misdeclared route
            raise Unauthenticated()
        return self.principal


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是/否（true/false）",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不正确",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "不是有效的JSON",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "date_from_datetime_parsing": "不是有效日期，应写作年-月-日（如2026-03-20）",
    "date_parsing": "不是有效日期，应写作年-月-日（如2026-03-20）",
    "value_error": "取值无效",
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (X, X | None, list[X], Annotated[A | B, discriminator])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _located(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> tuple[str, str]:
    """(path without union tags or internal markers, the Chinese name of the field) of an error's location."""
    current: list[type[BaseModel]] = [model] if model else []
    path: list[str] = []
    label = ""
    for part in loc:
        if part == "__root__":
            continue
        if isinstance(part, int):
            path.append(str(part))
            continue
        tagged = [
            m for m in current if m.model_fields.get("kind") is not None and m.model_fields["kind"].default == part
        ]
        if tagged:  # a discriminated union's tag (data.contract.money): the member it chose, not a field
            current = tagged
            continue
        info = next((m.model_fields[part] for m in current if part in m.model_fields), None)
        path.append(str(part))
        if info is None:
            current, label = [], str(part)
            continue
        label = field_info_label(info, label or str(part))
        current = _models_in(info.annotation)
    return ".".join(path), label


def validation_details(exc: ValidationError, model: type[BaseModel] | None = None) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        loc, label = _located(model, tuple(err.get("loc", ())))
        msg = _PYDANTIC_MESSAGES.get(err.get("type", ""))
        ctx_msg = err.get("msg", "")
        if err.get("type") == "value_error" and ctx_msg.startswith("Value error, "):
            msg = ctx_msg.removeprefix("Value error, ")
        entry = {"field": loc or "(请求体)", "type": err.get("type"), "message": msg or ctx_msg}
        if label:
            entry["label"] = label
        out.append(entry)
    return out


def _summary(head: str, details: list[dict[str, Any]]) -> str:
    """请求数据校验未通过：合同金额：数值过小；合同签订日期：… (the named problems, every one)."""
    named = [f"{d['label']}：{d['message']}" for d in details if d.get("label")]
    return f"{head}：{'；'.join(named)}" if named else head


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def error_response(exc: DomainError, request_id: str = "") -> Response:
    status = next((s for cls, s in STATUS_BY_ERROR if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": 'Bearer realm="cmsp"'} if status == 401 else {}
    if status == 429 and isinstance(exc.details, dict) and exc.details.get("retry_after_seconds"):
        headers["Retry-After"] = str(exc.details["retry_after_seconds"])
    if request_id:
        headers["X-Request-Id"] = request_id
    return json_response(ErrorBody(code=exc.code, message=exc.message, details=exc.details), status, headers)


# What a pagination cursor is bound to: the route, the caller and the query's other parameters. Set by api_route
# for the duration of a request; a cursor handed to another listing, another user or another filter is refused.
_CURSOR_SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("cursor_scope", default="")
_BAD_CURSOR = "分页游标无效或已过期，请从第一页重新查询"


def _cursor_key() -> bytes:
    from chalicelib.wiring import cursor_key

    return cursor_key()


def _cursor_mac(payload: bytes, scope: str) -> str:
    mac = hmac.new(_cursor_key(), scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def encode_cursor(cursor: dict | None) -> str | None:
    """The next page's position (a DynamoDB key) as an opaque, signed token: `{payload}.{hmac}`."""
    if not cursor:
        return None
    payload = base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{_cursor_mac(payload.encode(), _CURSOR_SCOPE.get())}"


def decode_cursor(raw: str | None) -> dict | None:
    """A cursor this platform issued for the same listing, caller and filters; anything else is a 400."""
    if not raw:
        return None
    payload, _, mac = raw.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _cursor_mac(payload.encode(), _CURSOR_SCOPE.get())):
        raise InvalidInput(_BAD_CURSOR, details=[{"field": "cursor", "message": "游标不是本次查询签发的"}])
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidInput(_BAD_CURSOR, details=[{"field": "cursor"}]) from None
    if not isinstance(value, dict):
        raise InvalidInput(_BAD_CURSOR, details=[{"field": "cursor"}])
    return value


def cursor_scope(name: str, principal: Principal | None, params: dict[str, str]) -> str:
    others = sorted((k, v) for k, v in params.items() if k not in ("cursor", "limit"))
    who = principal.subject if principal is not None else "public"
    return json.dumps([name, who, others], ensure_ascii=False, separators=(",", ":"))


def request_meta(request: Any) -> RequestMeta:
    ctx = getattr(request, "context", None) or {}
    identity = ctx.get("identity") or {}
    rid = ctx.get("requestId") or ""  # set (and sanitised) by the HTTP middleware for every request
    return RequestMeta(request_id=str(rid), source_ip=str(identity.get("sourceIp") or ""))


def _parse_body(request: Any, model: type[BaseModel]) -> BaseModel:
    raw = request.raw_body or b""
    if not raw.strip():
        raise InvalidInput("请求体不能为空", details=[{"field": "(请求体)", "message": "缺少JSON请求体"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        details = validation_details(exc, model)
        raise InvalidInput(_summary("请求数据校验未通过", details), details=details) from None


def _parse_query(request: Any, model: type[BaseModel]) -> BaseModel:
    params = dict(request.query_params or {})
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        details = validation_details(exc, model)
        raise InvalidInput(_summary("查询参数校验未通过", details), details=details) from None


def api_route(
    bp: Blueprint,
    path: str,
    method: str = "GET",
    *,
    summary: str,
    tags: Iterable[str] = (),
    roles: Iterable[Role] | None = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    authenticator: Callable[[str | None], Principal] | None = None,
    errors: Iterable[int] = (),
    pending_ok: bool = False,
) -> Callable:
    """Declare a route. `roles=None` makes it public; an empty tuple means any authenticated user.

    An account that must first change its password or enrol its second factor is refused everywhere (403 with
    the code PASSWORD_CHANGE / MFA_SETUP) except on the routes declared `pending_ok` (who am I, change password,
    enrol, log out)."""
    role_set = None if roles is None else frozenset(roles)

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            meta = request_meta(request)
            scope_token = None
            try:
                principal = None
                if role_set is not None:
                    auth = authenticator or _default_authenticator()
                    principal = auth(request.headers.get("authorization"))
                    if principal.pending and not pending_ok:
                        raise Forbidden(PENDING_MESSAGES.get(principal.pending), code=principal.pending)
                    if role_set and principal.role not in role_set:
                        raise Forbidden()
                scope = cursor_scope(fn.__name__, principal, {**(request.query_params or {}), **path_params})
                scope_token = _CURSOR_SCOPE.set(scope)
                ctx = Ctx(principal=principal, meta=meta, path_params=path_params)
                args: list[Any] = [ctx]
                if body is not None:
                    args.append(_parse_body(request, body))
                if query is not None:
                    args.append(_parse_query(request, query))
                result = fn(*args, **path_params)
                if isinstance(result, Response):
                    return result
                return json_response(result, status)
            except DomainError as exc:
                if isinstance(exc, Unauthenticated | Forbidden):
                    logger().info("access refused", extra={"path": path, "code": exc.code, "reason": exc.message})
                return error_response(exc, meta.request_id)
            except Exception:
                # Chalice would answer with its own English body and log through its own logger: answer in the
                # platform's shape and log the traceback as one structured line with the request's correlation id.
                logger().exception("unhandled error", extra={"path": path, "method": method, "route": fn.__name__})
                return json_response(
                    ErrorBody(
                        code="INTERNAL_ERROR",
                        message="系统内部错误，请稍后重试",
                        details={"request_id": meta.request_id},
                    ),
                    500,
                    {"X-Request-Id": meta.request_id} if meta.request_id else None,
                )
            finally:
                if scope_token is not None:
                    _CURSOR_SCOPE.reset(scope_token)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        content_types = ["application/json"] if method in ("POST", "PUT", "PATCH") else None
        kwargs: dict[str, Any] = {"methods": [method], "name": fn.__name__}
        if content_types:
            kwargs["content_types"] = content_types
        bp.route(path, **kwargs)(handler)
        REGISTRY.endpoints.append(
            Endpoint(
                path=path,
                method=method,
                summary=summary,
                tags=tuple(tags),
                roles=role_set,
                body=body,
                query=query,
                response=response,
                status=status,
                name=fn.__name__,
                errors=tuple(errors),
            )
        )
        return fn

    return decorator


def _default_authenticator() -> Callable[[str | None], Principal]:
    from chalicelib.wiring import get_auth_service

    return get_auth_service().authenticate
