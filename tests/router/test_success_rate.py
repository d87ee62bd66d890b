"""Success-rate routing in the pure evaluator: ranking by recent outcomes, falling back to
coarser windows, exploration's share over many seeded draws, elimination, cool-down,
probing and recovery, scores unavailable, which outcomes count, and the rule's validation."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from services.router.domain import (
    LEVELS,
    Approach,
    Candidate,
    Health,
    Rules,
    Scores,
    State,
    SuccessRate,
    Window,
    health_state,
    merchant_program,
    route,
    validate_rule,
    window_outcome,
)
from services.router.domain.program import Conditions
from tests.router.helpers import BOTH, payment, rule

SR = SuccessRate(("razorpay", "stripe"), exploration_percent=0, min_samples=10)


class NoExploration(random.Random):
    """Draws that never fall inside an exploration share."""

    def random(self) -> float:
        return 0.999999


def program(action: SuccessRate = SR) -> Rules:
    return merchant_program([rule("rr_sr", action, currency="INR")])


def windows(*levels: tuple[int, int]) -> list[Window]:
    return [Window(successes, samples) for successes, samples in levels]


def ranked(
    scores: Scores | None,
    action: SuccessRate = SR,
    rng: random.Random | None = None,
    enabled: frozenset[str] = BOTH,
    explore: bool = True,
    health: Health | None = None,
) -> list[Candidate]:
    return route(
        program(action),
        payment(currency="INR"),
        enabled=enabled,
        scores=scores,
        rng=rng or NoExploration(),
        explore=explore,
        health=health or Health(),
    )


def decide(scores: Scores | None, action: SuccessRate = SR, rng: random.Random | None = None) -> list[tuple[str, str]]:
    return [(c.processor, c.approach.value) for c in ranked(scores, action, rng)]


def test_the_better_recent_success_rate_goes_first() -> None:
    scores = {"razorpay": windows((60, 100)), "stripe": windows((95, 100))}
    [first, second] = ranked(scores)
    assert (first.processor, first.approach, first.score, first.samples) == ("stripe", Approach.SUCCESS_RATE, 0.95, 100)
    assert (second.processor, second.score, second.samples) == ("razorpay", 0.6, 100)
    assert first.rule_id == "rr_sr"
    assert "success rate 0.95 over 100 payments (merchant, payment method type, currency)" in first.reason


def test_ties_keep_the_listed_order() -> None:
    scores = {"razorpay": windows((50, 50)), "stripe": windows((50, 50))}
    assert [p for p, _ in decide(scores)] == ["razorpay", "stripe"]


def test_too_few_samples_fall_back_to_a_coarser_window() -> None:
    # The merchant's card window is thin; its currency window decides.
    scores = {
        "razorpay": windows((3, 3), (20, 40)),
        "stripe": windows((1, 3), (36, 40)),
    }
    assert [p for p, _ in decide(scores)] == ["stripe", "razorpay"]
    # Thin at the merchant's levels: every merchant's window decides.
    scores = {"razorpay": windows((2, 2), (2, 2), (900, 1000)), "stripe": windows((2, 2), (2, 2), (500, 1000))}
    [first, _] = ranked(scores)
    assert (first.processor, first.score, first.samples) == ("razorpay", 0.9, 1000)
    assert "all merchants" in first.reason


def test_an_unscored_processor_is_tried_first_to_learn_about_it() -> None:
    scores = {"razorpay": windows((99, 100)), "stripe": windows((1, 2))}
    [first, second] = ranked(scores)
    assert (first.processor, first.score) == ("stripe", None)
    assert "fewer than 10 recent payments" in first.reason
    assert second.processor == "razorpay"


def test_only_eligible_processors_are_ranked() -> None:
    scores = {"razorpay": windows((10, 100)), "stripe": windows((90, 100))}
    candidates = ranked(scores, enabled=frozenset({"razorpay"}))
    assert [c.processor for c in candidates] == ["razorpay"]


def test_scores_unavailable_route_in_the_listed_order_and_say_so() -> None:
    candidates = ranked(None)
    assert [(c.processor, c.approach) for c in candidates] == [
        ("razorpay", Approach.STATIC_FALLBACK),
        ("stripe", Approach.STATIC_FALLBACK),
    ]
    assert "success rates unavailable" in candidates[0].reason


@pytest.mark.parametrize("percent", [5.0, 20.0, 50.0])
def test_exploration_takes_its_share_of_payments(percent: float) -> None:
    action = SuccessRate(("razorpay", "stripe"), exploration_percent=percent, min_samples=10)
    scores = {"razorpay": windows((60, 100)), "stripe": windows((95, 100))}
    rng = random.Random(20261203)
    draws = 20_000
    seen = Counter(decide(scores, action, rng)[0] for _ in range(draws))
    explored = seen[("stripe", "EXPLORATION")] + seen[("razorpay", "EXPLORATION")]
    assert abs(explored / draws - percent / 100) < 0.01
    # An exploring payment's order is a fair shuffle: the weaker processor leads half of them.
    assert abs(seen[("razorpay", "EXPLORATION")] / explored - 0.5) < 0.05
    assert seen[("razorpay", "SUCCESS_RATE")] == 0


def test_a_simulation_never_explores() -> None:
    action = SuccessRate(("razorpay", "stripe"), exploration_percent=100, min_samples=10)
    scores = {"razorpay": windows((10, 100)), "stripe": windows((95, 100))}
    always = random.Random(1)
    candidates = ranked(scores, action, always, explore=False)
    assert [(c.processor, c.approach) for c in candidates] == [
        ("stripe", Approach.SUCCESS_RATE),
        ("razorpay", Approach.SUCCESS_RATE),
    ]


def test_a_static_rule_needs_no_scores_and_is_explained_as_a_rule() -> None:
    candidates = route(merchant_program([]), payment(currency="INR"), enabled=BOTH)
    assert [(c.processor, c.approach) for c in candidates] == [
        ("razorpay", Approach.DEFAULT),
        ("stripe", Approach.FAILOVER),
    ]


@pytest.mark.parametrize(
    ("succeeded", "code", "outcome"),
    [
        (True, "", True),
        (False, "PROCESSOR_UNAVAILABLE", False),
        (False, "processing_error", False),
        (False, "card_declined", None),
        (False, "insufficient_funds", None),
        (False, "expired_card", None),
        (False, "PROCESSOR_INVALID_REQUEST", None),
    ],
)
def test_only_the_processors_own_failures_count_against_it(succeeded: bool, code: str, outcome: bool | None) -> None:
    assert window_outcome(succeeded, code) is outcome


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (SuccessRate(()), "action.success_rate.processors"),
        (SuccessRate(("adyen",)), "action.success_rate.processors[0]"),
        (SuccessRate(("stripe", "stripe")), "action.success_rate.processors[1]"),
        (SuccessRate(("stripe",), exploration_percent=101), "action.success_rate.exploration_percent"),
        (SuccessRate(("stripe",), window_size=1001), "action.success_rate.window_size"),
        (SuccessRate(("stripe",), window_size=0), "action.success_rate.window_size"),
        (SuccessRate(("stripe",), min_samples=0), "action.success_rate.min_samples"),
        (SuccessRate(("stripe",), min_samples=300, window_size=200), "action.success_rate.min_samples"),
    ],
)
def test_a_bad_success_rate_rule_is_refused_field_by_field(action: SuccessRate, field: str) -> None:
    assert field in [v.field for v in validate_rule(Conditions(), action)]


def test_the_levels_are_finest_first() -> None:
    assert [level.value for level in LEVELS] == [
        "merchant, payment method type, currency",
        "merchant, currency",
        "all merchants, payment method type, currency",
    ]


# --- elimination ---------------------------------------------------------------------------

HEALTH = Health(threshold=0.35, failure_streak=5, cooldown_seconds=30, probe_percent=10, restore_after=2)


def failing(since_failure: float, *, streak: int = 0, successes: int = 20, samples: int = 100) -> list[Window]:
    return [Window(successes, samples, failure_streak=streak, since_failure=since_failure)]


def test_a_processor_below_the_threshold_is_tried_only_after_every_other() -> None:
    scores = {"razorpay": failing(since_failure=10), "stripe": windows((50, 100))}
    [first, last] = ranked(scores, health=HEALTH)
    assert (first.processor, first.approach) == ("stripe", Approach.SUCCESS_RATE)
    assert (last.processor, last.approach) == ("razorpay", Approach.ELIMINATED_FALLBACK)
    assert "eliminated for 20 s more" in last.reason and "success rate 0.20 over 100 payments" in last.reason


def test_failures_in_a_row_eliminate_before_there_are_enough_to_score() -> None:
    scores = {"razorpay": [Window(0, 5, failure_streak=5, since_failure=1)], "stripe": windows((1, 1))}
    [first, last] = ranked(scores, health=HEALTH)
    assert [first.processor, last.processor] == ["stripe", "razorpay"]
    assert last.approach == Approach.ELIMINATED_FALLBACK and "5 failures in a row" in last.reason


def test_when_every_processor_is_eliminated_the_best_of_them_is_still_tried() -> None:
    scores = {"razorpay": failing(since_failure=1, successes=10), "stripe": failing(since_failure=1, successes=30)}
    candidates = ranked(scores, health=HEALTH)
    assert [(c.processor, c.approach) for c in candidates] == [
        ("stripe", Approach.ELIMINATED_FALLBACK),
        ("razorpay", Approach.ELIMINATED_FALLBACK),
    ]


def test_after_the_cool_down_a_share_of_payments_probes_the_processor() -> None:
    scores = {"razorpay": failing(since_failure=31), "stripe": windows((50, 100))}
    rng = random.Random(7)
    draws = 20_000
    firsts = Counter(
        (c := ranked(scores, rng=rng, health=HEALTH)[0]).processor + ":" + c.approach.value for _ in range(draws)
    )
    assert abs(firsts["razorpay:EXPLORATION"] / draws - 0.10) < 0.01
    assert firsts["razorpay:SUCCESS_RATE"] == 0  # otherwise ranked after the healthy ones
    [_, half_open] = ranked(scores, health=HEALTH)
    assert (half_open.processor, half_open.approach) == ("razorpay", Approach.SUCCESS_RATE)
    assert "half-open" in half_open.reason


def test_successful_probes_restore_the_processor() -> None:
    restored = [Window(22, 100, success_streak=2, since_failure=40)]
    assert health_state(restored[0], HEALTH, min_samples=10) == (State.HEALTHY, 0.0)
    scores = {"razorpay": restored, "stripe": windows((50, 100))}
    candidates = ranked(scores, health=HEALTH)
    assert [(c.processor, c.approach) for c in candidates] == [
        ("stripe", Approach.SUCCESS_RATE),
        ("razorpay", Approach.SUCCESS_RATE),
    ]


@pytest.mark.parametrize(
    ("window", "state", "left"),
    [
        (Window(90, 100, since_failure=1), State.HEALTHY, 0.0),
        (Window(0, 4, failure_streak=4, since_failure=1), State.HEALTHY, 0.0),  # neither enough to score nor 5 in a row
        (Window(0, 5, failure_streak=5, since_failure=12), State.ELIMINATED, 18.0),
        (Window(30, 100, since_failure=29.5), State.ELIMINATED, 0.5),
        (Window(30, 100, since_failure=30), State.HALF_OPEN, 0.0),
        (Window(30, 100, success_streak=1, since_failure=45), State.HALF_OPEN, 0.0),
    ],
)
def test_health_states(window: Window, state: State, left: float) -> None:
    assert health_state(window, HEALTH, min_samples=10) == (state, left)
