"""Checkout session rules. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from services.common.errors import FailedPrecondition, FieldViolation, require
from services.order.domain import OrderStatus

MAX_EXPIRES_SECONDS = 86_400
MAX_URL_LENGTH = 2048
CHECKOUT_EVENTS = {"COMPLETE": "checkout.session.completed", "EXPIRED": "checkout.session.expired"}


class CheckoutStatus(StrEnum):
    OPEN = "OPEN"
    COMPLETE = "COMPLETE"
    EXPIRED = "EXPIRED"


# What an open session becomes when its order moves to a status: paid, or no longer payable.
CLOSED_BY_ORDER = {
    OrderStatus.SUCCEEDED: CheckoutStatus.COMPLETE,
    OrderStatus.AUTHORIZED: CheckoutStatus.COMPLETE,
    OrderStatus.CANCELLED: CheckoutStatus.EXPIRED,
}
# A payment made on the page is under way: the session may not expire until it ends.
PAYMENT_IN_FLIGHT = {OrderStatus.PROCESSING.value, OrderStatus.REQUIRES_ACTION.value}


@dataclass(frozen=True)
class NewCheckoutSession:
    order_id: str
    success_url: str
    cancel_url: str
    expires_in_seconds: int


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host, no whitespace or control characters."""
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_new_session(new: NewCheckoutSession, *, min_expires_seconds: int) -> None:
    problems = [FieldViolation("order_id", "is required")] if not new.order_id else []
    problems += [
        FieldViolation(name, "must be an absolute http or https URL")
        for name, url in (("success_url", new.success_url), ("cancel_url", new.cancel_url))
        if not is_web_url(url)
    ]
    if not min_expires_seconds <= new.expires_in_seconds <= MAX_EXPIRES_SECONDS:
        problems.append(
            FieldViolation("expires_in_seconds", f"must be between {min_expires_seconds} and {MAX_EXPIRES_SECONDS}")
        )
    require(problems, reason="CHECKOUT_SESSION_INVALID")


def check_mode(mode: str) -> None:
    if mode != "test":
        raise FailedPrecondition(
            message="hosted checkout takes test-mode payments only: live card collection needs the "
            "processors' hosted fields, which are not built yet",
            reason="CHECKOUT_LIVE_MODE_UNSUPPORTED",
        )


def check_open(status: str, *, expired: bool = False) -> None:
    if status != CheckoutStatus.OPEN or expired:
        raise FailedPrecondition(
            message=f"the checkout session is {'EXPIRED' if expired else status}, not OPEN",
            reason="CHECKOUT_SESSION_NOT_OPEN",
            metadata={"status": "EXPIRED" if expired else status},
        )


def check_no_payment_in_flight(order_status: str) -> None:
    if order_status in PAYMENT_IN_FLIGHT:
        raise FailedPrecondition(
            message=f"a payment made on this checkout page is under way (order {order_status}); "
            "the session can be expired once it ends",
            reason="CHECKOUT_SESSION_PAYMENT_IN_FLIGHT",
            metadata={"orderStatus": order_status},
        )
