"""Which credential each gateway path needs. Pure: no I/O.

The gateway asks before routing, for REST paths (/v1/orders) and for gRPC paths
(/payloops.order.v1.OrderService/CreateOrder) alike. Paths not listed need nothing
here: the gateway answers them 404 (unknown) or serves them itself (/healthz).

API keys work on the merchant API (/v1/*) only and dashboard tokens on the dashboard
API (/api/*) only. A gRPC method needs what its REST binding needs (ListOrders is
bound to both /v1/orders and /api/orders; over gRPC it takes an API key)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Access(Enum):
    PUBLIC = "public"
    API_KEY = "api_key"
    DASHBOARD = "dashboard"


# First matching prefix wins.
RULES: tuple[tuple[str, Access], ...] = (
    ("/v1/", Access.API_KEY),
    ("/api/auth/", Access.PUBLIC),
    ("/api/", Access.DASHBOARD),
    ("/webhooks/", Access.PUBLIC),
    ("/payloops.order.v1.OrderService/GetAnalyticsSummary", Access.DASHBOARD),
    ("/payloops.order.v1.OrderService/", Access.API_KEY),
    ("/payloops.merchant.v1.MerchantService/Register", Access.PUBLIC),
    ("/payloops.merchant.v1.MerchantService/Login", Access.PUBLIC),
    ("/payloops.merchant.v1.MerchantService/", Access.DASHBOARD),
    ("/payloops.webhook.v1.WebhookService/ReceiveProcessorWebhook", Access.PUBLIC),
    ("/payloops.webhook.v1.WebhookService/", Access.DASHBOARD),
)


@dataclass(frozen=True)
class Decision:
    access: Access
    # For processor webhooks (/webhooks/<processor>/<merchant>): the processor whose
    # signature the webhook service must verify.
    processor: str = ""


def decide(path: str) -> Decision:
    path = path.split("?", 1)[0]
    access = next((access for prefix, access in RULES if path.startswith(prefix)), Access.PUBLIC)
    processor = ""
    if path.startswith("/webhooks/"):
        parts = path.split("/")
        processor = parts[2] if len(parts) > 2 else ""
    return Decision(access, processor)
