"""The one conformance suite every processor service passes, over gRPC, against its real
sandbox (localstripe, the Razorpay sandbox). A processor's known differences are flags on its
Side (tests/processors/sides.py), never a fork of the suite."""

from __future__ import annotations

import dataclasses
import time
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from payloops.processor.v1 import processor_pb2
from payloops.processor.v1 import processor_service_pb2 as pb

from services.common.errors import status_of
from tests.processors.conftest import PROCESSOR_TIMEOUT_SECONDS
from tests.processors.harness import TAMPERED, UNCONFIGURED
from tests.processors.sides import Side, StripeSide

Status = processor_pb2.PaymentResult.Status
RefundStatus = processor_pb2.RefundResult.Status


@dataclasses.dataclass(frozen=True)
class Attempt:
    merchant: str
    order_id: str
    key: str
    amount: int
    capture: bool
    token: str

    def context(self, step: str) -> pb.CallContext:
        return pb.CallContext(merchant_id=self.merchant, idempotency_key=f"{self.key}-{step}")

    def prepare_request(self, side: Side) -> pb.PreparePaymentRequest:
        return pb.PreparePaymentRequest(
            context=self.context("prepare"),
            order_id=self.order_id,
            amount=self.amount,
            currency=side.currency,
            payment_method_type="card",
            payment_method_token=self.token,
            capture=self.capture,
            customer_email="buyer@example.com",
        )

    def authorize_request(self, side: Side, reference: str) -> pb.AuthorizeRequest:
        return pb.AuthorizeRequest(
            context=self.context("confirm"),
            order_id=self.order_id,
            amount=self.amount,
            currency=side.currency,
            payment_method_type="card",
            payment_method_token=self.token,
            capture=self.capture,
            customer_email="buyer@example.com",
            existing_reference=reference,
        )


def attempt(side: Side, *, token: str = "pm_card_visa", capture: bool = True, amount: int = 1500) -> Attempt:
    order_id = f"ord_{uuid.uuid4().hex[:16]}"
    return Attempt(side.merchant(), order_id, f"{order_id}-a1-{side.name}", amount, capture, token)


async def prepared(side: Side, payment: Attempt) -> str:
    answer = await side.stub.PreparePayment(payment.prepare_request(side), timeout=10)
    assert answer.processor_reference
    return answer.processor_reference


async def authorized(side: Side, payment: Attempt, reference: str) -> processor_pb2.PaymentResult:
    answer = await side.stub.Authorize(payment.authorize_request(side, reference), timeout=10)
    return answer.result


async def paid(
    side: Side, *, token: str = "pm_card_visa", capture: bool = True, amount: int = 1500
) -> tuple[Attempt, str, processor_pb2.PaymentResult]:
    payment = attempt(side, token=token, capture=capture, amount=amount)
    reference = await prepared(side, payment)
    return payment, reference, await authorized(side, payment, reference)


async def lookup(side: Side, merchant: str, reference: str = "", order_id: str = "") -> processor_pb2.PaymentResult:
    request = pb.GetPaymentRequest(merchant_id=merchant, processor_reference=reference, order_id=order_id)
    return (await side.stub.GetPayment(request, timeout=10)).result


def refusal(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, list[str]]:
    """The status code, ErrorInfo reason and the detail types of a refused call."""
    status = status_of(error)
    assert status is not None, "no rich status details"
    reason, kinds = "", []
    for detail in status.details:
        kinds.append(detail.TypeName())
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reason = info.reason
    return error.code(), reason, kinds


# -- payments


async def test_charge_with_capture(side: Side) -> None:
    payment, reference, result = await paid(side, capture=True)
    assert result.status == Status.CAPTURED
    assert result.processor_reference
    assert (result.amount, result.amount_captured) == (payment.amount, payment.amount)
    assert (await lookup(side, payment.merchant, result.processor_reference)).status == Status.CAPTURED


async def test_authorize_then_capture(side: Side) -> None:
    payment, _, result = await paid(side, capture=False)
    assert result.status == Status.AUTHORIZED
    assert result.amount_captured == 0
    capture = pb.CaptureRequest(
        context=payment.context("capture"),
        processor_reference=result.processor_reference,
        amount=payment.amount,
        currency=side.currency,
    )
    captured = (await side.stub.Capture(capture, timeout=10)).result
    assert (captured.status, captured.amount_captured) == (Status.CAPTURED, payment.amount)
    again = (await side.stub.Capture(capture, timeout=10)).result  # a retry of the same step
    assert (again.status, again.processor_reference) == (Status.CAPTURED, captured.processor_reference)


async def test_authorize_then_void(side: Side) -> None:
    payment, _, result = await paid(side, capture=False)
    assert result.status == Status.AUTHORIZED
    void = pb.VoidRequest(context=payment.context("void"), processor_reference=result.processor_reference)
    voided = (await side.stub.Void(void, timeout=10)).result
    assert voided.status == Status.VOIDED
    assert (await side.stub.Void(void, timeout=10)).result.status == Status.VOIDED  # a retry


async def test_void_of_a_prepared_payment_makes_it_unpayable(side: Side) -> None:
    """What abandoning a payment whose outcome stayed unknown relies on."""
    payment = attempt(side)
    reference = await prepared(side, payment)
    void = pb.VoidRequest(context=payment.context("abandon"), processor_reference=reference)
    assert (await side.stub.Void(void, timeout=10)).result.status == Status.VOIDED
    assert (await lookup(side, payment.merchant, reference)).status != Status.CAPTURED


async def test_void_of_a_captured_payment_answers_its_state(side: Side) -> None:
    payment, _, result = await paid(side, capture=True)
    void = pb.VoidRequest(context=payment.context("void"), processor_reference=result.processor_reference)
    assert (await side.stub.Void(void, timeout=10)).result.status == Status.CAPTURED


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("pm_card_visa_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
async def test_decline_is_a_result_with_its_code(side: Side, token: str, code: str) -> None:
    payment, reference, result = await paid(side, token=token)
    assert result.status == Status.FAILED
    assert result.failure_code == code
    assert result.failure_message
    assert result.amount_captured == 0
    # A retry of the same attempt reports the decline again; it does not charge the card again.
    again = await authorized(side, payment, reference)
    assert (again.status, again.failure_code) == (Status.FAILED, code)
    assert await side.payments_for(payment.merchant, payment.order_id) == 1


async def test_requires_action(side: Side) -> None:
    _, _, result = await paid(side, token="pm_card_authenticationRequired")
    assert result.status == Status.REQUIRES_ACTION
    assert result.processor_reference
    assert bool(result.next_action_url) == side.reports_action_url


async def test_mastercard_test_token_succeeds(side: Side) -> None:
    _, _, result = await paid(side, token="pm_card_mastercard")
    assert result.status == Status.CAPTURED


# -- refunds


async def test_refunds_full_partial_and_idempotent(side: Side) -> None:
    payment, _, result = await paid(side, amount=1000)
    assert result.status == Status.CAPTURED

    def refund(refund_id: str, amount: int) -> pb.RefundRequest:
        return pb.RefundRequest(
            context=pb.CallContext(merchant_id=payment.merchant, idempotency_key=f"refund-{refund_id}"),
            processor_reference=result.processor_reference,
            refund_id=refund_id,
            amount=amount,
            currency=side.currency,
            reason="customer asked",
        )

    first = refund(f"ref_{uuid.uuid4().hex[:12]}", 300)
    partial = (await side.stub.Refund(first, timeout=10)).result
    assert (partial.status, partial.amount) == (RefundStatus.SUCCEEDED, 300)
    repeated = (await side.stub.Refund(first, timeout=10)).result
    assert repeated.processor_reference == partial.processor_reference
    assert await side.refunds_for(payment.merchant, result.processor_reference) == 1

    rest = (await side.stub.Refund(refund(f"ref_{uuid.uuid4().hex[:12]}", 0), timeout=10)).result
    assert (rest.status, rest.amount) == (RefundStatus.SUCCEEDED, 700)
    assert await side.refunds_for(payment.merchant, result.processor_reference) == 2

    fetched = await side.stub.GetRefund(
        pb.GetRefundRequest(merchant_id=payment.merchant, processor_reference=partial.processor_reference), timeout=10
    )
    assert (fetched.result.status, fetched.result.amount) == (RefundStatus.SUCCEEDED, 300)


async def test_list_payments_shows_each_payment_of_an_order_once_with_its_refunds(side: Side) -> None:
    payment, reference, result = await paid(side, capture=True)
    refund = pb.RefundRequest(
        context=pb.CallContext(merchant_id=payment.merchant, idempotency_key=f"refund-{payment.order_id}"),
        processor_reference=result.processor_reference,
        refund_id=f"ref_{uuid.uuid4().hex[:12]}",
        amount=400,
        currency=side.currency,
    )
    assert (await side.stub.Refund(refund, timeout=10)).result.status == RefundStatus.SUCCEEDED
    references = sorted({reference, result.processor_reference})
    request = pb.ListPaymentsRequest(
        merchant_id=payment.merchant, order_id=payment.order_id, processor_references=references
    )
    [listed] = (await side.stub.ListPayments(request, timeout=10)).payments
    assert (listed.status, listed.processor_reference) == (Status.CAPTURED, result.processor_reference)
    assert (listed.amount, listed.amount_captured, listed.amount_refunded) == (payment.amount, payment.amount, 400)
    assert listed.currency == side.currency
    other = attempt(side)
    nothing = pb.ListPaymentsRequest(merchant_id=other.merchant, order_id=other.order_id)
    assert list((await side.stub.ListPayments(nothing, timeout=10)).payments) == []


# -- lookups and resuming


async def test_get_payment_by_reference_and_by_order(side: Side) -> None:
    payment = attempt(side)
    reference = await prepared(side, payment)
    before = await lookup(side, payment.merchant, reference)
    assert before.status == Status.PENDING  # prepared: nothing attempted yet
    result = await authorized(side, payment, reference)
    assert (await lookup(side, payment.merchant, result.processor_reference)).status == Status.CAPTURED
    by_prepared = await lookup(side, payment.merchant, reference)  # what the workflow recorded first
    assert (by_prepared.status, by_prepared.processor_reference) == (Status.CAPTURED, result.processor_reference)
    if side.finds_by_order_id:
        by_order = await lookup(side, payment.merchant, order_id=payment.order_id)
        assert (by_order.status, by_order.processor_reference) == (Status.CAPTURED, result.processor_reference)
        nothing = await lookup(side, payment.merchant, order_id=f"ord_{uuid.uuid4().hex[:16]}")
        assert nothing.status == Status.STATUS_UNSPECIFIED
    else:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await lookup(side, payment.merchant, order_id=payment.order_id)
        assert refusal(refused.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "PROCESSOR_REFERENCE_REQUIRED")


async def test_resuming_never_pays_twice(side: Side) -> None:
    payment = attempt(side)
    reference = await prepared(side, payment)
    first = await authorized(side, payment, reference)
    second = await authorized(side, payment, reference)
    assert first.status == second.status == Status.CAPTURED
    assert second.processor_reference == first.processor_reference
    assert await side.payments_for(payment.merchant, payment.order_id) == 1


# -- failures


async def test_processor_5xx_is_an_unknown_outcome(side: Side) -> None:
    """A 5xx may have been processed (Stripe documents it): never a reason to fail over."""
    payment = attempt(side)
    reference = await prepared(side, payment)
    await side.fail_next_payment_call(payment.merchant)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await authorized(side, payment, reference)
    code, reason, _ = refusal(refused.value)
    assert (code, reason) == (grpc.StatusCode.UNKNOWN, "PROCESSOR_OUTCOME_UNKNOWN")
    assert (await lookup(side, payment.merchant, reference)).status == Status.PENDING  # no money moved
    assert (await authorized(side, payment, reference)).status == Status.CAPTURED  # the retry goes through


async def test_timeout_after_acceptance_is_outcome_unknown(side: Side) -> None:
    payment = attempt(side)
    reference = await prepared(side, payment)
    await side.stall_next_payment_call(payment.merchant, PROCESSOR_TIMEOUT_SECONDS + 2)
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await authorized(side, payment, reference)
    assert time.monotonic() - started < PROCESSOR_TIMEOUT_SECONDS + 1.5
    assert refusal(refused.value)[:2] == (grpc.StatusCode.UNKNOWN, "PROCESSOR_OUTCOME_UNKNOWN")
    known = await lookup(side, payment.merchant, reference)
    assert (known.status, known.amount_captured) == (Status.CAPTURED, payment.amount)
    resumed = await authorized(side, payment, reference)
    assert (resumed.status, resumed.processor_reference) == (Status.CAPTURED, known.processor_reference)
    assert await side.payments_for(payment.merchant, payment.order_id) == 1


# -- webhooks


async def parse(side: Side, merchant: str, body: bytes, headers: dict[str, str]) -> processor_pb2.ProcessorEvent:
    request = pb.ParseWebhookRequest(merchant_id=merchant, body=body, headers=headers)
    assert side.webhook_stub is not None
    return (await side.webhook_stub.ParseWebhook(request, timeout=10)).event


async def assert_refused(side: Side, merchant: str, body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await parse(side, merchant, body, headers)
    assert refusal(refused.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_SIGNATURE_INVALID")


async def test_webhooks_verified_and_reduced(side: Side) -> None:
    payment, _, result = await paid(side)
    body, headers = await side.payment_webhook(payment.merchant, result.processor_reference)
    event = await parse(side, payment.merchant, body, headers)
    assert event.event_id
    assert event.WhichOneof("subject") == "payment"
    assert (event.payment.status, event.payment.processor_reference) == (Status.CAPTURED, result.processor_reference)
    assert event.order_id == payment.order_id

    await assert_refused(side, payment.merchant, body + b" ", headers)  # body changed after signing
    await assert_refused(side, payment.merchant, body, {})  # no signature header
    other_merchant = side.merchant()  # another merchant's secret
    await assert_refused(side, other_merchant, body, headers)


async def test_webhook_timestamps(side: Side) -> None:
    payment, _, result = await paid(side)
    body, headers = await side.payment_webhook(payment.merchant, result.processor_reference)
    if not side.signs_timestamps:
        # Nothing to check for age: a replayed event verifies and is deduplicated by its id.
        replayed = await parse(side, payment.merchant, body, headers)
        assert replayed.event_id == (await parse(side, payment.merchant, body, headers)).event_id
        return
    assert isinstance(side, StripeSide)
    now = int(time.time())
    await assert_refused(side, payment.merchant, body, side.sign(payment.merchant, body, now - 600))
    await assert_refused(side, payment.merchant, body, side.sign(payment.merchant, body, now + 600))
    assert (await parse(side, payment.merchant, body, side.sign(payment.merchant, body, now - 60))).event_id


# -- what the shared servicer adds


async def test_merchant_service_refusals_are_relayed(side: Side) -> None:
    for merchant, expected in (
        (UNCONFIGURED, (grpc.StatusCode.NOT_FOUND, "PROCESSOR_NOT_CONFIGURED")),
        (TAMPERED, (grpc.StatusCode.FAILED_PRECONDITION, "CREDENTIALS_UNREADABLE")),
    ):
        payment = dataclasses.replace(attempt(side), merchant=merchant)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await prepared(side, payment)
        assert refusal(refused.value)[:2] == expected


async def test_bad_requests_are_invalid_argument(side: Side) -> None:
    payment = attempt(side, amount=0)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await prepared(side, payment)
    code, _, kinds = refusal(refused.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "google.rpc.BadRequest" in kinds

    foreign = "token_abc123" if side.name == "stripe" else "pm_1Abc"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await prepared(side, attempt(side, token=foreign))
    assert refusal(refused.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "PAYMENT_METHOD_NOT_SUPPORTED")
