"""Test tokens: the saved-card ``token`` of a payment request decides its outcome.

==================================  ===========================================================
token                               outcome
==================================  ===========================================================
``token_success`` (and any other    success: payment ``captured`` when the order was created with
``token_...`` not listed here)      ``payment_capture`` 1 (the default), else ``authorized``
``token_decline``                   HTTP 400 ``BAD_REQUEST_ERROR``, reason ``card_declined``
``token_decline_insufficient_funds`` HTTP 400 ``BAD_REQUEST_ERROR``, reason ``insufficient_funds``
``token_decline_card_expired``      HTTP 400 ``BAD_REQUEST_ERROR``, reason ``card_expired``
``token_decline_<reason>``          HTTP 400 ``BAD_REQUEST_ERROR``, reason ``<reason>``
``token_gateway_error``             HTTP 502 ``GATEWAY_ERROR``, reason ``gateway_technical_error``
``token_action_required``           payment ``created``; the answer carries
                                    ``next: [{"action": "redirect", "url": ...}]``; finish it with
                                    ``POST /_sandbox/payments/{id}/complete``
==================================  ===========================================================

A payment request with ``"auth_type": "3ds"`` (3-D Secure requested, e.g. a step-up after
``token_decline_authentication_required``) needs authentication like
``token_action_required``, unless its token declines for another reason.

Declined payments are recorded (status ``failed`` with ``error_code``, ``error_reason``,
``error_description``, ``error_source``, ``error_step``) and the error body's metadata names
them: ``{"payment_id": ..., "order_id": ...}``. A request without a token (card details, UPI…)
on ``/v1/payments/create/json`` needs authentication, like ``token_action_required``. A token
that does not start with ``token_`` is answered 404 "The id provided does not exist".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import BAD_REQUEST_ERROR, GATEWAY_ERROR

TOKEN_PREFIX = "token_"
ACTION_REQUIRED_TOKEN = "token_action_required"
DECLINE_PREFIX = "token_decline"
GATEWAY_ERROR_TOKEN = "token_gateway_error"
AUTHENTICATION_REQUIRED = "authentication_required"


@dataclass(frozen=True, slots=True)
class Decline:
    status: int
    code: str
    reason: str
    description: str
    source: str
    step: str = "payment_authorization"


Outcome = Literal["success", "action_required"] | Decline

_KNOWN_DECLINES = {
    "card_declined": Decline(
        400, BAD_REQUEST_ERROR, "card_declined", "Your payment has been declined by your bank.", "bank"
    ),
    "insufficient_funds": Decline(
        400,
        BAD_REQUEST_ERROR,
        "insufficient_funds",
        "Your payment could not be completed due to insufficient account balance.",
        "customer",
    ),
    "card_expired": Decline(
        400,
        BAD_REQUEST_ERROR,
        "card_expired",
        "Your payment failed because the card has expired.",
        "customer",
    ),
}

GATEWAY_DECLINE = Decline(
    502,
    GATEWAY_ERROR,
    "gateway_technical_error",
    "Payment processing failed due to error at bank or wallet gateway",
    "gateway",
)

AUTHENTICATION_FAILED = Decline(
    400,
    BAD_REQUEST_ERROR,
    "authentication_failed",
    "Payment failed because the customer could not be authenticated.",
    "customer",
    step="payment_authentication",
)


def outcome_for(token: str | None, *, three_d_secure: bool = False) -> Outcome:
    """What a payment request with ``token`` does (``None``: no saved token was given;
    ``three_d_secure``: the request asked for it, so the customer is challenged unless the
    token declines for another reason)."""
    if token is None or token == ACTION_REQUIRED_TOKEN:
        return "action_required"
    if three_d_secure:
        outcome = outcome_for(token)
        declined_otherwise = isinstance(outcome, Decline) and outcome.reason != AUTHENTICATION_REQUIRED
        return outcome if declined_otherwise else "action_required"
    if token == GATEWAY_ERROR_TOKEN:
        return GATEWAY_DECLINE
    if token == DECLINE_PREFIX:
        return _KNOWN_DECLINES["card_declined"]
    if token.startswith(DECLINE_PREFIX + "_"):
        reason = token.removeprefix(DECLINE_PREFIX + "_")
        return _KNOWN_DECLINES.get(
            reason, Decline(400, BAD_REQUEST_ERROR, reason, "Your payment has been declined.", "bank")
        )
    return "success"
