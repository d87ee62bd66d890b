"""The contract's default routing, and a merchant's program built around it."""

from __future__ import annotations

from collections.abc import Iterable

from services.router.domain.program import Conditions, Program, Rule, Rules, Single

DEFAULT_ROUTES: dict[str, str] = {"INR": "razorpay", "USD": "stripe", "EUR": "stripe"}
DEFAULT_PROCESSOR = "stripe"

DEFAULT_PROGRAM = Rules(
    Program(
        default=Single(DEFAULT_PROCESSOR),
        rules=tuple(
            Rule(
                id="",
                conditions=Conditions(currency=currency),
                algorithm=Single(processor),
                priority=position,
                label=f"default: {currency} -> {processor}",
            )
            for position, (currency, processor) in enumerate(DEFAULT_ROUTES.items())
        ),
        failover=True,
        label=f"default: other currency -> {DEFAULT_PROCESSOR}",
    )
)


def merchant_program(rules: Iterable[Rule]) -> Rules:
    """The merchant's rules first; when none matches, the default program."""
    return Rules(Program(default=DEFAULT_PROGRAM, rules=tuple(rules)))
