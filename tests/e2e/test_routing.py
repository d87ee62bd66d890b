"""Success-rate routing end to end, through the gateway, against the sandboxes: a merchant
routes its payments in one currency over both processors by recent success rate; Razorpay
fails, traffic moves to Stripe (every payment still succeeding through failover), and
comes back once Razorpay recovers; declines move nothing; every decision is explained,
simulated and shown in the stats.

Each test pays in a currency no other test uses, so the platform-wide windows (every
merchant's payments, which rank a processor a merchant has few outcomes for) hold only
its own payments."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from launcher.platform import Platform
from launcher.ports import LOOPBACK, free_port, hostport
from tests.e2e.flows import create, pay, razorpay_account, sandbox, transactions
from tests.e2e.test_money_core import eventually
from tests.merchant.helpers import aip193, client, set_up_merchant


def card(currency: str) -> dict[str, Any]:
    return {"amount": 5_000, "currency": currency, "paymentMethod": {"type": "card", "token": "pm_card_visa"}}


DECLINED = {"type": "card", "token": "pm_card_visa_chargeDeclined"}


@dataclass
class Routed:
    rest: httpx.Client
    dashboard: httpx.Client
    razorpay_account: str
    currency: str = ""

    def success_rate_rule(self, exploration: float, currency: str) -> str:
        self.currency = currency
        for old in self.dashboard.get("/api/routing-rules").json().get("routingRules", []):
            assert self.dashboard.delete(f"/api/routing-rules/{old['id']}").status_code == 200
        rule = {
            "priority": 1,
            "conditions": {"currency": currency},
            "action": {
                "successRate": {
                    "processors": ["razorpay", "stripe"],
                    "explorationPercent": exploration,
                    "minSamples": 3,
                    "windowSize": 10,
                }
            },
        }
        answer = self.dashboard.post("/api/routing-rules", json=rule)
        assert answer.status_code == 200, answer.text
        assert answer.json()["action"]["successRate"]["windowSize"] == 10
        rule_id: str = answer.json()["id"]
        return rule_id

    def paid(self) -> list[dict[str, Any]]:
        """Pays a new order (it must succeed); its transactions."""
        order = create(self.rest, currency=self.currency, amount=5_000)
        answer = pay(self.rest, order["id"])
        assert answer.json()["status"] == "SUCCEEDED", answer.text
        return transactions(self.rest, order["id"])

    def stats(self) -> dict[str, dict[str, Any]]:
        """The finest window of each processor: this merchant's card payments in the currency."""
        answer = self.dashboard.get("/api/routing/stats")
        assert answer.status_code == 200, answer.text
        return {
            s["processor"]: s
            for s in answer.json().get("stats", [])
            if s.get("paymentMethodType") == "card" and s["currency"] == self.currency
        }

    def samples(self, processor: str) -> int:
        return int(self.stats().get(processor, {}).get("sampleCount", 0))

    def until_samples(self, processor: str, count: int) -> None:
        """Outcomes reach the router in the background: wait until it has seen them."""
        eventually(lambda: self.samples(processor) == count, seconds=20)


@pytest.fixture()
def routed(platform: Platform) -> Iterator[Routed]:
    merchant = set_up_merchant(platform)
    account = razorpay_account(platform, merchant.account.merchant_id)
    with (
        client(platform, **{"X-API-Key": merchant.api_key}) as rest,
        client(platform, **merchant.account.bearer) as dashboard,
    ):
        yield Routed(rest, dashboard, account)


def first_tried(paid: Callable[[], list[dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    first = paid()[0]
    return first["processor"], first["routingDecision"]


def test_traffic_leaves_a_failing_processor_and_returns_when_it_recovers(platform: Platform, routed: Routed) -> None:
    rule_id = routed.success_rate_rule(exploration=0, currency="SGD")
    failing = {"account": routed.razorpay_account, "path_contains": "/orders", "mode": "http_503"}
    sandbox(platform, "POST", "/_sandbox/faults", **failing, count=-1)
    try:
        for n in range(1, 4):  # too few outcomes to score: the listed order, Razorpay first
            [at_razorpay, at_stripe] = routed.paid()
            assert (at_razorpay["processor"], at_razorpay["failureCode"]) == ("razorpay", "PROCESSOR_UNAVAILABLE")
            assert (at_stripe["processor"], at_stripe["status"]) == ("stripe", "SUCCEEDED")
            assert at_stripe["routingDecision"]["approach"] == "FAILOVER"
            routed.until_samples("razorpay", n)
        stats = routed.stats()
        assert (stats["razorpay"].get("successRate", 0), stats["stripe"]["successRate"]) == (0, 1)
        # Below the elimination threshold: skipped for the cool-down after its last failure.
        assert stats["razorpay"]["eliminated"] is True and stats["razorpay"]["eliminatedUntil"].endswith("Z")
        assert stats["stripe"]["eliminated"] is False
        # Scored now: Stripe first, Razorpay not even tried (only if Stripe were unavailable).
        for _ in range(3):
            [only] = routed.paid()
            assert only["processor"] == "stripe"
            decision = only["routingDecision"]
            assert (decision["approach"], decision["ruleId"], decision["score"]) == ("SUCCESS_RATE", rule_id, 1)
            assert decision["samples"] >= 3
        simulated = routed.dashboard.post("/api/routing/simulate", json=card("SGD")).json()
        assert simulated["approach"] == "SUCCESS_RATE"
        assert [(c["processor"], c["approach"], c.get("score", 0)) for c in simulated["candidates"]] == [
            ("stripe", "SUCCESS_RATE", 1),
            ("razorpay", "ELIMINATED_FALLBACK", 0),
        ]
        assert "eliminated for" in simulated["candidates"][1]["reason"]
    finally:
        sandbox(platform, "DELETE", f"/_sandbox/faults?account={routed.razorpay_account}")

    # Recovered: after the cool-down, probes and exploration send Razorpay payments again
    # until its window is all successes (the router takes up the new rule within
    # ROUTING_CACHE_SECONDS).
    routed.success_rate_rule(exploration=50, currency="SGD")

    def recovered() -> bool:
        # A simulation never explores: it shows the ranking, a tie keeping the listed order.
        simulated = routed.dashboard.post("/api/routing/simulate", json=card("SGD")).json()
        ranking = [(c["processor"], c["approach"], c.get("score")) for c in simulated["candidates"]]
        if ranking == [("razorpay", "SUCCESS_RATE", 1), ("stripe", "SUCCESS_RATE", 1)]:
            return True
        processor, decision = first_tried(routed.paid)
        assert decision["approach"] in ("SUCCESS_RATE", "EXPLORATION", "ELIMINATED_FALLBACK"), decision
        return False

    eventually(recovered, seconds=90)


def test_a_decline_does_not_count_against_the_processor(routed: Routed) -> None:
    routed.success_rate_rule(exploration=0, currency="AED")
    for n in range(1, 4):
        routed.paid()
        routed.until_samples("razorpay", n)
    order = create(routed.rest, currency="AED", amount=5_000)
    declined = pay(routed.rest, order["id"], DECLINED).json()
    assert (declined["status"], declined["failureCode"]) == ("FAILED", "card_declined")
    [attempt] = transactions(routed.rest, order["id"])
    assert attempt["processor"] == "razorpay"
    # The next success lands after the decline would have: the window holds only successes.
    routed.paid()
    routed.until_samples("razorpay", 4)
    assert routed.stats()["razorpay"]["successRate"] == 1


def test_simulate_and_stats_answer_bad_input_with_aip193(routed: Routed) -> None:
    bad = {"amount": 0, "currency": "inr", "paymentMethod": {"type": ""}}
    reason, body = aip193(routed.dashboard.post("/api/routing/simulate", json=bad), 400)
    fields = {v["field"] for d in body["details"] for v in d.get("fieldViolations", [])}
    assert {"amount", "currency", "payment_method.type"} <= fields, body
    assert aip193(routed.dashboard.get("/api/routing/stats", params={"mode": "sandbox"}), 400)[0] == "INVALID_ARGUMENT"
    bad_rule = {"action": {"successRate": {"processors": ["stripe"], "minSamples": 0}}}
    reason, _ = aip193(routed.dashboard.post("/api/routing-rules", json=bad_rule), 400)
    assert reason == "ROUTING_RULE_INVALID"
    # The merchant API key is not a dashboard credential.
    assert routed.rest.get("/api/routing/stats").status_code == 401
    # Static rules: the simulation says so.
    simulated = routed.dashboard.post("/api/routing/simulate", json=card("USD")).json()
    assert simulated["approach"] == "DEFAULT"
    assert [c["processor"] for c in simulated["candidates"]] == ["stripe"]


def test_retry_rules_move_a_failure_to_the_next_processor_up_to_max_attempts(routed: Routed) -> None:
    rule = {"conditions": {"currency": "CHF"}, "action": {"priority": {"processors": ["razorpay", "stripe"]}}}
    assert routed.dashboard.post("/api/routing-rules", json=rule).status_code == 200
    retry = {"rules": [{"processor": "razorpay", "failureCode": "card_declined", "decision": "RETRY_NEXT_PROCESSOR"}]}
    updated = routed.dashboard.put("/api/merchants/me", json={"retrySettings": retry})
    assert updated.status_code == 200, updated.text
    assert routed.dashboard.get("/api/merchants/me").json()["retrySettings"] == retry

    def declined() -> list[dict[str, Any]]:
        order = create(routed.rest, currency="CHF", amount=2_500)
        answer = pay(routed.rest, order["id"], DECLINED).json()
        assert (answer["status"], answer["failureCode"], answer.get("amountCaptured", 0)) == (
            "FAILED",
            "card_declined",
            0,
        )
        return transactions(routed.rest, order["id"])

    # Declined at Razorpay, which the merchant retries elsewhere; declined at Stripe: final.
    [at_razorpay, at_stripe] = declined()
    assert [(t["processor"], t["status"], t["failureCode"]) for t in (at_razorpay, at_stripe)] == [
        ("razorpay", "FAILED", "card_declined"),
        ("stripe", "FAILED", "card_declined"),
    ]
    assert at_stripe["routingDecision"]["approach"] == "FAILOVER"
    assert "failover after razorpay" in at_stripe["routingDecision"]["reason"]

    # One attempt per payment: the router takes it up within ROUTING_CACHE_SECONDS.
    limited = routed.dashboard.put("/api/merchants/me", json={"retrySettings": {**retry, "maxAttempts": 1}})
    assert limited.json()["retrySettings"]["maxAttempts"] == 1
    [only] = eventually(lambda: len(found := declined()) == 1 and found, seconds=30)
    assert only["processor"] == "razorpay"


def test_retry_settings_are_validated(routed: Routed) -> None:
    bad = {"maxAttempts": 0, "rules": [{"processor": "adyen", "failureCode": "", "decision": "RETRY_NEXT_PROCESSOR"}]}
    reason, body = aip193(routed.dashboard.put("/api/merchants/me", json={"retrySettings": bad}), 400)
    assert reason == "RETRY_SETTINGS_INVALID"
    fields = {v["field"] for d in body["details"] for v in d.get("fieldViolations", [])}
    assert fields == {
        "retry_settings.max_attempts",
        "retry_settings.rules[0].processor",
        "retry_settings.rules[0].failure_code",
    }
    assert routed.dashboard.get("/api/merchants/me").json()["retrySettings"] == {"rules": []}  # nothing stored


def test_payments_keep_succeeding_with_the_static_decision_while_redis_is_down(
    platform: Platform, routed: Routed
) -> None:
    routed.success_rate_rule(exploration=0, currency="NZD")
    platform.restart("router", env={"REDIS_URL": f"redis://{hostport(LOOPBACK, free_port())}/0"})  # nothing there
    try:
        for _ in range(3):
            [first] = routed.paid()
            assert (first["processor"], first["routingDecision"]["approach"]) == ("razorpay", "STATIC_FALLBACK")
            assert "success rates unavailable" in first["routingDecision"]["reason"]
        simulated = routed.dashboard.post("/api/routing/simulate", json=card("NZD")).json()
        assert simulated["approach"] == "STATIC_FALLBACK"
        reason, _ = aip193(routed.dashboard.get("/api/routing/stats"), 503)
        assert reason == "ROUTING_SCORES_UNAVAILABLE"
    finally:
        platform.restart("router", env={"REDIS_URL": platform.redis_url})
    [first] = routed.paid()
    assert first["routingDecision"]["approach"] == "SUCCESS_RATE"


def test_a_processor_failing_a_share_of_requests_loses_the_lead_within_a_few_payments(
    platform: Platform, routed: Routed
) -> None:
    routed.success_rate_rule(exploration=0, currency="SEK")
    failing = {"account": routed.razorpay_account, "path_contains": "/orders", "method": "POST", "mode": "http_503"}
    sandbox(platform, "POST", "/_sandbox/faults", **failing, count=-1, probability=0.6)
    try:
        for _ in range(25):
            routed.paid()  # every payment succeeds: a failure at Razorpay fails over to Stripe
            first, second = routed.dashboard.post("/api/routing/simulate", json=card("SEK")).json()["candidates"]
            # Stripe leads on its own record, not just as the processor still being learned about.
            if first["processor"] == "stripe" and "score" in first and first["score"] > second.get("score", 0):
                break
        else:
            pytest.fail(f"Stripe never took the lead within 25 payments: {routed.stats()}")
    finally:
        sandbox(platform, "DELETE", f"/_sandbox/faults?account={routed.razorpay_account}")
