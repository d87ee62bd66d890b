"""A payment survives its workers dying: the order service (which runs the payments it
starts) and the worker process both killed mid-call, or right after the processor accepted
the charge; once restarted, they complete it with exactly one charge."""

from __future__ import annotations

import threading

import httpx
import pytest

from launcher.platform import Platform
from tests.e2e.flows import create, pay, razorpay_account, sandbox, sandbox_counts, transactions, wait_for_status
from tests.e2e.test_money_core import eventually


@pytest.mark.parametrize("fault", ["delay", "timeout_after"])
def test_worker_killed_mid_payment_charges_once(
    fault: str, rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    account = razorpay_account(platform, merchant_a["merchant_id"])
    orders_before, captured_before = sandbox_counts(platform, account)
    # The sandbox holds the payment call for 4 s: "delay" answers after applying it late,
    # "timeout_after" applies it at once and answers late.
    sandbox(platform, "POST", "/_sandbox/faults", account=account, mode=fault, path_contains="/payments", delay_ms=4000)
    order = create(rest, currency="INR", amount=12_345)
    paying = threading.Thread(target=pay, args=(rest, order["id"]))
    paying.start()
    # The call is held at the sandbox once its fault rule is consumed.
    eventually(lambda: not sandbox(platform, "GET", "/_sandbox/faults")["items"], seconds=30)
    for worker in ("order", "order_worker"):
        platform.kill(worker)
    paying.join()
    for worker in ("order", "order_worker"):
        platform.wait_ready(worker)

    final = wait_for_status(rest, order["id"])
    assert (final["status"], final["processor"]) == ("SUCCEEDED", "razorpay")
    assert sandbox_counts(platform, account) == (orders_before + 1, captured_before + 1)
    [charge] = transactions(rest, order["id"])
    assert (charge["status"], charge["processor"]) == ("SUCCEEDED", "razorpay")
