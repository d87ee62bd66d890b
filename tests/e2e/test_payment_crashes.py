"""A payment survives its worker dying: killed mid-call, or right after the processor
accepted the charge, the restarted worker completes it with exactly one charge."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from launcher.platform import Platform
from tests.e2e.flows import create, pay, razorpay_account, sandbox, sandbox_counts, transactions, wait_for_status


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
    time.sleep(1.5)
    platform.restart("order_worker", crash=True)
    paying.join()

    final = wait_for_status(rest, order["id"])
    assert (final["status"], final["processor"]) == ("SUCCEEDED", "razorpay")
    assert sandbox_counts(platform, account) == (orders_before + 1, captured_before + 1)
    [charge] = transactions(rest, order["id"])
    assert (charge["status"], charge["processor"]) == ("SUCCEEDED", "razorpay")
