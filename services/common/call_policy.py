"""Which component may call which method: the mesh's one call policy. Pure: no I/O.

A method not listed here is refused to everyone. Merchant identity metadata (the
`x-payloops-*` headers the gateway's authorization step sets) is believed only from the
gateway: internal methods take the merchant as a request field that the calling
component got from an order it owns, never from a header it could forge."""

from __future__ import annotations

from collections.abc import Iterable

from services.common.errors import PermissionDenied, Unauthenticated
from services.common.mesh import IDENTITIES

GATEWAY = frozenset({"gateway"})
ORDER_SIDE = frozenset({"order", "order-worker"})
PROCESSORS = frozenset({"processor-stripe", "processor-razorpay"})
EVERY_COMPONENT = frozenset(IDENTITIES)

# Full service name, or full method name "service/Method" (a method entry wins).
POLICY: dict[str, frozenset[str]] = {
    # the public API: only through the gateway
    "payloops.merchant.v1.MerchantService": GATEWAY,
    "payloops.order.v1.OrderService": GATEWAY,
    "payloops.webhook.v1.WebhookService": GATEWAY,
    "envoy.service.auth.v3.Authorization": GATEWAY,
    # internal
    "payloops.merchant.v1.MerchantInternalService/GetProcessorCredentials": PROCESSORS,
    "payloops.merchant.v1.MerchantInternalService/GetRoutingConfig": frozenset({"router"}),
    "payloops.merchant.v1.MerchantInternalService/ListWebhookSubscriptions": frozenset({"webhook", "webhook-worker"}),
    "payloops.merchant.v1.MerchantInternalService/GetMerchantProfile": frozenset({"web"}),
    "payloops.order.v1.OrderInternalService/ApplyProcessorEvent": frozenset({"webhook"}),
    "payloops.order.v1.OrderInternalService/Reconcile": frozenset({"operator"}),
    "payloops.order.v1.OrderInternalService/GetCheckoutPage": frozenset({"web"}),
    "payloops.order.v1.OrderInternalService/PayCheckoutSession": frozenset({"web"}),
    "payloops.router.v1.RouterService/Route": ORDER_SIDE | {"merchant"},
    "payloops.router.v1.RouterService/RecordOutcome": ORDER_SIDE,
    "payloops.router.v1.RouterService/GetStats": frozenset({"merchant"}),
    "payloops.processor.v1.ProcessorService": ORDER_SIDE,
    "payloops.processor.v1.ProcessorService/ParseWebhook": frozenset({"webhook"}),
    "payloops.webhook.v1.WebhookInternalService/PublishEvent": ORDER_SIDE,
    # operations: every component probes health (its own, in Kubernetes); reflection is
    # for an operator's tools
    "grpc.health.v1.Health": EVERY_COMPONENT,
    "grpc.reflection.v1alpha.ServerReflection": frozenset({"operator"}),
    "grpc.reflection.v1.ServerReflection": frozenset({"operator"}),
}

IDENTITY_METADATA_PREFIX = "x-payloops-"


def allowed_callers(method: str) -> frozenset[str]:
    """Who may call `method` ("/package.Service/Method"); empty when nobody may."""
    full = method.lstrip("/")
    service = full.partition("/")[0]
    return POLICY.get(full, POLICY.get(service, frozenset()))


def authorize(method: str, caller: str | None, metadata_keys: Iterable[str]) -> None:
    """Raise unless `caller` (a verified mesh identity) may call `method` with this metadata."""
    if caller is None:
        raise Unauthenticated(message="a mesh client certificate is required", reason="MESH_IDENTITY_MISSING")
    if caller not in allowed_callers(method):
        raise PermissionDenied(
            message=f"{caller} may not call {method}",
            reason="MESH_CALL_NOT_ALLOWED",
            metadata={"caller": caller},
        )
    if caller not in GATEWAY and any(key.startswith(IDENTITY_METADATA_PREFIX) for key in metadata_keys):
        raise PermissionDenied(
            message=f"{caller} may not assert a merchant identity",
            reason="MESH_IDENTITY_METADATA_NOT_ALLOWED",
            metadata={"caller": caller},
        )
