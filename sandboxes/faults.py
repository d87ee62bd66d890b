"""Fault injection shared by the sandboxes: the Razorpay sandbox and the Stripe fault proxy.

Queue a fault with ``POST /_sandbox/faults``::

    {"account": "rzp_test_abc",      # optional: only this account's requests (default: all)
     "path_contains": "/payments",   # optional: substring of the request path (default: any)
     "method": "POST",               # optional (default: any)
     "mode": "http_503",             # see MODES
     "delay_ms": 15000,              # for the timeout_* and delay modes
     "count": 1,                     # how many matching requests it hits; -1 = until cleared
     "probability": 1.0}             # optional: the share of matching requests it hits

The account is the Razorpay key id, or for the Stripe proxy the API key of the request's
``Authorization`` header. The Razorpay sandbox also takes a fault on one request with the
headers ``X-Sandbox-Fault: <mode>`` and ``X-Sandbox-Fault-Delay-Ms: <ms>`` (a header wins over
the queue and consumes nothing).

Modes ("apply": the Razorpay sandbox processes the request, the Stripe proxy forwards it to
localstripe; the error body is Razorpay's ``SERVER_ERROR`` / ``GATEWAY_ERROR`` or Stripe's
``api_error``):

- ``http_500`` / ``http_503``: answer that status with a server error body, apply nothing.
- ``http_502``: answer 502 (Razorpay: a ``GATEWAY_ERROR`` body), apply nothing.
- ``timeout_before``: wait ``delay_ms`` (default 15000), then answer 503 without applying.
- ``timeout_after``: apply the request (e.g. create and capture the payment), then wait
  ``delay_ms`` (default 15000) before answering: the client times out although the
  processor did the work.
- ``apply_then_500``: apply the request (e.g. create and capture the payment, create the
  refund), then answer 500 with a server error body instead of its answer: the client sees
  a failure although the processor did the work.
- ``delay``: wait ``delay_ms`` (default 1000), then answer normally. The Razorpay sandbox
  waits while processing (after a refund's idempotency key is claimed, before state is
  checked); the Stripe proxy waits before forwarding.
- ``refund_pending`` (Razorpay only): a refund created by the request starts ``pending``
  instead of ``processed``; settle it with ``POST /_sandbox/refunds/{id}/process``.

Matching is first-in first-out over the queued rules; the rule list is short (tests), so the
per-request cost does not grow with stored objects. A rule with a `probability` below 1
hits each matching request with that chance (a miss consumes nothing and lets the request
through, or to a later rule), so a processor can be made to fail a share of its traffic.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERROR_MODES = {"http_500": 500, "http_502": 502, "http_503": 503}
DEFAULT_DELAY_MS = {"timeout_before": 15000.0, "timeout_after": 15000.0, "delay": 1000.0}
MODES = frozenset({*ERROR_MODES, *DEFAULT_DELAY_MS, "apply_then_500", "refund_pending"})
MAX_DELAY_MS = 600_000.0

FAULT_HEADER = "X-Sandbox-Fault"
FAULT_DELAY_HEADER = "X-Sandbox-Fault-Delay-Ms"


class FaultSpecError(ValueError):
    """A fault spec (or header) that does not parse; each sandbox answers it as its 400."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Fault:
    mode: str
    delay_s: float


@dataclass(slots=True)
class FaultRule:
    id: int
    mode: str
    delay_ms: float
    account: str | None
    path_contains: str
    method: str | None
    remaining: int | None  # None: until cleared
    probability: float = 1.0

    def matches(self, account: str, method: str, path: str) -> bool:
        return (
            (self.account is None or self.account == account)
            and (self.method is None or self.method == method)
            and self.path_contains in path
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "delay_ms": self.delay_ms,
            "account": self.account,
            "path_contains": self.path_contains,
            "method": self.method,
            "remaining": -1 if self.remaining is None else self.remaining,
            "probability": self.probability,
        }


def _mode(value: Any, modes: frozenset[str]) -> str:
    if value not in modes:
        raise FaultSpecError(f"mode must be one of {sorted(modes)}", "mode")
    assert isinstance(value, str)
    return value


def _delay_ms(mode: str, value: Any) -> float:
    if value is None:
        return DEFAULT_DELAY_MS.get(mode, 0.0)
    try:
        delay = float(value)
    except (TypeError, ValueError):
        raise FaultSpecError("delay_ms must be a number", "delay_ms") from None
    if not 0 <= delay <= MAX_DELAY_MS:
        raise FaultSpecError(f"delay_ms must be between 0 and {MAX_DELAY_MS:.0f}", "delay_ms")
    return delay


def _probability(value: Any) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise FaultSpecError("probability must be a number above 0 and at most 1", "probability")
    return float(value)


def _optional_str(spec: Mapping[str, Any], name: str) -> str | None:
    value = spec.get(name)
    if value is not None and not isinstance(value, str):
        raise FaultSpecError(f"{name} must be a string", name)
    return value


class FaultBook:
    """The queue of pending faults, accepting `modes` (default: every mode)."""

    def __init__(self, modes: frozenset[str] = MODES, rng: random.Random | None = None) -> None:
        self.modes = modes
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = rng or random.Random()

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        mode = _mode(spec.get("mode"), self.modes)
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not (count >= 1 or count == -1):
            raise FaultSpecError("count must be a positive integer, or -1 for until cleared", "count")
        method = _optional_str(spec, "method")
        rule = FaultRule(
            id=next(self._ids),
            mode=mode,
            delay_ms=_delay_ms(mode, spec.get("delay_ms")),
            account=_optional_str(spec, "account"),
            path_contains=_optional_str(spec, "path_contains") or "",
            method=method.upper() if method else None,
            remaining=None if count == -1 else count,
            probability=_probability(spec.get("probability")),
        )
        self._rules.append(rule)
        return rule

    def clear(self, account: str | None = None) -> int:
        before = len(self._rules)
        self._rules = [] if account is None else [r for r in self._rules if r.account != account]
        return before - len(self._rules)

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def take(self, account: str, method: str, path: str) -> Fault | None:
        """Consume one hit of the first rule matching this request."""
        for index, rule in enumerate(self._rules):
            if rule.matches(account, method, path):
                if rule.probability < 1 and self._rng.random() >= rule.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        del self._rules[index]
                return Fault(rule.mode, rule.delay_ms / 1000)
        return None


def from_headers(headers: Mapping[str, str]) -> Fault | None:
    """The per-request fault set with ``X-Sandbox-Fault`` (and ``X-Sandbox-Fault-Delay-Ms``)."""
    mode = headers.get(FAULT_HEADER)
    if not mode:
        return None
    mode = _mode(mode.strip().lower(), MODES)
    return Fault(mode, _delay_ms(mode, headers.get(FAULT_DELAY_HEADER)) / 1000)
