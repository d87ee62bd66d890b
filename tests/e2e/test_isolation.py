"""Tenant isolation through the gateway: merchant B cannot read, pay, refund, list or
capture merchant A's objects on any route of the contract (404, as for a missing id);
live keys and test keys do not see each other's orders; a merchant's sealed
credentials do not open in another merchant's row, and tampered ones fail closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from payloops.merchant.v1 import merchant_internal_service_pb2 as internal

from launcher.platform import Platform
from tests.merchant.helpers import (
    Merchant,
    aip193,
    assert_no_secrets_in_logs,
    client,
    create_api_key,
    database,
    internal_stub,
    remember,
    set_up_merchant,
)

DESCRIPTOR_SET = Path(__file__).resolve().parents[2] / "gateway" / "payloops.binpb"
VISA = {"type": "card", "token": "pm_card_visa"}


@dataclass
class Objects:
    """Merchant A's objects, by kind."""

    ids: dict[str, str] = field(default_factory=dict)

    def fill(self, path: str) -> str:
        return path.format(**self.ids)


@dataclass(frozen=True)
class Tenants:
    a: Merchant
    b: Merchant
    objects: Objects


def create_order(rest: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = rest.post("/v1/orders", json={"amount": 1500, "currency": "USD", **fields})
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    return order


@contextmanager
def as_merchant(platform: Platform, merchant: Merchant, path: str) -> Iterator[httpx.Client]:
    """A client with the credential the path needs: the API key on /v1, the token on /api."""
    headers = {"X-API-Key": merchant.api_key} if path.startswith("/v1/") else merchant.account.bearer
    with client(platform, **headers) as opened:
        yield opened


def checkout_session(rest: httpx.Client, order_id: str) -> str:
    """A checkout session of the order."""
    answer = rest.post(
        "/v1/checkout/sessions",
        json={"orderId": order_id, "successUrl": "https://a.example.com/ok", "cancelUrl": "https://a.example.com/no"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def first_webhook_event(dashboard: httpx.Client, seconds: float = 30) -> str:
    """A's first webhook event (the paid order's), once the outbox relay has published it."""
    deadline = time.monotonic() + seconds
    while True:
        events = dashboard.get("/api/webhook-events")
        found = events.json().get("events", []) if events.status_code == 200 else []
        assert events.status_code == 200, events.text
        if found:
            return str(found[0]["id"])
        assert time.monotonic() < deadline, "no webhook event was published for A's paid orders"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def tenants(platform: Platform) -> Tenants:
    a, b = set_up_merchant(platform), set_up_merchant(platform)
    objects = Objects()
    with client(platform, **{"X-API-Key": a.api_key}) as rest:
        objects.ids["created_order"] = create_order(rest)["id"]
        objects.ids["checkout_session"] = checkout_session(rest, objects.ids["created_order"])
        paid = create_order(rest, captureMethod="MANUAL")
        answer = rest.post(f"/v1/orders/{paid['id']}/pay", json={"paymentMethod": VISA})
        assert answer.status_code == 200 and answer.json()["status"] == "AUTHORIZED", answer.text
        objects.ids["paid_order"] = paid["id"]
        captured = create_order(rest)
        answer = rest.post(f"/v1/orders/{captured['id']}/pay", json={"paymentMethod": VISA})
        assert answer.status_code == 200 and answer.json()["status"] == "SUCCEEDED", answer.text
        objects.ids["captured_order"] = captured["id"]
        refund = rest.post(f"/v1/orders/{captured['id']}/refund", json={"amount": 100})
        assert refund.status_code == 200, refund.text
        objects.ids["refund"] = refund.json()["id"]
    with client(platform, **a.account.bearer) as dashboard:
        objects.ids["api_key"] = a.key_id
        rule = {"priority": 5, "conditions": {"currency": "USD"}, "action": {"single": {"processor": "stripe"}}}
        objects.ids["routing_rule"] = dashboard.post("/api/routing-rules", json=rule).json()["id"]
        endpoint = dashboard.post("/api/webhook-endpoints", json={"url": "https://a.example.com/hooks"}).json()
        remember(endpoint["secret"])
        objects.ids["webhook_endpoint"] = endpoint["id"]
        objects.ids["webhook_event"] = first_webhook_event(dashboard)
    return Tenants(a, b, objects)


# Every REST route of the contract that a merchant calls, with how B is kept from A's
# objects: "touch" routes name one of A's objects and must answer 404; "list" routes
# must not show A's objects; "own" routes only ever concern the caller.
TOUCH: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("GET", "/v1/orders/{}"): ("/v1/orders/{created_order}", None),
    ("POST", "/v1/orders/{}/pay"): ("/v1/orders/{created_order}/pay", {"paymentMethod": VISA}),
    ("POST", "/v1/orders/{}/capture"): ("/v1/orders/{paid_order}/capture", {}),
    ("POST", "/v1/orders/{}/cancel"): ("/v1/orders/{created_order}/cancel", {}),
    ("POST", "/v1/orders/{}/refund"): ("/v1/orders/{captured_order}/refund", {}),
    ("GET", "/v1/orders/{}/transactions"): ("/v1/orders/{paid_order}/transactions", None),
    ("GET", "/v1/refunds/{}"): ("/v1/refunds/{refund}", None),
    ("POST", "/v1/checkout/sessions"): (
        "/v1/checkout/sessions",
        {
            "orderId": "{created_order}",
            "successUrl": "https://b.example.com/ok",
            "cancelUrl": "https://b.example.com/no",
        },
    ),
    ("GET", "/v1/checkout/sessions/{}"): ("/v1/checkout/sessions/{checkout_session}", None),
    ("POST", "/v1/checkout/sessions/{}/expire"): ("/v1/checkout/sessions/{checkout_session}/expire", {}),
    ("DELETE", "/api/api-keys/{}"): ("/api/api-keys/{api_key}", None),
    ("DELETE", "/api/routing-rules/{}"): ("/api/routing-rules/{routing_rule}", None),
    ("DELETE", "/api/webhook-endpoints/{}"): ("/api/webhook-endpoints/{webhook_endpoint}", None),
    ("POST", "/api/webhook-events/{}/replay"): ("/api/webhook-events/{webhook_event}/replay", {}),
}
LIST: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {
    # route: (path with query, the answer's list field, the kinds of A's objects it could show)
    ("GET", "/v1/orders"): ("/v1/orders?pageSize=100", "orders", ("created_order", "paid_order", "captured_order")),
    ("GET", "/api/orders"): ("/api/orders?pageSize=100", "orders", ("created_order", "paid_order", "captured_order")),
    ("GET", "/api/api-keys"): ("/api/api-keys", "apiKeys", ("api_key",)),
    ("GET", "/api/routing-rules"): ("/api/routing-rules", "routingRules", ("routing_rule",)),
    ("GET", "/api/webhook-endpoints"): ("/api/webhook-endpoints", "webhookEndpoints", ("webhook_endpoint",)),
    ("GET", "/api/webhook-events"): ("/api/webhook-events?pageSize=100", "events", ("webhook_event",)),
}
OWN: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("GET", "/api/merchants/me"): ("/api/merchants/me", None),
    ("PUT", "/api/merchants/me"): ("/api/merchants/me", {"name": "B renamed"}),
    ("GET", "/api/processors"): ("/api/processors", None),
    ("GET", "/api/analytics/summary"): ("/api/analytics/summary", None),
    ("POST", "/api/routing/simulate"): (
        "/api/routing/simulate",
        {"amount": 1500, "currency": "USD", "paymentMethod": VISA},
    ),
    ("GET", "/api/routing/stats"): ("/api/routing/stats", None),
    ("POST", "/v1/orders"): ("/v1/orders", {"amount": 100, "currency": "USD"}),
    ("POST", "/api/api-keys"): ("/api/api-keys", {"mode": "test"}),
    ("POST", "/api/processors"): ("/api/processors", None),  # covered by the masked-credentials check
    ("POST", "/api/routing-rules"): ("/api/routing-rules", None),  # creates B's own; listed above
    ("POST", "/api/webhook-endpoints"): ("/api/webhook-endpoints", None),
}
PUBLIC = {("POST", "/api/auth/register"), ("POST", "/api/auth/login")}


def bound_routes() -> set[tuple[str, str]]:
    """(method, path with "{}" for parameters) of every /v1 and /api binding the gateway serves."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    routes = set()
    for file in files.file:
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    kind = binding.WhichOneof("pattern")
                    if kind in (None, "custom", "body", "response_body"):
                        continue
                    path = getattr(binding, kind)
                    if path.startswith(("/v1/", "/api/")):
                        routes.add((kind.upper(), _template(path)))
    return routes


def _template(path: str) -> str:
    parts = ["{}" if part.startswith("{") else part for part in path.split("/")]
    return "/".join(parts)


def test_the_table_covers_every_route_of_the_contract() -> None:
    covered = set(TOUCH) | set(LIST) | set(OWN) | PUBLIC
    assert bound_routes() == covered


@pytest.mark.parametrize("route", sorted(TOUCH), ids=" ".join)
def test_b_gets_404_for_a_objects(platform: Platform, tenants: Tenants, route: tuple[str, str]) -> None:
    method, _ = route
    path, body = TOUCH[route]
    path = tenants.objects.fill(path)
    payload = {k: tenants.objects.fill(v) if isinstance(v, str) else v for k, v in (body or {}).items()}
    with as_merchant(platform, tenants.b, path) as b:
        answer = b.request(method, path, json=payload if body is not None else None)
    reason, body_ = aip193(answer, 404)
    assert reason.endswith("NOT_FOUND"), body_
    # ...exactly as for an id that does not exist (in the path, or in the body)
    a_id = next(v for v in tenants.objects.ids.values() if v in path or v in payload.values())
    missing = path.replace(a_id, "xx_doesnotexist", 1)
    missing_payload = {k: "xx_doesnotexist" if v == a_id else v for k, v in payload.items()}
    with as_merchant(platform, tenants.b, path) as b:
        twin = b.request(method, missing, json=missing_payload if body is not None else None)
    assert twin.status_code == 404 and aip193(twin, 404)[0] == reason


def test_a_objects_are_untouched_by_b(platform: Platform, tenants: Tenants) -> None:
    ids = tenants.objects.ids
    with client(platform, **{"X-API-Key": tenants.a.api_key}) as rest:  # A's key still works, after B's DELETE
        assert rest.get(f"/v1/orders/{ids['created_order']}").json()["status"] == "CREATED"
        assert rest.get(f"/v1/orders/{ids['paid_order']}").json()["status"] == "AUTHORIZED"
        captured = rest.get(f"/v1/orders/{ids['captured_order']}").json()
        assert (captured["status"], captured["amountRefunded"]) == ("PARTIALLY_REFUNDED", 100)
    with client(platform, **tenants.a.account.bearer) as dashboard:
        assert ids["routing_rule"] in str(dashboard.get("/api/routing-rules").json())
        assert ids["webhook_endpoint"] in str(dashboard.get("/api/webhook-endpoints").json())
        [key] = [k for k in dashboard.get("/api/api-keys").json()["apiKeys"] if k["id"] == ids["api_key"]]
        assert not key.get("revokedAt")


@pytest.mark.parametrize("route", sorted(LIST), ids=" ".join)
def test_b_lists_never_show_a_objects(platform: Platform, tenants: Tenants, route: tuple[str, str]) -> None:
    path, items, kinds = LIST[route]
    a_ids = {tenants.objects.ids[kind] for kind in kinds}
    for merchant, expect_a in ((tenants.b, False), (tenants.a, True)):
        with as_merchant(platform, merchant, path) as caller:
            answer = caller.get(path)
        assert answer.status_code == 200, answer.text
        shown = {item["id"] for item in answer.json().get(items, [])}
        assert bool(shown & a_ids) is expect_a, (merchant.account.merchant_id, shown)


# The creating routes without a body here make B's own objects; the list routes check those.
OWN_CALLED = sorted(route for route, (_, body) in OWN.items() if body is not None or route[0] == "GET")


@pytest.mark.parametrize("route", OWN_CALLED, ids=" ".join)
def test_own_routes_only_concern_the_caller(platform: Platform, tenants: Tenants, route: tuple[str, str]) -> None:
    path, body = OWN[route]
    with as_merchant(platform, tenants.b, path) as b:
        answer = b.request(route[0], path, json=body)
    assert answer.status_code == 200, answer.text
    remember(answer.json().get("secret", "") if isinstance(answer.json(), dict) else "")
    text = answer.text
    assert tenants.a.account.merchant_id not in text and tenants.a.account.email not in text
    if path == "/api/merchants/me":
        assert answer.json()["id"] == tenants.b.account.merchant_id
    if path == "/v1/orders":
        assert answer.json()["merchantId"] == tenants.b.account.merchant_id
    if path == "/api/processors":
        with client(platform, **tenants.a.account.bearer) as a:
            a_masked = [p["maskedCredentials"] for p in a.get(path).json()["processors"]]
        assert all(str(masked) not in text for masked in a_masked)
    if path == "/api/routing/stats":  # A's payments fed A's windows; B has paid nothing
        with client(platform, **tenants.a.account.bearer) as a:
            assert a.get(path).json().get("stats")
        assert answer.json().get("stats", []) == []


# -- modes ----------------------------------------------------------------------------------


def test_live_and_test_keys_do_not_see_each_other_orders(platform: Platform, tenants: Tenants) -> None:
    with client(platform, **tenants.a.account.bearer) as dashboard:
        live_key, _ = create_api_key(dashboard, "live")
    test_order = tenants.objects.ids["created_order"]
    with (
        client(platform, **{"X-API-Key": live_key}) as live,
        client(platform, **{"X-API-Key": tenants.a.api_key}) as test,
    ):
        live_order = create_order(live)["id"]
        assert (
            aip193(live.get(f"/v1/orders/{test_order}"), 404)[0] == aip193(test.get(f"/v1/orders/{live_order}"), 404)[0]
        )
        assert aip193(live.post(f"/v1/orders/{test_order}/cancel", json={}), 404)
        assert aip193(test.post(f"/v1/orders/{live_order}/pay", json={"paymentMethod": VISA}), 404)
        live_ids = {o["id"] for o in live.get("/v1/orders").json()["orders"]}
        test_ids = {o["id"] for o in test.get("/v1/orders").json()["orders"]}
    assert live_order in live_ids and test_order not in live_ids
    assert test_order in test_ids and live_order not in test_ids


# -- sealed credentials -------------------------------------------------------------------------------


Row = tuple[str, bytes, bytes]


@contextmanager
def stripe_row(platform: Platform, merchant_id: str) -> Iterator[tuple[Row, Any]]:
    """The merchant's sealed stripe row, and a setter; the original is put back afterwards."""
    with database(platform) as db:
        original = db.execute(
            "SELECT key_id, nonce, ciphertext FROM merchant.processor_configs"
            " WHERE merchant_id = %s AND processor = 'stripe'",
            (merchant_id,),
        ).fetchone()
        assert original is not None

        def store(row: Row) -> None:
            db.execute(
                "UPDATE merchant.processor_configs SET key_id = %s, nonce = %s, ciphertext = %s"
                " WHERE merchant_id = %s AND processor = 'stripe'",
                (*row, merchant_id),
            )

        try:
            yield (original[0], bytes(original[1]), bytes(original[2])), store
        finally:
            store((original[0], bytes(original[1]), bytes(original[2])))


def credentials_error(platform: Platform, merchant_id: str) -> grpc.RpcError:
    with internal_stub(platform, as_identity="processor-stripe") as stub, pytest.raises(grpc.RpcError) as caught:
        stub.GetProcessorCredentials(
            internal.GetProcessorCredentialsRequest(merchant_id=merchant_id, processor="stripe")
        )
    return caught.value


def assert_payment_fails_closed(platform: Platform, merchant: Merchant) -> None:
    with client(platform, **{"X-API-Key": merchant.api_key}) as rest:
        order = create_order(rest)
        paid = rest.post(f"/v1/orders/{order['id']}/pay", json={"paymentMethod": VISA})
    assert "CREDENTIALS_UNREADABLE" in paid.text, paid.text
    assert paid.status_code != 200 or paid.json()["status"] == "FAILED", paid.text


def test_credentials_swapped_into_another_merchant_row_do_not_open(platform: Platform, tenants: Tenants) -> None:
    victim = set_up_merchant(platform)  # never paid: no processor service has its credentials cached
    with (
        stripe_row(platform, tenants.a.account.merchant_id) as (a_row, _),
        stripe_row(platform, victim.account.merchant_id) as (_, store),
    ):
        store(a_row)
        error = credentials_error(platform, victim.account.merchant_id)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "cannot be decrypted" in (error.details() or "")
        assert_payment_fails_closed(platform, victim)


def test_tampered_credentials_fail_closed_with_a_clear_error(platform: Platform) -> None:
    merchant = set_up_merchant(platform)
    with stripe_row(platform, merchant.account.merchant_id) as ((key_id, nonce, ciphertext), store):
        store((key_id, nonce, bytes([ciphertext[0] ^ 0x01]) + ciphertext[1:]))
        error = credentials_error(platform, merchant.account.merchant_id)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error.details() == "stored stripe credentials cannot be decrypted: credentials failed authentication"
        assert_payment_fails_closed(platform, merchant)
        with client(platform, **merchant.account.bearer) as dashboard:  # the masked view needs no decryption
            assert dashboard.get("/api/processors").status_code == 200


def test_lastly_no_secret_reached_any_log(platform: Platform) -> None:
    assert_no_secrets_in_logs(platform)
