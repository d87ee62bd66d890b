"""Which credential each gateway path needs. Pure: no I/O.

The gateway asks before routing, for REST paths (/v1/orders) and for gRPC paths
(/payloops.order.v1.OrderService/CreateOrder) alike. Deny by default: ROUTES lists every
path the gateway serves, and any other path is DENIED (the authorizer answers 404
ROUTE_NOT_FOUND), so a new RPC or route is unreachable from outside until it is listed
here. tests/unit/test_merchant_edge.py checks ROUTES against the descriptor set.

API keys work on the merchant API (/v1/*) only and dashboard tokens on the dashboard
API (/api/*) only. A gRPC method needs what its REST binding needs (ListOrders is
bound to both /v1/orders and /api/orders; over gRPC it takes an API key, as its first
binding does). The internal services (*InternalService, router, processors) are not
listed: never reachable from outside."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Access(Enum):
    PUBLIC = "public"
    API_KEY = "api_key"
    DASHBOARD = "dashboard"
    DENIED = "denied"  # not a route of the gateway


ORDER = "payloops.order.v1.OrderService"
MERCHANT = "payloops.merchant.v1.MerchantService"
WEBHOOK = "payloops.webhook.v1.WebhookService"


def rpcs(service: str, access: Access, *methods: str) -> tuple[tuple[str, Access], ...]:
    return tuple((f"/{service}/{method}", access) for method in methods)


# Any HTTP method: where a path has several, they need the same credential. `{name}` is
# one non-empty path segment; a final `**` is the rest of the path.
ROUTES: tuple[tuple[str, Access], ...] = (
    # The merchant API.
    ("/v1/orders", Access.API_KEY),
    ("/v1/orders/{id}", Access.API_KEY),
    ("/v1/orders/{id}/pay", Access.API_KEY),
    ("/v1/orders/{id}/capture", Access.API_KEY),
    ("/v1/orders/{id}/cancel", Access.API_KEY),
    ("/v1/orders/{id}/refund", Access.API_KEY),
    ("/v1/orders/{order_id}/transactions", Access.API_KEY),
    ("/v1/refunds/{id}", Access.API_KEY),
    ("/v1/checkout/sessions", Access.API_KEY),
    ("/v1/checkout/sessions/{id}", Access.API_KEY),
    ("/v1/checkout/sessions/{id}/expire", Access.API_KEY),
    # The dashboard API.
    ("/api/auth/register", Access.PUBLIC),
    ("/api/auth/login", Access.PUBLIC),
    ("/api/merchants/me", Access.DASHBOARD),
    ("/api/api-keys", Access.DASHBOARD),
    ("/api/api-keys/{id}", Access.DASHBOARD),
    ("/api/processors", Access.DASHBOARD),
    ("/api/routing-rules", Access.DASHBOARD),
    ("/api/routing-rules/{id}", Access.DASHBOARD),
    ("/api/routing/simulate", Access.DASHBOARD),
    ("/api/routing/stats", Access.DASHBOARD),
    ("/api/webhook-endpoints", Access.DASHBOARD),
    ("/api/webhook-endpoints/{id}", Access.DASHBOARD),
    ("/api/webhook-events", Access.DASHBOARD),
    ("/api/webhook-events/{id}/replay", Access.DASHBOARD),
    ("/api/orders", Access.DASHBOARD),
    ("/api/analytics/summary", Access.DASHBOARD),
    # Processor webhooks: the webhook service verifies the processor's signature.
    ("/webhooks/stripe/{merchant_id}", Access.PUBLIC),
    ("/webhooks/razorpay/{merchant_id}", Access.PUBLIC),
    # Answered by the gateway itself and the web service (hosted checkout, the dashboard's
    # build); gateway/envoy.yaml does not ask about them today.
    ("/healthz", Access.PUBLIC),
    ("/openapi.json", Access.PUBLIC),
    ("/", Access.PUBLIC),
    ("/dashboard", Access.PUBLIC),
    ("/dashboard/**", Access.PUBLIC),
    ("/checkout/assets/checkout.css", Access.PUBLIC),
    ("/checkout/{session_id}", Access.PUBLIC),
    ("/checkout/{session_id}/pay", Access.PUBLIC),
    ("/checkout/{session_id}/return", Access.PUBLIC),
    ("/checkout/{session_id}/cancel", Access.PUBLIC),
    # gRPC.
    *rpcs(
        ORDER,
        Access.API_KEY,
        "CreateOrder",
        "GetOrder",
        "ListOrders",
        "PayOrder",
        "CaptureOrder",
        "CancelOrder",
        "RefundOrder",
        "ListTransactions",
        "GetRefund",
        "CreateCheckoutSession",
        "GetCheckoutSession",
        "ExpireCheckoutSession",
    ),
    *rpcs(ORDER, Access.DASHBOARD, "GetAnalyticsSummary"),
    *rpcs(MERCHANT, Access.PUBLIC, "Register", "Login"),
    *rpcs(
        MERCHANT,
        Access.DASHBOARD,
        "GetMerchant",
        "UpdateMerchant",
        "ListApiKeys",
        "CreateApiKey",
        "RevokeApiKey",
        "ListProcessorConfigs",
        "SetProcessorConfig",
        "ListRoutingRules",
        "CreateRoutingRule",
        "DeleteRoutingRule",
        "SimulateRouting",
        "GetRoutingStats",
        "ListWebhookEndpoints",
        "CreateWebhookEndpoint",
        "DeleteWebhookEndpoint",
    ),
    *rpcs(WEBHOOK, Access.PUBLIC, "ReceiveProcessorWebhook"),
    *rpcs(WEBHOOK, Access.DASHBOARD, "ListWebhookEvents", "ReplayWebhookEvent"),
)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    segments = pattern.split("/")
    regex = ["[^/]+" if s.startswith("{") else ".*" if s == "**" else re.escape(s) for s in segments]
    return re.compile("/".join(regex))


COMPILED = tuple((compile_pattern(pattern), access) for pattern, access in ROUTES)


@dataclass(frozen=True)
class Decision:
    access: Access
    # For processor webhooks (/webhooks/<processor>/<merchant>): the processor whose
    # signature the webhook service must verify.
    processor: str = ""


def decide(path: str) -> Decision:
    path = path.split("?", 1)[0]
    segments = path.split("/")
    # A hop that normalised the path would serve /dashboard/../api/orders as /api/orders.
    if "." in segments or ".." in segments:
        return Decision(Access.DENIED)
    access = next((access for regex, access in COMPILED if regex.fullmatch(path)), Access.DENIED)
    processor = segments[2] if access is Access.PUBLIC and segments[1] == "webhooks" else ""
    return Decision(access, processor)
