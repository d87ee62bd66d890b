"""The merchant API (/v1/*): orders, refunds and checkout sessions."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from .._http.call import Call, PageCall, compact, query_of
from ..models import CheckoutSession, Order, Refund, Transaction
from ..models.payments import transactions_of


def _id(value: str) -> str:
    return quote(value, safe="")


def create_order(
    *,
    amount: int,
    currency: str,
    customer_email: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
    capture_method: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Order]:
    body = compact(
        amount=amount,
        currency=currency,
        customerEmail=customer_email,
        description=description,
        metadata=dict(metadata) if metadata is not None else None,
        captureMethod=capture_method,
    )
    return Call("POST", "/v1/orders", Order.from_json, body=body, idempotency_key=idempotency_key)


def retrieve_order(order_id: str) -> Call[Order]:
    return Call("GET", f"/v1/orders/{_id(order_id)}", Order.from_json)


def list_orders(*, page_size: int | None = None, status: str | None = None) -> PageCall[Order]:
    return PageCall("/v1/orders", query_of(pageSize=page_size, status=status), "orders", Order.from_json)


def pay_order(
    order_id: str,
    *,
    payment_method: Mapping[str, str],
    return_url: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Order]:
    """Pays the order. A decline is not an error: the order comes back FAILED with its failure_code."""
    body = compact(paymentMethod=dict(payment_method), returnUrl=return_url)
    return Call("POST", f"/v1/orders/{_id(order_id)}/pay", Order.from_json, body, idempotency_key=idempotency_key)


def capture_order(order_id: str, *, amount: int | None = None, idempotency_key: str | None = None) -> Call[Order]:
    path = f"/v1/orders/{_id(order_id)}/capture"
    return Call("POST", path, Order.from_json, compact(amount=amount), idempotency_key=idempotency_key)


def cancel_order(order_id: str, *, idempotency_key: str | None = None) -> Call[Order]:
    return Call("POST", f"/v1/orders/{_id(order_id)}/cancel", Order.from_json, idempotency_key=idempotency_key)


def refund_order(
    order_id: str, *, amount: int | None = None, reason: str | None = None, idempotency_key: str | None = None
) -> Call[Refund]:
    path = f"/v1/orders/{_id(order_id)}/refund"
    return Call("POST", path, Refund.from_json, compact(amount=amount, reason=reason), idempotency_key=idempotency_key)


def list_transactions(order_id: str) -> Call[list[Transaction]]:
    return Call("GET", f"/v1/orders/{_id(order_id)}/transactions", transactions_of)


def retrieve_refund(refund_id: str) -> Call[Refund]:
    return Call("GET", f"/v1/refunds/{_id(refund_id)}", Refund.from_json)


def create_checkout_session(
    *,
    order_id: str,
    success_url: str,
    cancel_url: str,
    expires_in_seconds: int | None = None,
    idempotency_key: str | None = None,
) -> Call[CheckoutSession]:
    """A hosted payment page for the order (CREATED or FAILED, test mode): redirect the
    customer to the session's `url`. `expires_in_seconds` is 1800 to 86400 (default 86400).
    One OPEN session per order: a second raises ConflictError CHECKOUT_SESSION_ALREADY_OPEN
    with the open one's id in `error.metadata["sessionId"]`."""
    body = compact(orderId=order_id, successUrl=success_url, cancelUrl=cancel_url, expiresInSeconds=expires_in_seconds)
    return Call("POST", "/v1/checkout/sessions", CheckoutSession.from_json, body, idempotency_key=idempotency_key)


def retrieve_checkout_session(session_id: str) -> Call[CheckoutSession]:
    return Call("GET", f"/v1/checkout/sessions/{_id(session_id)}", CheckoutSession.from_json)


def expire_checkout_session(session_id: str, *, idempotency_key: str | None = None) -> Call[CheckoutSession]:
    """Closes an OPEN session (its page stops taking payments); any other raises
    InvalidRequestError CHECKOUT_SESSION_NOT_OPEN, and one whose page is taking a payment
    right now CHECKOUT_SESSION_PAYMENT_IN_FLIGHT."""
    path = f"/v1/checkout/sessions/{_id(session_id)}/expire"
    return Call("POST", path, CheckoutSession.from_json, idempotency_key=idempotency_key)
