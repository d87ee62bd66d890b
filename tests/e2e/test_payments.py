"""Taking payments end to end: REST via Envoy -> order service -> PaymentWorkflow ->
router -> processor services -> the Stripe sandbox (localstripe) and the Razorpay sandbox."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx
import pytest

from launcher.platform import Platform
from tests.e2e.flows import (
    DECLINED,
    VISA,
    captured_at_razorpay,
    create,
    paid,
    pay,
    razorpay_account,
    sandbox,
    transactions,
    wait_for_status,
)


def test_usd_card_payment_succeeds_at_stripe(rest: httpx.Client, platform: Platform) -> None:
    order = paid(rest)
    assert (order["status"], order["processor"], order["amountCaptured"]) == ("SUCCEEDED", "stripe", 1999)
    [charge] = transactions(rest, order["id"])
    assert (charge["type"], charge["status"], charge["processor"], charge["amount"]) == (
        "CHARGE",
        "SUCCEEDED",
        "stripe",
        1999,
    )
    assert charge["routingDecision"]["reason"]
    intent = httpx.get(
        f"{platform.localstripe_url}/v1/payment_intents/{charge['processorReference']}",
        headers={"Authorization": "Bearer sk_test_anything"},
    ).json()
    assert (intent["amount"], intent["currency"], intent["status"]) == (1999, "usd", "succeeded")


def test_inr_payment_succeeds_at_razorpay_once(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    before = captured_at_razorpay(platform, account)
    order = paid(rest, currency="INR", amount=50_000)
    assert (order["status"], order["processor"]) == ("SUCCEEDED", "razorpay")
    assert captured_at_razorpay(platform, account) == before + 1
    assert [t["processor"] for t in transactions(rest, order["id"])] == ["razorpay"]


# Where each processor's confirm would read what its prepare made: Razorpay's order (and its
# payments), Stripe's PaymentIntent.
PREPARED_READS = {"razorpay": ("INR", "/v1/orders/"), "stripe": ("USD", "/v1/payment_intents/")}


@pytest.mark.parametrize("processor", PREPARED_READS)
def test_a_first_confirm_pays_on_what_its_prepare_just_made_without_reading_it(
    processor: str, rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    """In the payment's first workflow task, the processor's object prepared moments before
    has nothing to resume: the confirm pays on it without reading it first (here every such
    read fails, which would leave the payment unknown)."""
    currency, reads = PREPARED_READS[processor]
    if processor == "razorpay":
        switch, scope = (
            platform.razorpay_sandbox_url,
            {"account": razorpay_account(platform, merchant_a["merchant_id"])},
        )
    else:
        switch, scope = platform.stripe_fault_proxy_url, {}
    assert switch
    fault = {"method": "GET", "path_contains": reads, "mode": "http_500", "count": -1, **scope}
    assert httpx.post(f"{switch}/_sandbox/faults", json=fault, timeout=10).status_code == 200
    try:
        order = paid(rest, currency=currency, amount=31_000)
    finally:
        httpx.delete(f"{switch}/_sandbox/faults", params=scope, timeout=10).raise_for_status()
    assert (order["status"], order["processor"], order["amountCaptured"]) == ("SUCCEEDED", processor, 31_000)
    [charge] = transactions(rest, order["id"])
    assert (charge["status"], charge["processor"]) == ("SUCCEEDED", processor)


def test_decline_fails_without_failover_and_the_order_can_be_paid_again(rest: httpx.Client) -> None:
    order = create(rest)
    declined = pay(rest, order["id"], DECLINED).json()
    assert declined["status"] == "FAILED" and declined["failureCode"]
    assert len(transactions(rest, order["id"])) == 1
    again = pay(rest, order["id"]).json()
    assert (again["status"], again["failureCode"]) == ("SUCCEEDED", "")
    assert [t["status"] for t in transactions(rest, order["id"])] == ["FAILED", "SUCCEEDED"]


@pytest.mark.parametrize("method", [VISA, DECLINED], ids=["succeeded", "declined"])
def test_the_pay_answer_is_the_order_as_committed(rest: httpx.Client, method: dict[str, str]) -> None:
    """The pay request answers with the order its payment's bookkeeping committed, without
    reading it again: every field equals what a later read returns."""
    order = create(rest)
    answer = pay(rest, order["id"], method).json()
    assert answer["status"] in ("SUCCEEDED", "FAILED")
    assert answer == rest.get(f"/v1/orders/{order['id']}").json()


def test_a_succeeded_order_is_not_payable(rest: httpx.Client) -> None:
    order = paid(rest)
    answer = pay(rest, order["id"])
    assert answer.status_code == 400 and answer.json()["details"][0]["reason"] == "ORDER_NOT_PAYABLE"


def test_razorpay_outage_fails_over_to_stripe(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    sandbox(platform, "POST", "/_sandbox/faults", account=account, mode="http_503", path_contains="/v1/", count=-1)
    try:
        order = paid(rest, currency="INR", amount=70_000)
    finally:
        sandbox(platform, "DELETE", f"/_sandbox/faults?account={account}")
    assert (order["status"], order["processor"]) == ("SUCCEEDED", "stripe")
    first, second = transactions(rest, order["id"])
    assert (first["processor"], first["status"], first["failureCode"]) == (
        "razorpay",
        "FAILED",
        "PROCESSOR_UNAVAILABLE",
    )
    assert (second["processor"], second["status"]) == ("stripe", "SUCCEEDED")
    assert "failover" in second["routingDecision"]["reason"]


def test_unknown_outcome_is_resolved_by_status_not_a_second_charge(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    before = captured_at_razorpay(platform, account)
    sandbox(
        platform,
        "POST",
        "/_sandbox/faults",
        account=account,
        mode="timeout_after",
        path_contains="/payments",
        delay_ms=8000,
    )
    order = wait_for_status(rest, paid(rest, currency="INR", amount=30_000)["id"])
    assert (order["status"], order["processor"]) == ("SUCCEEDED", "razorpay")
    assert captured_at_razorpay(platform, account) == before + 1


def test_concurrent_pays_charge_once(rest: httpx.Client, platform: Platform) -> None:
    order = create(rest, amount=4242)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: pay(rest, order["id"]), range(20)))
    for answer in answers:
        assert answer.status_code in (200, 400, 409), answer.text
        if answer.status_code == 200:
            assert answer.json()["status"] in ("SUCCEEDED", "PROCESSING")
    charges = [t for t in transactions(rest, order["id"]) if t["type"] == "CHARGE"]
    assert len(charges) == 1
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "SUCCEEDED"


def test_idempotency_key_executes_once(rest: httpx.Client) -> None:
    body = {"amount": 777, "currency": "EUR"}
    key = {"Idempotency-Key": "idem-" + create(rest)["id"]}
    sequential = [rest.post("/v1/orders", json=body, headers=key) for _ in range(5)]
    with concurrent.futures.ThreadPoolExecutor(15) as pool:
        concurrent_answers = list(pool.map(lambda _: rest.post("/v1/orders", json=body, headers=key), range(15)))
    ok = [a for a in sequential + concurrent_answers if a.status_code == 200]
    assert {a.text for a in ok} == {sequential[0].text}
    for answer in concurrent_answers:
        if answer.status_code != 200:
            assert answer.status_code == 409 and answer.json()["details"][0]["reason"] == "IDEMPOTENCY_KEY_IN_USE"
    reused = rest.post("/v1/orders", json={**body, "amount": 778}, headers=key)
    assert reused.status_code == 409 and reused.json()["details"][0]["reason"] == "IDEMPOTENCY_KEY_REUSED"


def test_manual_capture_and_cancel(rest: httpx.Client) -> None:
    authorized = paid(rest, captureMethod="MANUAL")
    assert (authorized["status"], authorized["amountCaptured"] if "amountCaptured" in authorized else 0) == (
        "AUTHORIZED",
        0,
    )
    captured = rest.post(f"/v1/orders/{authorized['id']}/capture", json={}).json()
    assert (captured["status"], captured["amountCaptured"]) == ("SUCCEEDED", 1999)
    assert [t["type"] for t in transactions(rest, authorized["id"])] == ["AUTHORIZE", "CAPTURE"]

    other = paid(rest, captureMethod="MANUAL")
    cancelled = rest.post(f"/v1/orders/{other['id']}/cancel", json={}).json()
    assert cancelled["status"] == "CANCELLED"
    assert [t["type"] for t in transactions(rest, other["id"])] == ["AUTHORIZE", "VOID"]
    again = rest.post(f"/v1/orders/{other['id']}/capture", json={})
    assert again.status_code == 400 and again.json()["details"][0]["reason"] == "ORDER_NOT_CAPTURABLE"


def test_unpaid_order_cancels_without_a_processor(rest: httpx.Client) -> None:
    order = create(rest)
    assert rest.post(f"/v1/orders/{order['id']}/cancel", json={}).json()["status"] == "CANCELLED"
    assert pay(rest, order["id"]).json()["details"][0]["reason"] == "ORDER_NOT_PAYABLE"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "PAYMENT_METHOD_INVALID"),
        ({"paymentMethod": {"type": "card"}}, "PAYMENT_METHOD_INVALID"),
        ({"paymentMethod": {"token": "pm_card_visa"}}, "PAYMENT_METHOD_INVALID"),
    ],
)
def test_bad_pay_requests_write_nothing(rest: httpx.Client, body: dict[str, Any], reason: str) -> None:
    order = create(rest)
    answer = rest.post(f"/v1/orders/{order['id']}/pay", json=body)
    assert answer.status_code == 400 and answer.json()["details"][0]["reason"] == reason
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "CREATED"
    assert transactions(rest, order["id"]) == []


def test_paying_unknown_or_foreign_orders_is_404(
    rest: httpx.Client, platform: Platform, merchant_b: dict[str, str]
) -> None:
    order = create(rest)
    assert pay(rest, "ord_missing").status_code == 404
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": merchant_b["api_key"]}, timeout=30) as other:
        assert pay(other, order["id"]).status_code == 404
        assert other.post(f"/v1/orders/{order['id']}/capture", json={}).status_code == 404
        assert other.post(f"/v1/orders/{order['id']}/cancel", json={}).status_code == 404
        assert other.get(f"/v1/orders/{order['id']}/transactions").status_code == 404
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "CREATED"
