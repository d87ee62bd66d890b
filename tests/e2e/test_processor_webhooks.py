"""Inbound processor webhooks end to end: signed requests through Envoy to the webhook
service, verified by the processor services with the merchant's webhook secret, recorded
once per event id and applied to orders and refunds by the order service."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
import psycopg

from launcher.platform import Platform
from tests.e2e.flows import (
    create,
    credentials,
    paid,
    pay,
    razorpay_webhooks,
    reason,
    refund,
    sandbox,
    transactions,
    wait_for_refund,
)

AUTHENTICATION_REQUIRED = {"type": "card", "token": "pm_card_authenticationRequired"}
STRIPE_AUTH = {"Authorization": "Bearer sk_test_anything"}


def recorded(platform: Platform, event_id: str) -> list[tuple[str, str, str]]:
    """(processor, order_id, outcome) of every stored row of the event id."""
    with psycopg.connect(platform.database_libpq_url) as db:
        rows = db.execute(
            "SELECT processor, order_id, outcome FROM webhook.processor_events WHERE event_id = %s", (event_id,)
        ).fetchall()
    return [(str(p), str(o), str(s)) for p, o, s in rows]


def wait_recorded(platform: Platform, event_id: str, seconds: float = 20) -> list[tuple[str, str, str]]:
    """The event's rows once applied (or as they are after the wait)."""
    deadline = time.monotonic() + seconds
    while True:
        rows = recorded(platform, event_id)
        if (rows and all(outcome for _, _, outcome in rows)) or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def wait_for_order(rest: httpx.Client, order_id: str, status: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        order: dict[str, Any] = rest.get(f"/v1/orders/{order_id}").json()
        if order["status"] == status or time.monotonic() > deadline:
            return order
        time.sleep(0.3)


# -- Stripe


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def post_stripe(platform: Platform, merchant_id: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{platform.gateway_url}/webhooks/stripe/{merchant_id}",
        content=body,
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        timeout=30,
    )


def requires_action(rest: httpx.Client, platform: Platform) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order waiting for 3-D Secure, and its PaymentIntent at localstripe."""
    order = create(rest)
    answer = pay(rest, order["id"], AUTHENTICATION_REQUIRED)
    assert answer.status_code == 200 and answer.json()["status"] == "REQUIRES_ACTION", answer.text
    [charge] = transactions(rest, order["id"])
    intent = httpx.get(
        f"{platform.localstripe_url}/v1/payment_intents/{charge['processorReference']}", headers=STRIPE_AUTH
    )
    assert intent.status_code == 200, intent.text
    return order, intent.json()


def succeeded_event(intent: dict[str, Any]) -> tuple[str, bytes]:
    event_id = "evt_" + secrets.token_hex(12)
    event = {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {**intent, "status": "succeeded", "next_action": None}},
    }
    return event_id, json.dumps(event, indent=2).encode()


def test_localstripe_webhook_drives_an_order_to_its_final_state(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    secret = credentials(platform, merchant_id, "stripe")["webhookSecret"]
    order, intent = requires_action(rest, platform)
    config = f"{platform.localstripe_url}/_config/webhooks/payloops-e2e-{order['id']}"
    target = {"url": f"{platform.gateway_url}/webhooks/stripe/{merchant_id}", "secret": secret}
    assert httpx.post(config, json={**target, "events": ["payment_intent.succeeded"]}).status_code == 200
    try:
        done = httpx.post(
            f"{platform.localstripe_url}/v1/payment_intents/{intent['id']}/_authenticate",
            data={"client_secret": intent["client_secret"], "success": "true"},
            headers=STRIPE_AUTH,
        )
        assert done.status_code == 200, done.text
        after = wait_for_order(rest, order["id"], "SUCCEEDED")
    finally:  # localstripe cannot forget a webhook: leave it subscribed to nothing
        httpx.post(config, json={**target, "events": []})
    assert (after["status"], after["processor"], after["amountCaptured"]) == ("SUCCEEDED", "stripe", 1999)
    assert [t["status"] for t in transactions(rest, order["id"])] == ["SUCCEEDED"]
    with psycopg.connect(platform.database_libpq_url) as db:
        [(event_type, outcome)] = db.execute(
            "SELECT event_type, outcome FROM webhook.processor_events WHERE order_id = %s", (order["id"],)
        ).fetchall()
    assert (event_type, outcome) == ("payment_intent.succeeded", "applied")


def test_the_same_stripe_event_five_times_is_applied_once(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    secret = credentials(platform, merchant_id, "stripe")["webhookSecret"]
    order, intent = requires_action(rest, platform)
    event_id, body = succeeded_event(intent)

    def deliver(_: int) -> httpx.Response:
        return post_stripe(platform, merchant_id, body, {"Stripe-Signature": stripe_signature(body, secret)})

    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(deliver, range(5)))
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"received": True})] * 5
    assert wait_recorded(platform, event_id) == [("stripe", order["id"], "applied")]
    after = wait_for_order(rest, order["id"], "SUCCEEDED")
    assert (after["status"], after["amountCaptured"]) == ("SUCCEEDED", 1999)
    # A late, out-of-order "processing" event never moves the order back.
    late_id, late = succeeded_event({**intent, "status": "processing"})
    late = late.replace(b'"status": "succeeded"', b'"status": "processing"')
    assert (
        post_stripe(platform, merchant_id, late, {"Stripe-Signature": stripe_signature(late, secret)}).status_code
        == 200
    )
    assert wait_recorded(platform, late_id) == [("stripe", order["id"], "ignored")]
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "SUCCEEDED"


def test_bad_stripe_signatures_are_refused_and_nothing_is_recorded(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    secret = credentials(platform, merchant_id, "stripe")["webhookSecret"]
    order, intent = requires_action(rest, platform)
    event_id, body = succeeded_event(intent)
    tampered = body.replace(b'"succeeded"', b'"succeedex"', 1)
    now = int(time.time())
    attempts = {
        "one byte changed": (tampered, {"Stripe-Signature": stripe_signature(body, secret)}),
        "wrong secret": (body, {"Stripe-Signature": stripe_signature(body, "whsec_" + secrets.token_hex(16))}),
        "old timestamp": (body, {"Stripe-Signature": stripe_signature(body, secret, now - 400)}),
        "future timestamp": (body, {"Stripe-Signature": stripe_signature(body, secret, now + 400)}),
        "missing header": (body, {}),
        "garbage header": (body, {"Stripe-Signature": "nonsense"}),
    }
    for name, (payload, headers) in attempts.items():
        answer = post_stripe(platform, merchant_id, payload, headers)
        assert (answer.status_code, reason(answer)) == (400, "WEBHOOK_SIGNATURE_INVALID"), name
        assert answer.json()["code"] == 3, name
    assert recorded(platform, event_id) == []
    assert rest.get(f"/v1/orders/{order['id']}").json()["status"] == "REQUIRES_ACTION"


def test_stripe_event_for_an_unknown_order_is_recorded_and_changes_nothing(
    platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    secret = credentials(platform, merchant_id, "stripe")["webhookSecret"]
    event_id, body = succeeded_event({"id": "pi_unknown", "amount": 100, "metadata": {"payloops_order_id": "ord_nope"}})
    answer = post_stripe(platform, merchant_id, body, {"Stripe-Signature": stripe_signature(body, secret)})
    assert answer.status_code == 200, answer.text
    assert wait_recorded(platform, event_id) == [("stripe", "ord_nope", "ignored")]


# -- Razorpay


def post_razorpay(platform: Platform, merchant_id: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{platform.gateway_url}/webhooks/razorpay/{merchant_id}",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


def razorpay_event_id(body: dict[str, Any]) -> str:
    """The identity PayLoops gives a Razorpay event: from its signed body, not its header."""
    kind = "refund" if body["event"].startswith("refund.") else "payment"
    return f"{body['event']}:{body['payload'][kind]['entity']['id']}:{body['created_at']}"


def razorpay_signature(platform: Platform, body: bytes, secret: str) -> str:
    return str(sandbox(platform, "POST", "/_sandbox/webhooks/sign", secret=secret, body=body.decode())["signature"])


def test_razorpay_sandbox_webhooks_settle_a_pending_refund_once(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    with razorpay_webhooks(platform, merchant_id, "refund.processed") as (account, secret):
        order = paid(rest, currency="INR", amount=30_000)
        sandbox(platform, "POST", "/_sandbox/faults", account=account, path_contains="/refund", mode="refund_pending")
        pending = refund(rest, order["id"]).json()
        assert pending["status"] == "PENDING"
        [txn] = [t for t in transactions(rest, order["id"]) if t["type"] == "REFUND"]
        sandbox(platform, "POST", f"/_sandbox/refunds/{txn['processorReference']}/process", outcome="processed")
        assert wait_for_refund(rest, pending["id"])["status"] == "SUCCEEDED"
        events = sandbox(platform, "GET", f"/_sandbox/events?account={account}&event=refund.processed")["items"]
        [event] = [e for e in events if e["body"]["payload"]["refund"]["entity"]["id"] == txn["processorReference"]]
        rows = wait_recorded(platform, razorpay_event_id(event["body"]))
    # Settled by the webhook or by the workflow's poll, whichever came first: once either way.
    assert len(rows) == 1 and rows[0][:2] == ("razorpay", order["id"])
    after = rest.get(f"/v1/orders/{order['id']}").json()
    assert (after["status"], after["amountRefunded"]) == ("REFUNDED", 30_000)

    # The same event again, five times, three of them replayed under a new (unsigned) header
    # id: the identity comes from the signed body, so it is recorded and applied once.
    body = json.dumps(event["body"]).encode()
    signature = razorpay_signature(platform, body, secret)
    header_ids = [event["id"]] * 2 + ["evt_" + secrets.token_hex(7) for _ in range(3)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(
            pool.map(
                lambda header_id: post_razorpay(
                    platform, merchant_id, body, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": header_id}
                ),
                header_ids,
            )
        )
    assert [a.status_code for a in answers] == [200] * 5
    assert len(wait_recorded(platform, razorpay_event_id(event["body"]))) == 1
    assert rest.get(f"/v1/orders/{order['id']}").json()["amountRefunded"] == 30_000


def test_bad_razorpay_signatures_are_refused_and_nothing_is_recorded(
    platform: Platform, merchant_a: dict[str, str]
) -> None:
    merchant_id = merchant_a["merchant_id"]
    secret = credentials(platform, merchant_id, "razorpay")["webhookSecret"]
    event_id = "evt_" + secrets.token_hex(7)
    payment = {"id": "pay_" + secrets.token_hex(7), "amount": 100, "currency": "INR", "status": "captured"}
    event = {"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": payment}}}
    body = json.dumps({**event, "created_at": int(time.time())}).encode()
    good = razorpay_signature(platform, body, secret)
    unnamed = json.dumps(event).encode()  # no created_at: not an event PayLoops can identify
    attempts = {
        "one byte changed": (body.replace(b"captured", b"capturex"), {"X-Razorpay-Signature": good}),
        "wrong secret": (body, {"X-Razorpay-Signature": razorpay_signature(platform, body, secrets.token_hex(16))}),
        "missing header": (body, {}),
    }
    for name, (payload, headers) in attempts.items():
        answer = post_razorpay(platform, merchant_id, payload, {**headers, "X-Razorpay-Event-Id": event_id})
        assert (answer.status_code, reason(answer)) == (400, "WEBHOOK_SIGNATURE_INVALID"), name
    unsigned_id = razorpay_signature(platform, unnamed, secret)
    no_id = post_razorpay(platform, merchant_id, unnamed, {"X-Razorpay-Signature": unsigned_id})
    assert (no_id.status_code, reason(no_id)) == (400, "WEBHOOK_PAYLOAD_INVALID")
    assert recorded(platform, razorpay_event_id(json.loads(body))) == []
    ok = post_razorpay(platform, merchant_id, body, {"X-Razorpay-Signature": good, "X-Razorpay-Event-Id": event_id})
    assert ok.status_code == 200, ok.text
    assert wait_recorded(platform, razorpay_event_id(json.loads(body))) == [("razorpay", "", "ignored")]


def test_razorpay_sandbox_webhook_completes_a_payment_that_required_action(
    rest: httpx.Client, platform: Platform, merchant_a: dict[str, str]
) -> None:
    with razorpay_webhooks(platform, merchant_a["merchant_id"], "payment.captured"):
        order = create(rest, currency="INR", amount=25_000)
        answer = pay(rest, order["id"], AUTHENTICATION_REQUIRED)
        assert answer.status_code == 200 and answer.json()["status"] == "REQUIRES_ACTION", answer.text
        redirect = answer.json()["nextAction"]["redirectUrl"]
        assert redirect.startswith(str(platform.razorpay_sandbox_url)) and redirect.endswith("/authenticate")
        # The customer passes the sandbox's 3-D Secure stand-in; only the webhook tells PayLoops.
        done = httpx.post(redirect.removesuffix("/authenticate") + "/complete", json={"outcome": "success"})
        assert done.status_code == 200 and done.json()["status"] == "captured", done.text
        after = wait_for_order(rest, order["id"], "SUCCEEDED")
    assert (after["status"], after["processor"], after["amountCaptured"]) == ("SUCCEEDED", "razorpay", 25_000)
    assert "nextAction" not in after or not after["nextAction"].get("redirectUrl")
