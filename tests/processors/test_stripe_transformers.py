"""Unit tests of Stripe's wire mapping (services/processor_stripe/transformers.py)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import aiohttp
import pytest
import stripe

from services.processor_common.model import PaymentRequest, PaymentStatus, RefundStatus
from services.processor_common.plugin import (
    CredentialsRejected,
    InvalidRequest,
    OutcomeUnknown,
    ProcessorUnavailable,
)
from services.processor_stripe import transformers as wire
from services.processor_stripe.config import Settings
from tests.mesh import UNUSED_MESH_FILES


def intent(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "amount": 2000, "status": status, "metadata": {}, **fields}


@pytest.mark.parametrize(
    ("status", "canonical"),
    [
        ("requires_payment_method", PaymentStatus.PENDING),
        ("requires_confirmation", PaymentStatus.PENDING),
        ("requires_action", PaymentStatus.REQUIRES_ACTION),
        ("processing", PaymentStatus.PENDING),
        ("requires_capture", PaymentStatus.AUTHORIZED),
        ("succeeded", PaymentStatus.CAPTURED),
        ("canceled", PaymentStatus.VOIDED),
        ("something_new", PaymentStatus.PENDING),
    ],
)
def test_status_map(status: str, canonical: PaymentStatus) -> None:
    assert wire.payment_result(intent(status)).status is canonical


def test_a_failed_confirmation_is_failed_with_the_decline_code() -> None:
    error = {"code": "card_declined", "decline_code": "do_not_honor", "message": "Your card was declined."}
    result = wire.payment_result(intent("requires_payment_method", last_payment_error=error))
    assert (result.status, result.failure_code, result.failure_message) == (
        PaymentStatus.FAILED,
        "do_not_honor",
        "Your card was declined.",
    )


def test_localstripe_decline_gets_the_test_tokens_code() -> None:
    metadata = {"payloops_test_token": "pm_card_chargeDeclinedInsufficientFunds"}
    error = {"code": "card_declined", "message": "Your card was declined."}
    assert wire.failure_code(error, metadata) == "insufficient_funds"
    assert wire.failure_code(error, {}) == "card_declined"
    assert wire.failure_code({"code": "expired_card"}, metadata) == "expired_card"  # a specific code wins


def test_amount_captured() -> None:
    assert wire.payment_result(intent("succeeded", amount_received=1500)).amount_captured == 1500
    assert wire.payment_result(intent("succeeded")).amount_captured == 2000  # localstripe: no amount_received
    assert wire.payment_result(intent("requires_capture")).amount_captured == 0


def test_next_action_url() -> None:
    redirect = {"type": "redirect_to_url", "redirect_to_url": {"url": "https://hooks.stripe.com/3ds"}}
    assert wire.payment_result(intent("requires_action", next_action=redirect)).next_action_url.endswith("/3ds")
    sdk = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
    assert wire.payment_result(intent("requires_action", next_action=sdk)).next_action_url == ""


def card_error(**body: str) -> stripe.CardError:
    json_body = {"error": {"message": "Your card was declined.", **body}}
    return stripe.CardError("Your card was declined.", None, body.get("code"), json_body=json_body, http_status=402)  # type: ignore[no-untyped-call]


def invalid_request(message: str, code: str | None, http_status: int) -> stripe.InvalidRequestError:
    return stripe.InvalidRequestError(message, None, code, http_status=http_status)  # type: ignore[no-untyped-call]


def test_declined_from_card_error() -> None:
    error = card_error(code="card_declined")
    result = wire.declined(intent("requires_confirmation"), error)
    assert (result.status, result.reference, result.failure_code) == (PaymentStatus.FAILED, "pi_1", "card_declined")


@pytest.mark.parametrize(
    ("token", "sandbox", "payment_method", "card"),
    [
        ("pm_card_visa", True, "pm_card_visa", ""),
        ("pm_card_mastercard", True, "", "5555555555554444"),
        ("pm_card_visa_chargeDeclined", True, "", "4000000000000341"),
        ("pm_card_chargeDeclinedInsufficientFunds", True, "", "4000000000000341"),
        ("pm_card_authenticationRequired", True, "", "4000002760003184"),
        ("pm_card_visa_chargeDeclined", False, "pm_card_visa_chargeDeclined", ""),
        ("pm_card_authenticationRequired", False, "pm_card_authenticationRequired", ""),
        ("pm_1NativeStripe", True, "pm_1NativeStripe", ""),
    ],
)
def test_test_token_translation(token: str, sandbox: bool, payment_method: str, card: str) -> None:
    assert wire.payment_method_plan(token, sandbox=sandbox) == wire.PaymentMethodPlan(payment_method, card)


def test_a_step_up_asks_stripe_for_3ds_and_uses_localstripes_3ds_card() -> None:
    token = "pm_card_declinedAuthenticationRequired"
    assert wire.payment_method_plan(token, sandbox=True) == wire.PaymentMethodPlan("", "4000000000000341")
    stepped_up = wire.payment_method_plan(token, sandbox=True, authenticate=True)
    assert stepped_up == wire.PaymentMethodPlan("", "4000002760003184")
    # Only the step-up token changes card: others are as they are.
    assert wire.payment_method_plan("pm_card_visa", sandbox=True, authenticate=True).payment_method == "pm_card_visa"
    params = wire.create_params(_request(authenticate=True), "pm_x", sandbox=False)
    assert params["payment_method_options"] == {"card": {"request_three_d_secure": "any"}}
    assert "payment_method_options" not in wire.create_params(_request(), "pm_x", sandbox=False)


def _request(**fields: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "idempotency_key": "k",
        "order_id": "ord_1",
        "amount": 1999,
        "currency": "EUR",
        "payment_method_token": "pm_card_visa",
        "capture": False,
        "description": "two socks",
        "customer_email": "a@example.com",
    }
    return PaymentRequest(**{**values, **fields})


def test_create_params() -> None:
    sandbox = wire.create_params(_request(), "pm_x", sandbox=True)
    assert sandbox == {
        "amount": 1999,
        "currency": "eur",
        "payment_method": "pm_x",
        "capture_method": "manual",
        "metadata": {"payloops_order_id": "ord_1", "payloops_test_token": "pm_card_visa"},
    }
    real = wire.create_params(_request(capture=True, payment_method_token="pm_1Native"), "pm_1Native", sandbox=False)
    assert real["capture_method"] == "automatic"
    assert (real["description"], real["receipt_email"]) == ("two socks", "a@example.com")
    assert real["metadata"] == {"payloops_order_id": "ord_1"}
    assert wire.confirm_params(_request(return_url="https://x"), sandbox=False) == {"return_url": "https://x"}
    assert wire.confirm_params(_request(return_url="https://x"), sandbox=True) == {}


def test_same_payment() -> None:
    recorded = intent("requires_confirmation", amount=1999, currency="eur", metadata={"payloops_order_id": "ord_1"})
    assert wire.same_payment(recorded, _request())
    assert not wire.same_payment(recorded, _request(amount=2000))
    assert not wire.same_payment(recorded, _request(order_id="ord_2"))


def test_for_order_is_newest_first_and_filtered() -> None:
    intents = [
        intent("succeeded", id="pi_a", created=1, metadata={"payloops_order_id": "ord_1"}),
        intent("succeeded", id="pi_b", created=3, metadata={"payloops_order_id": "ord_2"}),
        intent("canceled", id="pi_c", created=2, metadata={"payloops_order_id": "ord_1"}),
    ]
    assert [i["id"] for i in wire.for_order(intents, "ord_1")] == ["pi_c", "pi_a"]
    assert wire.search_query("ord_1") == "metadata['payloops_order_id']:'ord_1'"


def test_refunds() -> None:
    refund = {"id": "re_1", "amount": 300, "status": "succeeded", "metadata": {"payloops_refund_id": "ref_1"}}
    assert wire.refund_result(refund).status is RefundStatus.SUCCEEDED
    assert wire.refund_result({**refund, "status": "pending"}).status is RefundStatus.PENDING
    failed = wire.refund_result({**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"})
    assert (failed.status, failed.failure_code) == (RefundStatus.FAILED, "expired_or_canceled_card")
    assert wire.refund_for([refund], "ref_1") is refund
    assert wire.refund_for([refund], "ref_2") is None
    captured = intent("succeeded", amount=1000)
    assert wire.refundable(captured, [refund, {**refund, "amount": 500, "status": "failed"}]) == 700
    params = wire.refund_params("pi_1", "ord_1", "ref_2", 700, "customer asked")
    assert params["amount"] == 700
    assert params["metadata"] == {
        "payloops_refund_id": "ref_2",
        "payloops_order_id": "ord_1",
        "payloops_reason": "customer asked",
    }


def _connector_error() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(mock.Mock(), OSError(111, "Connection refused"))


def _connection_error(cause: BaseException) -> stripe.APIConnectionError:
    error = stripe.APIConnectionError("Unexpected error communicating with Stripe.")  # type: ignore[no-untyped-call]
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (stripe.RateLimitError("slow down", http_status=429), ProcessorUnavailable),
        (stripe.APIError("boom", http_status=500), OutcomeUnknown),
        (stripe.APIError("bad gateway", http_status=502), OutcomeUnknown),
        (stripe.APIError("unavailable", http_status=503), OutcomeUnknown),
        (stripe.APIError("conflict", http_status=409), OutcomeUnknown),
        (stripe.AuthenticationError("Invalid API Key", http_status=401), CredentialsRejected),
        (stripe.PermissionError("no", http_status=403), CredentialsRejected),
        (invalid_request("No such payment_intent", "resource_missing", 404), InvalidRequest),
        (stripe.IdempotencyError("key reused", http_status=400), InvalidRequest),
        (_connection_error(_connector_error()), ProcessorUnavailable),
        (_connection_error(aiohttp.ConnectionTimeoutError()), ProcessorUnavailable),
        (_connection_error(TimeoutError()), OutcomeUnknown),
        (_connection_error(aiohttp.ServerDisconnectedError()), OutcomeUnknown),
        (TimeoutError(), OutcomeUnknown),  # raised while reading the body
        (aiohttp.ClientPayloadError("truncated"), OutcomeUnknown),
    ],
)
def test_error_mapping(error: Exception, mapped: type[Exception]) -> None:
    assert type(wire.error_for(error)) is mapped


def test_errors_that_are_not_errors() -> None:
    assert wire.error_for(card_error(code="card_declined")) is None
    assert wire.error_for(KeyError("a bug")) is None
    missing = wire.error_for(invalid_request("Not Found", None, 404))
    assert isinstance(missing, InvalidRequest) and wire.not_found(missing)


def test_signature_timestamp() -> None:
    assert wire.signature_timestamp("t=1700000000,v1=abc,v0=def") == 1700000000
    assert wire.signature_timestamp("v1=abc") is None


def test_events() -> None:
    succeeded = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {"object": intent("succeeded", metadata={"payloops_order_id": "ord_1"})},
    }
    event = wire.event(succeeded)
    assert (event.event_id, event.order_id, event.refund) == ("evt_1", "ord_1", None)
    assert event.payment is not None and event.payment.status is PaymentStatus.CAPTURED
    metadata = {"payloops_refund_id": "ref_1", "payloops_order_id": "ord_1"}
    refund = {"id": "re_1", "object": "refund", "amount": 5, "status": "succeeded", "metadata": metadata}
    for event_type in ("charge.refund.updated", "refund.updated", "refund.failed"):
        reduced = wire.event({"id": "evt_2", "type": event_type, "data": {"object": refund}})
        assert reduced.refund is not None and (reduced.refund_id, reduced.order_id) == ("ref_1", "ord_1")
    other = wire.event({"id": "evt_3", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    assert (other.payment, other.refund, other.event_type) == (None, None, "customer.created")


@pytest.mark.parametrize(
    ("api_base", "override", "sandbox"),
    [
        ("https://api.stripe.com", None, False),
        ("http://127.0.0.1:8420", None, True),
        ("http://127.0.0.1:8420", False, False),
    ],
)
def test_sandbox_dialect_follows_the_api_base(api_base: str, override: bool | None, sandbox: bool) -> None:
    settings = Settings(
        port=1,
        database_url="unused",
        redis_url="unused",
        merchant_service_addr="127.0.0.1:1",
        stripe_api_base=api_base,
        stripe_sandbox=override,
        **UNUSED_MESH_FILES,
    )
    assert settings.sandbox is sandbox
