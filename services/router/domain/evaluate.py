"""Evaluating a program: the ordered candidate processors for one payment.

Failover policy:
- Single rule: that processor only. Merchants pin a processor for reasons we cannot see
  (pricing, contract, keeping INR with an Indian acquirer), so a pin never fails over
  silently; a rule that should fail over is written as a priority list.
- Priority rule: exactly its list, in its order; the list *is* the merchant's failover.
- Volume split rule: the processor the split chose, then the split's other processors,
  heaviest first: the merchant accepted each of them for this traffic.
- Success-rate rule: its processors, best recent success rate first (success_rate.py),
  or in a random order for its exploration share; each is failed over to in that order.
- Default program (no rule matched): its processor for the currency, then every other
  eligible processor that takes the currency (processors.takes_fallback), reason "fallback".
  This is `Program.failover`; the innermost program that decided governs.
- First match wins, strictly: when the matched rule's processors are all ineligible the
  answer is NO_PROCESSOR_AVAILABLE, not a later rule or the default. A rule is a constraint.

Eligibility applies everywhere: a processor is eligible when it is known
(processors.PROCESSORS), enabled by the merchant, and, when the payment token is native to
one processor, that processor. A volume split chooses among its eligible processors only,
so a disabled processor's share is spread over the others by weight."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import assert_never

from services.common.errors import FailedPrecondition
from services.router.domain.processors import PROCESSOR_IDS, native_processor, takes_fallback
from services.router.domain.program import (
    Action,
    Algorithm,
    Approach,
    Candidate,
    Priority,
    RoutingInput,
    Rules,
    Single,
    SuccessRate,
    VolumeSplit,
)
from services.router.domain.split import Splitter, hash_point
from services.router.domain.success_rate import Health, Ranked, Scores, rank

NO_PROCESSOR_AVAILABLE = "NO_PROCESSOR_AVAILABLE"
FALLBACK = "fallback"
NO_SCORES: Scores = {}  # no outcomes recorded: every processor unscored
_RNG = random.Random()
DEFAULT_HEALTH = Health()


@dataclass(frozen=True)
class _Branch:
    """Where a decision came from."""

    origin: str
    label: str = ""
    rule_id: str = ""
    failover: bool = False


def route(
    algorithm: Algorithm,
    payment: RoutingInput,
    *,
    enabled: Collection[str],
    splitter: Splitter = hash_point,
    scores: Scores | None = NO_SCORES,
    rng: random.Random = _RNG,
    explore: bool = True,
    health: Health = DEFAULT_HEALTH,
) -> list[Candidate]:
    """The candidates in the order to try them; never empty (raises NO_PROCESSOR_AVAILABLE).
    `scores`: the recent outcomes of the deciding success-rate rule's processors (read for
    `deciding_action`), None when they could not be read. `explore` False: a success-rate
    rule shows its ranking, never its exploration (a simulation)."""
    native = native_processor(payment.payment_method_token)
    eligible = frozenset(p for p in PROCESSOR_IDS if p in enabled and native in (None, p))
    branch, action = _match(algorithm, payment, _Branch("default"))
    candidates = _candidates(
        branch, _picks(action, payment, eligible, splitter, scores, rng if explore else None, health)
    )
    if branch.failover:
        listed = {candidate.processor for candidate in candidates}
        candidates += [
            Candidate(processor, FALLBACK, approach=Approach.FAILOVER)
            for processor in PROCESSOR_IDS
            if processor in eligible and processor not in listed and takes_fallback(processor, payment.currency)
        ]
    if not candidates:
        raise no_processor_available(payment, rule_id=branch.rule_id, native=native)
    return candidates


def deciding_action(algorithm: Algorithm, payment: RoutingInput) -> Action:
    """The action that decides this payment's route (to read the scores it needs first)."""
    return _match(algorithm, payment, _Branch("default"))[1]


def success_rate_actions(algorithm: Algorithm) -> list[SuccessRate]:
    """Every success-rate action of a program, in evaluation order."""
    if isinstance(algorithm, SuccessRate):
        return [algorithm]
    if not isinstance(algorithm, Rules):
        return []
    program = algorithm.program
    found = [action for rule in program.rules for action in success_rate_actions(rule.algorithm)]
    return found + success_rate_actions(program.default)


def _match(algorithm: Algorithm, payment: RoutingInput, branch: _Branch) -> tuple[_Branch, Action]:
    if not isinstance(algorithm, Rules):
        return branch, algorithm
    program = algorithm.program
    for rule in program.rules:
        if rule.conditions.matches(payment):
            matched = _Branch(f"rule {rule.id}", rule.label, rule.id, program.failover)
            return _match(rule.algorithm, payment, matched)
    fallthrough = _Branch(branch.origin, program.label, branch.rule_id, program.failover)
    return _match(program.default, payment, fallthrough)


def _picks(
    action: Action,
    payment: RoutingInput,
    eligible: frozenset[str],
    splitter: Splitter,
    scores: Scores | None,
    rng: random.Random | None,
    health: Health,
) -> list[Ranked]:
    match action:
        case Single(processor):
            return [Ranked(processor, Approach.RULE, "single processor")] if processor in eligible else []
        case Priority(processors):
            return [
                Ranked(p, Approach.RULE, f"priority list #{n}")
                for n, p in enumerate(_unique(processors), 1)
                if p in eligible
            ]
        case VolumeSplit(splits):
            weights: dict[str, int] = {}
            for split in splits:
                if split.processor in eligible and split.weight > 0:
                    weights.setdefault(split.processor, split.weight)
            return _split(weights, payment.split_key, splitter)
        case SuccessRate(processors):
            return rank(action, [p for p in _unique(processors) if p in eligible], scores, rng, health)
        case _:
            assert_never(action)


def _split(weights: dict[str, int], key: str, splitter: Splitter) -> list[Ranked]:
    if not weights:
        return []
    total = sum(weights.values())
    point = splitter(key, total)
    if not 0 <= point < total:
        raise ValueError(f"splitter returned {point}, outside [0, {total})")
    chosen = list(weights)[bisect.bisect_right(list(itertools.accumulate(weights.values())), point)]
    rest = sorted((p for p in weights if p != chosen), key=lambda p: -weights[p])
    return [Ranked(chosen, Approach.RULE, f"volume split, weight {weights[chosen]} of {total}")] + [
        Ranked(p, Approach.RULE, "volume split failover") for p in rest
    ]


def _candidates(branch: _Branch, picks: list[Ranked]) -> list[Candidate]:
    def reason(position: int, detail: str) -> str:
        if not branch.label:
            return f"{branch.origin}: {detail}"
        return branch.label if position == 0 else f"{branch.label} ({detail})"

    def approach(pick: Ranked) -> Approach:
        # The contract's default program is written as rules; its decisions are DEFAULT.
        return pick.approach if branch.rule_id or pick.approach != Approach.RULE else Approach.DEFAULT

    return [
        Candidate(pick.processor, reason(n, pick.detail), branch.rule_id, approach(pick), pick.score, pick.samples)
        for n, pick in enumerate(picks)
    ]


def _unique(processors: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(processors))


def no_processor_available(
    payment: RoutingInput, *, rule_id: str = "", native: str | None = None
) -> FailedPrecondition:
    message = f"no enabled processor can take this {payment.currency} payment"
    metadata = {"currency": payment.currency}
    if rule_id:
        message += f" under routing rule {rule_id}"
        metadata["rule_id"] = rule_id
    if native:
        message += f"; its payment method can only be charged at {native}"
        metadata["payment_method_processor"] = native
    return FailedPrecondition(message=message, reason=NO_PROCESSOR_AVAILABLE, metadata=metadata)
