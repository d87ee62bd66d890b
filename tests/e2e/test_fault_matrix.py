"""The fault matrix: every money-moving operation {pay, capture, cancel, refund} at both
processors under each fault of a bad day, through the gateway. Each cell ends with the
order in its expected state, the merchant's books equal to the Razorpay sandbox's, and
`payloops reconcile` clean (for Stripe that is the books check: localstripe is shared).

Faults are injected at the processor's edge: the Razorpay sandbox's own fault switches,
and for Stripe a fault-injecting proxy in front of localstripe, with the same switches.
A cell that kills a process waits until the faulty request has reached the processor (its
fault rule is consumed), so the kill lands mid-call."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from launcher.platform import Platform
from tests.conftest import seed_merchant
from tests.e2e.flows import VISA, create, credentials, razorpay_account, razorpay_webhooks, sandbox, transactions
from tests.e2e.test_money_core import Merchant, assert_reconciled, eventually, our_books, razorpay_books

PROCESSORS = {"razorpay": "INR", "stripe": "USD"}
AMOUNT = 10_000
# The processor request each operation's money-moving call makes (method, path fragment).
CALLS = {
    ("razorpay", "pay"): ("POST", "/payments/create"),
    ("razorpay", "capture"): ("POST", "/capture"),
    ("razorpay", "cancel"): ("GET", "/v1/payments/pay_"),  # Razorpay has no void: it looks, then lets it lapse
    ("razorpay", "refund"): ("POST", "/refund"),
    ("stripe", "pay"): ("POST", "/confirm"),
    ("stripe", "capture"): ("POST", "/capture"),
    ("stripe", "cancel"): ("POST", "/cancel"),
    ("stripe", "refund"): ("POST", "/v1/refunds"),
}
# What each operation ends in, whatever the fault.
FINAL = {"pay": "SUCCEEDED", "capture": "SUCCEEDED", "cancel": "CANCELLED", "refund": "REFUNDED"}
SLOW_MS = 6000  # longer than PROCESSOR_TIMEOUT_SECONDS (4 s in the tests)
HOLD_MS = 3000  # long enough to kill something while the call is held


@dataclass(frozen=True)
class Fault:
    """A sandbox fault on the operation's call, and what else happens meanwhile."""

    mode: str
    delay_ms: int = 0
    # Components killed together once the call is held; "processor": the processor's service.
    kill: tuple[str, ...] = ()
    client_timeout: float = 0  # the client gives up after this long, then retries with the same key


FAULTS = {
    "client_timeout_then_retry": Fault("delay", HOLD_MS, client_timeout=0.5),
    "5xx_before_applying": Fault("http_500"),
    "applies_then_5xx": Fault("apply_then_500"),
    "slower_than_the_step_timeout": Fault("delay", SLOW_MS),
    "applies_then_times_out": Fault("timeout_after", SLOW_MS),
    "processor_service_killed": Fault("delay", HOLD_MS, kill=("processor",)),
    # The order service runs the steps it starts (eager start, local activities); the worker
    # process takes over what it cannot. Both die here: the step is finished after restart.
    "every_payment_worker_killed": Fault("delay", HOLD_MS, kill=("order", "order_worker")),
    "order_service_killed": Fault("delay", HOLD_MS, kill=("order",)),
}


@dataclass
class Cell:
    platform: Platform
    merchant: Merchant
    processor: str
    operation: str

    @property
    def rest(self) -> httpx.Client:
        return self.merchant.rest

    def fault_switch(self) -> str:
        url = (
            self.platform.razorpay_sandbox_url
            if self.processor == "razorpay"
            else self.platform.endpoints.stripe_fault_proxy_url
        )
        assert url
        return url + "/_sandbox/faults"

    def inject(self, fault: Fault) -> None:
        method, path = CALLS[(self.processor, self.operation)]
        spec: dict[str, Any] = {"mode": fault.mode, "method": method, "path_contains": path, "count": 1}
        if fault.delay_ms:
            spec["delay_ms"] = fault.delay_ms
        if self.processor == "razorpay":
            spec["account"] = self.merchant.razorpay
        answer = httpx.post(self.fault_switch(), json=spec, timeout=10)
        assert answer.status_code < 300, answer.text

    def fault_pending(self) -> bool:
        return bool(httpx.get(self.fault_switch(), timeout=10).json()["items"])

    def prepare(self) -> str:
        """An order ready for the operation; its id."""
        currency = PROCESSORS[self.processor]
        manual = self.operation in ("capture", "cancel")
        order = create(self.rest, currency=currency, amount=AMOUNT, **({"captureMethod": "MANUAL"} if manual else {}))
        if self.operation != "pay":
            paid = self.rest.post(f"/v1/orders/{order['id']}/pay", json={"paymentMethod": VISA}).json()
            assert paid["status"] == ("AUTHORIZED" if manual else "SUCCEEDED"), paid
        return str(order["id"])

    def call(self, order_id: str, key: str, timeout: float = 30) -> httpx.Response:
        path = f"/v1/orders/{order_id}/{self.operation}"
        body: dict[str, Any] = {"paymentMethod": VISA} if self.operation == "pay" else {}
        return self.rest.post(path, json=body, headers={"Idempotency-Key": key}, timeout=timeout)

    def settled(self, order_id: str) -> dict[str, Any]:
        final = FINAL[self.operation]
        order: dict[str, Any] = eventually(
            lambda: (o := self.rest.get(f"/v1/orders/{order_id}").json())["status"] == final and o, seconds=120
        )
        return order


@pytest.fixture(scope="module")
def merchant(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Merchant]:
    """One merchant for the whole matrix: its Razorpay books are checked after every cell."""
    seeded = seed_merchant(platform, tmp_path_factory.mktemp("matrix") / "key.json")
    headers = {"X-API-Key": seeded["api_key"]}
    with httpx.Client(base_url=platform.gateway_url, headers=headers, timeout=30) as rest:
        yield Merchant(seeded["merchant_id"], rest, razorpay_account(platform, seeded["merchant_id"]))


def run_with(fault: Fault, cell: Cell, order_id: str, key: str) -> None:
    """The operation under the fault, retried with the same key the way a client would."""
    if fault.client_timeout:
        with pytest.raises(httpx.TimeoutException):
            cell.call(order_id, key, timeout=fault.client_timeout)
        return
    if not fault.kill:
        answer = cell.call(order_id, key)
        assert answer.status_code in (200, 409), answer.text
        return
    answers: list[httpx.Response | BaseException] = []

    def call() -> None:
        try:
            answers.append(cell.call(order_id, key))
        except httpx.HTTPError as error:
            answers.append(error)

    calling = threading.Thread(target=call)
    calling.start()
    eventually(lambda: not cell.fault_pending(), seconds=30)  # the call is at the processor, held
    victims = [f"processor_{cell.processor}" if name == "processor" else name for name in fault.kill]
    for victim in victims:
        cell.platform.kill(victim)
    calling.join()
    for victim in victims:
        cell.platform.wait_ready(victim)


def retry_until_answered(cell: Cell, order_id: str, key: str) -> httpx.Response:
    """The same request again until it is answered (409 while the first is still running)."""
    answer: httpx.Response = eventually(lambda: (r := cell.call(order_id, key)).status_code == 200 and r, seconds=120)
    return answer


def check_books(cell: Cell, order_id: str) -> None:
    charges = [t for t in transactions(cell.rest, order_id) if t["type"] in ("CHARGE", "AUTHORIZE")]
    assert [(c["processor"], c["status"]) for c in charges] == [(cell.processor, "SUCCEEDED")], charges
    if cell.operation == "refund":
        [refund] = [t for t in transactions(cell.rest, order_id) if t["type"] == "REFUND"]
        assert (refund["status"], refund["amount"]) == ("SUCCEEDED", AMOUNT)
    captured, refunded = razorpay_books(cell.platform, cell.merchant.razorpay)
    ours = our_books(cell.rest)
    razorpay_orders = cell.rest.get("/v1/orders", params={"pageSize": 100}).json()["orders"]
    ours_at_razorpay = (
        sum(o.get("amountCaptured", 0) for o in razorpay_orders if o.get("processor") == "razorpay"),
        sum(o.get("amountRefunded", 0) for o in razorpay_orders if o.get("processor") == "razorpay"),
    )
    assert (captured, refunded) == ours_at_razorpay, ours
    assert_reconciled(cell.platform, cell.merchant)


@pytest.mark.parametrize("fault_name", sorted(FAULTS))
@pytest.mark.parametrize("operation", ["pay", "capture", "cancel", "refund"])
@pytest.mark.parametrize("processor", sorted(PROCESSORS))
def test_fault_matrix(
    processor: str, operation: str, fault_name: str, platform: Platform, merchant: Merchant, tmp_path: Path
) -> None:
    cell = Cell(platform, merchant, processor, operation)
    fault = FAULTS[fault_name]
    order_id = cell.prepare()
    key = f"{operation}-{order_id}"
    cell.inject(fault)
    began = time.monotonic()
    run_with(fault, cell, order_id, key)
    retried = retry_until_answered(cell, order_id, key)
    final = cell.settled(order_id)
    if operation == "refund":
        assert retried.json()["amount"] == AMOUNT
    else:
        assert retried.json()["id"] == order_id
    assert final["processor"] == processor
    expected_captured = 0 if operation == "cancel" else AMOUNT
    assert (final.get("amountCaptured", 0), final.get("amountRefunded", 0)) == (
        expected_captured,
        AMOUNT if operation == "refund" else 0,
    )
    check_books(cell, order_id)
    print(f"{processor} {operation} {fault_name}: settled in {time.monotonic() - began:.1f} s")


# -- webhooks: before the API answer, duplicated, out of order

WEBHOOK_EVENTS = {
    "razorpay": ["payment.authorized", "payment.captured", "refund.processed"],
    "stripe": ["payment_intent.succeeded"],
}


@contextmanager
def processor_webhooks(cell: Cell) -> Iterator[None]:
    """The processor's sandbox sends its events to the merchant's webhook endpoint meanwhile."""
    platform, merchant = cell.platform, cell.merchant
    if cell.processor == "razorpay":
        with razorpay_webhooks(platform, merchant.id, *WEBHOOK_EVENTS["razorpay"]):
            yield
        return
    secret = credentials(platform, merchant.id, "stripe")["webhookSecret"]
    config = f"{platform.localstripe_url}/_config/webhooks/payloops-matrix-{merchant.id}"
    target = {"url": f"{platform.gateway_url}/webhooks/stripe/{merchant.id}", "secret": secret}
    assert httpx.post(config, json={**target, "events": WEBHOOK_EVENTS["stripe"]}).status_code == 200
    try:
        yield
    finally:  # localstripe cannot forget a webhook: leave it subscribed to nothing
        httpx.post(config, json={**target, "events": []})


def processor_events(platform: Platform, order_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(platform.database_libpq_url) as db:
        rows = db.execute(
            "SELECT event_type, outcome FROM webhook.processor_events WHERE order_id = %s ORDER BY received_at",
            (order_id,),
        ).fetchall()
    return [(str(kind), str(outcome)) for kind, outcome in rows]


@pytest.mark.parametrize(
    ("processor", "operation"),
    [("razorpay", "pay"), ("razorpay", "capture"), ("razorpay", "refund"), ("stripe", "pay"), ("stripe", "capture")],
)
def test_a_webhook_arriving_before_the_api_answer(
    processor: str, operation: str, platform: Platform, merchant: Merchant
) -> None:
    cell = Cell(platform, merchant, processor, operation)
    with processor_webhooks(cell):
        order_id = cell.prepare()
        cell.inject(Fault("timeout_after", HOLD_MS))  # applied (and announced) at once, answered late
        answer = cell.call(order_id, f"{operation}-{order_id}")
        assert answer.status_code == 200, answer.text
        cell.settled(order_id)
        eventually(lambda: any(outcome for _, outcome in processor_events(platform, order_id)))
    check_books(cell, order_id)


def test_an_authorization_announced_first_does_not_hold_back_an_automatic_capture(
    platform: Platform, merchant: Merchant
) -> None:
    """Razorpay announces payment.authorized while its answer to the capturing payment is
    held: the order is AUTHORIZED by the event first, then the payment's own captured
    result must complete it. (It stayed AUTHORIZED, captured money and all, when only an
    order still PROCESSING could be moved by the payment; a CI run caught it.)"""
    cell = Cell(platform, merchant, "razorpay", "pay")
    with razorpay_webhooks(platform, merchant.id, "payment.authorized"):
        order_id = cell.prepare()
        cell.inject(Fault("timeout_after", HOLD_MS))
        assert cell.call(order_id, f"pay-{order_id}").status_code == 200
        eventually(lambda: ("payment.authorized", "applied") in processor_events(platform, order_id))
    order = cell.settled(order_id)
    assert (order["status"], order["amountCaptured"]) == ("SUCCEEDED", AMOUNT)
    check_books(cell, order_id)


def payment_of(event: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = event["body"]["payload"].get("payment", {}).get("entity", {})
    return entity


def test_razorpay_webhooks_duplicated_and_out_of_order_change_nothing(platform: Platform, merchant: Merchant) -> None:
    cell = Cell(platform, merchant, "razorpay", "pay")
    with processor_webhooks(cell):
        order_id = cell.prepare()
        assert cell.call(order_id, f"pay-{order_id}").json()["status"] == "SUCCEEDED"
        recorded = eventually(
            lambda: len(processor_events(platform, order_id)) >= 2 and processor_events(platform, order_id)
        )
    account, secret = merchant.razorpay, credentials(platform, merchant.id, "razorpay")["webhookSecret"]
    sent = sandbox(platform, "GET", f"/_sandbox/events?account={account}")["items"]
    mine = [e for e in sent if payment_of(e).get("notes", {}).get("payloops_order_id") == order_id]
    captured = [e for e in mine if e["body"]["event"] == "payment.captured"][-1]
    authorized = [e for e in mine if e["body"]["event"] == "payment.authorized"][-1]
    for event in [captured, captured, authorized, captured]:  # again, and the older one last
        body = json.dumps(event["body"]).encode()
        signature = str(
            sandbox(platform, "POST", "/_sandbox/webhooks/sign", secret=secret, body=body.decode())["signature"]
        )
        posted = httpx.post(
            f"{platform.gateway_url}/webhooks/razorpay/{merchant.id}",
            content=body,
            headers={"Content-Type": "application/json", "X-Razorpay-Signature": signature},
            timeout=30,
        )
        assert posted.status_code == 200, posted.text
    assert len(processor_events(platform, order_id)) == len(recorded)  # each event recorded once
    order = merchant.rest.get(f"/v1/orders/{order_id}").json()
    assert (order["status"], order["amountCaptured"]) == ("SUCCEEDED", AMOUNT)
    check_books(cell, order_id)
