"""The refund rules without a database: what may be refunded, how much, and where the
order goes; and how a processor event's reference is matched to a recorded payment."""

from __future__ import annotations

import pytest
from payloops.processor.v1 import processor_pb2

from services.common.errors import FailedPrecondition, InvalidArgument
from services.order.domain import OrderStatus
from services.order.events import event_charge
from services.order.models import TransactionRow
from services.order.refunds import check_refundable, order_status_after_refund, refund_amount, validate_request


@pytest.mark.parametrize("status", ["SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"])
def test_paid_orders_are_refundable(status: str) -> None:
    check_refundable(status)


@pytest.mark.parametrize("status", ["CREATED", "PROCESSING", "REQUIRES_ACTION", "AUTHORIZED", "FAILED", "CANCELLED"])
def test_unpaid_orders_are_not_refundable(status: str) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        check_refundable(status)
    assert refused.value.reason == "ORDER_NOT_REFUNDABLE"


def test_the_amount_defaults_to_the_remainder_and_never_exceeds_it() -> None:
    assert refund_amount(None, 700) == 700
    assert refund_amount(300, 700) == 300
    assert refund_amount(700, 700) == 700
    for requested, left in ((701, 700), (None, 0), (1, 0), (1, -5)):
        with pytest.raises(FailedPrecondition) as refused:
            refund_amount(requested, left)
        assert refused.value.reason == "REFUND_EXCEEDS_CAPTURED"


@pytest.mark.parametrize("amount", [0, -1])
def test_amount_must_be_positive(amount: int) -> None:
    with pytest.raises(InvalidArgument) as refused:
        validate_request(amount, "")
    assert refused.value.reason == "AMOUNT_INVALID"


def test_reason_is_bounded() -> None:
    validate_request(None, "x" * 500)
    with pytest.raises(InvalidArgument):
        validate_request(None, "x" * 501)


def test_order_status_after_refund() -> None:
    assert order_status_after_refund(1000, 400) is OrderStatus.PARTIALLY_REFUNDED
    assert order_status_after_refund(1000, 1000) is OrderStatus.REFUNDED


def charge(reference: str, amount: int = 1000, currency: str = "INR", attempt: int = 1) -> TransactionRow:
    return TransactionRow(processor_reference=reference, amount=amount, currency=currency, attempt=attempt)


def result(reference: str, parent: str = "", amount: int = 1000, currency: str = "INR") -> processor_pb2.PaymentResult:
    return processor_pb2.PaymentResult(
        processor_reference=reference, parent_reference=parent, amount=amount, currency=currency
    )


def test_events_match_a_charge_strictly() -> None:
    paid, older = charge("pi_1"), charge("pi_0")
    assert event_charge([paid, older], result("pi_1")) is paid
    assert event_charge([paid], result("pi_2")) is None  # another PaymentIntent (an older attempt's)
    razorpay = charge("order_A")
    assert event_charge([razorpay], result("pay_B", parent="order_A")) is razorpay  # the payment of our order
    assert event_charge([razorpay], result("pay_B", parent="order_Z")) is None
    assert event_charge([razorpay], result("pay_B")) is None  # nothing ties it to our order
    assert event_charge([paid], result("pi_1", amount=999)) is None  # not the amount we charged
    assert event_charge([paid], result("pi_1", currency="USD")) is None
    assert event_charge([charge("")], result("")) is None
