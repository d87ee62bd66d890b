"""The Stripe fault proxy as a real subprocess in front of a real localstripe, driven through
the official ``stripe`` SDK and plain HTTP."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
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
import stripe

from launcher.ports import LOOPBACK, free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    proxy: str
    localstripe: str
    proxy_log: Path

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.proxy + path, timeout=5, **kwargs)
        response.raise_for_status()
        return response.json()

    def fault(self, **spec: Any) -> dict[str, Any]:
        rule: dict[str, Any] = self.control("POST", "/_sandbox/faults", json=spec)
        return rule


def new_key() -> str:
    return f"sk_test_{uuid.uuid4().hex[:16]}"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def client(base: str, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key=key, base_addresses={"api": base}, max_network_retries=0)


def create_intent(base: str, key: str, marker: str) -> Any:
    params: Any = {"amount": 2000, "currency": "usd", "metadata": {"marker": marker}}
    return client(base, key).v1.payment_intents.create(params)


def intents_marked(stack: Stack, key: str, marker: str) -> list[dict[str, Any]]:
    """The PaymentIntents localstripe itself holds with this marker (read around the proxy)."""
    page = httpx.get(f"{stack.localstripe}/v1/payment_intents", params={"limit": 100}, headers=auth(key)).json()
    return [intent for intent in page["data"] if intent["metadata"].get("marker") == marker]


def _start(name: str, argv: list[str], ready_url: str, log_dir: Path) -> subprocess.Popen[bytes]:
    log_path = log_dir / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            httpx.get(ready_url, timeout=0.5)  # any answer: it is up
            return process
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not become ready:\n{log_path.read_text()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("fault-proxy")
    localstripe_port, proxy_port = free_port(), free_port()
    localstripe_url, proxy_url = f"http://{LOOPBACK}:{localstripe_port}", f"http://{LOOPBACK}:{proxy_port}"
    localstripe = _start(
        "localstripe",
        [sys.executable, "-m", "launcher.localstripe_server", "--host", LOOPBACK, "--port", str(localstripe_port)],
        localstripe_url,
        log_dir,
    )
    try:
        argv = [sys.executable, "-m", "sandboxes.faultproxy", "--host", LOOPBACK, "--port", str(proxy_port)]
        proxy = _start("proxy", [*argv, "--upstream", localstripe_url], proxy_url + "/healthz", log_dir)
        try:
            yield Stack(proxy_url, localstripe_url, log_dir / "proxy.log")
        finally:
            returncode = _stop(proxy)
        assert returncode == 0, f"the proxy did not exit cleanly on SIGTERM:\n{(log_dir / 'proxy.log').read_text()}"
    finally:
        _stop(localstripe)


def test_requests_are_forwarded_unchanged(stack: Stack) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    assert stack.control("GET", "/healthz")["status"] == "ok"
    intent = create_intent(stack.proxy, key, marker)
    assert (intent.amount, intent.currency, intent.status) == (2000, "usd", "requires_payment_method")
    assert [found["id"] for found in intents_marked(stack, key, marker)] == [intent.id]

    # the same answer, byte for byte, through the proxy and directly: success, query string, error
    for path in (f"/v1/payment_intents/{intent.id}", "/v1/payment_intents?limit=1", "/v1/payment_intents/pi_none"):
        proxied = httpx.get(stack.proxy + path, headers=auth(key))
        direct = httpx.get(stack.localstripe + path, headers=auth(key))
        assert (proxied.status_code, proxied.content) == (direct.status_code, direct.content), path
        assert proxied.headers["content-type"] == direct.headers["content-type"]
    # the headers (here: no API key) reach localstripe as they are
    assert httpx.get(f"{stack.proxy}/v1/payment_intents/{intent.id}").status_code == 401


@pytest.mark.parametrize("mode, status", [("http_500", 500), ("http_502", 502), ("http_503", 503)])
def test_http_errors_do_not_reach_localstripe(stack: Stack, mode: str, status: int) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    stack.fault(account=key, path_contains="/v1/payment_intents", method="POST", mode=mode)
    with pytest.raises(stripe.APIError) as failure:
        create_intent(stack.proxy, key, marker)
    assert failure.value.http_status == status
    assert failure.value.error is not None and failure.value.error.type == "api_error"
    assert intents_marked(stack, key, marker) == []
    create_intent(stack.proxy, key, marker)  # the fault was consumed
    assert len(intents_marked(stack, key, marker)) == 1


def test_timeout_before_waits_then_answers_503_without_forwarding(stack: Stack) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    stack.fault(account=key, path_contains="/v1/payment_intents", mode="timeout_before", delay_ms=300)
    started = time.monotonic()
    with pytest.raises(stripe.APIError) as failure:
        create_intent(stack.proxy, key, marker)
    assert time.monotonic() - started >= 0.3
    assert failure.value.http_status == 503
    assert intents_marked(stack, key, marker) == []


def test_apply_then_500_creates_the_intent_and_answers_500(stack: Stack) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    stack.fault(account=key, path_contains="/v1/payment_intents", method="POST", mode="apply_then_500")
    with pytest.raises(stripe.APIError) as failure:
        create_intent(stack.proxy, key, marker)
    assert failure.value.http_status == 500
    created = intents_marked(stack, key, marker)
    assert len(created) == 1 and created[0]["amount"] == 2000


async def test_timeout_after_answers_late_after_applying(stack: Stack) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    stack.fault(account=key, path_contains="/v1/payment_intents", mode="timeout_after", delay_ms=800)
    body = {"amount": "2000", "currency": "usd", "metadata[marker]": marker}
    async with httpx.AsyncClient(headers=auth(key), timeout=5) as http:
        started = time.monotonic()
        answer = asyncio.create_task(http.post(f"{stack.proxy}/v1/payment_intents", data=body))
        await asyncio.sleep(0.4)
        assert not answer.done()
        # applied at localstripe while the proxy still holds the answer back
        assert len(await asyncio.to_thread(intents_marked, stack, key, marker)) == 1
        response = await answer
    assert time.monotonic() - started >= 0.8
    assert response.status_code == 200 and response.json()["metadata"] == {"marker": marker}

    # a client that gives up first sees a timeout, yet the intent exists
    stack.fault(account=key, path_contains="/v1/payment_intents", mode="timeout_after", delay_ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{stack.proxy}/v1/payment_intents", data=body, headers=auth(key), timeout=0.4)
    assert len(intents_marked(stack, key, marker)) == 2


def test_delay_forwards_normally_after_waiting(stack: Stack) -> None:
    key = new_key()
    stack.fault(account=key, method="GET", mode="delay", delay_ms=300)
    started = time.monotonic()
    response = httpx.get(f"{stack.proxy}/v1/payment_intents", params={"limit": 1}, headers=auth(key))
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["object"] == "list"


def test_counts_accounts_and_clearing(stack: Stack) -> None:
    key, other = new_key(), new_key()
    url = f"{stack.proxy}/v1/payment_intents"

    def status(api_key: str) -> int:
        return httpx.get(url, headers=auth(api_key)).status_code

    rule = stack.fault(account=key, path_contains="/payment_intents", mode="http_503", count=2)
    assert (rule["remaining"], rule["method"]) == (2, None)
    assert status(other) == 200  # another API key's requests are not touched
    assert [status(key), status(key), status(key)] == [503, 503, 200]

    # -1: until cleared; the Basic auth form of the key is the same account
    stack.fault(account=key, mode="http_500", count=-1)
    stack.fault(account=other, mode="http_500", count=-1)
    assert status(key) == 500 and status(key) == 500
    assert httpx.get(url, auth=(key, "")).status_code == 500
    listed = stack.control("GET", "/_sandbox/faults")
    assert sorted(rule["account"] for rule in listed["items"]) == sorted([key, other])
    assert listed["count"] == 2 and listed["items"][0]["remaining"] == -1
    assert stack.control("DELETE", "/_sandbox/faults", params={"account": key}) == {"cleared": 1}
    assert status(key) == 200 and status(other) == 500
    assert stack.control("DELETE", "/_sandbox/faults") == {"cleared": 1}
    assert status(other) == 200
    assert stack.control("GET", "/_sandbox/faults")["items"] == []
    # the accounts are secret API keys: logged masked only
    log = stack.proxy_log.read_text()
    assert f"{key[:8]}…{key[-4:]}" in log and key not in log and other not in log


def test_bad_fault_specs_are_refused(stack: Stack) -> None:
    for spec, param in [
        ({"mode": "refund_pending"}, "mode"),  # the Razorpay sandbox's alone
        ({"mode": "http_500", "count": 0}, "count"),
        ({"mode": "delay", "delay_ms": "soon"}, "delay_ms"),
        ({"mode": "http_500", "account": 42}, "account"),
    ]:
        response = httpx.post(f"{stack.proxy}/_sandbox/faults", json=spec)
        assert response.status_code == 400, spec
        error = response.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert httpx.post(f"{stack.proxy}/_sandbox/faults", content=b"[]").status_code == 400
    assert stack.control("GET", "/_sandbox/faults")["items"] == []


def test_idempotency_keys_are_kept_as_stripe_keeps_them(stack: Stack) -> None:
    key, marker = new_key(), uuid.uuid4().hex
    body = {"amount": "2000", "currency": "usd", "metadata[marker]": marker}
    headers = {**auth(key), "Idempotency-Key": f"create-{marker}"}
    url = f"{stack.proxy}/v1/payment_intents"
    first = httpx.post(url, data=body, headers=headers, timeout=10)
    again = httpx.post(url, data=body, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(intents_marked(stack, key, marker)) == 1  # localstripe saw one create
    other = httpx.post(url, data={**body, "amount": "2001"}, headers=headers, timeout=10)
    assert (other.status_code, other.json()["error"]["type"]) == (400, "idempotency_error")

    # A 500 before the request reached Stripe saves nothing: the retry goes through.
    stack.fault(mode="http_500", path_contains="/v1/payment_intents", method="POST", account=key)
    retried_key = {**headers, "Idempotency-Key": f"retry-{marker}"}
    assert httpx.post(url, data=body, headers=retried_key, timeout=10).status_code == 500
    assert httpx.post(url, data=body, headers=retried_key, timeout=10).status_code == 200

    # A request still in flight: the same key meanwhile is 409.
    stack.fault(mode="delay", delay_ms=1500, path_contains="/v1/payment_intents", method="POST", account=key)
    held_key = {**headers, "Idempotency-Key": f"held-{marker}"}
    with httpx.Client(timeout=10) as slow, httpx.Client(timeout=10) as fast:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            held = pool.submit(slow.post, url, data=body, headers=held_key)
            while stack.control("GET", "/_sandbox/faults")["items"]:  # until the held request took the fault
                time.sleep(0.02)
            assert fast.post(url, data=body, headers=held_key).status_code == 409
            assert held.result().status_code == 200
