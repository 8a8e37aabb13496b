"""Health and the API description."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.entrypoints.http import Ctx, api_route, json_response
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


class Health(BaseModel):
    status: str
    stage: str
    service: str


@api_route(bp, "/health", summary="健康检查", tags=["系统"], roles=None, response=Health)
def health(ctx: Ctx) -> Health:
    s = get_settings()
    return Health(status="ok", stage=s.stage, service=s.service_name)


@api_route(bp, "/openapi.json", summary="OpenAPI 接口说明", tags=["系统"], roles=None)
def openapi(ctx: Ctx):
    from chalicelib.entrypoints.openapi import openapi_document

    return json_response(openapi_document())
