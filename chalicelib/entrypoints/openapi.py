"""`/openapi.json`, generated from the pydantic models every `api_route` declared."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.domain.identity import ROLE_LABELS
from chalicelib.entrypoints.http import REGISTRY, ErrorBody

_ERRORS = {
    "400": "请求数据有误",
    "401": "未登录或登录凭证无效",
    "403": "无权执行此操作",
    "404": "对象不存在（或不属于当前用户的管辖范围）",
    "409": "并发修改冲突或状态不允许",
    "415": "请求内容类型不受支持（应为 application/json）",
    "429": "请求过于频繁",
    "500": "系统内部错误（响应中附请求编号）",
}
REQUEST_ID_HEADER = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "description": "请求编号（可选，1-100位字母、数字或 . _ : -）；原样返回于响应头，并写入日志与审计记录",
    "schema": {"type": "string"},
}


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            "description": prop.get("description", ""),
        }
        for name, prop in props.items()
    ]


@cache
def openapi_document(
    title: str = "浙江省建筑市场监管与诚信信息平台 API", version: str = "1.0.0", only_tag: str | None = None
) -> dict[str, Any]:
    endpoints = [ep for ep in REGISTRY.endpoints if only_tag is None or only_tag in ep.tags]
    models: list[tuple[type[BaseModel], str]] = [(ErrorBody, "serialization")]
    for ep in endpoints:
        if ep.body is not None:
            models.append((ep.body, "validation"))
        if ep.response is not None:
            models.append((ep.response, "serialization"))
    keymap, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "operationId": ep.name,
            "summary": ep.summary,
            "tags": list(ep.tags),
            "responses": {},
        }
        params = [
            {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for seg in ep.path.split("/")
            if seg.startswith("{") and seg.endswith("}")
        ]
        if ep.query is not None:
            params += _query_parameters(ep.query, ep.query.model_json_schema())
        op["parameters"] = [*params, REQUEST_ID_HEADER]
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": keymap[(ep.body, "validation")]}},
            }
        ok: dict[str, Any] = {"description": "成功"}
        if ep.response is not None:
            ok["content"] = {"application/json": {"schema": keymap[(ep.response, "serialization")]}}
        op["responses"][str(ep.status)] = ok
        err_schema = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        # Any operation can meet invalid input (a path segment, a query value) and a record that does not exist or
        # lies outside the caller's jurisdiction (404, never 403, so it is not even confirmed to exist).
        codes = ["400", "404"]
        if ep.roles is not None:
            codes += ["401", "403"]
            op["security"] = [{"bearerAuth": []}]
            op["x-roles"] = sorted(r.value for r in ep.roles) or ["(任何已登录用户)"]
            if ep.roles:
                op["description"] = "允许角色：" + "、".join(ROLE_LABELS[r] for r in sorted(ep.roles))
        else:
            op["security"] = []
        if ep.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if ep.body is not None:
            codes.append("415")
        if only_tag is not None:
            codes.append("429")
            if ep.method == "GET":
                op["responses"]["304"] = {"description": "未修改（If-None-Match 与 ETag 相同）"}
        codes += [str(c) for c in ep.errors if str(c) not in codes]
        codes.append("500")
        for code in codes:
            op["responses"][code] = {"description": _ERRORS[code], "content": err_schema}
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": "“三库一网”：企业库、人员库、工程项目库与诚信网。"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
