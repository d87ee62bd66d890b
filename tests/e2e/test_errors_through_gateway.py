"""Bad input, unknown routes and missing credentials get AIP-193 JSON answers."""

from __future__ import annotations

import json
from typing import Any

import grpc
import httpx
import pytest
from payloops.order.v1 import order_service_pb2, order_service_pb2_grpc
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc

from launcher.platform import REPO_ROOT, Platform
from tests.merchant.helpers import client, set_up_merchant


def error(answer: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """Assert an AIP-193 body: {"code", "message", "details": [ErrorInfo, ...]}; return ErrorInfo."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == code and body["message"]
    info: dict[str, Any] = next(d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo"))
    assert info["reason"].isupper()
    return info


def violations(answer: httpx.Response) -> list[str]:
    bad = [d for d in answer.json()["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    return [v["field"] for v in bad[0]["fieldViolations"]] if bad else []


def count_orders(rest: httpx.Client) -> int:
    return len(rest.get("/v1/orders", params={"pageSize": 100}).json().get("orders", []))


@pytest.mark.parametrize(
    ("body", "reason", "fields"),
    [
        ({"currency": "USD"}, "AMOUNT_INVALID", ["amount"]),  # missing required field
        ({"amountt": 100, "currency": "USD"}, "AMOUNT_INVALID", ["amount"]),  # misspelt required field
        ({"amount": 0, "currency": "USD"}, "AMOUNT_INVALID", ["amount"]),
        ({"amount": -1, "currency": "USD"}, "AMOUNT_INVALID", ["amount"]),
        ({"amount": 100_000_000, "currency": "USD"}, "AMOUNT_INVALID", ["amount"]),
        ({"amount": 100}, "CURRENCY_INVALID", ["currency"]),
        ({"amount": 100, "currency": "ABC"}, "CURRENCY_INVALID", ["currency"]),
        # PostgreSQL text cannot hold NUL: refused up front, never a 500
        ({"amount": 100, "currency": "USD", "description": "a\u0000b"}, "REQUEST_INVALID_CHARACTERS", ["description"]),
        (
            {"amount": 100, "currency": "USD", "metadata": {"k": "\u0000"}},
            "REQUEST_INVALID_CHARACTERS",
            ["metadata['k']"],
        ),
    ],
)
def test_invalid_orders_are_refused_and_nothing_is_written(
    rest: httpx.Client, body: dict[str, Any], reason: str, fields: list[str]
) -> None:
    before = count_orders(rest)
    answer = rest.post("/v1/orders", json=body)
    assert error(answer, 400, 3)["reason"] == reason
    assert violations(answer) == fields
    assert count_orders(rest) == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"amount": 100, "currency": ',  # malformed JSON
        b'{"amount": "lots", "currency": "USD"}',  # wrong type
        b'{"amount": 19.99, "currency": "USD"}',  # not an integer
        b'{"amount": 100, "currency": "USD", "captureMethod": "SOMETIMES"}',  # unknown enum value
    ],
)
def test_undecodable_bodies_get_a_json_400(rest: httpx.Client, raw: bytes) -> None:
    answer = rest.post("/v1/orders", content=raw, headers={"content-type": "application/json"})
    error(answer, 400, 3)


def test_a_body_the_gateway_cannot_make_a_message_of_is_a_400_everywhere(
    platform: Platform, rest: httpx.Client
) -> None:
    """Nested objects where the proto has a map of strings: Envoy transcodes them into bytes
    the service cannot decode, which grpc answers UNKNOWN (a 500) unless told otherwise."""
    before = count_orders(rest)
    answer = rest.post("/v1/orders", json={"amount": 100, "currency": "USD", "metadata": {"a": {"b": {}}}})
    assert error(answer, 400, 3)["reason"] == "REQUEST_MALFORMED"
    assert count_orders(rest) == before
    merchant = set_up_merchant(platform)
    with client(platform, **merchant.account.bearer) as dashboard:
        nested = dashboard.post("/api/processors", json={"processor": "stripe", "credentials": {"a": {"b": {}}}})
        assert error(nested, 400, 3)["reason"] == "REQUEST_MALFORMED"


@pytest.mark.parametrize("path", ["/v1/orders/ord_%00", "/v1/orders/ord_%00/transactions", "/v1/refunds/ref_%00"])
def test_a_nul_character_in_an_id_is_a_400_not_a_500(rest: httpx.Client, path: str) -> None:
    assert error(rest.get(path), 400, 3)["reason"] == "REQUEST_INVALID_CHARACTERS"


def test_unknown_routes_are_json_404(rest: httpx.Client, anonymous: httpx.Client) -> None:
    assert error(rest.get("/v1/nothing-here"), 404, 5)["reason"] == "ROUTE_NOT_FOUND"
    assert error(rest.get("/elsewhere"), 404, 5)["reason"] == "ROUTE_NOT_FOUND"
    # Deny by default (services/merchant/edge_policy.py): an unknown route asks for no credential.
    for path in ("/v1/nothing-here", "/api/nothing-here", "/api/auth/logout", "/webhooks/paypal/mer_1"):
        assert error(anonymous.post(path, json={}), 404, 5)["reason"] == "ROUTE_NOT_FOUND"


def test_unknown_grpc_methods_are_unimplemented(gateway_channel: grpc.Channel, merchant_a: dict[str, str]) -> None:
    nope: grpc.UnaryUnaryMultiCallable[bytes, bytes] = gateway_channel.unary_unary(
        "/payloops.order.v1.OrderService/Nope"
    )
    with pytest.raises(grpc.RpcError) as caught:
        nope(b"", metadata=(("x-api-key", merchant_a["api_key"]),))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_missing_or_wrong_api_key_is_json_401(anonymous: httpx.Client) -> None:
    assert error(anonymous.get("/v1/orders"), 401, 16)["reason"] == "API_KEY_MISSING"
    wrong = anonymous.get("/v1/orders", headers={"X-API-Key": "sk_test_" + "x" * 43})
    assert error(wrong, 401, 16)["reason"] == "API_KEY_INVALID"
    assert error(anonymous.get("/v1/orders", headers={"X-API-Key": "nope"}), 401, 16)["reason"] == "API_KEY_INVALID"


def test_oversized_bodies_are_refused(rest: httpx.Client) -> None:
    huge = {"amount": 100, "currency": "USD", "description": "x" * 2_000_000}
    answer = rest.post("/v1/orders", json=huge)
    assert answer.status_code == 413
    assert answer.json()["details"][0]["reason"] == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize("name", ["+j", "8~rysqffb", "a*b", "a#b|c", "x!"])
def test_a_header_name_grpc_cannot_carry_is_dropped_not_a_500(rest: httpx.Client, name: str) -> None:
    """HTTP allows these header names; gRPC metadata does not, and would fail the call."""
    http = rest.build_request("GET", "/v1/orders")
    http.headers[name] = "value"
    answer = rest.send(http)
    assert answer.status_code == 200, answer.text


def test_the_openapi_document_is_served_without_auth(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/openapi.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document == json.loads((REPO_ROOT / "gateway" / "openapi.json").read_text())
    assert document["openapi"] == "3.1.0"
    assert {"post", "get"} <= set(document["paths"]["/v1/orders"])
    assert document["paths"]["/v1/orders/{id}/pay"]["post"]["security"] == [{"apiKey": []}]
    assert document["paths"]["/api/auth/login"]["post"]["security"] == []


def test_gateway_health(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "SERVING"


def test_grpc_without_a_key_is_unauthenticated(gateway_channel: grpc.Channel) -> None:
    stub = order_service_pb2_grpc.OrderServiceStub(gateway_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListOrders(order_service_pb2.ListOrdersRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_internal_services_are_not_reachable_through_the_gateway(
    gateway_channel: grpc.Channel, merchant_a: dict[str, str]
) -> None:
    stub = router_service_pb2_grpc.RouterServiceStub(gateway_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Route(router_service_pb2.RouteRequest(), metadata=(("x-api-key", merchant_a["api_key"]),))
    assert caught.value.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND)


def test_every_service_serves_health_and_reflection(platform: Platform) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    for name in platform.service_addrs:
        with platform.channel(name, as_identity="operator") as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING, name
            answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            services = {s.name for answer in answers for s in answer.list_services_response.service}
            assert "grpc.health.v1.Health" in services, name
            serves_api = any(s.startswith("payloops.") for s in services)
            assert serves_api or name in ("order_worker", "webhook_worker"), name  # workers serve health only
