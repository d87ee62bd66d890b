"""Typed API objects."""

from .account import ApiKey, CreatedApiKey, DashboardSession, Merchant, ProcessorConfig
from .base import Model
from .payments import AnalyticsSummary, CheckoutSession, NextAction, Order, Refund, RoutingDecision, Transaction
from .routing import RoutingCandidate, RoutingRule, RoutingSimulation, RoutingStat
from .webhooks import DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AnalyticsSummary",
    "ApiKey",
    "CheckoutSession",
    "CreatedApiKey",
    "DashboardSession",
    "DeliveryAttempt",
    "Merchant",
    "Model",
    "NextAction",
    "Order",
    "ProcessorConfig",
    "Refund",
    "RoutingCandidate",
    "RoutingDecision",
    "RoutingRule",
    "RoutingSimulation",
    "RoutingStat",
    "Transaction",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
