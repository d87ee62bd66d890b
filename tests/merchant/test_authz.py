"""The edge check (ext_authz) in process: which credential works where, the identity
it sets, and the headers it removes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from payloops.envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2

from services.merchant.authenticator import ApiKeyAuthenticator, Principal
from services.merchant.authz import EdgeAuthorizer
from services.merchant.edge_policy import Access, decide
from services.merchant.tokens import DashboardTokens
from services.merchant.usage import KeyUsage

KEY = "sk_test_" + "k" * 43
TOKENS = DashboardTokens(
    secret="t" * 32, algorithm="HS256", issuer="payloops", audience="payloops-dashboard", ttl=timedelta(hours=1)
)


class OneKey(ApiKeyAuthenticator):
    """Knows KEY only, without a database."""

    def __init__(self) -> None:
        pass

    async def authenticate(self, secret: str) -> Principal | None:
        return Principal("mer_key", "test", "key_1") if secret == KEY else None


def check_request(path: str, method: str = "GET", **headers: str) -> external_auth_pb2.CheckRequest:
    http = attribute_context_pb2.AttributeContext.HttpRequest(method=method, path=path, headers=headers)
    return external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            request=attribute_context_pb2.AttributeContext.Request(http=http)
        )
    )


async def answer_to(path: str, method: str = "GET", **headers: str) -> external_auth_pb2.CheckResponse:
    usage = KeyUsage(None, flush_seconds=60)  # type: ignore[arg-type]  # never flushed here
    request = check_request(path, method, **headers)
    return await EdgeAuthorizer(OneKey(), TOKENS, usage).Check(request, None)  # type: ignore[arg-type]


async def check(path: str, **headers: str) -> tuple[dict[str, str], list[str], str]:
    """(headers set, headers removed, denial reason or "") for a listed route."""
    answer = await answer_to(path, **headers)
    if answer.HasField("denied_response"):
        body: dict[str, Any] = json.loads(answer.denied_response.body)
        assert answer.denied_response.status.code == 401 and body["code"] == 16
        return {}, [], str(body["details"][0]["reason"])
    ok = answer.ok_response
    return {h.header.key: h.header.value for h in ok.headers}, list(ok.headers_to_remove), ""


BEARER = f"Bearer {TOKENS.issue('mer_dash').token}"


async def test_dashboard_tokens_open_the_dashboard_api_as_test_mode() -> None:
    for path in ("/api/merchants/me", "/api/orders?pageSize=2", "/payloops.merchant.v1.MerchantService/ListApiKeys"):
        identity, removed, _ = await check(path, authorization=BEARER, **{"x-api-key": KEY})
        assert identity == {
            "x-payloops-merchant-id": "mer_dash",
            "x-payloops-mode": "test",
            "x-payloops-principal": "dashboard",
        }
        assert {"authorization", "x-api-key", "x-payloops-processor"} <= set(removed)
        assert not set(identity) & set(removed)


async def test_api_keys_open_the_merchant_api_and_are_stripped() -> None:
    identity, removed, _ = await check("/v1/orders", **{"x-api-key": KEY})
    assert identity["x-payloops-merchant-id"] == "mer_key" and identity["x-payloops-principal"] == "api_key"
    assert {"authorization", "x-api-key"} <= set(removed)


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/v1/orders", {}, "API_KEY_MISSING"),
        ("/v1/orders", {"x-api-key": "sk_test_" + "x" * 43}, "API_KEY_INVALID"),
        ("/api/merchants/me", {"x-api-key": KEY}, "BEARER_TOKEN_MISSING"),
        ("/api/merchants/me", {"authorization": f"Bearer {KEY}"}, "BEARER_TOKEN_INVALID"),
        ("/api/merchants/me", {"authorization": BEARER.replace("Bearer", "Basic")}, "BEARER_TOKEN_MISSING"),
        ("/api/analytics/summary", {"x-api-key": KEY}, "BEARER_TOKEN_MISSING"),
        ("/payloops.order.v1.OrderService/GetAnalyticsSummary", {"x-api-key": KEY}, "BEARER_TOKEN_MISSING"),
        ("/payloops.order.v1.OrderService/ListOrders", {}, "API_KEY_MISSING"),
    ],
)
async def test_the_dashboard_api_takes_tokens_only(path: str, headers: dict[str, str], reason: str) -> None:
    assert (await check(path, **headers))[2] == reason


async def test_a_dashboard_token_acts_on_the_merchant_api_in_test_mode() -> None:
    identity, removed, _ = await check("/v1/orders", authorization=BEARER)
    assert identity["x-payloops-principal"] == "dashboard" and identity["x-payloops-mode"] == "test"
    assert "authorization" in removed


async def test_public_routes_carry_no_identity_and_no_credentials() -> None:
    identity, removed, _ = await check("/api/auth/login", authorization=BEARER, **{"x-api-key": KEY})
    assert identity == {}
    assert {"authorization", "x-api-key", "x-payloops-merchant-id", "x-payloops-mode"} <= set(removed)
    identity, removed, _ = await check("/webhooks/stripe/mer_1")
    assert identity == {"x-payloops-processor": "stripe"} and "x-payloops-processor" not in removed


def test_analytics_is_a_dashboard_route_over_grpc_too() -> None:
    assert decide("/payloops.order.v1.OrderService/GetAnalyticsSummary").access is Access.DASHBOARD
    assert decide("/payloops.order.v1.OrderService/GetOrder").access is Access.API_KEY


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nothing-here",
        "/api/nothing-here",
        "/payloops.order.v1.OrderService/Nope",
        "/payloops.merchant.v1.MerchantInternalService/GetProcessorCredentials",
        "/unknown?x=1",
    ],
)
async def test_unlisted_paths_are_unknown_routes_whatever_the_credentials(path: str) -> None:
    answer = await answer_to(path, "POST", authorization=BEARER, **{"x-api-key": KEY})
    assert answer.status.code == 5 and answer.denied_response.status.code == 404
    body = json.loads(answer.denied_response.body)
    assert body["code"] == 5 and body["message"] == f"no such route: POST {path.split('?')[0]}"
    assert body["details"][0]["reason"] == "ROUTE_NOT_FOUND" and body["details"][0]["domain"] == "payloops.dev"
    assert not answer.HasField("ok_response")
