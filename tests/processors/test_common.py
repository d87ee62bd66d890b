"""Unit tests of the shared plug-in part: test tokens, derived keys, the error taxonomy's
statuses, request validation, result conversion and the credentials cache."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from payloops.merchant.v1 import merchant_internal_service_pb2 as merchant_pb
from payloops.processor.v1 import processor_pb2
from payloops.processor.v1 import processor_service_pb2 as pb

from services.common.errors import InvalidArgument, PayLoopsError
from services.processor_common import convert, keys
from services.processor_common.credentials import MerchantCredentials
from services.processor_common.model import (
    NO_PAYMENT,
    PaymentResult,
    PaymentStatus,
    ProcessorEvent,
    RefundResult,
    RefundStatus,
    most_relevant,
)
from services.processor_common.plugin import (
    CredentialsIncomplete,
    InvalidRequest,
    OutcomeUnknown,
    ProcessorUnavailable,
    WebhookSignatureInvalid,
    credential,
)
from services.processor_common.test_tokens import TEST_TOKENS, Outcome, native_processor, sandbox_token


@pytest.mark.parametrize(
    ("token", "processor"),
    [
        ("pm_card_visa", None),
        ("pm_card_chargeDeclinedInsufficientFunds", None),
        ("pm_1NqQ2b2eZvKYlo2C", "stripe"),
        ("pm_card_chargeCustomerFail", "stripe"),  # a Stripe test id that is not a PayLoops one
        ("tok_visa", "stripe"),
        ("token_success", "razorpay"),
        ("token_HkWm3v5oXbJ1x2", "razorpay"),
        ("upi_something", None),
    ],
)
def test_native_processor(token: str, processor: str | None) -> None:
    assert native_processor(token) == processor


def test_documented_test_tokens() -> None:
    assert {t for t, v in TEST_TOKENS.items() if v.outcome is Outcome.SUCCESS} == {"pm_card_visa", "pm_card_mastercard"}
    declined = sandbox_token("pm_card_chargeDeclinedInsufficientFunds")
    assert declined is not None and declined.decline_code == "insufficient_funds"
    action = sandbox_token("pm_card_authenticationRequired")
    assert action is not None and action.outcome is Outcome.ACTION_REQUIRED


def test_bounded_key() -> None:
    assert keys.bounded_key("ord_1-a1-razorpay", max_length=40) == "ord_1-a1-razorpay"
    long = keys.bounded_key("ord_" + "x" * 60, max_length=40)
    assert len(long) == 40 and long == keys.bounded_key("ord_" + "x" * 60, max_length=40)
    assert long != keys.bounded_key("ord_" + "y" * 60, max_length=40)
    assert len(keys.bounded_key("short", max_length=255, min_length=10)) == 64  # too short: a digest
    assert keys.bounded_key("has:colon-and-more", max_length=255, min_length=10) != "has:colon-and-more"
    assert keys.step_key("k", "confirm") == "k-confirm"


def test_most_relevant_prefers_money_moved_then_newest() -> None:
    failed = PaymentResult(status=PaymentStatus.FAILED, reference="p3")
    captured = PaymentResult(status=PaymentStatus.CAPTURED, reference="p2")
    older_failed = PaymentResult(status=PaymentStatus.FAILED, reference="p1")
    assert most_relevant([failed, captured, older_failed]) is captured
    assert most_relevant([failed, older_failed]) is failed
    assert most_relevant([]) is NO_PAYMENT


def _status(error: PayLoopsError) -> tuple[grpc.StatusCode, str, list[str]]:
    status = error.to_status()
    reason = ""
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reason = info.reason
    code = next(c for c in grpc.StatusCode if c.value[0] == status.code)
    return code, reason, [d.TypeName() for d in status.details]


def test_error_taxonomy_statuses() -> None:
    assert _status(ProcessorUnavailable(message="down")) == (
        grpc.StatusCode.UNAVAILABLE,
        "PROCESSOR_UNAVAILABLE",
        ["google.rpc.ErrorInfo", "google.rpc.RetryInfo"],
    )
    assert _status(OutcomeUnknown(message="?"))[:2] == (grpc.StatusCode.UNKNOWN, "PROCESSOR_OUTCOME_UNKNOWN")
    assert _status(InvalidRequest(message="bad"))[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "PROCESSOR_INVALID_REQUEST")
    assert _status(WebhookSignatureInvalid(message="x"))[:2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "WEBHOOK_SIGNATURE_INVALID",
    )


def test_credential_never_echoes_values() -> None:
    assert credential({"secretKey": "sk_test_1"}, "secretKey", "stripe") == "sk_test_1"
    with pytest.raises(CredentialsIncomplete) as missing:
        credential({"secretKey": "sk_test_1"}, "webhookSecret", "stripe")
    assert "sk_test_1" not in str(missing.value)
    assert missing.value.code == grpc.StatusCode.FAILED_PRECONDITION


def _authorize(**fields: Any) -> pb.AuthorizeRequest:
    values: dict[str, Any] = {
        "context": pb.CallContext(merchant_id="mer_1", idempotency_key="ord_1-a1-stripe-confirm"),
        "order_id": "ord_1",
        "amount": 1999,
        "currency": "USD",
        "payment_method_token": "pm_card_visa",
        "capture": True,
        "existing_reference": "pi_1",
        "return_url": "https://shop.example/back",
    }
    return pb.AuthorizeRequest(**{**values, **fields})


def test_payment_request_conversion() -> None:
    request = convert.payment_request(_authorize(), "stripe")
    assert (request.amount, request.currency, request.existing_reference) == (1999, "USD", "pi_1")
    assert request.idempotency_key == "ord_1-a1-stripe-confirm"
    prepare = pb.PreparePaymentRequest(
        context=pb.CallContext(merchant_id="m", idempotency_key="k"),
        order_id="o",
        amount=5,
        currency="INR",
        payment_method_token="token_x",
    )
    assert convert.payment_request(prepare, "razorpay").existing_reference == ""


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"amount": 0}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"order_id": ""}, "order_id"),
        ({"payment_method_token": ""}, "payment_method_token"),
        ({"context": pb.CallContext(merchant_id="mer_1")}, "context.idempotency_key"),
    ],
)
def test_payment_request_validation(fields: dict[str, Any], bad: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        convert.payment_request(_authorize(**fields), "stripe")
    assert bad in [v.field for v in refused.value.violations]


def test_foreign_native_token_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        convert.payment_request(_authorize(payment_method_token="token_abc"), "stripe")
    assert refused.value.reason == "PAYMENT_METHOD_NOT_SUPPORTED"


def test_results_to_proto() -> None:
    for status in PaymentStatus:
        assert processor_pb2.PaymentResult.Status.Name(convert.payment_result(PaymentResult(status)).status) == (
            status.value
        )
    for refund_status in RefundStatus:
        message = convert.refund_result(RefundResult(refund_status))
        assert processor_pb2.RefundResult.Status.Name(message.status) == refund_status.value
    event = convert.processor_event(
        ProcessorEvent("evt_1", "refund.updated", refund=RefundResult(RefundStatus.SUCCEEDED, "re_1", 5), refund_id="r")
    )
    assert (event.WhichOneof("subject"), event.refund.processor_reference, event.refund_id) == ("refund", "re_1", "r")
    assert convert.processor_event(ProcessorEvent("evt_2", "charge.succeeded")).WhichOneof("subject") is None


class _FakeStub:
    def __init__(self) -> None:
        self.calls = 0

    async def GetProcessorCredentials(
        self, request: merchant_pb.GetProcessorCredentialsRequest, **_: Any
    ) -> merchant_pb.GetProcessorCredentialsResponse:
        self.calls += 1
        return merchant_pb.GetProcessorCredentialsResponse(credentials={"secretKey": f"sk_{self.calls}"})


async def test_credentials_are_cached_briefly() -> None:
    now = [100.0]
    stub = _FakeStub()
    source = MerchantCredentials(stub, ttl_seconds=5, timeout_seconds=1, clock=lambda: now[0])  # type: ignore[arg-type]
    assert (await source.get("mer_1", "stripe"))["secretKey"] == "sk_1"
    assert (await source.get("mer_1", "stripe"))["secretKey"] == "sk_1"
    assert (await source.get("mer_2", "stripe"))["secretKey"] == "sk_2"  # per merchant
    now[0] += 5.1
    assert (await source.get("mer_1", "stripe"))["secretKey"] == "sk_3"  # expired: asked again
    uncached = MerchantCredentials(stub, ttl_seconds=0, timeout_seconds=1)  # type: ignore[arg-type]
    await uncached.get("mer_1", "stripe")
    await uncached.get("mer_1", "stripe")
    assert stub.calls == 5


async def test_credentials_cache_is_bounded() -> None:
    source = MerchantCredentials(_FakeStub(), ttl_seconds=5, timeout_seconds=1, max_entries=3)  # type: ignore[arg-type]
    for index in range(10):
        await source.get(f"mer_{index}", "stripe")
    assert len(source._cache) <= 3
