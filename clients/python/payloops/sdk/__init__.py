"""The PayLoops merchant SDK: the merchant API (`PayLoops`, `AsyncPayLoops`), the
dashboard API (`Dashboard`, `AsyncDashboard`), typed errors and webhook verification."""

from . import webhooks
from ._http.config import DEFAULT_BASE_URL, RetryPolicy
from .client import AsyncPayLoops, PayLoops
from .dashboard import AsyncDashboard, Dashboard
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    FieldViolation,
    InvalidRequestError,
    NotFoundError,
    PayLoopsError,
    PermissionDeniedError,
    RateLimitError,
)
from .models import (
    AnalyticsSummary,
    ApiKey,
    CheckoutSession,
    CreatedApiKey,
    DashboardSession,
    DeliveryAttempt,
    Merchant,
    NextAction,
    Order,
    ProcessorConfig,
    Refund,
    RoutingCandidate,
    RoutingDecision,
    RoutingRule,
    RoutingSimulation,
    RoutingStat,
    Transaction,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .webhooks import WebhookVerificationError

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "AnalyticsSummary",
    "ApiKey",
    "AsyncDashboard",
    "AsyncPayLoops",
    "AuthenticationError",
    "CheckoutSession",
    "ConflictError",
    "CreatedApiKey",
    "Dashboard",
    "DashboardSession",
    "DeliveryAttempt",
    "FieldViolation",
    "InvalidRequestError",
    "Merchant",
    "NextAction",
    "NotFoundError",
    "Order",
    "PayLoops",
    "PayLoopsError",
    "PermissionDeniedError",
    "ProcessorConfig",
    "RateLimitError",
    "Refund",
    "RetryPolicy",
    "RoutingCandidate",
    "RoutingDecision",
    "RoutingRule",
    "RoutingSimulation",
    "RoutingStat",
    "Transaction",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]
