"""The refund rules without a database: what may be refunded, how much, and where the
order goes; and how a processor event's reference is matched to a recorded payment."""

from __future__ import annotations

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.order.domain import OrderStatus
from services.order.events import same_object
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


def test_event_references_match_the_recorded_payment() -> None:
    assert same_object("pi_1", "pi_1")
    assert not same_object("pi_1", "pi_2")  # another PaymentIntent (an older attempt's)
    assert same_object("order_A", "pay_B")  # Razorpay reports the payment of the recorded order
    assert same_object("", "pi_1")
