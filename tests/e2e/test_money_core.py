"""Bad days on the paths that move money, through the gateway, against the sandboxes' own
books: a client that times out and retries, a cancel while the customer is still in 3-D
Secure, a processor service or the order service killed mid-call, a crash that strands an
order, a lost webhook. After each, PayLoops' books equal the processor's.

Every test uses a merchant of its own, so its Razorpay sandbox account holds exactly the
money its orders moved."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from launcher.platform import REPO_ROOT, Platform
from tests.conftest import seed_merchant
from tests.e2e.flows import (
    VISA,
    create,
    paid,
    pay,
    razorpay_account,
    razorpay_webhooks,
    reason,
    sandbox,
    transactions,
    wait_for_refund,
    wait_for_status,
)

AUTHENTICATION_REQUIRED = {"type": "card", "token": "pm_card_authenticationRequired"}
STRIPE_AUTH = {"Authorization": "Bearer sk_test_anything"}


@dataclass
class Merchant:
    id: str
    rest: httpx.Client
    razorpay: str  # its Razorpay sandbox account (key id)


@pytest.fixture()
def merchant(platform: Platform, tmp_path: Path) -> Iterator[Merchant]:
    seeded = seed_merchant(platform, tmp_path / "key.json")
    headers = {"X-API-Key": seeded["api_key"]}
    with httpx.Client(base_url=platform.gateway_url, headers=headers, timeout=30) as rest:
        yield Merchant(seeded["merchant_id"], rest, razorpay_account(platform, seeded["merchant_id"]))


def eventually(check: Callable[[], Any], seconds: float = 60) -> Any:
    """The first truthy answer of `check`, polled until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not (answer := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)
    return answer


def fault(platform: Platform, account: str, mode: str, path_contains: str, delay_ms: int) -> None:
    """The Razorpay sandbox's next request of `account` to a path with `path_contains` fails so."""
    sandbox(
        platform,
        "POST",
        "/_sandbox/faults",
        account=account,
        path_contains=path_contains,
        mode=mode,
        delay_ms=delay_ms,
        count=1,
    )


def our_books(rest: httpx.Client) -> tuple[int, int]:
    """(captured, refunded) over every order of the merchant."""
    captured = refunded = 0
    token = ""
    while True:
        page = rest.get("/v1/orders", params={"pageSize": 100, "pageToken": token}).json()
        for order in page.get("orders", []):
            captured += order.get("amountCaptured", 0)
            refunded += order.get("amountRefunded", 0)
        token = page.get("nextPageToken", "")
        if not token:
            return captured, refunded


def razorpay_books(platform: Platform, account: str) -> tuple[int, int]:
    stats = sandbox(platform, "GET", f"/_sandbox/stats?account={account}")
    return int(stats["amount_captured"]), int(stats["amount_refunded"])


def reconcile(platform: Platform, merchant: Merchant) -> tuple[int, dict[str, Any]]:
    """`payloops reconcile` for the merchant's orders: its exit code and its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "launcher", "reconcile", "--json", "--merchant", merchant.id]
        + ["--order-addr", platform.service_addrs["order"], "--data-dir", str(platform.data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert done.stdout, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def assert_reconciled(platform: Platform, merchant: Merchant) -> None:
    code, report = reconcile(platform, merchant)
    unmatched = [f for f in report["findings"] if f["result"] != "MATCH"]
    assert (code, unmatched) == (0, []), report
    assert report["netOurs"] == report["netTheirs"]


def stripe_intents(platform: Platform, order_id: str) -> list[dict[str, Any]]:
    """localstripe's PaymentIntents of one order (it has no search: every page is listed)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = httpx.get(f"{platform.localstripe_url}/v1/payment_intents", params=params, headers=STRIPE_AUTH).json()
        found += [i for i in page["data"] if i.get("metadata", {}).get("payloops_order_id") == order_id]
        if not page.get("has_more") or not page["data"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def test_a_refund_retried_after_a_client_timeout_runs_once(merchant: Merchant, platform: Platform) -> None:
    rest = merchant.rest
    order = paid(rest, currency="INR", amount=10_000)
    fault(platform, merchant.razorpay, "delay", "/refund", delay_ms=3000)
    path, key = f"/v1/orders/{order['id']}/refund", {"Idempotency-Key": f"refund-{order['id']}"}
    with pytest.raises(httpx.TimeoutException):
        rest.post(path, json={"amount": 3000}, headers=key, timeout=0.5)
    retried = rest.post(path, json={"amount": 3000}, headers=key)
    assert retried.status_code == 200, retried.text
    refund = wait_for_refund(rest, retried.json()["id"])
    assert refund["status"] == "SUCCEEDED"
    assert rest.post(path, json={"amount": 3000}, headers=key).json()["id"] == refund["id"]

    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("PARTIALLY_REFUNDED", 3000)
    assert len([t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]) == 1
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (10_000, 3000)
    assert_reconciled(platform, merchant)


def test_a_payment_completed_after_its_order_was_cancelled_is_refunded(merchant: Merchant, platform: Platform) -> None:
    """Razorpay cannot cancel a payment waiting for 3-D Secure: the order is cancelled, and
    the capture that lands afterwards is recorded and refunded automatically."""
    rest = merchant.rest
    with razorpay_webhooks(platform, merchant.id, "payment.captured"):
        order = create(rest, currency="INR", amount=25_000)
        waiting = pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()
        assert waiting["status"] == "REQUIRES_ACTION", waiting
        cancelled = rest.post(f"/v1/orders/{order['id']}/cancel", json={})
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED"), cancelled.text
        redirect = waiting["nextAction"]["redirectUrl"]
        done = httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
        assert done.json()["status"] == "captured", done.text
        refunded = eventually(
            lambda: (o := rest.get(f"/v1/orders/{order['id']}").json()).get("amountRefunded") == 25_000 and o
        )
    assert (refunded["status"], refunded["amountCaptured"]) == ("CANCELLED", 25_000)
    kinds = {(t["type"], t["status"]) for t in transactions(rest, order["id"])}
    assert kinds == {("CHARGE", "SUCCEEDED"), ("VOID", "SUCCEEDED"), ("REFUND", "SUCCEEDED")}
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (25_000, 25_000)
    again = rest.post(f"/v1/orders/{order['id']}/refund", json={})
    assert (again.status_code, reason(again)) == (400, "ORDER_NOT_REFUNDABLE")  # nothing left: it was refunded
    assert_reconciled(platform, merchant)


def test_a_capture_after_cancel_that_no_webhook_announces_is_found_and_refunded(
    merchant: Merchant, platform: Platform
) -> None:
    """No webhook endpoint at the sandbox: the sweep watches charges given up on and finds it."""
    rest = merchant.rest
    order = create(rest, currency="INR", amount=6_600)
    waiting = pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()
    assert rest.post(f"/v1/orders/{order['id']}/cancel", json={}).json()["status"] == "CANCELLED"
    redirect = waiting["nextAction"]["redirectUrl"]
    httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
    refunded = eventually(
        lambda: (o := rest.get(f"/v1/orders/{order['id']}").json()).get("amountRefunded") == 6_600 and o
    )
    assert (refunded["status"], refunded["amountCaptured"]) == ("CANCELLED", 6_600)
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (6_600, 6_600)
    assert_reconciled(platform, merchant)


def test_a_processor_slow_about_many_given_up_charges_does_not_hold_up_finding_a_late_capture(
    merchant: Merchant, platform: Platform, tmp_path: Path
) -> None:
    """Another merchant's charges given up on, about which the processor now answers only
    after the call timeout: the sweep asks them side by side and not again at every pass,
    so this merchant's late capture is still found and refunded within seconds."""
    other = seed_merchant(platform, tmp_path / "other.json")
    other_account = razorpay_account(platform, other["merchant_id"])
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": other["api_key"]}, timeout=30) as rest:
        for _ in range(12):
            given_up = create(rest, currency="INR", amount=1_000)
            assert pay(rest, given_up["id"], AUTHENTICATION_REQUIRED).json()["status"] == "REQUIRES_ACTION"
            assert rest.post(f"/v1/orders/{given_up['id']}/cancel", json={}).json()["status"] == "CANCELLED"
    slow = {"account": other_account, "path_contains": "/payments", "method": "GET", "mode": "delay"}
    sandbox(platform, "POST", "/_sandbox/faults", **slow, delay_ms=20_000, count=-1)
    try:
        rest = merchant.rest
        order = create(rest, currency="INR", amount=7_700)
        waiting = pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()
        assert rest.post(f"/v1/orders/{order['id']}/cancel", json={}).json()["status"] == "CANCELLED"
        redirect = waiting["nextAction"]["redirectUrl"]
        httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
        # One slow call (PROCESSOR_TIMEOUT_SECONDS 4 here) per eight charges at most, then it is found.
        refunded = eventually(
            lambda: (o := rest.get(f"/v1/orders/{order['id']}").json()).get("amountRefunded") == 7_700 and o,
            seconds=25,
        )
    finally:
        sandbox(platform, "DELETE", f"/_sandbox/faults?account={other_account}")
    assert refunded["status"] == "CANCELLED"
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (7_700, 7_700)


def test_cancel_during_3ds_at_stripe_cancels_the_payment_intent(merchant: Merchant, platform: Platform) -> None:
    rest = merchant.rest
    order = create(rest, currency="USD", amount=4200)
    assert pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()["status"] == "REQUIRES_ACTION"
    cancelled = rest.post(f"/v1/orders/{order['id']}/cancel", json={})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED"), cancelled.text
    [intent] = stripe_intents(platform, order["id"])
    assert intent["status"] == "canceled"  # a later confirm is refused
    assert our_books(rest) == (0, 0)
    assert_reconciled(platform, merchant)


def test_a_processor_service_killed_mid_payment_charges_once_and_the_platform_keeps_serving(
    merchant: Merchant, platform: Platform
) -> None:
    """The payment's outcome is unknown while its processor service is down: it is asked,
    once the service is back, and never sent to the other processor."""
    rest = merchant.rest
    # The sandbox captures at once, then holds the answer for 3 s.
    fault(platform, merchant.razorpay, "timeout_after", "/payments", delay_ms=3000)
    order = create(rest, currency="INR", amount=31_000)
    paying = threading.Thread(target=pay, args=(rest, order["id"]))
    paying.start()
    eventually(lambda: razorpay_books(platform, merchant.razorpay)[0] == 31_000, seconds=30)
    platform.kill("processor_razorpay")
    paying.join()

    final = wait_for_status(rest, order["id"])
    assert (final["status"], final["processor"], final["amountCaptured"]) == ("SUCCEEDED", "razorpay", 31_000)
    assert stripe_intents(platform, order["id"]) == []
    assert [(t["processor"], t["status"]) for t in transactions(rest, order["id"])] == [("razorpay", "SUCCEEDED")]
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (31_000, 0)
    platform.wait_ready("processor_razorpay")
    assert platform.restarts.get("processor_razorpay", 0) >= 1
    assert paid(rest, currency="INR", amount=500)["status"] == "SUCCEEDED"  # serving again
    assert_reconciled(platform, merchant)


def test_the_order_service_killed_mid_pay_then_a_retry_with_the_same_key_joins_the_payment(
    merchant: Merchant, platform: Platform
) -> None:
    rest = merchant.rest
    fault(platform, merchant.razorpay, "delay", "/payments", delay_ms=3000)
    order = create(rest, currency="INR", amount=12_000)
    key = {"Idempotency-Key": f"pay-{order['id']}"}
    first: list[httpx.Response] = []
    paying = threading.Thread(target=lambda: first.append(pay(rest, order["id"], VISA, **key)))
    paying.start()
    eventually(lambda: rest.get(f"/v1/orders/{order['id']}").json()["status"] == "PROCESSING")
    platform.kill("order")
    paying.join()
    assert first[0].status_code >= 500  # the connection went away with the service
    platform.wait_ready("order")

    retried = eventually(lambda: (r := pay(rest, order["id"], VISA, **key)).status_code == 200 and r, seconds=60)
    assert (retried.json()["status"], retried.json()["processor"]) == ("SUCCEEDED", "razorpay"), retried.text
    assert [(t["processor"], t["status"]) for t in transactions(rest, order["id"])] == [("razorpay", "SUCCEEDED")]
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (12_000, 0)
    assert_reconciled(platform, merchant)


def test_an_order_stranded_in_processing_is_paid_by_the_sweep(merchant: Merchant, platform: Platform) -> None:
    """A crash between the order's move to PROCESSING and its workflow's start (made here by
    writing that state directly): no client call is needed to finish the payment."""
    rest = merchant.rest
    order = stranded_in_processing(platform, create(rest, currency="INR", amount=7_000))
    final = eventually(lambda: (o := rest.get(f"/v1/orders/{order['id']}").json())["status"] != "PROCESSING" and o)
    assert (final["status"], final["processor"]) == ("SUCCEEDED", "razorpay")
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (7_000, 0)
    assert_reconciled(platform, merchant)


def stranded_in_processing(platform: Platform, order: dict[str, Any]) -> dict[str, Any]:
    """The order as a crash between its move to PROCESSING and its workflow's start leaves it."""
    with psycopg.connect(platform.database_libpq_url) as db:
        db.execute(
            """UPDATE orders.orders SET status = 'PROCESSING', attempt = 1, payment_method_type = 'card',
                   payment_method_token = 'pm_card_visa', updated_at = now() - interval '1 minute',
                   payment_candidates = '[{"processor": "razorpay", "reason": "default", "rule_id": ""}]'
               WHERE id = %s""",
            (order["id"],),
        )
    return order


def test_a_sweep_whose_worker_is_killed_holds_up_no_later_sweep(merchant: Merchant, platform: Platform) -> None:
    """The schedule skips a pass while the last one is open. A pass killed with its worker
    (here while it asks Stripe about an order in 3-D Secure) is given up on after its
    heartbeat timeout, so the next passes still run: a stranded order is paid."""
    rest = merchant.rest
    waiting = create(rest, currency="USD", amount=4_400)
    assert pay(rest, waiting["id"], AUTHENTICATION_REQUIRED).json()["status"] == "REQUIRES_ACTION"
    assert platform.endpoints.stripe_fault_proxy_url
    faults = f"{platform.endpoints.stripe_fault_proxy_url}/_sandbox/faults"
    hold = {"mode": "delay", "delay_ms": 3000, "method": "GET", "path_contains": "/v1/payment_intents/pi_", "count": 1}
    assert httpx.post(faults, json=hold, timeout=10).status_code < 300
    eventually(lambda: not httpx.get(faults, timeout=10).json()["items"], seconds=30)  # a pass asks, held
    payment_workers = ("order", "order_worker")
    for name in payment_workers:
        platform.kill(name)
    for name in payment_workers:
        platform.wait_ready(name)

    order = stranded_in_processing(platform, create(rest, currency="INR", amount=7_000))
    final = eventually(lambda: (o := rest.get(f"/v1/orders/{order['id']}").json())["status"] != "PROCESSING" and o)
    assert (final["status"], final["processor"]) == ("SUCCEEDED", "razorpay")
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (7_000, 0)
    # The order in 3-D Secure is still cancelled at its expiry, as without the kill.
    lapsed = eventually(
        lambda: (o := rest.get(f"/v1/orders/{waiting['id']}").json())["status"] != "REQUIRES_ACTION" and o, seconds=90
    )
    assert lapsed["status"] == "CANCELLED"
    assert [intent["status"] for intent in stripe_intents(platform, waiting["id"])] == ["canceled"]
    assert_reconciled(platform, merchant)


def test_a_lost_3ds_webhook_is_made_up_for_by_asking_the_processor(merchant: Merchant, platform: Platform) -> None:
    rest = merchant.rest  # no webhook endpoint at the sandbox: the capture is never announced
    order = create(rest, currency="INR", amount=8_800)
    waiting = pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()
    assert waiting["status"] == "REQUIRES_ACTION"
    redirect = waiting["nextAction"]["redirectUrl"]
    httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
    final = eventually(lambda: (o := rest.get(f"/v1/orders/{order['id']}").json())["status"] == "SUCCEEDED" and o)
    assert final["amountCaptured"] == 8_800
    assert razorpay_books(platform, merchant.razorpay) == our_books(rest) == (8_800, 0)
    assert_reconciled(platform, merchant)


def test_an_order_waiting_for_3ds_past_its_expiry_is_cancelled_at_the_processor(
    merchant: Merchant, platform: Platform
) -> None:
    """REQUIRES_ACTION_EXPIRY_SECONDS is 30 in the tests."""
    rest = merchant.rest
    order = create(rest, currency="USD", amount=3_300)
    assert pay(rest, order["id"], AUTHENTICATION_REQUIRED).json()["status"] == "REQUIRES_ACTION"
    final = eventually(
        lambda: (o := rest.get(f"/v1/orders/{order['id']}").json())["status"] != "REQUIRES_ACTION" and o, seconds=90
    )
    assert final["status"] == "CANCELLED"
    [intent] = stripe_intents(platform, order["id"])
    assert intent["status"] == "canceled"
    assert_reconciled(platform, merchant)


def test_reconcile_reports_money_the_processor_holds_that_payloops_does_not(
    merchant: Merchant, platform: Platform
) -> None:
    order = paid(merchant.rest, currency="INR", amount=2_500)
    with psycopg.connect(platform.database_libpq_url) as db:  # books damaged behind PayLoops' back
        db.execute("UPDATE orders.orders SET amount_captured = 0 WHERE id = %s", (order["id"],))
        db.execute("UPDATE orders.transactions SET status = 'FAILED' WHERE order_id = %s", (order["id"],))
    code, report = reconcile(platform, merchant)
    assert code == 1
    results = {(f["objectType"], f["result"]) for f in report["findings"] if f["orderId"] == order["id"]}
    assert results == {("payment", "MISSING_AT_PAYLOOPS"), ("order", "MISMATCH")}
    assert (int(report["netOurs"]), int(report["netTheirs"])) == (0, 2_500)
