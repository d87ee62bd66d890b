"""Retry rules: after which failure codes a payment is tried at its next candidate
processor, after which it is tried again at the same one with 3-D Secure (a step-up), and
at how many processors at most.

The shipped table retries the failures on the processor's side (success_rate's
PROCESSOR_SIDE_FAILURES: the processor erred, the card was never judged), steps up a
decline that asked for authentication, and keeps every other decline final; a merchant
overrides it per processor and code (e.g. retrying a soft decline at another acquirer, or
never retrying `processing_error`). Being unavailable is always retried: nothing was
charged. Every retried failure is a definite answer that charged nothing, so trying again
cannot charge twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from services.router.domain.program import Candidate
from services.router.domain.success_rate import PROCESSOR_SIDE_FAILURES

# Handled by the payment workflow itself, whatever the table says.
ALWAYS_RETRIED = frozenset({"PROCESSOR_UNAVAILABLE", "PROCESSOR_OUTCOME_UNKNOWN"})
MAX_ATTEMPTS_LIMIT = 10


class Decision(StrEnum):
    RETRY_NEXT_PROCESSOR = "RETRY_NEXT_PROCESSOR"
    DO_NOT_RETRY = "DO_NOT_RETRY"
    REQUIRES_ACTION = "REQUIRES_ACTION"  # step up: again at the same processor, with 3-D Secure


# Declines where the issuer asked for the customer's authentication (Stripe's decline code;
# the Razorpay plug-in reports the same code).
STEP_UP_FAILURES = frozenset({"authentication_required"})


@dataclass(frozen=True)
class RetrySettings:
    """`max_attempts` None: every candidate; `overrides`: (processor, failure code) -> decision."""

    max_attempts: int | None = None
    overrides: Mapping[tuple[str, str], Decision] = field(default_factory=dict)

    def codes(self, processor: str, decision: Decision) -> tuple[str, ...]:
        """The processor's failure codes with this decision: the shipped table, then the merchant's."""
        shipped = {
            **dict.fromkeys(sorted(PROCESSOR_SIDE_FAILURES - ALWAYS_RETRIED), Decision.RETRY_NEXT_PROCESSOR),
            **dict.fromkeys(sorted(STEP_UP_FAILURES), Decision.REQUIRES_ACTION),
        }
        mine = {code: decision for (name, code), decision in self.overrides.items() if name == processor}
        return tuple(code for code, chosen in {**shipped, **mine}.items() if chosen is decision)


def apply_retry_settings(candidates: Sequence[Candidate], settings: RetrySettings) -> list[Candidate]:
    """The candidates a payment may be tried at, each with the codes that move on from it
    and the codes that step up at it."""
    allowed = candidates[: settings.max_attempts] if settings.max_attempts else candidates
    return [
        replace(
            c,
            retry_on=settings.codes(c.processor, Decision.RETRY_NEXT_PROCESSOR),
            step_up_on=settings.codes(c.processor, Decision.REQUIRES_ACTION),
        )
        for c in allowed
    ]
