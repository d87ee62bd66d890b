"""The card form of the hosted checkout page, in test mode: the standard test card
numbers become PayLoops test tokens here, and the number goes no further (it is never
stored, logged or sent on)."""

from __future__ import annotations

import re
from datetime import date

from services.processor_common.test_tokens import TEST_CARDS

SEPARATORS = re.compile(r"[\s-]+")
EXPIRY = re.compile(r"^(\d{1,2})\s*/\s*(\d{2}|\d{4})$")


class CardProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def check_expiry(text: str, today: date) -> None:
    match = EXPIRY.match(text.strip())
    if not match:
        raise CardProblem("expiry", "Enter the expiry date as MM / YY.")
    month, year = int(match.group(1)), int(match.group(2))
    year += 2000 if year < 100 else 0
    if not 1 <= month <= 12:
        raise CardProblem("expiry", "The expiry month is not valid.")
    if (year, month) < (today.year, today.month):
        raise CardProblem("expiry", "This card has expired.")


def card_token(number: str, expiry: str, cvc: str, *, today: date) -> str:
    """The test token of a test card; CardProblem (a message for the customer) otherwise."""
    digits = SEPARATORS.sub("", number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        raise CardProblem("number", "The card number is not valid.")
    check_expiry(expiry, today)
    if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        raise CardProblem("cvc", "The security code is 3 or 4 digits.")
    token = TEST_CARDS.get(digits)
    if token is None:
        raise CardProblem("number", "This is a test checkout: use a test card such as 4242 4242 4242 4242.")
    return token
