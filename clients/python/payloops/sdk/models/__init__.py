"""Typed API objects."""

from .account import ApiKey, CreatedApiKey, DashboardSession, Merchant, ProcessorConfig
from .analytics import (
    AnalyticsSummary,
    CurrencyTotals,
    DailyTotals,
    FailureCodeCount,
    ProcessorTotals,
    RefundTotals,
    StatusTotals,
    Totals,
    Volume,
    volumes_by_currency,
)
from .base import Model
from .payments import CheckoutSession, NextAction, Order, Refund, RoutingDecision, Transaction
from .routing import RoutingCandidate, RoutingRule, RoutingSimulation, RoutingStat
from .webhooks import (
    WEBHOOK_EVENT_TYPES,
    DeliveryAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

__all__ = [
    "WEBHOOK_EVENT_TYPES",
    "AnalyticsSummary",
    "ApiKey",
    "CheckoutSession",
    "CreatedApiKey",
    "CurrencyTotals",
    "DailyTotals",
    "DashboardSession",
    "DeliveryAttempt",
    "FailureCodeCount",
    "Merchant",
    "Model",
    "NextAction",
    "Order",
    "ProcessorConfig",
    "ProcessorTotals",
    "Refund",
    "RefundTotals",
    "RoutingCandidate",
    "RoutingDecision",
    "RoutingRule",
    "RoutingSimulation",
    "RoutingStat",
    "StatusTotals",
    "Totals",
    "Transaction",
    "Volume",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
    "volumes_by_currency",
]
