"""Checking a routing rule before it is stored (the merchant service) or used (the router).

Field paths follow the RoutingRule proto; `prefix` puts them under the request's field,
e.g. "routing_rule."."""

from __future__ import annotations

from services.common.errors import FieldViolation
from services.common.money import currency_violations
from services.router.domain.processors import PROCESSOR_IDS, is_known
from services.router.domain.program import Action, Conditions, Priority, Single, SuccessRate, VolumeSplit
from services.router.domain.success_rate import MAX_WINDOW


def validate_rule(conditions: Conditions, action: Action | None, *, prefix: str = "") -> list[FieldViolation]:
    """Every problem of the rule; empty when it is valid."""
    return _conditions(conditions, f"{prefix}conditions.") + _action(action, f"{prefix}action")


def _conditions(conditions: Conditions, at: str) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if conditions.currency:
        found += currency_violations(conditions.currency, field=f"{at}currency")
    for name in ("amount_gte", "amount_lt"):
        value = getattr(conditions, name)
        if value is not None and value < 0:
            found.append(FieldViolation(f"{at}{name}", "must not be negative"))
    low, high = conditions.amount_gte, conditions.amount_lt
    if low is not None and high is not None and low >= high:
        found.append(FieldViolation(f"{at}amount_lt", "must be greater than amount_gte (the range would be empty)"))
    if any(not key for key in conditions.metadata):
        found.append(FieldViolation(f"{at}metadata", "keys must not be empty"))
    return found


def _action(action: Action | None, at: str) -> list[FieldViolation]:
    match action:
        case None:
            return [FieldViolation(at, "is required: one of single, priority, volume_split, success_rate")]
        case Single(processor):
            return processor_violations(processor, f"{at}.single.processor")
        case Priority(processors):
            if not processors:
                return [FieldViolation(f"{at}.priority.processors", "must list at least one processor")]
            return _processors(list(processors), f"{at}.priority.processors")
        case VolumeSplit(splits):
            if not splits:
                return [FieldViolation(f"{at}.volume_split.splits", "must list at least one processor")]
            found = _processors([s.processor for s in splits], f"{at}.volume_split.splits", suffix=".processor")
            found += [
                FieldViolation(f"{at}.volume_split.splits[{n}].weight", "must be greater than 0")
                for n, split in enumerate(splits)
                if split.weight <= 0
            ]
            return found
        case SuccessRate(processors, exploration_percent, min_samples, window_size):
            at = f"{at}.success_rate"
            if not processors:
                return [FieldViolation(f"{at}.processors", "must list at least one processor")]
            found = _processors(list(processors), f"{at}.processors")
            if not 0 <= exploration_percent <= 100:
                found.append(FieldViolation(f"{at}.exploration_percent", "must be between 0 and 100"))
            if not 1 <= window_size <= MAX_WINDOW:
                found.append(FieldViolation(f"{at}.window_size", f"must be between 1 and {MAX_WINDOW}"))
            if not 1 <= min_samples <= window_size:
                found.append(FieldViolation(f"{at}.min_samples", "must be between 1 and window_size"))
            return found


def _processors(processors: list[str], at: str, suffix: str = "") -> list[FieldViolation]:
    found: list[FieldViolation] = []
    for n, processor in enumerate(processors):
        found += processor_violations(processor, f"{at}[{n}]{suffix}")
        if processor and processors.index(processor) < n:
            found.append(FieldViolation(f"{at}[{n}]{suffix}", f"{processor!r} is listed more than once"))
    return found


def processor_violations(processor: str, at: str) -> list[FieldViolation]:
    if not processor:
        return [FieldViolation(at, "is required")]
    if not is_known(processor):
        return [FieldViolation(at, f"unknown processor {processor!r}; one of: {', '.join(PROCESSOR_IDS)}")]
    return []
