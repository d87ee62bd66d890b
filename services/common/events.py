"""The merchant webhook event types of the REST contract ("Outbound merchant webhooks")."""

WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "order.succeeded",
    "order.failed",
    "order.requires_action",
    "order.authorized",
    "order.cancelled",
    "refund.succeeded",
    "refund.failed",
    "checkout.session.completed",
    "checkout.session.expired",
)
