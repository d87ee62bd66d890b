"""validate_rule: what the merchant service checks before storing a rule."""

from __future__ import annotations

import pytest

from services.router.domain import Action, Conditions, Priority, Single, Split, VolumeSplit, validate_rule

STRIPE = Single("stripe")


def fields(conditions: Conditions, action: Action | None, prefix: str = "") -> list[str]:
    return [v.field for v in validate_rule(conditions, action, prefix=prefix)]


@pytest.mark.parametrize(
    ("conditions", "action"),
    [
        (Conditions(), STRIPE),
        (Conditions(currency="INR", amount_gte=0, amount_lt=1, payment_method_type="upi", metadata={"a": ""}), STRIPE),
        (Conditions(), Priority(("razorpay", "stripe"))),
        (Conditions(), VolumeSplit((Split("stripe", 1), Split("razorpay", 99)))),
        (Conditions(), VolumeSplit((Split("stripe", 1),))),
    ],
)
def test_good_rules_pass(conditions: Conditions, action: Action) -> None:
    assert validate_rule(conditions, action) == []


@pytest.mark.parametrize(
    ("action", "bad"),
    [
        (None, ["action"]),
        (Single(""), ["action.single.processor"]),
        (Single("adyen"), ["action.single.processor"]),
        (Priority(()), ["action.priority.processors"]),
        (Priority(("stripe", "stripe")), ["action.priority.processors[1]"]),
        (Priority(("stripe", "paypal", "")), ["action.priority.processors[1]", "action.priority.processors[2]"]),
        (VolumeSplit(()), ["action.volume_split.splits"]),
        (VolumeSplit((Split("stripe", 0),)), ["action.volume_split.splits[0].weight"]),
        (VolumeSplit((Split("stripe", 5), Split("razorpay", -1))), ["action.volume_split.splits[1].weight"]),
        (VolumeSplit((Split("stripe", 5), Split("stripe", 5))), ["action.volume_split.splits[1].processor"]),
        (VolumeSplit((Split("adyen", 5),)), ["action.volume_split.splits[0].processor"]),
    ],
)
def test_bad_actions_are_named(action: Action | None, bad: list[str]) -> None:
    assert fields(Conditions(), action) == bad


@pytest.mark.parametrize(
    ("conditions", "bad"),
    [
        (Conditions(amount_gte=500, amount_lt=500), ["conditions.amount_lt"]),
        (Conditions(amount_gte=600, amount_lt=500), ["conditions.amount_lt"]),
        (Conditions(amount_gte=-1), ["conditions.amount_gte"]),
        (Conditions(amount_lt=-1), ["conditions.amount_lt"]),
        (Conditions(currency="usd"), ["conditions.currency"]),
        (Conditions(currency="XYZ"), ["conditions.currency"]),
        (Conditions(metadata={"": "x"}), ["conditions.metadata"]),
    ],
)
def test_bad_conditions_are_named(conditions: Conditions, bad: list[str]) -> None:
    assert fields(conditions, STRIPE) == bad


def test_every_problem_is_reported_at_once_under_the_prefix() -> None:
    assert fields(Conditions(currency="usd", amount_gte=9, amount_lt=1), None, prefix="routing_rule.") == [
        "routing_rule.conditions.currency",
        "routing_rule.conditions.amount_lt",
        "routing_rule.action",
    ]


def test_messages_say_what_is_wrong() -> None:
    [unknown] = validate_rule(Conditions(), Single("adyen"))
    assert "adyen" in unknown.description and "stripe" in unknown.description
    [duplicate] = validate_rule(Conditions(), Priority(("razorpay", "razorpay")))
    assert "more than once" in duplicate.description
