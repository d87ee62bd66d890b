"""Hosted checkout's pure rules: session input, the test card form, amounts as people
read them."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.money import format_amount
from services.order.checkout.domain import (
    MAX_EXPIRES_SECONDS,
    NewCheckoutSession,
    check_mode,
    check_no_payment_in_flight,
    check_open,
    is_web_url,
    validate_new_session,
)
from services.web.cards import CardProblem, card_token, luhn_valid

TODAY = date(2026, 12, 4)


def new(**changes: object) -> NewCheckoutSession:
    fields: dict[str, object] = {
        "order_id": "ord_1",
        "success_url": "https://shop.example/ok",
        "cancel_url": "http://localhost:3000/cart",
        "expires_in_seconds": MAX_EXPIRES_SECONDS,
    }
    return NewCheckoutSession(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://shop.example/ok?x=1", True),
        ("http://127.0.0.1:8000/", True),
        ("javascript:alert(1)", False),
        ("ftp://shop.example/", False),
        ("//shop.example/ok", False),
        ("https:///nohost", False),
        ("https://shop.example/a b", False),
        ("https://shop.example/\x00", False),
        ("https://" + "a" * 2050 + ".example", False),
        ("", False),
    ],
)
def test_only_absolute_web_urls_are_accepted(url: str, ok: bool) -> None:
    assert is_web_url(url) is ok


def test_the_contracts_expiry_bounds_are_1800_to_86400_seconds() -> None:
    validate_new_session(new(expires_in_seconds=1800), min_expires_seconds=1800)
    for seconds in (1799, 86_401):
        with pytest.raises(InvalidArgument) as refused:
            validate_new_session(new(expires_in_seconds=seconds), min_expires_seconds=1800)
        assert refused.value.reason == "CHECKOUT_SESSION_INVALID"
        assert [v.field for v in refused.value.violations] == ["expires_in_seconds"]


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as refused:
        validate_new_session(new(order_id="", success_url="x", cancel_url="y"), min_expires_seconds=1800)
    assert [v.field for v in refused.value.violations] == ["order_id", "success_url", "cancel_url"]


def test_live_mode_closed_sessions_and_payments_in_flight_are_refused() -> None:
    check_mode("test")
    with pytest.raises(FailedPrecondition, match="hosted fields") as live:
        check_mode("live")
    assert live.value.reason == "CHECKOUT_LIVE_MODE_UNSUPPORTED"
    check_open("OPEN")
    for status, expired in (("COMPLETE", False), ("EXPIRED", False), ("OPEN", True)):
        with pytest.raises(FailedPrecondition) as closed:
            check_open(status, expired=expired)
        assert closed.value.reason == "CHECKOUT_SESSION_NOT_OPEN"
    check_no_payment_in_flight("FAILED")
    with pytest.raises(FailedPrecondition) as busy:
        check_no_payment_in_flight("REQUIRES_ACTION")
    assert busy.value.reason == "CHECKOUT_SESSION_PAYMENT_IN_FLIGHT"


@pytest.mark.parametrize(
    ("number", "token"),
    [
        ("4242 4242 4242 4242", "pm_card_visa"),
        ("4242-4242-4242-4242", "pm_card_visa"),
        ("4000000000000002", "pm_card_visa_chargeDeclined"),
        ("4000 0000 0000 9995", "pm_card_chargeDeclinedInsufficientFunds"),
        ("4000 0027 6000 3184", "pm_card_authenticationRequired"),
    ],
)
def test_test_cards_become_test_tokens(number: str, token: str) -> None:
    assert card_token(number, "12/34", "123", today=TODAY) == token


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "field"),
    [
        ("4242 4242 4242 4241", "12/34", "123", "number"),  # fails the Luhn check
        ("4242", "12/34", "123", "number"),
        ("4111 1111 1111 1111", "12/34", "123", "number"),  # a real-looking card, not a test one
        ("4242 4242 4242 4242", "13/34", "123", "expiry"),
        ("4242 4242 4242 4242", "11/26", "123", "expiry"),  # last month
        ("4242 4242 4242 4242", "1234", "123", "expiry"),
        ("4242 4242 4242 4242", "12/34", "12", "cvc"),
    ],
)
def test_a_bad_card_form_says_which_field(number: str, expiry: str, cvc: str, field: str) -> None:
    with pytest.raises(CardProblem) as problem:
        card_token(number, expiry, cvc, today=TODAY)
    assert problem.value.field == field and problem.value.message


def test_this_month_is_still_valid_and_luhn_is_luhn() -> None:
    assert card_token("4242424242424242", "12/2026", "1234", today=TODAY) == "pm_card_visa"
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1999, "USD", "19.99 USD"),
        (500, "JPY", "500 JPY"),
        (1234567, "INR", "12,345.67 INR"),
        (1005, "KWD", "1.005 KWD"),
    ],
)
def test_amounts_read_as_people_read_them(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text
