import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from gateway.openapi import PUBLIC_SERVICES, bindings
from services.merchant.credentials import CredentialCipher, CredentialsUnreadable, Sealed, mask
from services.merchant.edge_policy import Access, Decision, decide
from services.merchant.keys import issue_key, key_hash, key_matches, parse_key
from services.web.app import Dashboard, build_app
from services.web.checkout import Checkout

SECRET = "s" * 32
DESCRIPTOR_SET = Path(__file__).resolve().parents[2] / "gateway" / "payloops.binpb"


@pytest.mark.parametrize(
    ("path", "access", "processor"),
    [
        ("/v1/orders", Access.API_KEY, ""),
        ("/v1/orders?pageSize=2", Access.API_KEY, ""),
        ("/v1/orders/ord_1/pay", Access.API_KEY, ""),
        ("/api/auth/login", Access.PUBLIC, ""),
        ("/api/orders", Access.DASHBOARD, ""),
        ("/api/routing/simulate", Access.DASHBOARD, ""),
        ("/api/routing/stats?mode=live", Access.DASHBOARD, ""),
        ("/v1/checkout/sessions/cs_1", Access.API_KEY, ""),
        ("/v1/checkout/sessions/cs_1/expire", Access.API_KEY, ""),
        ("/webhooks/stripe/mer_1", Access.PUBLIC, "stripe"),
        ("/webhooks/razorpay/mer_1", Access.PUBLIC, "razorpay"),
        ("/payloops.order.v1.OrderService/CreateOrder", Access.API_KEY, ""),
        ("/payloops.order.v1.OrderService/GetCheckoutSession", Access.API_KEY, ""),
        ("/payloops.order.v1.OrderService/ExpireCheckoutSession", Access.API_KEY, ""),
        ("/payloops.merchant.v1.MerchantService/Login", Access.PUBLIC, ""),
        ("/payloops.merchant.v1.MerchantService/ListApiKeys", Access.DASHBOARD, ""),
        ("/payloops.merchant.v1.MerchantService/SimulateRouting", Access.DASHBOARD, ""),
        ("/payloops.merchant.v1.MerchantService/GetRoutingStats", Access.DASHBOARD, ""),
        ("/payloops.webhook.v1.WebhookService/ListWebhookEvents", Access.DASHBOARD, ""),
        ("/healthz", Access.PUBLIC, ""),
        ("/openapi.json", Access.PUBLIC, ""),
        ("/", Access.PUBLIC, ""),
        ("/dashboard/", Access.PUBLIC, ""),
        ("/dashboard/orders/ord_1", Access.PUBLIC, ""),
        ("/checkout/cs_1?from=email", Access.PUBLIC, ""),
        ("/unknown", Access.DENIED, ""),
    ],
)
def test_edge_policy(path: str, access: Access, processor: str) -> None:
    decision = decide(path)
    assert (decision.access, decision.processor) == (access, processor)


def public_bindings() -> Iterator[tuple[str, list[str]]]:
    """(gRPC path, REST paths with the first binding first) of each method of the public services."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    for file in files.file:
        for service in file.service:
            if f"{file.package}.{service.name}" not in PUBLIC_SERVICES:
                continue
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                yield f"/{file.package}.{service.name}/{method.name}", [b.path for b in bindings(rule)]


def internal_methods() -> list[str]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    return [
        f"/{file.package}.{service.name}/{method.name}"
        for file in files.file
        for service in file.service
        if f"{file.package}.{service.name}" not in PUBLIC_SERVICES
        for method in service.method
    ]


def family(rest_path: str) -> Access:
    """API keys on /v1, dashboard tokens on /api but sign-up and login, signatures on /webhooks."""
    if rest_path.startswith("/v1/"):
        return Access.API_KEY
    if rest_path.startswith(("/api/auth/", "/webhooks/")):
        return Access.PUBLIC
    assert rest_path.startswith("/api/"), rest_path
    return Access.DASHBOARD


def test_every_route_of_the_public_services_is_listed() -> None:
    methods = list(public_bindings())
    assert len(methods) > 30
    for grpc_path, rest_paths in methods:
        assert decide(grpc_path).access is not Access.DENIED, grpc_path
        for rest_path in rest_paths:
            assert decide(rest_path).access is family(rest_path), rest_path
        # Over gRPC a method needs what its (first) REST binding needs.
        assert not rest_paths or decide(grpc_path).access is family(rest_paths[0]), grpc_path


def test_every_web_page_is_public() -> None:
    checkout = Checkout(None, None, return_wait_seconds=0, call_timeout=1)  # type: ignore[arg-type]
    app = build_app(checkout, Dashboard(Path("nowhere")))
    pages = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    assert {"/", "/dashboard/{path}", "/checkout/{session_id}/pay"} <= pages
    for page in pages:
        assert decide(page).access is Access.PUBLIC, page


def test_internal_services_are_denied() -> None:
    methods = internal_methods()
    assert any("InternalService/" in m for m in methods) and any("RouterService/" in m for m in methods)
    for method in methods:
        assert decide(method).access is Access.DENIED, method


@pytest.mark.parametrize(
    "path",
    [
        "",
        "*",
        "/unknown",
        "/v1",
        "/v1/",
        "/v1/nothing-here",
        "/v1/orders/",
        "/v1/orders//pay",
        "/v1/orders/ord_1/pay/now",
        "/v1/orders/ord_1/delete",
        "/v1/refunds",
        "/V1/orders",
        "/v2/orders",
        "/api",
        "/api/",
        "/api/auth/",
        "/api/auth/logout",
        "/api/auth/login/extra",
        "/api/orders/ord_1",
        "/api/merchants/mer_1",
        "/api/internal/credentials",
        "/webhooks/",
        "/webhooks/stripe",
        "/webhooks/stripe/",
        "/webhooks/paypal/mer_1",
        "/webhooks/stripe/mer_1/extra",
        "/dashboard/../api/orders",
        "/checkout/./cs_1",
        "/healthz/x",
        "/openapi.json.bak",
        "/checkout",
        "/checkout/",
        "/checkout/cs_1/refund",
        "/payloops.order.v1.OrderService/",
        "/payloops.order.v1.OrderService/Nope",
        "/payloops.order.v1.OrderService/CreateOrder/x",
        "/payloops.order.v1.OrderServiceX/CreateOrder",
        "/payloops.order.v2.OrderService/CreateOrder",
        "/payloops.merchant.v1.MerchantInternalService/GetProcessorCredentials",
        "/grpc.health.v1.Health/Check",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/envoy.service.auth.v3.Authorization/Check",
    ],
)
def test_anything_unlisted_is_denied(path: str) -> None:
    assert decide(path) == Decision(Access.DENIED)


def test_issued_keys_parse_and_verify() -> None:
    issued = issue_key("live")
    assert issued.secret.startswith("sk_live_") and len(issued.secret) >= 8 + 43
    assert parse_key(issued.secret) == ("live", issued.lookup)
    stored = key_hash(issued.secret, hmac_secret=SECRET)
    assert key_matches(issued.secret, stored, hmac_secret=SECRET)
    assert not key_matches(issued.secret + "x", stored, hmac_secret=SECRET)
    assert not key_matches(issued.secret, stored, hmac_secret=SECRET + "x")


@pytest.mark.parametrize("bad", ["", "sk_test_short", "pk_test_" + "a" * 43, "sk_prod_" + "a" * 43])
def test_malformed_keys_do_not_parse(bad: str) -> None:
    assert parse_key(bad) is None


def cipher(**keys: bytes) -> CredentialCipher:
    encoded = {k: base64.b64encode(v).decode() for k, v in keys.items()}
    return CredentialCipher(encoded, active_key_id=next(iter(keys)))


def test_credentials_round_trip_and_never_hold_the_plaintext() -> None:
    box = cipher(k1=os.urandom(32))
    sealed = box.seal("mer_a", {"secretKey": "sk_test_supersecret"})
    assert b"supersecret" not in sealed.ciphertext and len(sealed.nonce) == 12
    assert box.open("mer_a", sealed) == {"secretKey": "sk_test_supersecret"}
    assert box.seal("mer_a", {"secretKey": "x"}).nonce != box.seal("mer_a", {"secretKey": "x"}).nonce


def test_credentials_are_bound_to_their_merchant_and_fail_closed() -> None:
    box = cipher(k1=os.urandom(32))
    sealed = box.seal("mer_a", {"secretKey": "sk"})
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_b", sealed)
    tampered = Sealed(sealed.key_id, sealed.nonce, bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:])
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_a", tampered)
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_a", Sealed("gone", sealed.nonce, sealed.ciphertext))


def test_mask_shows_only_the_last_four() -> None:
    assert mask("sk_test_abcdef1234").endswith("1234") and "abcdef" not in mask("sk_test_abcdef1234")
    assert mask("abc") == "••••"
