"""The OpenAPI document against the live platform: schemathesis generates requests for
every route from it (a bounded, derandomised number per route) and each answer must be
no 5xx, JSON of the documented type and schema, and, for an error, AIP-193 JSON with a
stable reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from launcher.platform import REPO_ROOT, Platform
from tests.merchant.helpers import set_up_merchant

SCHEMA = schemathesis.openapi.from_path(REPO_ROOT / "gateway" / "openapi.json")
EXAMPLES_PER_ROUTE = 12


def no_server_error(ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]) -> bool:
    assert response.status_code < 500, response.content
    return True


def aip193_errors(ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]) -> bool:
    """Every error answer: {"code": int, "message": str, "details": [ErrorInfo{reason}, ...]}."""
    if response.status_code < 400:
        return True
    body = json.loads(response.content)
    assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str), body
    infos = [d for d in body.get("details", []) if str(d.get("@type", "")).endswith("google.rpc.ErrorInfo")]
    assert infos and str(infos[0]["reason"]).replace("_", "").isupper(), body
    return True


@pytest.fixture(scope="module")
def session(platform: Platform) -> Iterator[requests.Session]:
    """Both credentials on every request: the gateway takes the one its path needs."""
    merchant = set_up_merchant(platform)
    with requests.Session() as http:
        http.headers.update({"X-API-Key": merchant.api_key, **merchant.account.bearer})
        yield http


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_every_route_answers_as_documented(
    case: schemathesis.Case[Any], platform: Platform, session: requests.Session
) -> None:
    case.call_and_validate(
        base_url=platform.gateway_url,
        session=session,
        timeout=30,
        checks=[
            no_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            aip193_errors,
        ],
    )
