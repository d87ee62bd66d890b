"""Stripe's wire shapes ⇄ the canonical plug-in model: request parameters, the
PaymentIntent / Refund status maps, decline codes, test-token translation, error mapping and
webhook events. Pure functions over plain dicts (`StripeObject.to_dict()`), no I/O.

localstripe (the dev/test sandbox) implements a subset of Stripe, hence `sandbox`:
- it knows only a few `pm_card_*` ids and declines at charge time only for card
  4000000000000341, so PayLoops test tokens become PaymentMethods created from test card
  numbers (real Stripe refuses raw card numbers by default, so there we use its own ids);
- it refuses parameters it does not implement (`description`, `receipt_email`,
  `automatic_payment_methods`, confirm's `return_url`) and `payment_method` on confirm
  (500), so the payment method is set at create;
- it has no Search API: PaymentIntents of an order are found by listing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import stripe
from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentMethodCreateParams,
    RefundCreateParams,
)

from services.common.errors import PayLoopsError
from services.processor_common import keys
from services.processor_common.model import (
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProcessorEvent,
    RefundResult,
    RefundStatus,
)
from services.processor_common.plugin import (
    CredentialsRejected,
    InvalidRequest,
    OutcomeUnknown,
    ProcessorUnavailable,
)
from services.processor_common.test_tokens import sandbox_token

Json = Mapping[str, Any]

# -- test tokens


@dataclass(frozen=True)
class TestCard:
    """What a PayLoops test token is at Stripe: its own test PaymentMethod id, and for
    localstripe the card number to create one from (None: localstripe knows the id)."""

    __test__ = False  # not a pytest class

    payment_method: str
    sandbox_card_number: str | None


AUTHENTICATION_CARD = "4000002760003184"  # localstripe asks for 3-D Secure on every payment
TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("pm_card_visa", None),
    "pm_card_mastercard": TestCard("pm_card_mastercard", "5555555555554444"),
    # localstripe declines pm_card_visa_chargeDeclined's card only when attaching it to a
    # customer; 4000000000000341 is the card it declines when charged.
    "pm_card_visa_chargeDeclined": TestCard("pm_card_visa_chargeDeclined", "4000000000000341"),
    # localstripe only ever declines with card_declined: the documented decline code comes
    # from the token (see failure_code); real Stripe reports decline_code itself.
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("pm_card_chargeDeclinedInsufficientFunds", "4000000000000341"),
    "pm_card_authenticationRequired": TestCard("pm_card_authenticationRequired", AUTHENTICATION_CARD),
    # Declined (authentication_required, from the token) unless 3-D Secure is requested;
    # localstripe ignores request_three_d_secure, so a step-up uses its 3-D Secure card.
    "pm_card_declinedAuthenticationRequired": TestCard("pm_card_authenticationRequired", "4000000000000341"),
}


@dataclass(frozen=True)
class PaymentMethodPlan:
    """Use `payment_method` as is, or (sandbox) create one from `card_number` first."""

    payment_method: str = ""
    card_number: str = ""


def payment_method_plan(token: str, *, sandbox: bool, authenticate: bool = False) -> PaymentMethodPlan:
    card = TEST_CARDS.get(token)
    if card is None:
        return PaymentMethodPlan(payment_method=token)  # a Stripe-native payment method
    test_token = sandbox_token(token)
    if sandbox and authenticate and test_token is not None and test_token.step_up:
        return PaymentMethodPlan(card_number=AUTHENTICATION_CARD)
    if sandbox and card.sandbox_card_number:
        return PaymentMethodPlan(card_number=card.sandbox_card_number)
    return PaymentMethodPlan(payment_method=card.payment_method)


def card_params(card_number: str) -> PaymentMethodCreateParams:
    return {"type": "card", "card": {"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}


# -- requests


def create_params(request: PaymentRequest, payment_method: str, *, sandbox: bool) -> PaymentIntentCreateParams:
    metadata = {keys.ORDER_ID: request.order_id}
    if sandbox_token(request.payment_method_token) is not None:
        metadata[keys.TEST_TOKEN] = request.payment_method_token
    params: PaymentIntentCreateParams = {
        "amount": request.amount,
        "currency": request.currency.lower(),
        "payment_method": payment_method,
        "capture_method": "automatic" if request.capture else "manual",
        "metadata": metadata,
    }
    if request.authenticate:
        params["payment_method_options"] = {"card": {"request_three_d_secure": "any"}}
    if not sandbox:
        if not request.return_url:
            # Without a return URL only payment methods that never redirect may be used.
            params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
        if request.description:
            params["description"] = request.description[:1000]
        if request.customer_email:
            params["receipt_email"] = request.customer_email
    return params


def confirm_params(request: PaymentRequest, *, sandbox: bool) -> PaymentIntentConfirmParams:
    return {"return_url": request.return_url} if request.return_url and not sandbox else {}


def refund_params(reference: str, order_id: str, refund_id: str, amount: int, reason: str) -> RefundCreateParams:
    """`amount` is always explicit (see refundable)."""
    metadata = {keys.REFUND_ID: refund_id}
    if order_id:
        metadata[keys.ORDER_ID] = order_id
    if reason:
        # Stripe's `reason` is an enum (duplicate, fraudulent, requested_by_customer): the
        # merchant's free text goes in metadata.
        metadata["payloops_reason"] = reason[:500]
    return {"payment_intent": reference, "amount": amount, "metadata": metadata}


def same_payment(intent: Json, request: PaymentRequest) -> bool:
    """Whether a recorded PaymentIntent is the payment this request describes."""
    return (
        intent.get("amount") == request.amount
        and str(intent.get("currency", "")).upper() == request.currency
        and _metadata(intent).get(keys.ORDER_ID) == request.order_id
    )


# -- PaymentIntent → PaymentResult

PAYMENT_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,  # FAILED when it carries a last_payment_error
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.VOIDED,
}


def _metadata(obj: Json) -> Mapping[str, str]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def failure_code(error: Json, metadata: Mapping[str, str]) -> str:
    """Stripe's decline code (`decline_code`, else `code`). For a PayLoops test token whose
    documented decline localstripe cannot produce, the token's code."""
    if error.get("decline_code"):
        return str(error["decline_code"])
    code = str(error.get("code") or "card_declined")
    token = sandbox_token(metadata.get(keys.TEST_TOKEN, ""))
    if code == "card_declined" and token is not None and token.decline_code:
        return token.decline_code
    return code


def payment_status(intent: Json) -> PaymentStatus:
    status = PAYMENT_STATUS.get(str(intent.get("status")), PaymentStatus.PENDING)
    if status is PaymentStatus.PENDING and intent.get("status") == "requires_payment_method":
        return PaymentStatus.FAILED if intent.get("last_payment_error") else PaymentStatus.PENDING
    return status


def _amount_captured(intent: Json, status: PaymentStatus) -> int:
    if "amount_received" in intent:
        return int(intent["amount_received"] or 0)
    # localstripe has no amount_received (nor partial-capture accounting).
    return int(intent.get("amount") or 0) if status is PaymentStatus.CAPTURED else 0


def _next_action_url(intent: Json) -> str:
    action = intent.get("next_action")
    if not isinstance(action, Mapping):
        return ""
    redirect = action.get("redirect_to_url")
    return str(redirect.get("url") or "") if isinstance(redirect, Mapping) else ""


def payment_result(intent: Json) -> PaymentResult:
    status = payment_status(intent)
    error = intent.get("last_payment_error")
    if status is not PaymentStatus.FAILED or not isinstance(error, Mapping):
        error = None
    return PaymentResult(
        status=status,
        reference=str(intent.get("id", "")),
        amount=int(intent.get("amount") or 0),
        amount_captured=_amount_captured(intent, status),
        failure_code=failure_code(error, _metadata(intent)) if error is not None else "",
        failure_message=str(error.get("message") or "") if error is not None else "",
        next_action_url=_next_action_url(intent) if status is PaymentStatus.REQUIRES_ACTION else "",
        processor_status=str(intent.get("status", "")),
        currency=str(intent.get("currency") or "").upper(),
    )


def declined(intent: Json, error: stripe.CardError) -> PaymentResult:
    """The FAILED result of a confirm that raised CardError (a decline, not an error)."""
    body = error.json_body.get("error") if isinstance(error.json_body, Mapping) else None
    details: Json = body if isinstance(body, Mapping) else {}
    return PaymentResult(
        status=PaymentStatus.FAILED,
        reference=str(intent.get("id", "")),
        amount=int(intent.get("amount") or 0),
        failure_code=failure_code(details, _metadata(intent)),
        failure_message=str(error.user_message or details.get("message") or ""),
        processor_status="requires_payment_method",
    )


def for_order(intents: Sequence[Json], order_id: str) -> list[Json]:
    """The order's PaymentIntents, newest first."""
    mine = [i for i in intents if _metadata(i).get(keys.ORDER_ID) == order_id]
    return sorted(mine, key=lambda i: int(i.get("created") or 0), reverse=True)


def search_query(order_id: str) -> str:
    escaped = order_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"metadata['{keys.ORDER_ID}']:'{escaped}'"


# -- Refund → RefundResult

REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def refund_result(refund: Json) -> RefundResult:
    status = REFUND_STATUS.get(str(refund.get("status")), RefundStatus.PENDING)
    failed = status is RefundStatus.FAILED
    return RefundResult(
        status=status,
        reference=str(refund.get("id", "")),
        amount=int(refund.get("amount") or 0),
        failure_code=str(refund.get("failure_reason") or refund.get("status") or "") if failed else "",
    )


def refundable(intent: Json, refunds: Sequence[Json]) -> int:
    """What is left to refund. Asked explicitly because localstripe refunds the whole charge,
    not the remainder, when no amount is given."""
    reserved = sum(
        int(r.get("amount") or 0) for r in refunds if REFUND_STATUS.get(str(r.get("status"))) is not RefundStatus.FAILED
    )
    return _amount_captured(intent, payment_status(intent)) - reserved


def refunded(refunds: Sequence[Json]) -> int:
    """What the refunds gave back (succeeded ones only)."""
    return sum(
        int(r.get("amount") or 0) for r in refunds if REFUND_STATUS.get(str(r.get("status"))) is RefundStatus.SUCCEEDED
    )


def refund_for(refunds: Sequence[Json], refund_id: str) -> Json | None:
    return next((r for r in refunds if _metadata(r).get(keys.REFUND_ID) == refund_id), None)


def refused_refund(error: InvalidRequest) -> RefundResult:
    """A refund Stripe refused (already refunded, amount too large, ...): a FAILED result."""
    code = error.metadata.get("processor_code") or "refund_refused"
    return RefundResult(status=RefundStatus.FAILED, failure_code=code, failure_message=error.message)


NOTHING_TO_REFUND = RefundResult(
    status=RefundStatus.FAILED,
    failure_code="charge_already_refunded",
    failure_message="nothing captured is left to refund",
)


# -- errors


def network_error(error: BaseException) -> PayLoopsError:
    """A failure below HTTP: before the request left (safe to retry elsewhere) or after."""
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return ProcessorUnavailable(message="cannot connect to Stripe")
    return OutcomeUnknown(message=f"Stripe did not answer ({type(error).__name__}); the outcome is unknown")


def error_for(error: Exception) -> PayLoopsError | None:
    """The taxonomy error for an SDK or network exception; None for anything else (CardError
    included: a decline is a result)."""
    if isinstance(error, stripe.RateLimitError):
        return ProcessorUnavailable(message="Stripe is rate limiting; retry later")
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return CredentialsRejected(message="Stripe refused the merchant's API key")
    if isinstance(error, stripe.APIConnectionError):
        return network_error(error.__cause__ or error)
    if isinstance(error, stripe.InvalidRequestError | stripe.IdempotencyError):
        details = {"http_status": str(error.http_status or "")}
        if code := str(getattr(error, "code", "") or ""):
            details["processor_code"] = code
        return InvalidRequest(
            message=f"Stripe refused the request: {error.user_message or 'invalid request'}", metadata=details
        )
    if isinstance(error, stripe.APIError):
        if error.http_status == 409:  # a request with the same idempotency key is still running
            return OutcomeUnknown(message="Stripe is still processing the same request; the outcome is unknown")
        # Stripe documents that a request answered 5xx may have been processed.
        return OutcomeUnknown(message=f"Stripe answered HTTP {error.http_status}; it may have acted")
    if isinstance(error, TimeoutError | aiohttp.ClientError):
        return network_error(error)
    return None


def not_found(error: InvalidRequest) -> bool:
    return error.metadata.get("http_status") == "404" or error.metadata.get("processor_code") == "resource_missing"


# -- webhooks


def signature_timestamp(header: str) -> int | None:
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return None


def event(payload: Json) -> ProcessorEvent:
    event_type = str(payload.get("type", ""))
    data = payload.get("data")
    obj: Json = data.get("object", {}) if isinstance(data, Mapping) else {}
    metadata = _metadata(obj)
    payment = payment_result(obj) if event_type.startswith("payment_intent.") else None
    is_refund = event_type == "charge.refund.updated" or event_type.startswith("refund.")
    return ProcessorEvent(
        event_id=str(payload.get("id", "")),
        event_type=event_type,
        payment=payment,
        refund=refund_result(obj) if is_refund else None,
        order_id=metadata.get(keys.ORDER_ID, ""),
        refund_id=metadata.get(keys.REFUND_ID, "") if is_refund else "",
    )
