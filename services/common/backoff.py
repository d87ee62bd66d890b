"""The one retry schedule of background loops (the outbox relay, the inbound event sweep)."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """The wait after a failure that follows `attempts` others: base, 2 base, 4 base, ...
    up to cap, shortened by up to half at random so that what failed together (an outage)
    is not all retried together."""
    return timedelta(seconds=min(cap, base * 2 ** min(attempts, 32)) * random.uniform(0.5, 1.0))
