"""One schema source: the OpenAPI document and schemas/ are generated from the pydantic models."""

from __future__ import annotations

import re

from infra.schemas import documents, main


def test_schemas_directory_matches_the_models():
    assert main(["--check"]) == 0, "run `python -m infra.schemas` and commit schemas/"


def test_openapi_is_valid_and_covers_every_route():
    from openapi_spec_validator import validate

    from app import app

    doc = documents()["openapi.json"]
    validate(doc)
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routed == documented


def test_protected_routes_declare_bearer_auth_and_errors():
    doc = documents()["openapi.json"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if op["security"]:
                assert {"401", "403"} <= set(op["responses"]), (path, method)
            if "{" in path:
                assert re.search(r"\{\w+\}", path) and "404" in op["responses"], (path, method)
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert doc["paths"]["/auth/login"]["post"]["security"] == []


def test_error_body_is_uniform():
    doc = documents()["openapi.json"]
    err = doc["components"]["schemas"]["ErrorBody"]
    assert set(err["properties"]) == {"code", "message", "details"}
