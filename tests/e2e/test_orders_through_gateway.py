"""Orders through the public surfaces: REST via Envoy and the generated gRPC stubs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import httpx
import pytest
from payloops.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc

from launcher.platform import Platform

ORDER = {
    "amount": 1999,
    "currency": "USD",
    "customerEmail": "ada@example.com",
    "description": "two teas",
    "metadata": {"cart": "c_42"},
}


def create(rest: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = rest.post("/v1/orders", json={**ORDER, **fields})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_create_order_answers_the_contract_shape(rest: httpx.Client, merchant_a: dict[str, str]) -> None:
    order = create(rest)
    assert order["id"].startswith("ord_")
    assert order["merchantId"] == merchant_a["merchant_id"]
    assert order["amount"] == 1999  # a JSON number, not a string
    assert (order["currency"], order["status"], order["captureMethod"]) == ("USD", "CREATED", "AUTOMATIC")
    assert (order["customerEmail"], order["description"], order["metadata"]) == (
        "ada@example.com",
        "two teas",
        {"cart": "c_42"},
    )
    created = dt.datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00"))
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=1)
    assert order["createdAt"].endswith("Z") and order["updatedAt"].endswith("Z")


def test_order_reads_back_through_rest_and_the_grpc_stub(
    rest: httpx.Client, gateway_channel: grpc.Channel, merchant_a: dict[str, str]
) -> None:
    order = create(rest, captureMethod="MANUAL", currency="JPY", amount=500)
    assert rest.get(f"/v1/orders/{order['id']}").json() == order

    stub = order_service_pb2_grpc.OrderServiceStub(gateway_channel)
    answer = stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=order["id"]), metadata=(("x-api-key", merchant_a["api_key"]),)
    )
    assert (answer.id, answer.amount, answer.currency) == (order["id"], 500, "JPY")
    assert answer.capture_method == order_pb2.Order.MANUAL
    assert answer.status == order_pb2.Order.CREATED


def test_grpc_clients_create_orders_through_the_gateway(
    rest: httpx.Client, gateway_channel: grpc.Channel, merchant_a: dict[str, str]
) -> None:
    stub = order_service_pb2_grpc.OrderServiceStub(gateway_channel)
    created = stub.CreateOrder(
        order_service_pb2.CreateOrderRequest(amount=250, currency="EUR"),
        metadata=(("x-api-key", merchant_a["api_key"]),),
    )
    assert rest.get(f"/v1/orders/{created.id}").json()["amount"] == 250


def test_list_orders_pages_newest_first_and_filters_by_status(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.conftest import seed_merchant

    fresh = seed_merchant(platform, tmp_path_factory.mktemp("lister") / "key.json")
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": fresh["api_key"]}) as rest:
        ids = [create(rest, amount=100 + i)["id"] for i in range(5)]
        seen: list[str] = []
        token = ""
        while True:
            page = rest.get("/v1/orders", params={"pageSize": 2, "pageToken": token}).json()
            assert len(page["orders"]) <= 2
            seen += [o["id"] for o in page["orders"]]
            token = page.get("nextPageToken", "")
            if not token:
                break
        assert seen == list(reversed(ids))
        assert rest.get("/v1/orders", params={"status": "SUCCEEDED"}).json().get("orders", []) == []
        assert len(rest.get("/v1/orders", params={"status": "CREATED"}).json()["orders"]) == 5


def test_another_merchants_order_is_not_found(
    rest: httpx.Client, merchant_b: dict[str, str], platform: Platform
) -> None:
    order = create(rest)
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": merchant_b["api_key"]}) as other:
        theirs = other.get(f"/v1/orders/{order['id']}")
        missing = other.get("/v1/orders/ord_doesnotexist")
        assert order["id"] not in [o["id"] for o in other.get("/v1/orders").json().get("orders", [])]
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["details"][0]["reason"] == missing.json()["details"][0]["reason"] == "ORDER_NOT_FOUND"


def test_identity_headers_sent_by_a_client_are_ignored(
    rest: httpx.Client, merchant_b: dict[str, str], platform: Platform
) -> None:
    order = create(rest)
    spoof = {"X-API-Key": merchant_b["api_key"], "x-payloops-merchant-id": order["merchantId"]}
    with httpx.Client(base_url=platform.gateway_url, headers=spoof) as other:
        assert other.get(f"/v1/orders/{order['id']}").status_code == 404
        mine = other.post("/v1/orders", json=ORDER).json()
    assert mine["merchantId"] == merchant_b["merchant_id"]
