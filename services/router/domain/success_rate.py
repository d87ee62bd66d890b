"""Success-rate routing: the arithmetic on recent outcomes, no I/O.

A processor's recent outcomes are kept in windows (the router's scores.py reads and writes
them) at three levels, finest first: this merchant's payments of this payment-method type
and currency; this merchant's payments in this currency; every merchant's payments of this
type and currency. A processor is scored at the finest level holding at least the rule's
`min_samples` outcomes; with none it is unscored, and ranks first (optimistically) so that
it is tried and learned about. Ties keep the rule's listed order.

Only outcomes that say something about the processor count (`window_outcome`): successes,
and failures on the processor's side; a customer's decline says nothing about it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.router.domain.program import Approach, SuccessRate


class Level(StrEnum):
    MERCHANT_METHOD_CURRENCY = "merchant, payment method type, currency"
    MERCHANT_CURRENCY = "merchant, currency"
    PLATFORM_METHOD_CURRENCY = "all merchants, payment method type, currency"


LEVELS: tuple[Level, ...] = tuple(Level)
# The longest window a rule may ask for (what the store keeps per window).
MAX_WINDOW = 1000


@dataclass(frozen=True)
class Window:
    """The last outcomes (up to a rule's window size) of one processor at one level."""

    successes: int = 0
    samples: int = 0

    @property
    def rate(self) -> float:
        return self.successes / self.samples if self.samples else 0.0


# Per processor, its windows in LEVELS order (missing: no outcomes yet).
Scores = Mapping[str, Sequence[Window]]


@dataclass(frozen=True)
class Ranked:
    processor: str
    approach: Approach
    detail: str
    score: float | None = None
    samples: int = 0


def rank(
    action: SuccessRate, eligible: Sequence[str], scores: Scores | None, rng: random.Random | None
) -> list[Ranked]:
    """`eligible`: the rule's processors that may take this payment, in its listed order.
    `scores` None: they could not be read; the listed order is used and says so. `rng`
    None: no exploration."""
    if scores is None:
        return [
            Ranked(p, Approach.STATIC_FALLBACK, f"success rates unavailable: listed order #{n}")
            for n, p in enumerate(eligible, 1)
        ]
    scored = [_score(p, scores.get(p, ()), action.min_samples) for p in eligible]
    if rng is not None and rng.random() * 100 < action.exploration_percent:
        rng.shuffle(scored)
        return [
            Ranked(s.processor, Approach.EXPLORATION, f"exploration ({action.exploration_percent:g}% of payments)")
            if n == 0
            else s
            for n, s in enumerate(scored)
        ]
    # Unscored first (optimistic), then by rate; sorted() is stable, so ties keep the listed order.
    return sorted(scored, key=lambda s: -(1.0 if s.score is None else s.score))


def _score(processor: str, windows: Sequence[Window], min_samples: int) -> Ranked:
    for level, window in zip(LEVELS, windows, strict=False):
        if window.samples >= min_samples:
            detail = f"success rate {window.rate:.2f} over {window.samples} payments ({level})"
            return Ranked(processor, Approach.SUCCESS_RATE, detail, round(window.rate, 4), window.samples)
    return Ranked(processor, Approach.SUCCESS_RATE, f"fewer than {min_samples} recent payments: tried to learn")


# Failure codes that count against a processor: it failed, not the customer's card.
PROCESSOR_SIDE_FAILURES = frozenset(
    {
        "PROCESSOR_UNAVAILABLE",  # no answer, 5xx, refused connection: nothing was charged
        "PROCESSOR_OUTCOME_UNKNOWN",
        "processing_error",  # Stripe: an error occurred while processing the card
        "api_error",
        "gateway_error",  # Razorpay
        "server_error",
        "bank_technical_error",
    }
)


def window_outcome(succeeded: bool, failure_code: str) -> bool | None:
    """The outcome a payment attempt adds to its processor's windows: True (success), False
    (the processor failed), None (it says nothing about the processor: a decline, an
    invalid request, a customer who abandoned 3-D Secure)."""
    if succeeded:
        return True
    if failure_code in PROCESSOR_SIDE_FAILURES:
        return False
    return None
