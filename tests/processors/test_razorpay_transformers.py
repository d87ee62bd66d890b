"""Unit tests of Razorpay's wire mapping (services/processor_razorpay/transformers.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import urllib3
from razorpay.errors import BadRequestError, GatewayError, ServerError

from services.processor_common.model import PaymentRequest, PaymentStatus, RefundRequest, RefundStatus
from services.processor_common.plugin import (
    CredentialsRejected,
    InvalidRequest,
    OutcomeUnknown,
    ProcessorUnavailable,
)
from services.processor_razorpay import transformers as wire


def payment(status: str, **fields: Any) -> dict[str, Any]:
    captured = status in ("captured", "refunded")
    return {"id": "pay_1", "entity": "payment", "amount": 5000, "currency": "INR", "status": status, **fields} | (
        {"captured": captured}
    )


@pytest.mark.parametrize(
    ("status", "canonical", "captured"),
    [
        ("created", PaymentStatus.REQUIRES_ACTION, 0),
        ("authorized", PaymentStatus.AUTHORIZED, 0),
        ("captured", PaymentStatus.CAPTURED, 5000),
        ("refunded", PaymentStatus.CAPTURED, 5000),
        ("failed", PaymentStatus.FAILED, 0),
    ],
)
def test_payment_status_map(status: str, canonical: PaymentStatus, captured: int) -> None:
    result = wire.payment_result(payment(status))
    assert (result.status, result.amount_captured, result.processor_status) == (canonical, captured, status)


def test_failed_payment_carries_the_decline_reason() -> None:
    failed = payment(
        "failed",
        error_code="BAD_REQUEST_ERROR",
        error_reason="insufficient_funds",
        error_description="Your payment could not be completed due to insufficient account balance.",
    )
    result = wire.payment_result(failed)
    assert (result.failure_code, result.failure_message.startswith("Your payment")) == ("insufficient_funds", True)


@pytest.mark.parametrize(
    ("token", "translated"),
    [
        ("pm_card_visa", "token_success"),
        ("pm_card_mastercard", "token_success"),
        ("pm_card_visa_chargeDeclined", "token_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "token_decline_insufficient_funds"),
        ("pm_card_authenticationRequired", "token_action_required"),
        ("token_Hk3m9cXb", "token_Hk3m9cXb"),  # a Razorpay token passes through
    ],
)
def test_test_token_translation(token: str, translated: str) -> None:
    assert wire.razorpay_token(token) == translated


def _request(**fields: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "idempotency_key": "ord_1-a1-razorpay-confirm",
        "order_id": "ord_1",
        "amount": 5000,
        "currency": "INR",
        "payment_method_token": "pm_card_visa",
        "capture": True,
    }
    return PaymentRequest(**{**values, **fields})


def test_order_params() -> None:
    params = wire.order_params(_request(capture=False))
    assert params == {
        "amount": 5000,
        "currency": "INR",
        "receipt": "ord_1-a1-razorpay-confirm",
        "notes": {"payloops_order_id": "ord_1"},
        "payment_capture": 0,
    }
    long = wire.order_params(_request(idempotency_key="ord_" + "9" * 50 + "-a1-razorpay-prepare"))
    assert len(long["receipt"]) <= 40


def test_payment_params() -> None:
    params = wire.payment_params(_request(return_url="https://shop/back", customer_email="a@b.c"), "order_1")
    assert params["token"] == "token_success"
    assert (params["order_id"], params["callback_url"], params["email"]) == ("order_1", "https://shop/back", "a@b.c")
    assert "auth_type" not in params
    assert wire.payment_params(_request(authenticate=True), "order_1")["auth_type"] == "3ds"


def test_refund_params_and_idempotency_header() -> None:
    refund = RefundRequest(idempotency_key="refund:ref_1", reference="pay_1", refund_id="ref_1", amount=100)
    assert wire.refund_params(refund, "ord_1") == {
        "amount": 100,
        "notes": {"payloops_refund_id": "ref_1", "payloops_order_id": "ord_1"},
    }
    header = wire.refund_headers(refund)["X-Refund-Idempotency"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{10,255}", header)
    assert header == wire.refund_headers(refund)["X-Refund-Idempotency"]
    assert "amount" not in wire.refund_params(RefundRequest("k", "pay_1", "ref_2"), "")


def test_resumable_outcome() -> None:
    created, failed, captured = payment("created", id="pay_3"), payment("failed", id="pay_2"), payment("captured")
    assert wire.resumable_outcome([created, failed, captured]) is captured  # whatever its position
    assert wire.resumable_outcome([failed, created]) is failed  # the attempt's decline
    assert wire.resumable_outcome([created, failed]) is None  # waiting for the customer: pay again
    assert wire.resumable_outcome([]) is None
    assert wire.new_failure([failed, captured], known=["pay_2"]) is None
    assert wire.new_failure([failed, captured], known=[]) is failed


def test_same_payment() -> None:
    order = {"id": "order_1", "amount": 5000, "currency": "INR", "notes": {"payloops_order_id": "ord_1"}}
    assert wire.same_payment(order, _request())
    assert not wire.same_payment({**order, "notes": []}, _request())  # Razorpay's empty notes are []
    assert not wire.same_payment(order, _request(amount=4000))


def test_refund_status_map() -> None:
    assert wire.refund_result({"id": "rfnd_1", "amount": 5, "status": "processed"}).status is RefundStatus.SUCCEEDED
    assert wire.refund_result({"id": "rfnd_1", "amount": 5, "status": "pending"}).status is RefundStatus.PENDING
    assert wire.refund_result({"id": "rfnd_1", "amount": 5, "status": "failed"}).status is RefundStatus.FAILED


def _refused_connection() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/v1/orders", reason))  # type: ignore[arg-type]


def _dropped_connection() -> requests.ConnectionError:
    return requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()))


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (GatewayError("Payment processing failed due to error at bank or wallet gateway"), OutcomeUnknown),
        (ServerError("The server encountered an error."), OutcomeUnknown),
        (BadRequestError("The amount must be atleast INR 1.00"), InvalidRequest),
        (BadRequestError("Authentication failed"), CredentialsRejected),
        (requests.ConnectTimeout("connect timed out"), ProcessorUnavailable),
        (_refused_connection(), ProcessorUnavailable),
        (requests.ReadTimeout("read timed out"), OutcomeUnknown),
        (_dropped_connection(), OutcomeUnknown),
        (requests.exceptions.JSONDecodeError("Expecting value", "<html>", 0), OutcomeUnknown),
    ],
)
def test_error_mapping(error: Exception, mapped: type[Exception]) -> None:
    assert type(wire.error_for(error)) is mapped


def test_refusal_keeps_razorpays_description() -> None:
    error = wire.error_for(BadRequestError(wire.ORDER_ALREADY_PAID))
    assert isinstance(error, InvalidRequest) and wire.refusal(error) == wire.ORDER_ALREADY_PAID
    assert wire.error_for(ValueError("a bug")) is None


def test_events() -> None:
    entity = payment("captured", notes={"payloops_order_id": "ord_1"})
    captured = {"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": entity}}}
    event = wire.event(captured, "evt_abc")
    assert (event.event_id, event.event_type, event.order_id) == ("evt_abc", "payment.captured", "ord_1")
    assert event.payment is not None and event.payment.status is PaymentStatus.CAPTURED
    refund = {"id": "rfnd_1", "amount": 100, "status": "processed", "notes": {"payloops_refund_id": "ref_1"}}
    processed = {"event": "refund.processed", "payload": {"refund": {"entity": refund}, "payment": {"entity": entity}}}
    reduced = wire.event(processed, "evt_def")
    assert reduced.refund is not None and reduced.refund.status is RefundStatus.SUCCEEDED
    assert (reduced.refund_id, reduced.order_id) == ("ref_1", "ord_1")
    other = wire.event({"event": "subscription.charged", "payload": {}}, "evt_x")
    assert (other.payment, other.refund) == (None, None)
