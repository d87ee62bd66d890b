"""Refunds end to end: REST via Envoy -> order service (reservation under the order lock)
-> RefundWorkflow -> processor services -> localstripe / the Razorpay sandbox."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx

from launcher.platform import Platform
from tests.e2e.flows import (
    create,
    paid,
    razorpay_account,
    reason,
    refund,
    sandbox,
    transactions,
    wait_for_refund,
)


def refunded(rest: httpx.Client, order_id: str, **body: Any) -> dict[str, Any]:
    answer = refund(rest, order_id, **body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return wait_for_refund(rest, found["id"]) if found["status"] == "PENDING" else found


def stripe_refunds(platform: Platform, payment_intent: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{platform.localstripe_url}/v1/refunds",
        params={"payment_intent": payment_intent, "limit": 100},
        headers={"Authorization": "Bearer sk_test_anything"},
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["data"]
    return found


def charge_reference(rest: httpx.Client, order_id: str) -> str:
    [charge] = [t for t in transactions(rest, order_id) if t["type"] == "CHARGE"]
    return str(charge["processorReference"])


def test_full_refund_refunds_the_order_at_stripe(rest: httpx.Client, platform: Platform) -> None:
    order = paid(rest)
    done = refunded(rest, order["id"], reason="customer asked")
    assert (done["status"], done["amount"], done["currency"], done["processor"], done["reason"]) == (
        "SUCCEEDED",
        1999,
        "USD",
        "stripe",
        "customer asked",
    )
    assert done["id"].startswith("ref_") and done["orderId"] == order["id"] and done["createdAt"]
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("REFUNDED", 1999)
    [refund_txn] = [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]
    assert (refund_txn["status"], refund_txn["amount"], refund_txn["refundId"]) == ("SUCCEEDED", 1999, done["id"])
    at_stripe = stripe_refunds(platform, charge_reference(rest, order["id"]))
    assert [(r["id"], r["amount"]) for r in at_stripe] == [(refund_txn["processorReference"], 1999)]
    assert rest.get(f"/v1/refunds/{done['id']}").json() == done


def test_two_partial_refunds_then_nothing_is_left(rest: httpx.Client) -> None:
    order = paid(rest, amount=1000)
    first = refunded(rest, order["id"], amount=400)
    assert first["status"] == "SUCCEEDED"
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "PARTIALLY_REFUNDED"
    second = refunded(rest, order["id"])  # the remainder
    assert (second["status"], second["amount"]) == ("SUCCEEDED", 600)
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("REFUNDED", 1000)
    third = refund(rest, order["id"], amount=1)
    assert (third.status_code, reason(third)) == (400, "REFUND_EXCEEDS_CAPTURED")
    assert [t["status"] for t in transactions(rest, order["id"]) if t["type"] == "REFUND"] == ["SUCCEEDED"] * 2


def test_concurrent_refunds_never_exceed_the_captured_amount(rest: httpx.Client, platform: Platform) -> None:
    order = paid(rest, amount=1000)

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=str(rest.base_url), headers=dict(rest.headers), timeout=30) as client:
            return refund(client, order["id"], amount=300)

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(attempt, range(10)))
    accepted = [a.json() for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert 1 <= len(accepted) <= 3
    assert all((a.status_code, reason(a)) == (400, "REFUND_EXCEEDS_CAPTURED") for a in refused)
    settled = [wait_for_refund(rest, r["id"]) for r in accepted]
    succeeded = [r for r in settled if r["status"] == "SUCCEEDED"]
    assert len(succeeded) == len(accepted)
    at_stripe = stripe_refunds(platform, charge_reference(rest, order["id"]))
    assert sorted(r["amount"] for r in at_stripe) == [300] * len(succeeded)
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert after["amountRefunded"] == 300 * len(succeeded) <= 1000


def test_refund_of_an_unpaid_order_is_refused(rest: httpx.Client) -> None:
    order = create(rest)
    answer = refund(rest, order["id"])
    assert (answer.status_code, reason(answer)) == (400, "ORDER_NOT_REFUNDABLE")
    assert not [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]


def test_refund_amount_must_be_positive(rest: httpx.Client) -> None:
    order = paid(rest)
    for amount in (0, -5):
        answer = refund(rest, order["id"], amount=amount)
        assert (answer.status_code, reason(answer)) == (400, "AMOUNT_INVALID")
    assert rest.get(f"/v1/orders/{order['id']}").json()["amountRefunded"] == 0


def test_idempotency_key_returns_the_same_refund(rest: httpx.Client) -> None:
    order = paid(rest, amount=1000)
    headers = {"Idempotency-Key": f"refund-{order['id']}"}
    first = rest.post(f"/v1/orders/{order['id']}/refund", json={"amount": 100}, headers=headers)
    again = rest.post(f"/v1/orders/{order['id']}/refund", json={"amount": 100}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert len([t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]) == 1


def test_another_merchant_cannot_refund_or_read_a_refund(
    rest: httpx.Client, platform: Platform, merchant_b: dict[str, str]
) -> None:
    order = paid(rest, amount=1000)
    mine = refunded(rest, order["id"], amount=100)
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": merchant_b["api_key"]}) as other:
        stolen = refund(other, order["id"], amount=100)
        peek = other.get(f"/v1/refunds/{mine['id']}")
        missing = other.get("/v1/refunds/ref_doesnotexist")
    assert (stolen.status_code, reason(stolen)) == (404, "ORDER_NOT_FOUND")
    assert (peek.status_code, reason(peek)) == (404, "REFUND_NOT_FOUND")
    assert (missing.status_code, reason(missing)) == (404, "REFUND_NOT_FOUND")
    assert rest.get(f"/v1/orders/{order['id']}").json()["amountRefunded"] == 100


def test_razorpay_refund_left_pending_settles_later(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    order = paid(rest, currency="INR", amount=50_000)
    assert order["status"] == "SUCCEEDED"
    sandbox(platform, "POST", "/_sandbox/faults", account=account, path_contains="/refund", mode="refund_pending")
    answer = refund(rest, order["id"], amount=20_000)
    assert answer.status_code == 200, answer.text
    pending = answer.json()
    assert (pending["status"], pending["processor"]) == ("PENDING", "razorpay")
    assert rest.get(f"/v1/orders/{order['id']}").json()["amountRefunded"] == 0
    [txn] = [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]
    assert txn["processorReference"].startswith("rfnd_")
    sandbox(platform, "POST", f"/_sandbox/refunds/{txn['processorReference']}/process", outcome="processed")
    done = wait_for_refund(rest, pending["id"])
    assert done["status"] == "SUCCEEDED"
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("PARTIALLY_REFUNDED", 20_000)
    stats = sandbox(platform, "GET", f"/_sandbox/stats?account={account}")
    assert stats["refunds"].get("processed", 0) >= 1


def test_a_failed_refund_releases_its_reservation(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    order = paid(rest, currency="INR", amount=40_000)
    sandbox(platform, "POST", "/_sandbox/faults", account=account, path_contains="/refund", mode="refund_pending")
    pending = refund(rest, order["id"]).json()
    assert (pending["status"], pending["amount"]) == ("PENDING", 40_000)
    # While it is pending, the whole captured amount is reserved.
    over = refund(rest, order["id"], amount=1)
    assert (over.status_code, reason(over)) == (400, "REFUND_EXCEEDS_CAPTURED")
    [txn] = [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]
    sandbox(platform, "POST", f"/_sandbox/refunds/{txn['processorReference']}/process", outcome="failed")
    assert wait_for_refund(rest, pending["id"])["status"] == "FAILED"
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("SUCCEEDED", 0)
    [txn] = [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]
    assert txn["status"] == "FAILED"
    # Released: the amount can be refunded again, and this time it goes through.
    again = refunded(rest, order["id"])
    assert (again["status"], again["amount"]) == ("SUCCEEDED", 40_000)
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "REFUNDED"
