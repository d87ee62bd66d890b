"""The routing program: a tagged union of algorithms, and what it is evaluated on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias


@dataclass(frozen=True)
class Single:
    """Only this processor."""

    processor: str


@dataclass(frozen=True)
class Priority:
    """These processors in order: an explicit failover list."""

    processors: tuple[str, ...]


@dataclass(frozen=True)
class Split:
    processor: str
    weight: int


@dataclass(frozen=True)
class VolumeSplit:
    """One processor chosen by weight, stably per split key; the others as its failover."""

    splits: tuple[Split, ...]


@dataclass(frozen=True)
class SuccessRate:
    """These processors, the best recent success rate first (success_rate.py); a share of
    payments (`exploration_percent`) takes them in a random order instead, so a processor
    that recovers gets traffic again."""

    processors: tuple[str, ...]
    exploration_percent: float = 5.0
    # Fewer outcomes than this in a window: a coarser window is used, then none.
    min_samples: int = 10
    # The last this many outcomes make a window.
    window_size: int = 200


@dataclass(frozen=True)
class RoutingInput:
    """What routing looks at. `split_key` (the order id) keeps a volume split stable per order."""

    amount: int
    currency: str
    payment_method_type: str = ""
    payment_method_token: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    split_key: str = ""


@dataclass(frozen=True)
class Conditions:
    """When a rule applies: every condition that is set must hold; none set matches everything."""

    currency: str = ""
    amount_gte: int | None = None  # inclusive
    amount_lt: int | None = None  # exclusive
    payment_method_type: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def matches(self, payment: RoutingInput) -> bool:
        return (
            (not self.currency or payment.currency == self.currency)
            and (self.amount_gte is None or payment.amount >= self.amount_gte)
            and (self.amount_lt is None or payment.amount < self.amount_lt)
            and (not self.payment_method_type or payment.payment_method_type == self.payment_method_type)
            and all(payment.metadata.get(key) == value for key, value in self.metadata.items())
        )


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: Conditions
    algorithm: Algorithm
    priority: int = 0
    created_at: datetime | None = None
    # Replaces the generated reason ("rule rr_1: single processor"), e.g. "default: INR -> razorpay".
    label: str = ""

    @property
    def order_key(self) -> tuple[int, float, str]:
        """Ascending priority, then creation order, then id: a total, deterministic order."""
        return self.priority, self.created_at.timestamp() if self.created_at else 0.0, self.id


@dataclass(frozen=True)
class Program:
    """Rules tried in `order_key` order, the first match deciding; `default` when none matches.

    `failover`: whether this program's decisions are followed by every other eligible
    processor that takes the currency (reason "fallback"). Merchant programs: no; the
    contract's default program: yes. The innermost program that decided governs."""

    default: Algorithm
    rules: tuple[Rule, ...] = ()
    failover: bool = False
    # Replaces the generated reason of the default branch.
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(sorted(self.rules, key=lambda rule: rule.order_key)))


@dataclass(frozen=True)
class Rules:
    program: Program


Action: TypeAlias = Single | Priority | VolumeSplit | SuccessRate
Algorithm: TypeAlias = Single | Priority | VolumeSplit | SuccessRate | Rules


class Approach(StrEnum):
    """How a candidate was chosen."""

    RULE = "RULE"  # a merchant rule's single processor, priority list or volume split
    DEFAULT = "DEFAULT"  # the contract's default routing
    FAILOVER = "FAILOVER"  # after the decided candidates, another processor that takes the currency
    SUCCESS_RATE = "SUCCESS_RATE"  # ordered by recent success rate
    EXPLORATION = "EXPLORATION"  # a success-rate rule's processors in a random order, or a probe
    # An eliminated processor (success_rate.Health): tried only after every other one.
    ELIMINATED_FALLBACK = "ELIMINATED_FALLBACK"
    # A success-rate rule's processors in their listed order: the scores could not be read.
    STATIC_FALLBACK = "STATIC_FALLBACK"


@dataclass(frozen=True)
class Candidate:
    processor: str
    reason: str
    rule_id: str = ""
    approach: Approach = Approach.DEFAULT
    # The success rate and the outcomes it was computed over, when the approach used one.
    score: float | None = None
    samples: int = 0
    # This processor's failure codes after which the next candidate is tried (retry.py).
    retry_on: tuple[str, ...] = ()
    step_up_on: tuple[str, ...] = ()
