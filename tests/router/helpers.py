"""Builders shared by the router tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from services.router.domain import PROCESSOR_IDS, Algorithm, Candidate, Conditions, RoutingInput, Rule

BOTH = frozenset(PROCESSOR_IDS)


def payment(
    amount: int = 1000,
    currency: str = "USD",
    *,
    method: str = "card",
    token: str = "pm_card_visa",
    metadata: Mapping[str, str] | None = None,
    key: str = "ord_1",
) -> RoutingInput:
    return RoutingInput(
        amount=amount,
        currency=currency,
        payment_method_type=method,
        payment_method_token=token,
        metadata=dict(metadata or {}),
        split_key=key,
    )


def rule(
    rule_id: str, action: Algorithm, *, priority: int = 0, created: int | None = None, **conditions: object
) -> Rule:
    return Rule(
        id=rule_id,
        conditions=Conditions(**conditions),  # type: ignore[arg-type]
        algorithm=action,
        priority=priority,
        created_at=datetime(2025, 1, 1, 0, 0, created, tzinfo=UTC) if created is not None else None,
    )


def processors(candidates: list[Candidate]) -> list[str]:
    return [c.processor for c in candidates]


def table(candidates: list[Candidate]) -> list[tuple[str, str, str]]:
    return [(c.processor, c.reason, c.rule_id) for c in candidates]
