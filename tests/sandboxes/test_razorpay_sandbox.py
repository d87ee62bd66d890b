"""The Razorpay sandbox as a real subprocess, driven through the official ``razorpay`` SDK."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import razorpay
import requests
from aiohttp import web
from razorpay.errors import BadRequestError, GatewayError, ServerError

REPO = Path(__file__).resolve().parents[2]
SECRET = "sandbox_secret"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sandbox:
    url: str

    def client(self, key_id: str | None = None) -> razorpay.Client:
        return razorpay.Client(auth=(key_id or new_key(), SECRET), base_url=self.url)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.url + path, timeout=5, **kwargs)
        response.raise_for_status()
        return response.json()


def new_key() -> str:
    return f"rzp_test_{uuid.uuid4().hex[:14]}"


def key_of(client: razorpay.Client) -> str:
    key: str = client.auth[0]
    return key


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("razorpay-sandbox") / "sandbox.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "sandboxes.razorpay", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--webhook-backoff-ms", "100", "--webhook-timeout-ms", "2000"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not become ready:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield Sandbox(url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert returncode == 0, f"sandbox did not exit cleanly on SIGTERM:\n{log_path.read_text()}"


def create_order(client: razorpay.Client, amount: int = 5000, **extra: Any) -> dict[str, Any]:
    order: dict[str, Any] = client.order.create({"amount": amount, "currency": "INR", "receipt": "rcpt-1", **extra})
    return order


def pay(client: razorpay.Client, order: dict[str, Any], token: str = "token_success", **kwargs: Any) -> Any:
    body = {
        "order_id": order["id"],
        "amount": order["amount"],
        "currency": order["currency"],
        "email": "buyer@example.com",
        "contact": "+919000090000",
        "customer_id": "cust_sandbox0001",
        "token": token,
        "recurring": "1",
    }
    return client.payment.createRecurring(body, **kwargs)


def test_successful_payment_is_captured_and_pays_the_order(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client, notes={"cart": "42"})
    assert order["id"].startswith("order_") and len(order["id"]) == len("order_") + 14
    assert (order["entity"], order["status"], order["amount_due"], order["notes"]) == (
        "order",
        "created",
        5000,
        {"cart": "42"},
    )

    answer = pay(client, order)
    assert answer["razorpay_order_id"] == order["id"]
    assert client.utility.verify_payment_signature(answer)

    payment = client.payment.fetch(answer["razorpay_payment_id"])
    assert payment["status"] == "captured" and payment["captured"] is True
    assert (payment["amount"], payment["order_id"], payment["token_id"]) == (5000, order["id"], "token_success")
    assert payment["refund_status"] is None and payment["error_code"] is None

    order = client.order.fetch(order["id"])
    assert (order["status"], order["amount_paid"], order["amount_due"], order["attempts"]) == ("paid", 5000, 0, 1)
    payments = client.order.payments(order["id"])
    assert payments["entity"] == "collection" and payments["count"] == 1
    assert payments["items"][0]["id"] == payment["id"]

    stats = sandbox.control("GET", "/_sandbox/stats", params={"account": key_of(client)})
    assert stats["orders"] == {"total": 1, "paid": 1}
    assert stats["payments"] == {"total": 1, "captured": 1}


def test_second_payment_on_a_paid_order_is_refused(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client)
    pay(client, order)
    with pytest.raises(BadRequestError, match="Order has been already paid"):
        pay(client, order)
    with pytest.raises(BadRequestError, match="Order has been already paid"):
        client.payment.createPaymentJson({"order_id": order["id"], "amount": 5000, "token": "token_success"})
    assert client.order.payments(order["id"])["count"] == 1


def test_manual_capture(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client, payment_capture=0)
    payment_id = pay(client, order)["razorpay_payment_id"]
    assert client.payment.fetch(payment_id)["status"] == "authorized"
    assert client.order.fetch(order["id"])["status"] == "attempted"
    # an authorized order takes no second payment either
    with pytest.raises(BadRequestError, match="already paid"):
        pay(client, order)
    with pytest.raises(BadRequestError, match="equal to the amount authorized"):
        client.payment.capture(payment_id, 4000, {"currency": "INR"})
    with pytest.raises(BadRequestError, match="currency field is required"):
        client.payment.capture(payment_id, 5000, {})

    captured = client.payment.capture(payment_id, 5000, {"currency": "INR"})
    assert captured["status"] == "captured" and captured["captured"] is True
    assert client.order.fetch(order["id"])["status"] == "paid"
    with pytest.raises(BadRequestError, match="This payment has already been captured"):
        client.payment.capture(payment_id, 5000, {"currency": "INR"})


def test_decline_records_a_failed_payment_with_the_decline_reason(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client)
    with pytest.raises(BadRequestError, match="insufficient account balance"):
        pay(client, order, "token_decline_insufficient_funds")

    # the raw answer carries Razorpay's full error body
    response = httpx.post(
        f"{sandbox.url}/v1/payments/create/recurring",
        json={"order_id": order["id"], "amount": 5000, "currency": "INR", "token": "token_decline"},
        auth=(key_of(client), SECRET),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "description", "source", "step", "reason", "metadata", "field"}
    assert (error["code"], error["reason"], error["step"]) == (
        "BAD_REQUEST_ERROR",
        "card_declined",
        "payment_authorization",
    )
    assert error["metadata"]["order_id"] == order["id"]
    declined = client.payment.fetch(error["metadata"]["payment_id"])
    assert (declined["status"], declined["error_reason"]) == ("failed", "card_declined")

    payments = client.order.payments(order["id"])["items"]
    assert [p["status"] for p in payments] == ["failed", "failed"]
    assert payments[1]["error_code"] == "BAD_REQUEST_ERROR"
    assert payments[1]["error_reason"] == "insufficient_funds"
    assert payments[1]["error_description"]
    order = client.order.fetch(order["id"])
    assert (order["status"], order["attempts"]) == ("attempted", 2)

    # a failed attempt leaves the order payable
    pay(client, order)
    assert client.order.fetch(order["id"])["status"] == "paid"

    with pytest.raises(GatewayError):
        pay(client, create_order(client), "token_gateway_error")


def test_action_required_then_completed(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client)
    answer = client.payment.createPaymentJson(
        {
            "order_id": order["id"],
            "amount": 5000,
            "currency": "INR",
            "email": "buyer@example.com",
            "contact": "9000090000",
            "token": "token_action_required",
            "callback_url": "https://merchant.example/return",
        }
    )
    payment_id = answer["razorpay_payment_id"]
    assert answer["next"][0]["action"] == "redirect"
    page = httpx.get(answer["next"][0]["url"])
    assert page.status_code == 200 and payment_id in page.text
    assert client.payment.fetch(payment_id)["status"] == "created"
    assert client.order.fetch(order["id"])["status"] == "attempted"

    completed = sandbox.control("POST", f"/_sandbox/payments/{payment_id}/complete", json={"outcome": "success"})
    assert completed["status"] == "captured"
    assert client.order.fetch(order["id"])["status"] == "paid"
    with pytest.raises(BadRequestError, match="already paid"):
        pay(client, order)

    # a failed authentication, completed the way the browser page does it (form post + redirect)
    order = create_order(client)
    answer = client.payment.createPaymentJson(
        {
            "order_id": order["id"],
            "amount": 5000,
            "token": "token_action_required",
            "callback_url": "https://m.example/r",
        }
    )
    redirect = httpx.post(
        f"{sandbox.url}/_sandbox/payments/{answer['razorpay_payment_id']}/complete", data={"outcome": "failure"}
    )
    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith("https://m.example/r?")
    assert "authentication_failed" in redirect.headers["location"]
    failed = client.payment.fetch(answer["razorpay_payment_id"])
    assert (failed["status"], failed["error_reason"]) == ("failed", "authentication_failed")


@pytest.mark.parametrize(
    ("token", "answered"),
    [
        ("token_decline_authentication_required", "redirect"),
        ("token_success", "redirect"),
        ("token_decline_insufficient_funds", "insufficient_funds"),
    ],
)
def test_3ds_requested_challenges_the_customer_unless_declined_otherwise(
    sandbox: Sandbox, token: str, answered: str
) -> None:
    client = sandbox.client()
    order = create_order(client)
    params = {"order_id": order["id"], "amount": 5000, "currency": "INR", "token": token}
    with pytest.raises(BadRequestError):
        client.payment.createPaymentJson({**params, "token": "token_decline_authentication_required"})
    try:
        answer = client.payment.createPaymentJson({**params, "auth_type": "3ds"})
    except BadRequestError:
        reason = client.order.payments(order["id"])["items"][0]["error_reason"]
        assert reason == answered
    else:
        assert answer["next"][0]["action"] == answered


def test_refund_idempotency(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payment_id = pay(client, create_order(client))["razorpay_payment_id"]
    headers = {"X-Refund-Idempotency": "refund-0001-abcdef"}
    first = client.payment.refund(payment_id, {"amount": 1000, "notes": {"why": "late"}}, headers=dict(headers))
    again = client.payment.refund(payment_id, {"amount": 1000, "notes": {"why": "late"}}, headers=dict(headers))
    assert first["id"].startswith("rfnd_") and again == first
    assert first["status"] == "processed"
    assert client.payment.fetch(payment_id)["amount_refunded"] == 1000
    assert client.payment.fetch_multiple_refund(payment_id)["count"] == 1

    with pytest.raises(BadRequestError, match="Different request body"):
        client.payment.refund(payment_id, {"amount": 2000}, headers=dict(headers))
    with pytest.raises(BadRequestError, match="X-Refund-Idempotency"):
        client.payment.refund(payment_id, {"amount": 100}, headers={"X-Refund-Idempotency": "short"})

    stats = sandbox.control("GET", "/_sandbox/stats", params={"account": key_of(client)})
    assert stats["refunds"] == {"total": 1, "processed": 1}
    assert client.refund.fetch(first["id"]) == first


async def test_refund_key_in_flight_answers_409(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payment_id = (await asyncio.to_thread(lambda: pay(client, create_order(client))))["razorpay_payment_id"]
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        json={"account": key_of(client), "path_contains": "/refund", "mode": "delay", "delay_ms": 600},
    )
    url = f"{sandbox.url}/v1/payments/{payment_id}/refund"
    headers = {"X-Refund-Idempotency": "inflight-key-0001"}
    async with httpx.AsyncClient(auth=(key_of(client), SECRET), timeout=5) as http:
        first = asyncio.create_task(http.post(url, json={"amount": 500}, headers=headers))
        await asyncio.sleep(0.2)
        second = await http.post(url, json={"amount": 500}, headers=headers)
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "BAD_REQUEST_ERROR"
        assert (await first).status_code == 200
        replay = await http.post(url, json={"amount": 500}, headers=headers)
    assert replay.status_code == 200 and replay.json()["id"] == (await first).json()["id"]
    refunds = await asyncio.to_thread(client.payment.fetch_multiple_refund, payment_id)
    assert refunds["count"] == 1


def test_refunds_never_exceed_the_captured_amount(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payment_id = pay(client, create_order(client))["razorpay_payment_id"]
    with pytest.raises(BadRequestError, match="greater than amount captured"):
        client.payment.refund(payment_id, {"amount": 5001})
    client.payment.refund(payment_id, {"amount": 3000})
    with pytest.raises(BadRequestError, match="greater than amount captured"):
        client.payment.refund(payment_id, {"amount": 2500})
    last = client.payment.refund(payment_id, {})  # no amount: the refundable remainder
    assert last["amount"] == 2000
    payment = client.payment.fetch(payment_id)
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == ("refunded", 5000, "full")
    with pytest.raises(BadRequestError, match="fully refunded"):
        client.payment.refund(payment_id, {"amount": 100})

    # an uncaptured payment cannot be refunded
    authorized = pay(client, create_order(client, payment_capture=0))["razorpay_payment_id"]
    with pytest.raises(BadRequestError, match="not been captured"):
        client.payment.refund(authorized, {"amount": 100})


def test_pending_refund_settled_later(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payment_id = pay(client, create_order(client))["razorpay_payment_id"]
    pending = client.payment.refund(payment_id, {"amount": 1000}, headers={"X-Sandbox-Fault": "refund_pending"})
    assert pending["status"] == "pending"
    processed = sandbox.control("POST", f"/_sandbox/refunds/{pending['id']}/process", json={})
    assert processed["status"] == "processed"

    failing = client.payment.refund(payment_id, {"amount": 4000}, headers={"X-Sandbox-Fault": "refund_pending"})
    assert client.payment.fetch(payment_id)["refund_status"] == "full"
    sandbox.control("POST", f"/_sandbox/refunds/{failing['id']}/process", json={"outcome": "failed"})
    assert client.refund.fetch(failing["id"])["status"] == "failed"
    payment = client.payment.fetch(payment_id)
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == ("captured", 1000, "partial")


def test_server_faults(sandbox: Sandbox) -> None:
    client = sandbox.client()
    account = key_of(client)
    sandbox.control(
        "POST", "/_sandbox/faults", json={"account": account, "path_contains": "/orders", "mode": "http_503"}
    )
    with pytest.raises(ServerError):
        create_order(client)
    create_order(client)  # the fault was consumed

    # the per-request header form
    with pytest.raises(GatewayError):
        client.order.create({"amount": 5000, "currency": "INR"}, headers={"X-Sandbox-Fault": "http_502"})
    with pytest.raises(ServerError):
        client.order.create({"amount": 5000, "currency": "INR"}, headers={"X-Sandbox-Fault": "http_500"})

    sandbox.control(
        "POST",
        "/_sandbox/faults",
        json={
            "account": account,
            "path_contains": "/orders",
            "method": "POST",
            "mode": "timeout_before",
            "delay_ms": 200,
        },
    )
    started = time.monotonic()
    with pytest.raises(ServerError):
        create_order(client)
    assert time.monotonic() - started >= 0.2
    # nothing but the one good order was applied
    assert sandbox.control("GET", "/_sandbox/stats", params={"account": account})["orders"]["total"] == 1

    # a fault for another account does not touch this one; DELETE clears the queue
    sandbox.control("POST", "/_sandbox/faults", json={"account": new_key(), "mode": "http_500", "count": -1})
    create_order(client)
    assert sandbox.control("DELETE", "/_sandbox/faults")["cleared"] == 1

    # a bad spec is a validation error naming the field (the spec parsing is shared with the Stripe proxy)
    bad = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"mode": "refund_later"})
    assert bad.status_code == 400
    assert (bad.json()["error"]["code"], bad.json()["error"]["field"]) == ("BAD_REQUEST_ERROR", "mode")


def test_timeout_after_applies_the_payment(sandbox: Sandbox) -> None:
    client = sandbox.client()
    order = create_order(client)
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        json={
            "account": key_of(client),
            "path_contains": "/payments/create",
            "mode": "timeout_after",
            "delay_ms": 1500,
        },
    )
    with pytest.raises(requests.exceptions.Timeout):
        pay(client, order, timeout=0.4)  # the SDK passes extra keyword arguments on to requests
    payments = client.order.payments(order["id"])
    assert payments["count"] == 1 and payments["items"][0]["status"] == "captured"
    assert client.order.fetch(order["id"])["status"] == "paid"
    # a blind retry cannot charge twice
    with pytest.raises(BadRequestError, match="already paid"):
        pay(client, order)


def test_apply_then_500_applies_the_payment_and_the_refund(sandbox: Sandbox) -> None:
    client = sandbox.client()
    account = key_of(client)
    order = create_order(client)
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        json={"account": account, "path_contains": "/payments/create", "mode": "apply_then_500"},
    )
    with pytest.raises(ServerError):
        pay(client, order)
    payments = client.order.payments(order["id"])
    assert payments["count"] == 1 and payments["items"][0]["status"] == "captured"
    assert client.order.fetch(order["id"])["status"] == "paid"
    payment_id = payments["items"][0]["id"]

    sandbox.control(
        "POST", "/_sandbox/faults", json={"account": account, "path_contains": "/refund", "mode": "apply_then_500"}
    )
    response = httpx.post(
        f"{sandbox.url}/v1/payments/{payment_id}/refund", json={"amount": 1000}, auth=(account, SECRET)
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "SERVER_ERROR"
    refunds = client.payment.fetch_multiple_refund(payment_id)
    assert refunds["count"] == 1
    assert (refunds["items"][0]["status"], refunds["items"][0]["amount"]) == ("processed", 1000)
    assert client.payment.fetch(payment_id)["amount_refunded"] == 1000
    queued = sandbox.control("GET", "/_sandbox/faults")["items"]
    assert [rule for rule in queued if rule["account"] == account] == []  # both consumed


def test_accounts_are_isolated_and_authenticated(sandbox: Sandbox) -> None:
    alice, bob = sandbox.client(), sandbox.client()
    order = create_order(alice)
    payment_id = pay(alice, order)["razorpay_payment_id"]
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        bob.order.fetch(order["id"])
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        bob.payment.fetch(payment_id)
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        bob.payment.refund(payment_id, {"amount": 100})
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        pay(bob, order)
    response = httpx.get(f"{sandbox.url}/v1/payments/{payment_id}", auth=(key_of(bob), SECRET))
    assert response.status_code == 404
    assert response.json()["error"]["description"] == "The id provided does not exist"
    assert sandbox.control("GET", "/_sandbox/stats", params={"account": key_of(bob)})["orders"]["total"] == 0

    for auth in [("rzp_live_abcdef", SECRET), (key_of(alice), ""), None]:
        response = httpx.get(f"{sandbox.url}/v1/orders/{order['id']}", auth=auth)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    with pytest.raises(BadRequestError, match="api key provided is invalid"):
        razorpay.Client(auth=("rzp_live_abcdef", SECRET), base_url=sandbox.url).order.fetch(order["id"])


def test_validation_errors(sandbox: Sandbox) -> None:
    client = sandbox.client()
    for body, field in [
        ({"amount": 99, "currency": "INR"}, "amount"),
        ({"amount": 10.5, "currency": "INR"}, "amount"),
        ({"currency": "INR"}, "amount"),
        ({"amount": 5000, "currency": "inr"}, "currency"),
        ({"amount": 5000, "currency": "INR", "receipt": "r" * 41}, "receipt"),
    ]:
        response = httpx.post(f"{sandbox.url}/v1/orders", json=body, auth=(key_of(client), SECRET))
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert (error["code"], error["field"], error["reason"]) == (
            "BAD_REQUEST_ERROR",
            field,
            "input_validation_failed",
        )
    # duplicate receipts are allowed, like Razorpay: two orders
    assert create_order(client, receipt="dup")["id"] != create_order(client, receipt="dup")["id"]
    unknown_route = httpx.get(f"{sandbox.url}/v1/nothing-here", auth=(key_of(client), SECRET))
    assert unknown_route.status_code == 404 and "error" in unknown_route.json()


async def test_webhooks_are_signed_and_retried(sandbox: Sandbox) -> None:
    received: list[tuple[str, str, str]] = []
    arrived = asyncio.Event()
    failures_left = 1

    async def receive(request: web.Request) -> web.Response:
        nonlocal failures_left
        if failures_left:  # the first delivery fails: the sandbox must retry it
            failures_left -= 1
            return web.Response(status=500)
        received.append(
            (await request.text(), request.headers["X-Razorpay-Signature"], request.headers["X-Razorpay-Event-Id"])
        )
        if len(received) >= 3:
            arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        client = sandbox.client()
        secret = "whsec_sandbox_test"
        sandbox.control(
            "POST",
            "/_sandbox/webhooks",
            json={"account": key_of(client), "url": f"http://127.0.0.1:{port}/hook", "secret": secret},
        )
        order = await asyncio.to_thread(create_order, client)
        payment_id = (await asyncio.to_thread(pay, client, order))["razorpay_payment_id"]
        await asyncio.wait_for(arrived.wait(), timeout=5)
    finally:
        await runner.cleanup()

    verifier = razorpay.Utility()
    events = {}
    for body, signature, _ in received:
        assert verifier.verify_webhook_signature(body, signature, secret)
        event = httpx.Response(200, content=body).json()
        events[event["event"]] = event
    assert set(events) == {"payment.authorized", "payment.captured", "order.paid"}
    assert len({event_id for _, _, event_id in received}) == 3
    captured = events["payment.captured"]
    assert (captured["entity"], captured["contains"]) == ("event", ["payment"])
    assert captured["account_id"].startswith("acc_")
    assert captured["payload"]["payment"]["entity"]["id"] == payment_id
    assert captured["payload"]["payment"]["entity"]["status"] == "captured"
    assert events["order.paid"]["payload"]["order"]["entity"]["status"] == "paid"

    listed = sandbox.control("GET", "/_sandbox/events", params={"account": key_of(client)})
    assert [item["event"] for item in listed["items"]] == ["payment.authorized", "payment.captured", "order.paid"]
    assert all(item["deliveries"][0]["delivered"] for item in listed["items"])
    assert sum(item["deliveries"][0]["attempts"] for item in listed["items"]) == 4  # one retry

    body, signature, _ = received[0]
    signed = sandbox.control("POST", "/_sandbox/webhooks/sign", json={"secret": secret, "body": body})
    assert signed["signature"] == signature


async def test_create_app_in_process_delay_and_concurrent_payments() -> None:
    from aiohttp.test_utils import TestServer

    from sandboxes.razorpay import create_app

    server = TestServer(create_app(delay_ms=150), host="127.0.0.1")
    await server.start_server()
    try:
        base_url = str(server.make_url("")).rstrip("/")
        async with httpx.AsyncClient(base_url=base_url, auth=(new_key(), SECRET), timeout=5) as http:
            started = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            assert time.monotonic() - started < 0.15  # the delay is for /v1 only

            started = time.monotonic()
            order = (await http.post("/v1/orders", json={"amount": 1000, "currency": "INR"})).json()
            assert time.monotonic() - started >= 0.15
            started = time.monotonic()
            assert (await http.get("/v1/orders/order_doesnotexist00")).status_code == 404
            assert time.monotonic() - started >= 0.15

            # two payments racing on one order: exactly one charge
            body = {"order_id": order["id"], "amount": 1000, "currency": "INR", "token": "token_success"}
            answers = await asyncio.gather(*(http.post("/v1/payments/create/recurring", json=body) for _ in range(2)))
            assert sorted(a.status_code for a in answers) == [200, 400]
            refused = next(a for a in answers if a.status_code == 400)
            assert refused.json()["error"]["description"] == "Order has been already paid"
            stats = (await http.get(f"{base_url}/_sandbox/stats")).json()
            assert stats["payments"] == {"total": 1, "captured": 1}
    finally:
        await server.close()
