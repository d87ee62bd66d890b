"""PayLoops' test-mode payment-method tokens. Every processor accepts them and translates
them into what its own sandbox understands, so one token behaves the same wherever the
router sends it. Processor-native tokens work only at their own processor."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    SUCCESS = "success"
    DECLINE = "decline"
    ACTION_REQUIRED = "action_required"  # 3-D Secure


@dataclass(frozen=True)
class SandboxToken:
    token: str
    outcome: Outcome
    decline_code: str = ""
    # Asked again with 3-D Secure requested (a step-up), it needs authentication instead.
    step_up: bool = False


_TOKENS = (
    SandboxToken("pm_card_visa", Outcome.SUCCESS),
    SandboxToken("pm_card_mastercard", Outcome.SUCCESS),
    SandboxToken("pm_card_visa_chargeDeclined", Outcome.DECLINE, "card_declined"),
    SandboxToken("pm_card_chargeDeclinedInsufficientFunds", Outcome.DECLINE, "insufficient_funds"),
    SandboxToken("pm_card_authenticationRequired", Outcome.ACTION_REQUIRED),
    SandboxToken("pm_card_declinedAuthenticationRequired", Outcome.DECLINE, "authentication_required", step_up=True),
)
TEST_TOKENS: dict[str, SandboxToken] = {t.token: t for t in _TOKENS}

# The standard test card numbers a hosted checkout page accepts in test mode, and the token
# each becomes (server-side; the number itself goes no further).
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000002": "pm_card_visa_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000002760003184": "pm_card_authenticationRequired",
}

_NATIVE_PREFIXES = (("pm_", "stripe"), ("tok_", "stripe"), ("token_", "razorpay"))


def sandbox_token(token: str) -> SandboxToken | None:
    """The PayLoops test token `token` is, if it is one."""
    return TEST_TOKENS.get(token)


def native_processor(token: str) -> str | None:
    """The only processor that can take `token`: "stripe" for a Stripe payment method,
    "razorpay" for a Razorpay token; None for a PayLoops test token (any processor) or an
    unrecognised shape (left to the processor to refuse)."""
    if token in TEST_TOKENS:
        return None
    return next((processor for prefix, processor in _NATIVE_PREFIXES if token.startswith(prefix)), None)
