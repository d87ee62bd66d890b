"""Razorpay's wire shapes ⇄ the canonical plug-in model: order/payment/refund parameters,
the payment and refund status maps, test-token translation, error mapping and webhook
events. Pure functions over plain dicts, no I/O.

References: a payment is the Razorpay order (`order_…`, what PreparePayment returns and
Authorize resumes) until a payment exists; results then carry the payment id (`pay_…`).
Every call that takes a reference accepts either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests
import urllib3
from razorpay.errors import BadRequestError, GatewayError, ServerError

from services.common.errors import PayLoopsError
from services.processor_common import keys
from services.processor_common.model import (
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProcessorEvent,
    RefundRequest,
    RefundResult,
    RefundStatus,
)
from services.processor_common.plugin import (
    CredentialsRejected,
    InvalidRequest,
    OutcomeUnknown,
    ProcessorUnavailable,
)

Json = Mapping[str, Any]

ORDER_PREFIX = "order_"
PAYMENT_PREFIX = "pay_"
MAX_RECEIPT = 40
REFUND_KEY_LENGTH = (10, 255)

# -- test tokens: PayLoops test token -> the Razorpay sandbox's token

TEST_TOKENS = {
    "pm_card_visa": "token_success",
    "pm_card_mastercard": "token_success",
    "pm_card_visa_chargeDeclined": "token_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "token_decline_insufficient_funds",
    "pm_card_authenticationRequired": "token_action_required",
    "pm_card_declinedAuthenticationRequired": "token_decline_authentication_required",
}


def razorpay_token(token: str) -> str:
    return TEST_TOKENS.get(token, token)


# -- requests


def order_params(request: PaymentRequest) -> dict[str, Any]:
    return {
        "amount": request.amount,
        "currency": request.currency,
        # Unique per attempt and the same on every retry of it.
        "receipt": keys.bounded_key(request.idempotency_key, max_length=MAX_RECEIPT),
        "notes": {keys.ORDER_ID: request.order_id},
        "payment_capture": 1 if request.capture else 0,
    }


def payment_params(request: PaymentRequest, order_id: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "order_id": order_id,
        "amount": request.amount,
        "currency": request.currency,
        "method": "card",
        "token": razorpay_token(request.payment_method_token),
        "notes": {keys.ORDER_ID: request.order_id},
    }
    if request.authenticate:
        params["auth_type"] = "3ds"
    if request.customer_email:
        params["email"] = request.customer_email
    if request.return_url:
        params["callback_url"] = request.return_url
    if request.description:
        params["description"] = request.description[:255]
    return params


def refund_params(request: RefundRequest, order_id: str) -> dict[str, Any]:
    notes = {keys.REFUND_ID: request.refund_id}
    if order_id:
        notes[keys.ORDER_ID] = order_id
    if request.reason:
        notes["payloops_reason"] = request.reason[:255]
    params: dict[str, Any] = {"notes": notes}
    if request.amount:
        params["amount"] = request.amount
    return params


def refund_headers(request: RefundRequest) -> dict[str, str]:
    low, high = REFUND_KEY_LENGTH
    key = keys.bounded_key(keys.step_key(request.idempotency_key, "refund"), min_length=low, max_length=high)
    return {"X-Refund-Idempotency": key}


def same_payment(order: Json, request: PaymentRequest) -> bool:
    """Whether a recorded Razorpay order is the payment this request describes."""
    return (
        order.get("amount") == request.amount
        and order.get("currency") == request.currency
        and notes(order).get(keys.ORDER_ID) == request.order_id
    )


def notes(entity: Json) -> Mapping[str, str]:
    value = entity.get("notes")
    return value if isinstance(value, Mapping) else {}  # Razorpay answers empty notes as []


# -- payments

PAYMENT_STATUS = {
    "created": PaymentStatus.REQUIRES_ACTION,  # waiting for the customer (3-D Secure)
    "authorized": PaymentStatus.AUTHORIZED,
    "captured": PaymentStatus.CAPTURED,
    "refunded": PaymentStatus.CAPTURED,  # refunds are separate objects; the money was taken
    "failed": PaymentStatus.FAILED,
}
SETTLED = frozenset({"authorized", "captured", "refunded"})


def payment_result(payment: Json) -> PaymentResult:
    status = PAYMENT_STATUS.get(str(payment.get("status")), PaymentStatus.PENDING)
    amount = int(payment.get("amount") or 0)
    failed = status is PaymentStatus.FAILED
    return PaymentResult(
        status=status,
        reference=str(payment.get("id", "")),
        amount=amount,
        amount_captured=amount if payment.get("captured") else 0,
        failure_code=str(payment.get("error_reason") or payment.get("error_code") or "") if failed else "",
        failure_message=str(payment.get("error_description") or "") if failed else "",
        processor_status=str(payment.get("status", "")),
        parent_reference=str(payment.get("order_id") or ""),
        currency=str(payment.get("currency") or "").upper(),
    )


def order_result(order: Json) -> PaymentResult:
    """An order nobody has tried to pay yet: prepared, nothing attempted."""
    return PaymentResult(
        status=PaymentStatus.PENDING,
        reference=str(order.get("id", "")),
        amount=int(order.get("amount") or 0),
        processor_status=f"order_{order.get('status', '')}",
    )


def action_result(answer: Json, request: PaymentRequest) -> PaymentResult:
    """The S2S answer of a payment that needs the customer: `next: [{action, url}]`."""
    steps = answer.get("next")
    url = next(
        (str(s.get("url", "")) for s in steps or () if isinstance(s, Mapping) and s.get("action") == "redirect"), ""
    )
    return PaymentResult(
        status=PaymentStatus.REQUIRES_ACTION,
        reference=str(answer.get("razorpay_payment_id", "")),
        amount=request.amount,
        next_action_url=url,
        processor_status="created",
    )


def resumable_outcome(payments: Sequence[Json]) -> Json | None:
    """What an earlier try on an order already decided: its authorized/captured payment, else
    its newest payment if that failed (the attempt's decline). None: pay (again) on the order —
    a paid order refuses a second payment, so this cannot charge twice."""
    settled = settled_payment(payments)
    if settled is None and payments and payments[0].get("status") == "failed":
        return payments[0]
    return settled


def settled_payment(payments: Sequence[Json]) -> Json | None:
    """The order's authorized or captured payment (an order holds at most one)."""
    return next((p for p in payments if p.get("status") in SETTLED), None)


def new_failure(payments: Sequence[Json], known: Sequence[str]) -> Json | None:
    """The failed payment a refused payment call just recorded on the order (newest first)."""
    return next((p for p in payments if p.get("id") not in known and p.get("status") == "failed"), None)


def items(collection: Json) -> list[Json]:
    found = collection.get("items")
    return list(found) if isinstance(found, list) else []


# -- refunds

REFUND_STATUS = {"pending": RefundStatus.PENDING, "processed": RefundStatus.SUCCEEDED, "failed": RefundStatus.FAILED}


def refund_result(refund: Json) -> RefundResult:
    status = REFUND_STATUS.get(str(refund.get("status")), RefundStatus.PENDING)
    return RefundResult(
        status=status,
        reference=str(refund.get("id", "")),
        amount=int(refund.get("amount") or 0),
        failure_code="refund_failed" if status is RefundStatus.FAILED else "",
    )


def refused_refund(error: InvalidRequest) -> RefundResult:
    """A refund Razorpay refused (not captured, more than captured, ...): a FAILED result."""
    return RefundResult(status=RefundStatus.FAILED, failure_code="refund_refused", failure_message=refusal(error))


# -- errors

ORDER_ALREADY_PAID = "Order has been already paid"
ALREADY_CAPTURED = "This payment has already been captured"
ID_NOT_FOUND = "The id provided does not exist"
REFUND_IN_FLIGHT = "A request with the same idempotency key is being processed"
_CREDENTIALS_REFUSED = ("Authentication failed", "The api key provided is invalid", "Please provide your api key")


def refusal(error: InvalidRequest) -> str:
    """Razorpay's description of a refused request (the SDK carries nothing else)."""
    return error.metadata.get("processor_message", "")


def network_error(error: requests.RequestException) -> PayLoopsError:
    """Not connected at all: nothing reached Razorpay. Anything later: it may have acted."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    never_sent = isinstance(error, requests.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError) and isinstance(reason, urllib3.exceptions.NewConnectionError)
    )
    if never_sent:
        return ProcessorUnavailable(message="cannot connect to Razorpay")
    return OutcomeUnknown(message=f"Razorpay did not answer ({type(error).__name__}); the outcome is unknown")


def error_for(error: Exception) -> PayLoopsError | None:
    """The taxonomy error for an SDK or network exception; None for anything else."""
    if isinstance(error, GatewayError | ServerError):  # 5xx: it may have acted
        return OutcomeUnknown(message=f"Razorpay answered with a server error, the outcome is unknown: {error}")
    if isinstance(error, BadRequestError):
        description = str(error)
        if description.startswith(_CREDENTIALS_REFUSED):
            return CredentialsRejected(message="Razorpay refused the merchant's key id and secret")
        return InvalidRequest(
            message=f"Razorpay refused the request: {description}", metadata={"processor_message": description}
        )
    if isinstance(error, requests.RequestException):  # also a non-JSON answer (JSONDecodeError)
        return network_error(error)
    return None


# -- webhooks

PAYMENT_EVENTS = frozenset({"payment.authorized", "payment.captured", "payment.failed", "order.paid"})
REFUND_EVENTS = frozenset({"refund.created", "refund.processed", "refund.failed"})


def _entity(payload: Json, name: str) -> Json:
    wrapper = payload.get("payload")
    inner = wrapper.get(name) if isinstance(wrapper, Mapping) else None
    entity = inner.get("entity") if isinstance(inner, Mapping) else None
    return entity if isinstance(entity, Mapping) else {}


def signed_event_id(payload: Json) -> str:
    """The event's identity from its signed body: event name, the entity it is about (the
    refund for refund events, else the payment, else the order) and created_at; "" if any
    is missing."""
    event_type = str(payload.get("event", ""))
    kinds = ("refund", "payment", "order") if event_type in REFUND_EVENTS else ("payment", "order")
    entity_id = next((str(e["id"]) for kind in kinds if (e := _entity(payload, kind)).get("id")), "")
    created = payload.get("created_at")
    if not event_type or not entity_id or not isinstance(created, int):
        return ""
    return f"{event_type}:{entity_id}:{created}"


def event(payload: Json, event_id: str) -> ProcessorEvent:
    event_type = str(payload.get("event", ""))
    payment = _entity(payload, "payment")
    if event_type in REFUND_EVENTS:
        refund = _entity(payload, "refund")
        return ProcessorEvent(
            event_id=event_id,
            event_type=event_type,
            refund=refund_result(refund),
            order_id=notes(refund).get(keys.ORDER_ID) or notes(payment).get(keys.ORDER_ID, ""),
            refund_id=notes(refund).get(keys.REFUND_ID, ""),
        )
    return ProcessorEvent(
        event_id=event_id,
        event_type=event_type,
        payment=payment_result(payment) if event_type in PAYMENT_EVENTS else None,
        order_id=notes(payment).get(keys.ORDER_ID, ""),
    )
