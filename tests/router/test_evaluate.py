"""The routing evaluator: pure, no I/O."""

from __future__ import annotations

import collections

import grpc
import pytest

from services.common.errors import FailedPrecondition
from services.router.domain import (
    DEFAULT_PROGRAM,
    FALLBACK,
    NO_PROCESSOR_AVAILABLE,
    Approach,
    Candidate,
    Conditions,
    Priority,
    Program,
    RoutingInput,
    Rules,
    Single,
    Split,
    VolumeSplit,
    hash_point,
    merchant_program,
    native_processor,
    route,
)
from tests.router.helpers import BOTH, payment, processors, rule, table

SEVENTY_THIRTY = VolumeSplit((Split("stripe", 70), Split("razorpay", 30)))


def refused(*args: object, **kwargs: object) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as caught:
        route(*args, **kwargs)  # type: ignore[arg-type]
    assert caught.value.reason == NO_PROCESSOR_AVAILABLE
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    return caught.value


# --- the contract's default program -------------------------------------------------------


def test_inr_goes_to_razorpay_then_falls_back_to_stripe() -> None:
    assert table(route(DEFAULT_PROGRAM, payment(currency="INR"), enabled=BOTH)) == [
        ("razorpay", "default: INR -> razorpay", ""),
        ("stripe", FALLBACK, ""),
    ]


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_usd_and_eur_go_to_stripe(currency: str) -> None:
    # Razorpay takes fallbacks for INR only (processors.PROCESSORS).
    assert table(route(DEFAULT_PROGRAM, payment(currency=currency), enabled=BOTH)) == [
        ("stripe", f"default: {currency} -> stripe", "")
    ]


@pytest.mark.parametrize("currency", ["GBP", "JPY", "KWD"])
def test_any_other_currency_goes_to_stripe(currency: str) -> None:
    assert table(route(DEFAULT_PROGRAM, payment(currency=currency), enabled=BOTH)) == [
        ("stripe", "default: other currency -> stripe", "")
    ]


def test_a_merchant_without_rules_routes_by_the_default_program() -> None:
    for currency in ("INR", "USD", "GBP"):
        assert route(merchant_program([]), payment(currency=currency), enabled=BOTH) == route(
            DEFAULT_PROGRAM, payment(currency=currency), enabled=BOTH
        )


def test_a_disabled_default_processor_is_skipped_for_the_fallback() -> None:
    assert table(route(DEFAULT_PROGRAM, payment(currency="INR"), enabled={"stripe"})) == [("stripe", FALLBACK, "")]


@pytest.mark.parametrize(("currency", "enabled"), [("USD", {"razorpay"}), ("GBP", {"razorpay"}), ("INR", set())])
def test_no_processor_left_is_refused(currency: str, enabled: set[str]) -> None:
    error = refused(DEFAULT_PROGRAM, payment(currency=currency), enabled=enabled)
    assert error.metadata == {"currency": currency}
    assert currency in error.message


def test_unknown_enabled_processors_are_ignored() -> None:
    assert processors(route(DEFAULT_PROGRAM, payment(currency="INR"), enabled={"adyen", "razorpay"})) == ["razorpay"]


# --- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "routed", "matches"),
    [
        (Conditions(), payment(), True),
        (Conditions(currency="INR"), payment(currency="INR"), True),
        (Conditions(currency="INR"), payment(currency="USD"), False),
        (Conditions(amount_gte=1000), payment(999), False),
        (Conditions(amount_gte=1000), payment(1000), True),
        (Conditions(amount_gte=1000), payment(1001), True),
        (Conditions(amount_gte=0), payment(0), True),
        (Conditions(amount_lt=1000), payment(999), True),
        (Conditions(amount_lt=1000), payment(1000), False),
        (Conditions(amount_gte=1000, amount_lt=5000), payment(4999), True),
        (Conditions(amount_gte=1000, amount_lt=5000), payment(5000), False),
        (Conditions(payment_method_type="upi"), payment(method="upi"), True),
        (Conditions(payment_method_type="upi"), payment(method="card"), False),
        (Conditions(payment_method_type="upi"), payment(method=""), False),
        (Conditions(metadata={"tier": "gold"}), payment(metadata={"tier": "gold", "x": "y"}), True),
        (Conditions(metadata={"tier": "gold"}), payment(metadata={"tier": "silver"}), False),
        (Conditions(metadata={"tier": "gold"}), payment(metadata={}), False),
        (Conditions(metadata={"tier": ""}), payment(metadata={}), False),
        (Conditions(metadata={"a": "1", "b": "2"}), payment(metadata={"a": "1"}), False),
        (Conditions(metadata={"a": "1", "b": "2"}), payment(metadata={"a": "1", "b": "2"}), True),
        (Conditions(currency="INR", payment_method_type="upi"), payment(currency="INR", method="upi"), True),
        (Conditions(currency="INR", payment_method_type="upi"), payment(currency="INR", method="card"), False),
        (Conditions(currency="INR", amount_lt=100), payment(100, "INR"), False),
    ],
)
def test_every_set_condition_must_hold(conditions: Conditions, routed: RoutingInput, matches: bool) -> None:
    assert conditions.matches(routed) is matches
    program = merchant_program([rule("rr_x", Single("razorpay"), **conditions.__dict__)])
    first = route(program, routed, enabled=BOTH)[0]
    assert (first.rule_id == "rr_x") is matches


# --- rule order -----------------------------------------------------------------------------


def test_rules_run_by_ascending_priority_whatever_their_order() -> None:
    rules = [rule("rr_b", Single("razorpay"), priority=2), rule("rr_a", Single("stripe"), priority=1)]
    for ordered in (rules, rules[::-1]):
        assert table(route(merchant_program(ordered), payment(), enabled=BOTH)) == [
            ("stripe", "rule rr_a: single processor", "rr_a")
        ]


def test_priority_ties_go_to_the_older_rule_then_the_lower_id() -> None:
    older = rule("rr_z", Single("stripe"), priority=1, created=1)
    newer = rule("rr_a", Single("razorpay"), priority=1, created=2)
    assert route(merchant_program([newer, older]), payment(), enabled=BOTH)[0].rule_id == "rr_z"
    same_time = [rule("rr_b", Single("razorpay"), created=1), rule("rr_a", Single("stripe"), created=1)]
    assert route(merchant_program(same_time), payment(), enabled=BOTH)[0].rule_id == "rr_a"
    assert [r.id for r in Program(default=Single("stripe"), rules=tuple(same_time)).rules] == ["rr_a", "rr_b"]


def test_the_first_matching_rule_wins() -> None:
    program = merchant_program(
        [
            rule("rr_1", Single("stripe"), priority=1, currency="EUR"),
            rule("rr_2", Single("razorpay"), priority=2, amount_gte=500),
            rule("rr_3", Single("stripe"), priority=3),
        ]
    )
    assert route(program, payment(1000, "USD"), enabled=BOTH)[0].rule_id == "rr_2"
    assert route(program, payment(100, "USD"), enabled=BOTH)[0].rule_id == "rr_3"
    assert route(program, payment(1000, "EUR"), enabled=BOTH)[0].rule_id == "rr_1"


def test_a_matched_rule_with_nothing_eligible_does_not_fall_through() -> None:
    program = merchant_program(
        [rule("rr_1", Single("stripe"), priority=1), rule("rr_2", Single("razorpay"), priority=2)]
    )
    error = refused(program, payment(), enabled={"razorpay"})
    assert error.metadata == {"currency": "USD", "rule_id": "rr_1"}


def test_no_matching_rule_falls_to_the_default_program() -> None:
    program = merchant_program([rule("rr_1", Single("stripe"), currency="EUR")])
    assert table(route(program, payment(currency="INR"), enabled=BOTH)) == [
        ("razorpay", "default: INR -> razorpay", ""),
        ("stripe", FALLBACK, ""),
    ]


# --- algorithms and failover --------------------------------------------------------------


def test_a_single_rule_pins_its_processor_without_fallback() -> None:
    program = merchant_program([rule("rr_1", Single("razorpay"))])
    assert table(route(program, payment(currency="INR"), enabled=BOTH)) == [
        ("razorpay", "rule rr_1: single processor", "rr_1")
    ]


def test_a_priority_rule_is_exactly_its_list_in_order() -> None:
    both = merchant_program([rule("rr_1", Priority(("razorpay", "stripe")))])
    assert table(route(both, payment(), enabled=BOTH)) == [
        ("razorpay", "rule rr_1: priority list #1", "rr_1"),
        ("stripe", "rule rr_1: priority list #2", "rr_1"),
    ]
    only = merchant_program([rule("rr_1", Priority(("stripe",)))])
    assert processors(route(only, payment(currency="INR"), enabled=BOTH)) == ["stripe"]


def test_a_priority_list_skips_disabled_processors_and_keeps_their_positions() -> None:
    program = merchant_program([rule("rr_1", Priority(("razorpay", "stripe")))])
    assert table(route(program, payment(), enabled={"stripe"})) == [("stripe", "rule rr_1: priority list #2", "rr_1")]


def test_duplicates_in_a_priority_list_are_listed_once() -> None:
    program = merchant_program([rule("rr_1", Priority(("stripe", "stripe", "razorpay")))])
    assert processors(route(program, payment(), enabled=BOTH)) == ["stripe", "razorpay"]


def test_a_volume_split_lists_its_other_processors_as_failover() -> None:
    program = merchant_program([rule("rr_1", SEVENTY_THIRTY)])
    assert table(route(program, payment(), enabled=BOTH, splitter=lambda key, total: 99)) == [
        ("razorpay", "rule rr_1: volume split, weight 30 of 100", "rr_1"),
        ("stripe", "rule rr_1: volume split failover", "rr_1"),
    ]


@pytest.mark.parametrize(("point", "first"), [(0, "stripe"), (69, "stripe"), (70, "razorpay"), (99, "razorpay")])
def test_the_split_point_picks_by_cumulative_weight(point: int, first: str) -> None:
    seen: list[tuple[str, int]] = []

    def splitter(key: str, total: int) -> int:
        seen.append((key, total))
        return point

    program = merchant_program([rule("rr_1", SEVENTY_THIRTY)])
    assert route(program, payment(key="ord_42"), enabled=BOTH, splitter=splitter)[0].processor == first
    assert seen == [("ord_42", 100)]


def test_a_volume_split_is_stable_per_key() -> None:
    program = merchant_program([rule("rr_1", SEVENTY_THIRTY)])
    for n in range(200):
        answers = {tuple(processors(route(program, payment(key=f"ord_{n}"), enabled=BOTH))) for _ in range(3)}
        assert len(answers) == 1


@pytest.mark.parametrize(("stripe", "razorpay"), [(70, 30), (50, 50), (1, 3)])
def test_volume_split_shares_match_the_weights(stripe: int, razorpay: int) -> None:
    program = merchant_program([rule("rr_1", VolumeSplit((Split("stripe", stripe), Split("razorpay", razorpay))))])
    keys = 10_000
    firsts = collections.Counter(
        route(program, payment(key=f"ord_{n}"), enabled=BOTH)[0].processor for n in range(keys)
    )
    assert abs(firsts["stripe"] / keys - stripe / (stripe + razorpay)) < 0.03


def test_a_volume_split_chooses_among_eligible_processors_only() -> None:
    program = merchant_program([rule("rr_1", SEVENTY_THIRTY)])
    for n in range(50):
        assert table(route(program, payment(key=f"ord_{n}"), enabled={"razorpay"})) == [
            ("razorpay", "rule rr_1: volume split, weight 30 of 30", "rr_1")
        ]


def test_a_bad_splitter_is_caught() -> None:
    with pytest.raises(ValueError):
        route(merchant_program([rule("rr_1", SEVENTY_THIRTY)]), payment(), enabled=BOTH, splitter=lambda k, t: t)


def test_hash_point_is_in_range_and_deterministic() -> None:
    assert all(0 <= hash_point(f"k{n}", 7) < 7 for n in range(1000))
    assert hash_point("ord_1", 100) == hash_point("ord_1", 100)


def test_a_bare_algorithm_routes_without_fallback() -> None:
    assert processors(route(Single("razorpay"), payment(currency="INR"), enabled=BOTH)) == ["razorpay"]
    assert table(route(Single("stripe"), payment(), enabled=BOTH)) == [("stripe", "default: single processor", "")]


def test_a_nested_program_keeps_the_rule_that_chose_it() -> None:
    inner = Rules(Program(default=Priority(("stripe",)), rules=(rule("rr_in", Single("razorpay"), currency="INR"),)))
    program = merchant_program([rule("rr_out", inner, amount_gte=100)])
    assert route(program, payment(500, "USD"), enabled=BOTH) == [
        Candidate("stripe", "rule rr_out: priority list #1", "rr_out", Approach.RULE)
    ]
    assert route(program, payment(500, "INR"), enabled=BOTH)[0].rule_id == "rr_in"


# --- processor-native tokens ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "processor"),
    [
        ("pm_card_visa", None),
        ("pm_card_mastercard", None),
        ("pm_card_visa_chargeDeclined", None),
        ("pm_card_chargeDeclinedInsufficientFunds", None),
        ("pm_card_authenticationRequired", None),
        ("pm_card_anything_new", "stripe"),  # not a PayLoops test token: Stripe's own
        ("tok_visa", "stripe"),
        ("pm_1PqRsTuVwXyZ", "stripe"),
        ("token_Fz1e2d3c4b5a", "razorpay"),
        ("token_success", "razorpay"),
        ("", None),
        ("upi_collect", None),
    ],
)
def test_native_processor_of_a_token(token: str, processor: str | None) -> None:
    assert native_processor(token) == processor


def test_a_stripe_payment_method_restricts_to_stripe() -> None:
    assert table(route(DEFAULT_PROGRAM, payment(currency="INR", token="pm_1Abc"), enabled=BOTH)) == [
        ("stripe", FALLBACK, "")
    ]


def test_a_razorpay_token_restricts_to_razorpay() -> None:
    program = merchant_program([rule("rr_1", Priority(("stripe", "razorpay")))])
    assert processors(route(program, payment(token="token_abc"), enabled=BOTH)) == ["razorpay"]


def test_test_tokens_do_not_restrict() -> None:
    assert processors(route(DEFAULT_PROGRAM, payment(currency="INR", token="pm_card_visa"), enabled=BOTH)) == [
        "razorpay",
        "stripe",
    ]


def test_a_native_token_for_an_excluded_processor_is_refused() -> None:
    error = refused(merchant_program([rule("rr_1", Single("razorpay"))]), payment(token="pm_1Abc"), enabled=BOTH)
    assert error.metadata == {"currency": "USD", "rule_id": "rr_1", "payment_method_processor": "stripe"}
    assert "stripe" in error.message
    # A native token of a processor the merchant did not enable.
    refused(DEFAULT_PROGRAM, payment(currency="INR", token="token_abc"), enabled={"stripe"})
