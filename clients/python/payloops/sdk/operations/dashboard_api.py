"""The dashboard API (/api/*): the account, API keys, processors, routing, webhooks and analytics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import quote

from .._http.call import Call, JSONObject, PageCall, compact, query_of
from ..models import (
    AnalyticsSummary,
    ApiKey,
    CreatedApiKey,
    DashboardSession,
    Merchant,
    Order,
    ProcessorConfig,
    RoutingRule,
    RoutingSimulation,
    RoutingStat,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from ..models.base import Model, list_of

M = TypeVar("M", bound=Model)


def _id(value: str) -> str:
    return quote(value, safe="")


def _items(key: str, parse_list: Callable[[Any], list[M]]) -> Callable[[JSONObject], list[M]]:
    def parse(answer: JSONObject) -> list[M]:
        return parse_list(answer.get(key))

    return parse


def _rfc3339(value: datetime | str | None) -> str | None:
    """A datetime as RFC 3339 (a naive one is taken as UTC); a string as given."""
    if isinstance(value, datetime):
        # timezone.utc, not datetime.UTC: the SDK supports Python 3.10.
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()  # noqa: UP017
    return value


def register(*, email: str, password: str, name: str) -> Call[DashboardSession]:
    body = {"email": email, "password": password, "name": name}
    return Call("POST", "/api/auth/register", DashboardSession.from_json, body, authenticated=False)


def login(*, email: str, password: str) -> Call[DashboardSession]:
    body = {"email": email, "password": password}
    return Call("POST", "/api/auth/login", DashboardSession.from_json, body, authenticated=False)


def retrieve_merchant() -> Call[Merchant]:
    return Call("GET", "/api/merchants/me", Merchant.from_json)


def update_merchant(
    *, name: str | None = None, webhook_url: str | None = None, retry_settings: Mapping[str, Any] | None = None
) -> Call[Merchant]:
    body = compact(name=name, webhookUrl=webhook_url, retrySettings=retry_settings)
    return Call("PUT", "/api/merchants/me", Merchant.from_json, body)


def list_api_keys() -> Call[list[ApiKey]]:
    return Call("GET", "/api/api-keys", _items("apiKeys", list_of(ApiKey)))


def create_api_key(*, mode: str = "test", name: str | None = None) -> Call[CreatedApiKey]:
    return Call("POST", "/api/api-keys", CreatedApiKey.from_json, compact(mode=mode, name=name))


def revoke_api_key(key_id: str) -> Call[ApiKey]:
    return Call("DELETE", f"/api/api-keys/{_id(key_id)}", ApiKey.from_json)


def list_processors() -> Call[list[ProcessorConfig]]:
    return Call("GET", "/api/processors", _items("processors", list_of(ProcessorConfig)))


def upsert_processor(
    *, processor: str, credentials: Mapping[str, str], enabled: bool | None = None
) -> Call[ProcessorConfig]:
    body = compact(processor=processor, credentials=dict(credentials), enabled=enabled)
    return Call("POST", "/api/processors", ProcessorConfig.from_json, body)


def list_routing_rules() -> Call[list[RoutingRule]]:
    return Call("GET", "/api/routing-rules", _items("routingRules", list_of(RoutingRule)))


def create_routing_rule(
    *, action: Mapping[str, Any], priority: int = 0, conditions: Mapping[str, Any] | None = None
) -> Call[RoutingRule]:
    """`action` is one of {"single": {"processor"}}, {"priority": {"processors"}},
    {"volumeSplit": {"splits"}}, {"successRate": {"processors", ...}} (camelCase JSON)."""
    body = compact(priority=priority, conditions=dict(conditions) if conditions else None, action=dict(action))
    return Call("POST", "/api/routing-rules", RoutingRule.from_json, body)


def delete_routing_rule(rule_id: str) -> Call[RoutingRule]:
    return Call("DELETE", f"/api/routing-rules/{_id(rule_id)}", RoutingRule.from_json)


def simulate_routing(
    *,
    amount: int,
    currency: str,
    payment_method: Mapping[str, str],
    metadata: Mapping[str, str] | None = None,
    mode: str | None = None,
) -> Call[RoutingSimulation]:
    body = compact(
        amount=amount,
        currency=currency,
        paymentMethod=dict(payment_method),
        metadata=dict(metadata) if metadata is not None else None,
        mode=mode,
    )
    return Call("POST", "/api/routing/simulate", RoutingSimulation.from_json, body)


def routing_stats(*, mode: str | None = None) -> Call[list[RoutingStat]]:
    return Call("GET", "/api/routing/stats", _items("stats", list_of(RoutingStat)), query=query_of(mode=mode))


def list_webhook_endpoints() -> Call[list[WebhookEndpoint]]:
    return Call("GET", "/api/webhook-endpoints", _items("webhookEndpoints", list_of(WebhookEndpoint)))


def create_webhook_endpoint(*, url: str, events: Sequence[WebhookEventType] | None = None) -> Call[WebhookEndpoint]:
    """Without `events` the endpoint receives every event type."""
    body = compact(url=url, events=list(events) if events is not None else None)
    return Call("POST", "/api/webhook-endpoints", WebhookEndpoint.from_json, body)


def delete_webhook_endpoint(endpoint_id: str) -> Call[WebhookEndpoint]:
    return Call("DELETE", f"/api/webhook-endpoints/{_id(endpoint_id)}", WebhookEndpoint.from_json)


def list_webhook_events(
    *, page_size: int | None = None, type: WebhookEventType | None = None, delivery_status: str | None = None
) -> PageCall[WebhookEvent]:
    query = query_of(pageSize=page_size, type=type, deliveryStatus=delivery_status)
    return PageCall("/api/webhook-events", query, "events", WebhookEvent.from_json)


def replay_webhook_event(event_id: str, *, endpoint_id: str | None = None) -> Call[list[WebhookDelivery]]:
    path = f"/api/webhook-events/{_id(event_id)}/replay"
    return Call("POST", path, _items("deliveries", list_of(WebhookDelivery)), compact(endpointId=endpoint_id))


def list_dashboard_orders(*, page_size: int | None = None, status: str | None = None) -> PageCall[Order]:
    return PageCall("/api/orders", query_of(pageSize=page_size, status=status), "orders", Order.from_json)


def analytics_summary(
    *, start: datetime | str | None = None, end: datetime | str | None = None, mode: str | None = None
) -> Call[AnalyticsSummary]:
    """Figures about the orders created in [start, end) (RFC 3339 strings or datetimes, a
    naive one taken as UTC; at most 366 days apart): by default the 30 days before `end`,
    which defaults to now. `mode` is "test" (the default) or "live"."""
    query = query_of(**{"from": _rfc3339(start), "to": _rfc3339(end)}, mode=mode)
    return Call("GET", "/api/analytics/summary", AnalyticsSummary.from_json, query=query)
