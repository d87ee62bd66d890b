"""The retry rules' third decision end to end: a decline asking for the customer's
authentication (`authentication_required`) is tried once more at the same processor with
3-D Secure requested, and the order waits in REQUIRES_ACTION for the customer, who
completes it; the declined try charged nothing, so the processor's books hold one payment.
A merchant who makes the code final gets a failed payment and one try."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from launcher.platform import Platform
from tests.e2e.flows import create, pay, razorpay_webhooks, sandbox, transactions
from tests.e2e.test_money_core import eventually
from tests.e2e.test_processor_webhooks import STRIPE_AUTH, wait_for_order
from tests.merchant.helpers import SignedUp, signed_up

STEP_UP = {"type": "card", "token": "pm_card_declinedAuthenticationRequired"}


Merchant = SignedUp


@pytest.fixture()
def merchant(platform: Platform) -> Iterator[Merchant]:
    with signed_up(platform) as made:
        yield made


def tries(rest: httpx.Client, order_id: str) -> list[tuple[str, str, str]]:
    return [(t["processor"], t["status"], t.get("failureCode", "")) for t in transactions(rest, order_id)]


def test_a_decline_asking_for_authentication_steps_up_to_3ds_at_razorpay(
    platform: Platform, merchant: Merchant
) -> None:
    with razorpay_webhooks(platform, merchant.merchant_id, "payment.captured") as (account, _):
        order = create(merchant.rest, currency="INR", amount=42_000)
        answer = pay(merchant.rest, order["id"], STEP_UP)
        assert answer.status_code == 200, answer.text
        waiting = answer.json()
        assert waiting["status"] == "REQUIRES_ACTION", waiting
        redirect = waiting["nextAction"]["redirectUrl"]
        assert redirect.startswith(str(platform.razorpay_sandbox_url)) and redirect.endswith("/authenticate")
        assert tries(merchant.rest, order["id"]) == [
            ("razorpay", "FAILED", "authentication_required"),
            ("razorpay", "ACTION_REQUIRED", ""),
        ]
        stepped_up = transactions(merchant.rest, order["id"])[1]
        assert stepped_up["routingDecision"]["reason"].endswith("again with 3-D Secure (step-up)")

        # The customer authenticates; only the processor's webhook tells PayLoops.
        done = httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
        assert done.status_code == 200 and done.json()["status"] == "captured", done.text
        after = wait_for_order(merchant.rest, order["id"], "SUCCEEDED")
    assert (after["processor"], after["amountCaptured"]) == ("razorpay", 42_000)
    # Razorpay's books: the declined try failed there, the step-up captured, nothing else.
    payments = sandbox(platform, "GET", f"/_sandbox/stats?account={account}")["payments"]
    assert (payments.get("failed"), payments.get("captured")) == (1, 1), payments


def test_a_decline_asking_for_authentication_steps_up_to_3ds_at_stripe(platform: Platform, merchant: Merchant) -> None:
    order = create(merchant.rest, currency="USD", amount=3_100)
    answer = pay(merchant.rest, order["id"], STEP_UP)
    assert answer.status_code == 200 and answer.json()["status"] == "REQUIRES_ACTION", answer.text
    assert answer.json()["nextAction"]["type"], answer.text
    assert tries(merchant.rest, order["id"]) == [
        ("stripe", "FAILED", "authentication_required"),
        ("stripe", "ACTION_REQUIRED", ""),
    ]
    declined, stepped_up = (
        httpx.get(
            f"{platform.localstripe_url}/v1/payment_intents/{t['processorReference']}", headers=STRIPE_AUTH
        ).json()
        for t in transactions(merchant.rest, order["id"])
    )
    # Two PaymentIntents: the declined one charged nothing; the step-up waits for the customer.
    assert declined["status"] == "requires_payment_method" and declined["last_payment_error"], declined
    assert stepped_up["status"] == "requires_action" and stepped_up["amount"] == 3_100, stepped_up


def test_a_merchant_can_make_the_step_up_code_final(merchant: Merchant) -> None:
    final = {"rules": [{"processor": "razorpay", "failureCode": "authentication_required", "decision": "DO_NOT_RETRY"}]}
    assert merchant.dashboard.put("/api/merchants/me", json={"retrySettings": final}).status_code == 200

    def paid_once() -> dict[str, Any] | None:
        order = create(merchant.rest, currency="INR", amount=1_500)
        answer = pay(merchant.rest, order["id"], STEP_UP).json()
        return answer if len(tries(merchant.rest, order["id"])) == 1 else None

    # The router takes the new settings up within its routing cache's lifetime.
    failed = eventually(paid_once, seconds=30)
    assert (failed["status"], failed["failureCode"]) == ("FAILED", "authentication_required")

    # And a merchant may step up a code of its own choosing.
    mine = {"rules": [{"processor": "stripe", "failureCode": "card_declined", "decision": "REQUIRES_ACTION"}]}
    answer = merchant.dashboard.put("/api/merchants/me", json={"retrySettings": mine})
    assert answer.status_code == 200 and answer.json()["retrySettings"] == mine, answer.text
