"""Retry rules: after which failure codes a payment is tried at its next candidate
processor, and at how many processors at most.

The shipped table retries the failures on the processor's side (success_rate's
PROCESSOR_SIDE_FAILURES: the processor erred, the card was never judged) and keeps every
decline final; a merchant overrides it per processor and code (e.g. retrying a soft
decline at another acquirer, or never retrying `processing_error`). Being unavailable is
always retried: nothing was charged. Every retried failure is a definite answer that
charged nothing, so trying the next processor cannot charge twice."""

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


@dataclass(frozen=True)
class RetrySettings:
    """`max_attempts` None: every candidate; `overrides`: (processor, failure code) -> decision."""

    max_attempts: int | None = None
    overrides: Mapping[tuple[str, str], Decision] = field(default_factory=dict)

    def retry_on(self, processor: str) -> tuple[str, ...]:
        """The processor's failure codes after which the next candidate is tried."""
        shipped = dict.fromkeys(sorted(PROCESSOR_SIDE_FAILURES - ALWAYS_RETRIED), Decision.RETRY_NEXT_PROCESSOR)
        mine = {code: decision for (name, code), decision in self.overrides.items() if name == processor}
        return tuple(
            code for code, decision in {**shipped, **mine}.items() if decision is Decision.RETRY_NEXT_PROCESSOR
        )


def apply_retry_settings(candidates: Sequence[Candidate], settings: RetrySettings) -> list[Candidate]:
    """The candidates a payment may be tried at, each with the codes that move on from it."""
    allowed = candidates[: settings.max_attempts] if settings.max_attempts else candidates
    return [replace(c, retry_on=settings.retry_on(c.processor)) for c in allowed]
