"""What the end-to-end tests do again and again: create and pay orders through the gateway,
wait for a final state, and look at the Razorpay sandbox's own books."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_internal_service_pb2_grpc

from launcher.platform import Platform
from tests.merchant.helpers import remember

VISA = {"type": "card", "token": "pm_card_visa"}
DECLINED = {"type": "card", "token": "pm_card_visa_chargeDeclined"}


def create(rest: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = rest.post("/v1/orders", json={"amount": 1999, "currency": "USD", **fields})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def pay(rest: httpx.Client, order_id: str, method: dict[str, str] = VISA, **headers: str) -> httpx.Response:
    return rest.post(f"/v1/orders/{order_id}/pay", json={"paymentMethod": method}, headers=headers)


def paid(rest: httpx.Client, method: dict[str, str] = VISA, **fields: Any) -> dict[str, Any]:
    order = create(rest, **fields)
    answer = pay(rest, order["id"], method)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def transactions(rest: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = rest.get(f"/v1/orders/{order_id}/transactions").json().get("transactions", [])
    return found


def credentials(platform: Platform, merchant_id: str, processor: str) -> dict[str, str]:
    """The merchant's processor credentials, read through the internal credentials RPC."""
    with platform.channel("merchant", as_identity=f"processor-{processor}") as channel:
        stub = merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channel)
        answer = stub.GetProcessorCredentials(
            merchant_internal_service_pb2.GetProcessorCredentialsRequest(merchant_id=merchant_id, processor=processor)
        )
    found = dict(answer.credentials)
    remember(*(value for name, value in found.items() if name != "keyId"))  # a key id is not a secret
    return found


def razorpay_account(platform: Platform, merchant_id: str) -> str:
    """The merchant's Razorpay key id."""
    return credentials(platform, merchant_id, "razorpay")["keyId"]


def sandbox(platform: Platform, verb: str, path: str, **body: Any) -> Any:
    assert platform.razorpay_sandbox_url
    answer = httpx.request(verb, platform.razorpay_sandbox_url + path, json=body or None, timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json()


def captured_at_razorpay(platform: Platform, account: str) -> int:
    stats = sandbox(platform, "GET", f"/_sandbox/stats?account={account}")
    return int(stats["payments"].get("captured", 0))


def sandbox_counts(platform: Platform, account: str) -> tuple[int, int]:
    stats = sandbox(platform, "GET", f"/_sandbox/stats?account={account}")
    return int(stats["orders"].get("total", sum(stats["orders"].values()))), int(stats["payments"].get("captured", 0))


def wait_for_status(rest: httpx.Client, order_id: str, seconds: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        order: dict[str, Any] = rest.get(f"/v1/orders/{order_id}").json()
        if order["status"] != "PROCESSING" or time.monotonic() > deadline:
            return order
        time.sleep(0.5)


def refund(rest: httpx.Client, order_id: str, **body: Any) -> httpx.Response:
    return rest.post(f"/v1/orders/{order_id}/refund", json=body)


def wait_for_refund(rest: httpx.Client, refund_id: str, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found: dict[str, Any] = rest.get(f"/v1/refunds/{refund_id}").json()
        if found["status"] != "PENDING" or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def reason(answer: httpx.Response) -> str:
    """The ErrorInfo reason of an AIP-193 error body."""
    details = answer.json().get("details", [])
    return next((str(d["reason"]) for d in details if d.get("@type", "").endswith("ErrorInfo")), "")


@contextmanager
def razorpay_webhooks(platform: Platform, merchant_id: str, *events: str) -> Iterator[tuple[str, str]]:
    """The Razorpay sandbox sends the merchant's `events` to the gateway while this lasts;
    yields the merchant's (Razorpay account, webhook secret)."""
    account = razorpay_account(platform, merchant_id)
    secret = credentials(platform, merchant_id, "razorpay")["webhookSecret"]
    url = f"{platform.gateway_url}/webhooks/razorpay/{merchant_id}"
    sandbox(platform, "POST", "/_sandbox/webhooks", account=account, url=url, secret=secret, events=list(events))
    try:
        yield account, secret
    finally:
        httpx.request("DELETE", f"{platform.razorpay_sandbox_url}/_sandbox/webhooks", params={"account": account})
