import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.order.checkout.domain import CLOSED_BY_ORDER
from services.order.domain import TRANSITIONS, NewOrder, OrderStatus, check_transition, validate_new_order
from services.order.repository import ORDER_EVENTS

MAX = 99_999_999


def violations(order: NewOrder) -> tuple[str, list[str]]:
    with pytest.raises(InvalidArgument) as caught:
        validate_new_order(order, max_amount=MAX)
    return caught.value.reason, [v.field for v in caught.value.violations]


@pytest.mark.parametrize(
    ("order", "reason", "fields"),
    [
        (NewOrder(amount=0, currency="USD"), "AMOUNT_INVALID", ["amount"]),
        (NewOrder(amount=-5, currency="USD"), "AMOUNT_INVALID", ["amount"]),
        (NewOrder(amount=MAX + 1, currency="USD"), "AMOUNT_INVALID", ["amount"]),
        (NewOrder(amount=100, currency=""), "CURRENCY_INVALID", ["currency"]),
        (NewOrder(amount=100, currency="usd"), "CURRENCY_INVALID", ["currency"]),
        (NewOrder(amount=100, currency="XYZ"), "CURRENCY_INVALID", ["currency"]),
        (NewOrder(amount=0, currency="XYZ"), "AMOUNT_INVALID", ["amount", "currency"]),
        (NewOrder(amount=100, currency="USD", customer_email="nope"), "INVALID_ARGUMENT", ["customer_email"]),
        (NewOrder(amount=100, currency="USD", metadata={"": "x"}), "INVALID_ARGUMENT", ["metadata[]"]),
    ],
)
def test_bad_orders_name_every_bad_field(order: NewOrder, reason: str, fields: list[str]) -> None:
    assert violations(order) == (reason, fields)


@pytest.mark.parametrize("currency", ["USD", "JPY", "INR", "KWD", "EUR"])
def test_good_orders_pass(currency: str) -> None:
    validate_new_order(NewOrder(amount=1, currency=currency, customer_email="a@b.co"), max_amount=MAX)


def test_paid_order_cannot_be_paid_again_but_failed_one_can() -> None:
    check_transition(OrderStatus.FAILED, OrderStatus.PROCESSING)
    with pytest.raises(FailedPrecondition) as caught:
        check_transition(OrderStatus.SUCCEEDED, OrderStatus.PROCESSING, reason="ORDER_NOT_PAYABLE")
    assert caught.value.reason == "ORDER_NOT_PAYABLE"


def test_final_states_are_final() -> None:
    assert TRANSITIONS[OrderStatus.REFUNDED] == frozenset()
    assert TRANSITIONS[OrderStatus.CANCELLED] == frozenset()
    assert set(TRANSITIONS) == set(OrderStatus)


def test_the_move_to_processing_has_nothing_to_stage() -> None:
    """repository.start_attempt moves an order to PROCESSING in one statement, without
    move()'s staging: right only while merchants hear nothing of that move."""
    assert OrderStatus.PROCESSING not in ORDER_EVENTS
    assert OrderStatus.PROCESSING not in CLOSED_BY_ORDER
