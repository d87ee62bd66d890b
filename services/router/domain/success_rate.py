"""Success-rate routing: the arithmetic on recent outcomes, no I/O.

A processor's recent outcomes are kept in windows (the router's scores.py reads and writes
them) at three levels, finest first: this merchant's payments of this payment-method type
and currency; this merchant's payments in this currency; every merchant's payments of this
type and currency. A processor is scored at the finest level holding at least the rule's
`min_samples` outcomes; with none it is unscored, and ranks first (optimistically) so that
it is tried and learned about. Ties keep the rule's listed order.

Elimination (`Health`): a processor whose rate in that window is below `threshold`, or
whose last `failure_streak` outcomes all failed, is skipped for `cooldown_seconds` after its
last failure (ELIMINATED: tried only after every other processor, so a payment whose
processors are all eliminated still tries the best of them). Then it is half-open: ranked
after the healthy ones, and first for `probe_percent` of payments; `restore_after`
successes in a row restore it.

Only outcomes that say something about the processor count (`window_outcome`): successes,
and failures on the processor's side; a customer's decline says nothing about it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
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
    # The newest outcomes' run: how many failures, or successes, in a row.
    failure_streak: int = 0
    success_streak: int = 0
    # Seconds from its newest failure to the read; None: no failure recorded.
    since_failure: float | None = None

    @property
    def rate(self) -> float:
        return self.successes / self.samples if self.samples else 0.0


@dataclass(frozen=True)
class Health:
    threshold: float = 0.35
    failure_streak: int = 5
    cooldown_seconds: float = 30.0
    probe_percent: float = 10.0
    restore_after: int = 2


class State(StrEnum):
    HEALTHY = "HEALTHY"
    HALF_OPEN = "HALF_OPEN"
    ELIMINATED = "ELIMINATED"


def health_state(window: Window, health: Health, min_samples: int) -> tuple[State, float]:
    """The processor's state by this window, and for ELIMINATED the seconds it has left."""
    failing = window.failure_streak >= health.failure_streak or (
        window.samples >= min_samples and window.rate < health.threshold
    )
    if not failing or window.success_streak >= health.restore_after:
        return State.HEALTHY, 0.0
    since = window.since_failure if window.since_failure is not None else health.cooldown_seconds
    if since < health.cooldown_seconds:
        return State.ELIMINATED, health.cooldown_seconds - since
    return State.HALF_OPEN, 0.0


# Per processor, its windows in LEVELS order (missing: no outcomes yet).
Scores = Mapping[str, Sequence[Window]]


@dataclass(frozen=True)
class Ranked:
    processor: str
    approach: Approach
    detail: str
    score: float | None = None
    samples: int = 0
    state: State = State.HEALTHY


def rank(
    action: SuccessRate,
    eligible: Sequence[str],
    scores: Scores | None,
    rng: random.Random | None,
    health: Health,
) -> list[Ranked]:
    """`eligible`: the rule's processors that may take this payment, in its listed order.
    `scores` None: they could not be read; the listed order is used and says so. `rng`
    None: no exploration or probing (a simulation)."""
    if scores is None:
        return [
            Ranked(p, Approach.STATIC_FALLBACK, f"success rates unavailable: listed order #{n}")
            for n, p in enumerate(eligible, 1)
        ]
    scored = [_score(p, scores.get(p, ()), action.min_samples, health) for p in eligible]
    # Unscored first (optimistic), then by rate; sorted() is stable, so ties keep the listed order.
    scored.sort(key=lambda s: -(1.0 if s.score is None else s.score))
    open_, probing, eliminated = (
        [s for s in scored if s.state is state] for state in (State.HEALTHY, State.HALF_OPEN, State.ELIMINATED)
    )
    usable = open_ + probing
    if rng is not None and probing and rng.random() * 100 < health.probe_percent:
        probe = rng.choice(probing)
        detail = f"probe after a cool-down ({health.probe_percent:g}% of payments)"
        usable = [replace(probe, approach=Approach.EXPLORATION, detail=detail)] + [s for s in usable if s != probe]
    elif rng is not None and usable and rng.random() * 100 < action.exploration_percent:
        rng.shuffle(usable)
        detail = f"exploration ({action.exploration_percent:g}% of payments)"
        usable[0] = replace(usable[0], approach=Approach.EXPLORATION, detail=detail)
    return usable + [replace(s, approach=Approach.ELIMINATED_FALLBACK) for s in eliminated]


def _score(processor: str, windows: Sequence[Window], min_samples: int, health: Health) -> Ranked:
    """Scored by the finest window with `min_samples`; its health by that window, or by the
    finest with any outcome (a run of failures counts before there are enough to score)."""
    scored = next(((level, w) for level, w in zip(LEVELS, windows, strict=False) if w.samples >= min_samples), None)
    judged = scored or next(((level, w) for level, w in zip(LEVELS, windows, strict=False) if w.samples), None)
    state, left = health_state(judged[1], health, min_samples) if judged else (State.HEALTHY, 0.0)
    if scored is None:
        detail = f"fewer than {min_samples} recent payments: tried to learn"
        ranked = Ranked(processor, Approach.SUCCESS_RATE, detail, state=state)
    else:
        level, window = scored
        detail = f"success rate {window.rate:.2f} over {window.samples} payments ({level})"
        ranked = Ranked(processor, Approach.SUCCESS_RATE, detail, round(window.rate, 4), window.samples, state)
    if state is State.ELIMINATED:
        assert judged is not None
        why = f"{judged[1].failure_streak} failures in a row, " if judged[1].failure_streak else ""
        detail = f"eliminated for {left:.0f} s more ({why}{ranked.detail}): tried after every other processor"
        ranked = replace(ranked, detail=detail)
    elif state is State.HALF_OPEN:
        ranked = replace(ranked, detail=f"half-open after a cool-down; {ranked.detail}")
    return ranked


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
