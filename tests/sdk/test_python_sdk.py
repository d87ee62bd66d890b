"""The Python SDK against the real platform (through the gateway), plus its retry and
webhook-verification behaviour against local servers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import payloops
import pytest
from payloops import (
    AnalyticsSummary,
    APIConnectionError,
    AsyncDashboard,
    AsyncPayLoops,
    AuthenticationError,
    CheckoutSession,
    ConflictError,
    Dashboard,
    InvalidRequestError,
    NotFoundError,
    Order,
    PayLoops,
    PayLoopsError,
    RateLimitError,
    Refund,
    RetryPolicy,
    RoutingSimulation,
    WebhookEvent,
    WebhookVerificationError,
)
from payloops.sdk import WEBHOOK_EVENT_TYPES, Volume, WebhookEventType, volumes_by_currency
from payloops.sdk._http.exchange import retry_after_seconds

from launcher.platform import Platform
from tests.merchant.helpers import Merchant, new_email, new_password, remember, set_up_merchant, stripe_credentials
from tests.sdk.servers import dropping_proxy, scripted, serving
from tests.webhook.receiver import Received, Receiver, running_receiver

ROOT = Path(__file__).resolve().parents[2]
VISA = {"type": "card", "token": "pm_card_visa"}
DECLINED = {"type": "card", "token": "pm_card_visa_chargeDeclined"}
THREE_D_SECURE = {"type": "card", "token": "pm_card_authenticationRequired"}
SUCCESS_URL = "https://shop.example/thanks?cart=7"
CANCEL_URL = "https://shop.example/cart"
FAST_RETRIES = RetryPolicy(max_network_retries=2, initial_delay=0.05, max_delay=0.2)

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, seconds: float = 60) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def merchant(platform: Platform) -> Merchant:
    return set_up_merchant(platform)


@pytest.fixture()
def client(platform: Platform, merchant: Merchant) -> Iterator[PayLoops]:
    with PayLoops(merchant.api_key, base_url=platform.gateway_url) as opened:
        yield opened


@pytest.fixture()
def dashboard(platform: Platform, merchant: Merchant) -> Iterator[Dashboard]:
    with Dashboard(merchant.account.token, base_url=platform.gateway_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


# --- the merchant API ---------------------------------------------------------------------


def test_seed_flow_create_pay_retrieve(client: PayLoops) -> None:
    order = client.orders.create(amount=1999, currency="USD", customer_email="buyer@example.com")
    assert order.id.startswith("ord_") and order.status == "CREATED"
    assert (order.amount, order.currency, order.customer_email) == (1999, "USD", "buyer@example.com")
    assert isinstance(order.created_at, datetime) and order.raw["customerEmail"] == "buyer@example.com"

    paid = client.orders.pay(order.id, payment_method=VISA)
    assert paid.status == "SUCCEEDED" and paid.processor == "stripe" and paid.amount_captured == 1999

    again = client.orders.retrieve(order.id)
    assert again.id == order.id and again.status == "SUCCEEDED" and again.next_action is None
    assert again.amount_captured == 1999 and again.updated_at is not None


def test_a_decline_is_an_order_not_an_error(client: PayLoops) -> None:
    order = client.orders.create(amount=700, currency="USD")
    declined = client.orders.pay(order.id, payment_method=DECLINED)
    assert declined.status == "FAILED" and declined.failure_code == "card_declined"


def test_three_d_secure_gives_a_next_action(client: PayLoops) -> None:
    order = client.orders.create(amount=800, currency="USD")
    waiting = client.orders.pay(order.id, payment_method=THREE_D_SECURE, return_url="https://shop.example/back")
    assert waiting.status == "REQUIRES_ACTION"
    assert waiting.next_action is not None and waiting.next_action.type == "redirect"


def test_capture_refund_transactions_and_cancel(client: PayLoops) -> None:
    manual = client.orders.create(amount=3000, currency="USD", capture_method="MANUAL", metadata={"cart": "42"})
    assert manual.capture_method == "MANUAL" and manual.metadata == {"cart": "42"}
    assert client.orders.pay(manual.id, payment_method=VISA).status == "AUTHORIZED"
    captured = client.orders.capture(manual.id)
    assert captured.status == "SUCCEEDED" and captured.amount_captured == 3000

    refund = client.orders.refund(manual.id, amount=500, reason="requested_by_customer")
    assert refund.id.startswith("ref_") and refund.order_id == manual.id and refund.amount == 500
    settled = wait_for(
        lambda: r if (r := client.refunds.retrieve(refund.id)).status != "PENDING" else None, "refund settled"
    )
    assert settled.status == "SUCCEEDED" and settled.currency == "USD"
    assert client.orders.retrieve(manual.id).status == "PARTIALLY_REFUNDED"

    transactions = client.orders.transactions(manual.id)
    assert [t.type for t in transactions] == ["AUTHORIZE", "CAPTURE", "REFUND"]
    assert transactions[0].routing_decision is not None and transactions[0].routing_decision.approach
    assert transactions[2].refund_id == refund.id

    unpaid = client.orders.create(amount=100, currency="USD")
    assert client.orders.cancel(unpaid.id).status == "CANCELLED"


def test_list_walks_every_page(platform: Platform) -> None:
    fresh = set_up_merchant(platform)
    with PayLoops(fresh.api_key, base_url=platform.gateway_url) as client:
        created = {client.orders.create(amount=100 + n, currency="USD").id for n in range(5)}
        pages = list(client.orders.list(page_size=2).pages())
        listed = [order.id for order in client.orders.list(page_size=2)]
    assert [len(page.items) for page in pages] == [2, 2, 1] and pages[-1].next_page_token == ""
    assert sorted(listed) == sorted(created) and len(listed) == 5


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYLOOPS_BASE_URL", "http://127.0.0.1:9/")
    with PayLoops("sk_test_x") as from_env, PayLoops("sk_test_x", base_url="http://127.0.0.1:7") as given:
        assert (from_env.base_url, given.base_url) == ("http://127.0.0.1:9", "http://127.0.0.1:7")
    monkeypatch.delenv("PAYLOOPS_BASE_URL")
    with PayLoops("sk_test_x") as default:
        assert default.base_url == "http://127.0.0.1:8080"


async def test_async_client_flow(platform: Platform, merchant: Merchant) -> None:
    async with AsyncPayLoops(merchant.api_key, base_url=platform.gateway_url) as client:
        order = await client.orders.create(amount=1999, currency="USD", customer_email="async@example.com")
        paid = await client.orders.pay(order.id, payment_method=VISA)
        assert paid.status == "SUCCEEDED"
        assert (await client.orders.retrieve(order.id)).status == "SUCCEEDED"
        assert [t.status for t in await client.orders.transactions(order.id)] == ["SUCCEEDED"]
        seen = [listed.id async for listed in client.orders.list(page_size=2)]
        assert order.id in seen
        with pytest.raises(NotFoundError):
            await client.orders.retrieve("ord_does_not_exist")
    async with AsyncDashboard(merchant.account.token, base_url=platform.gateway_url) as dashboard:
        assert (await dashboard.merchant.retrieve()).id == merchant.account.merchant_id
        events = [event async for event in dashboard.webhook_events.list(page_size=1)]
        assert all(event.id.startswith("evt_") for event in events)


# --- checkout sessions --------------------------------------------------------------------


def open_checkout(client: PayLoops, order_id: str, expires_in_seconds: int | None = None) -> CheckoutSession:
    return client.checkout.sessions.create(
        order_id=order_id, success_url=SUCCESS_URL, cancel_url=CANCEL_URL, expires_in_seconds=expires_in_seconds
    )


def test_checkout_session_create_retrieve_expire(platform: Platform, client: PayLoops) -> None:
    order = client.orders.create(amount=1500, currency="USD")
    session = open_checkout(client, order.id)
    assert isinstance(session, CheckoutSession) and session.id.startswith("cs_")
    assert (session.order_id, session.status) == (order.id, "OPEN")
    assert (session.success_url, session.cancel_url) == (SUCCESS_URL, CANCEL_URL)
    assert session.url == f"{platform.gateway_url}/checkout/{session.id}"
    assert session.created_at is not None and session.expires_at is not None
    assert session.expires_at - session.created_at == timedelta(days=1)  # the default lifetime
    assert client.checkout.sessions.retrieve(session.id) == session

    with pytest.raises(ConflictError) as already:
        open_checkout(client, order.id)
    assert (already.value.http_status, already.value.reason) == (409, "CHECKOUT_SESSION_ALREADY_OPEN")
    assert already.value.metadata["sessionId"] == session.id

    expired = client.checkout.sessions.expire(session.id)
    assert (expired.id, expired.status, expired.order_id) == (session.id, "EXPIRED", order.id)
    with pytest.raises(InvalidRequestError) as again:
        client.checkout.sessions.expire(session.id)
    assert (again.value.http_status, again.value.reason) == (400, "CHECKOUT_SESSION_NOT_OPEN")
    assert client.checkout.sessions.retrieve(session.id).status == "EXPIRED"
    # The order is still payable: it gets a new session.
    assert open_checkout(client, order.id, expires_in_seconds=3600).status == "OPEN"

    with pytest.raises(NotFoundError) as missing:
        client.checkout.sessions.retrieve("cs_does_not_exist")
    assert missing.value.reason == "CHECKOUT_SESSION_NOT_FOUND"


def test_checkout_bad_input_is_an_invalid_request_with_its_fields(client: PayLoops, dashboard: Dashboard) -> None:
    order = client.orders.create(amount=900, currency="USD")
    with pytest.raises(InvalidRequestError) as raised:
        client.checkout.sessions.create(
            order_id=order.id, success_url="javascript:alert(1)", cancel_url=CANCEL_URL, expires_in_seconds=86_401
        )
    error = raised.value
    assert (error.http_status, error.reason) == (400, "CHECKOUT_SESSION_INVALID") and error.message
    assert [violation.field for violation in error.field_violations] == ["success_url", "expires_in_seconds"]
    assert all(violation.description for violation in error.field_violations)

    assert client.orders.pay(order.id, payment_method=VISA).status == "SUCCEEDED"
    with pytest.raises(InvalidRequestError) as paid:
        open_checkout(client, order.id)
    assert paid.value.reason == "ORDER_NOT_PAYABLE"

    live = dashboard.api_keys.create(mode="live", name="sdk live key")
    remember(live.secret)
    with PayLoops(live.secret, base_url=client.base_url) as live_client:
        live_order = live_client.orders.create(amount=1000, currency="USD")
        with pytest.raises(InvalidRequestError) as refused:
            open_checkout(live_client, live_order.id)
    assert refused.value.reason == "CHECKOUT_LIVE_MODE_UNSUPPORTED"


async def test_async_checkout_completes_with_its_order_and_expires_on_its_timer(
    platform: Platform, merchant: Merchant
) -> None:
    async with (
        AsyncPayLoops(merchant.api_key, base_url=platform.gateway_url) as client,
        AsyncDashboard(merchant.account.token, base_url=platform.gateway_url) as dashboard,
    ):
        order = await client.orders.create(amount=2100, currency="USD")
        session = await client.checkout.sessions.create(
            order_id=order.id, success_url=SUCCESS_URL, cancel_url=CANCEL_URL
        )
        assert session.status == "OPEN"
        # Paid through the API while its page is open: the session completes with the order.
        assert (await client.orders.pay(order.id, payment_method=VISA)).status == "SUCCEEDED"
        completed = await client.checkout.sessions.retrieve(session.id)
        assert (completed.id, completed.status) == (session.id, "COMPLETE")
        with pytest.raises(InvalidRequestError) as closed:
            await client.checkout.sessions.expire(session.id)
        assert closed.value.reason == "CHECKOUT_SESSION_NOT_OPEN"

        short = await client.orders.create(amount=2200, currency="USD")
        brief = await client.checkout.sessions.create(
            order_id=short.id, success_url=SUCCESS_URL, cancel_url=CANCEL_URL, expires_in_seconds=2
        )
        assert brief.expires_at is not None and brief.created_at is not None
        assert brief.expires_at - brief.created_at == timedelta(seconds=2)
        deadline = time.monotonic() + 60
        while (current := await client.checkout.sessions.retrieve(brief.id)).status == "OPEN":
            assert time.monotonic() < deadline, "the session did not expire on its timer"
            await asyncio.sleep(0.5)
        assert current.status == "EXPIRED"

        async def event_of(event_type: WebhookEventType, session_id: str) -> WebhookEvent:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                async for event in dashboard.webhook_events.list(page_size=50, type=event_type):
                    if event.data["object"]["id"] == session_id:
                        return event
                await asyncio.sleep(0.5)
            raise AssertionError(f"no {event_type} event for {session_id}")

        closed_sessions: list[tuple[WebhookEventType, str, str]] = [
            ("checkout.session.completed", session.id, "COMPLETE"),
            ("checkout.session.expired", brief.id, "EXPIRED"),
        ]
        for event_type, session_id, status in closed_sessions:
            event = await event_of(event_type, session_id)
            assert event.type == event_type and event_type in WEBHOOK_EVENT_TYPES
            assert isinstance(event.data_object, CheckoutSession)
            assert (event.data_object.id, event.data_object.status) == (session_id, status)


# --- errors -------------------------------------------------------------------------------


def test_bad_input_is_an_invalid_request_with_its_fields(client: PayLoops) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        client.orders.create(amount=0, currency="USD")
    error = raised.value
    assert (error.http_status, error.reason) == (400, "AMOUNT_INVALID") and error.message
    assert "amount" in [violation.field for violation in error.field_violations]
    assert error.request_id and "AMOUNT_INVALID" in str(error)


def test_unknown_order_is_not_found(client: PayLoops) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.orders.retrieve("ord_does_not_exist")
    assert raised.value.http_status == 404 and raised.value.reason


def test_bad_key_is_an_authentication_error_without_the_key(platform: Platform) -> None:
    key = "sk_test_" + "Z9" * 16
    with PayLoops(key, base_url=platform.gateway_url) as client, pytest.raises(AuthenticationError) as raised:
        client.orders.list().pages().__next__()
    assert raised.value.http_status == 401
    assert key not in str(raised.value) and key not in repr(raised.value)


def test_an_idempotency_key_reused_with_another_body_conflicts(client: PayLoops) -> None:
    key = "sdk-conflict-" + new_email()
    first = client.orders.create(amount=111, currency="USD", idempotency_key=key)
    assert client.orders.create(amount=111, currency="USD", idempotency_key=key).id == first.id
    assert client.orders.create(amount=111, currency="USD").id != first.id
    with pytest.raises(ConflictError) as raised:
        client.orders.create(amount=222, currency="USD", idempotency_key=key)
    assert raised.value.reason == "IDEMPOTENCY_KEY_REUSED"


# --- retries ------------------------------------------------------------------------------


def test_a_dropped_answer_is_retried_with_the_same_key_and_executed_once(platform: Platform) -> None:
    fresh = set_up_merchant(platform)
    with dropping_proxy(platform.gateway_url, "POST", "/v1/orders") as proxy:
        with PayLoops(fresh.api_key, base_url=proxy.base_url, retry=FAST_RETRIES) as client:
            order = client.orders.create(amount=4242, currency="USD")
    creates = proxy.requests("POST", "/v1/orders")
    assert [seen.dropped for seen in creates] == [True, False]
    assert len({seen.headers["idempotency-key"] for seen in creates}) == 1
    assert json.loads(creates[0].upstream_body)["id"] == order.id
    with PayLoops(fresh.api_key, base_url=platform.gateway_url) as direct:
        assert [listed.id for listed in direct.orders.list()] == [order.id]


def test_retry_after_is_honoured_for_503_and_429() -> None:
    order = {"id": "ord_stub", "amount": 5, "currency": "USD", "status": "CREATED", "extra": {"new": True}}
    script = [(503, {"retry-after": "1"}, {}), (429, {"retry-after": "0"}, {}), (200, {}, order)]
    with serving(scripted(script)) as stub, PayLoops("sk_test_stub", base_url=stub.base_url) as client:
        started = time.monotonic()
        created = client.orders.create(amount=5, currency="USD")
        elapsed = time.monotonic() - started
    assert created.id == "ord_stub" and created.raw["extra"] == {"new": True}
    keys = [seen.headers["idempotency-key"] for seen in stub.requests("POST", "/v1/orders")]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert elapsed >= 1.0


def test_retries_stop_after_max_network_retries() -> None:
    limited = {"code": 8, "message": "slow down", "details": []}
    with serving(scripted([(429, {"retry-after": "0"}, limited)])) as stub:
        with PayLoops("sk_test_stub", base_url=stub.base_url, max_network_retries=3) as client:
            with pytest.raises(RateLimitError) as raised:
                client.orders.retrieve("ord_1")
    assert raised.value.http_status == 429 and len(stub.seen) == 4


def test_key_in_use_is_retried_and_other_errors_are_not() -> None:
    in_use = {
        "code": 10,
        "message": "in progress",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IDEMPOTENCY_KEY_IN_USE"}],
    }
    with serving(scripted([(409, {}, in_use), (200, {}, {"id": "ord_after"})])) as stub:
        with PayLoops("sk_test_stub", base_url=stub.base_url, retry=FAST_RETRIES) as client:
            assert client.orders.pay("ord_after", payment_method=VISA).id == "ord_after"
    assert len(stub.seen) == 2
    bad = {"code": 3, "message": "bad", "details": []}
    with serving(scripted([(400, {}, bad), (200, {}, {"id": "never"})])) as stub:
        with PayLoops("sk_test_stub", base_url=stub.base_url, retry=FAST_RETRIES) as client:
            with pytest.raises(InvalidRequestError):
                client.orders.create(amount=1, currency="USD")
    assert len(stub.seen) == 1


def test_no_answer_at_all_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with PayLoops("sk_test_nobody", base_url=f"http://127.0.0.1:{port}", retry=FAST_RETRIES) as client:
        with pytest.raises(APIConnectionError) as raised:
            client.orders.retrieve("ord_1")
    assert isinstance(raised.value, PayLoopsError) and raised.value.http_status is None


def test_backoff_grows_with_jitter_and_reads_retry_after() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0)
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        delays = [policy.delay(retry) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays) and len(set(delays)) > 1
    assert policy.delay(0, retry_after=7) == 7 and policy.delay(0, retry_after=1000) == policy.max_retry_after
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30
    assert retry_after_seconds("2") == 2 and retry_after_seconds("soon") is None


# --- the dashboard API --------------------------------------------------------------------


def test_register_login_and_the_account(platform: Platform) -> None:
    email, password = new_email(), new_password()
    registered = Dashboard.register(email=email, password=password, name="SDK Shop", base_url=platform.gateway_url)
    with registered:
        assert registered.session is not None and registered.session.merchant is not None
        remember(registered.session.token)
        merchant_id = registered.session.merchant.id
        assert registered.session.token not in repr(registered) + repr(registered.session)
    with Dashboard.login(email=email, password=password, base_url=platform.gateway_url) as dashboard:
        assert dashboard.session is not None and dashboard.session.expires_at is not None
        remember(dashboard.session.token)
        me = dashboard.merchant.retrieve()
        assert (me.id, me.email, me.name) == (merchant_id, email, "SDK Shop")
        assert dashboard.merchant.update(name="SDK Shop 2").name == "SDK Shop 2"
    with pytest.raises(AuthenticationError):
        Dashboard.login(email=email, password=password + "x", base_url=platform.gateway_url)


def test_api_keys_create_list_revoke(platform: Platform, dashboard: Dashboard) -> None:
    created = dashboard.api_keys.create(mode="test", name="sdk key")
    assert created.api_key is not None and created.secret.startswith("sk_test_")
    remember(created.secret)
    assert created.secret not in repr(created)
    assert created.api_key.id in [key.id for key in dashboard.api_keys.list()]
    with PayLoops(created.secret, base_url=platform.gateway_url) as client:
        client.orders.create(amount=100, currency="USD")
        revoked = dashboard.api_keys.revoke(created.api_key.id)
        assert revoked.revoked_at is not None
        with pytest.raises(AuthenticationError):
            client.orders.create(amount=100, currency="USD")


def test_processors_upsert_and_list(dashboard: Dashboard) -> None:
    credentials = stripe_credentials()
    config = dashboard.processors.upsert(processor="stripe", credentials=credentials, enabled=True)
    assert config.processor == "stripe" and config.enabled
    assert all(secret not in json.dumps(config.raw) for secret in credentials.values())
    assert {p.processor for p in dashboard.processors.list()} >= {"stripe", "razorpay"}


def test_routing_rules_simulate_and_stats(dashboard: Dashboard) -> None:
    rule = dashboard.routing_rules.create(
        priority=5, conditions={"currency": "EUR"}, action={"single": {"processor": "razorpay"}}
    )
    assert rule.id.startswith("rr_") and rule.conditions["currency"] == "EUR"
    assert rule.id in [listed.id for listed in dashboard.routing_rules.list()]
    # Routing reads a merchant's rules through a cache of a few seconds: a new rule applies within it.

    def steered() -> RoutingSimulation | None:
        simulated = dashboard.routing.simulate(amount=1000, currency="EUR", payment_method={"type": "card"})
        return simulated if simulated.candidates and simulated.candidates[0].rule_id == rule.id else None

    simulated = wait_for(steered, "the new rule to steer the simulation")
    assert simulated.candidates[0].processor == "razorpay" and simulated.candidates[0].rule_id == rule.id
    assert dashboard.routing_rules.delete(rule.id).id == rule.id
    assert rule.id not in [listed.id for listed in dashboard.routing_rules.list()]
    default = dashboard.routing.simulate(amount=1000, currency="USD", payment_method=VISA)
    assert default.approach and default.candidates[0].processor == "stripe"
    assert all(stat.processor for stat in dashboard.routing.stats())


@dataclass(frozen=True)
class Books:
    """A fresh merchant's orders (as the API shows them once settled) and its refund."""

    merchant: Merchant
    start: datetime
    orders: list[Order]
    refund: Refund


@pytest.fixture(scope="module")
def books(platform: Platform) -> Books:
    fresh = set_up_merchant(platform)
    start = datetime.now(UTC) - timedelta(seconds=1)
    with PayLoops(fresh.api_key, base_url=platform.gateway_url) as client:
        paid = client.orders.create(amount=1000, currency="USD")
        assert client.orders.pay(paid.id, payment_method=VISA).status == "SUCCEEDED"
        declined = client.orders.create(amount=2000, currency="USD")
        assert client.orders.pay(declined.id, payment_method=DECLINED).status == "FAILED"
        unpaid = client.orders.create(amount=500, currency="EUR")
        refund = client.orders.refund(paid.id, amount=200)
        settled = wait_for(
            lambda: r if (r := client.refunds.retrieve(refund.id)).status != "PENDING" else None, "refund settled"
        )
        assert settled.status == "SUCCEEDED"
        orders = [client.orders.retrieve(order.id) for order in (paid, declined, unpaid)]
    return Books(fresh, start, orders, settled)


def money(volumes: list[Volume]) -> dict[str, int]:
    """Volumes by currency, without the zero ones."""
    return {currency: amount for currency, amount in volumes_by_currency(volumes).items() if amount}


def sums(orders: list[Order], figure: Callable[[Order], int]) -> dict[str, int]:
    found: dict[str, int] = {}
    for order in orders:
        found[order.currency] = found.get(order.currency, 0) + figure(order)
    return {currency: amount for currency, amount in found.items() if amount}


def assert_is_the_books(summary: AnalyticsSummary, books: Books) -> None:
    orders, paid_statuses = books.orders, {"SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"}
    assert [order.status for order in orders] == ["PARTIALLY_REFUNDED", "FAILED", "CREATED"]
    totals = summary.totals
    assert (totals.count, totals.succeeded) == (3, 1)
    assert money(totals.volume) == sums(orders, lambda order: order.amount) == {"USD": 3000, "EUR": 500}
    assert money(totals.captured_volume) == sums(orders, lambda order: order.amount_captured) == {"USD": 1000}
    assert totals.refunds.count == 1 and money(totals.refunds.volume) == {"USD": books.refund.amount}

    by_status = {group.status: (group.count, money(group.volume)) for group in summary.by_status}
    assert by_status == {order.status: (1, {order.currency: order.amount}) for order in orders}

    [stripe] = summary.by_processor
    assert (stripe.processor, stripe.attempted, stripe.succeeded, stripe.success_rate) == ("stripe", 2, 1, 0.5)
    assert money(stripe.volume) == {"USD": 1000}
    assert [(failure.code, failure.count) for failure in summary.failure_codes] == [("card_declined", 1)]

    usd, eur = (next(c for c in summary.by_currency if c.currency == code) for code in ("USD", "EUR"))
    assert [c.currency for c in summary.by_currency] == ["EUR", "USD"]
    assert (usd.count, usd.volume, usd.succeeded, usd.captured_volume) == (2, 3000, 1, 1000)
    assert (usd.refund_count, usd.refunded_volume) == (1, 200)
    assert (eur.count, eur.volume, eur.succeeded, eur.captured_volume, eur.refund_count) == (1, 500, 0, 0, 0)

    assert sum(day.count for day in summary.daily) == 3
    assert sum(day.succeeded for day in summary.daily) == len([o for o in orders if o.status in paid_statuses])
    assert summary.raw["totals"]["count"] == 3


def test_analytics_summary_of_a_fresh_merchant_is_the_orders_it_created(platform: Platform, books: Books) -> None:
    end = datetime.now(UTC) + timedelta(minutes=1)
    with Dashboard(books.merchant.account.token, base_url=platform.gateway_url) as dashboard:
        summary = dashboard.analytics.summary(start=books.start, end=end)
        assert isinstance(summary, AnalyticsSummary)
        assert_is_the_books(summary, books)
        first, last = books.start.date(), (end - timedelta(microseconds=1)).date()
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        assert [day.date for day in summary.daily] == days  # every UTC day the range touches
        # By default the last 30 days; strings are sent as given; naive datetimes are UTC.
        assert_is_the_books(dashboard.analytics.summary(), books)
        naive = books.start.replace(tzinfo=None)
        assert dashboard.analytics.summary(start=naive, end=end.isoformat(), mode="test").totals.count == 3
        live = dashboard.analytics.summary(start=books.start, end=end, mode="live")
        assert (live.totals.count, live.by_status, live.by_processor, live.failure_codes) == (0, [], [], [])
        assert all(day.count == 0 for day in live.daily)

        with pytest.raises(InvalidRequestError) as backwards:
            dashboard.analytics.summary(start=end, end=books.start)
        assert backwards.value.reason == "TIME_RANGE_INVALID"
        assert [violation.field for violation in backwards.value.field_violations] == ["from"]


async def test_async_analytics_summary(platform: Platform, books: Books) -> None:
    async with AsyncDashboard(books.merchant.account.token, base_url=platform.gateway_url) as dashboard:
        summary = await dashboard.analytics.summary(start=books.start, end=datetime.now(UTC) + timedelta(minutes=1))
    assert_is_the_books(summary, books)


def test_dashboard_lists_orders(client: PayLoops, dashboard: Dashboard) -> None:
    order = client.orders.create(amount=321, currency="USD")
    assert order.id in [listed.id for listed in dashboard.orders.list(page_size=100).pages().__next__().items]


# --- webhooks -----------------------------------------------------------------------------


def delivery_of(receiver: Receiver, path: str, order_id: str, event_type: str) -> Received | None:
    for request in receiver.answered(path):
        event = json.loads(request.body)
        if event["type"] == event_type and event["data"]["object"]["id"] == order_id:
            return request
    return None


def test_webhook_endpoints_events_and_verification_of_a_real_delivery(platform: Platform, receiver: Receiver) -> None:
    fresh = set_up_merchant(platform)
    with (
        Dashboard(fresh.account.token, base_url=platform.gateway_url) as dashboard,
        PayLoops(fresh.api_key, base_url=platform.gateway_url) as client,
    ):
        endpoint = dashboard.webhook_endpoints.create(url=f"{receiver.base_url}/ok")
        remember(endpoint.secret)
        assert endpoint.secret.startswith("whsec_") and endpoint.secret not in repr(endpoint)
        assert endpoint.id in [listed.id for listed in dashboard.webhook_endpoints.list()]

        order = client.orders.create(amount=2500, currency="USD")
        assert client.orders.pay(order.id, payment_method=DECLINED).status == "FAILED"
        assert client.orders.pay(order.id, payment_method=VISA).status == "SUCCEEDED"
        delivered = wait_for(lambda: delivery_of(receiver, "/ok", order.id, "order.succeeded"), "a delivery")

        event = payloops.webhooks.verify(delivered.body, delivered.headers, endpoint.secret)
        assert event["type"] == "order.succeeded" and event["data"]["object"]["status"] == "SUCCEEDED"
        assert event["id"] == delivered.headers["webhook-id"]

        tampered = delivered.body.replace(b"SUCCEEDED", b"SUCCEEDEX")
        sent_at = int(delivered.headers["webhook-timestamp"])
        failures: list[Callable[[], object]] = [
            lambda: payloops.webhooks.verify(tampered, delivered.headers, endpoint.secret),
            lambda: payloops.webhooks.verify(delivered.body, delivered.headers, endpoint.secret, now=sent_at + 301),
            lambda: payloops.webhooks.verify(delivered.body, delivered.headers, endpoint.secret, now=sent_at - 301),
            lambda: payloops.webhooks.verify(delivered.body, delivered.headers, "whsec_" + "QUJD" * 8),
            lambda: payloops.webhooks.verify(delivered.body, {"webhook-id": "x"}, endpoint.secret),
        ]
        for failure in failures:
            with pytest.raises(WebhookVerificationError) as raised:
                failure()
            assert endpoint.secret not in str(raised.value) + repr(raised.value)
        assert payloops.webhooks.verify(
            delivered.body.decode(), delivered.headers, endpoint.secret, tolerance=10, now=sent_at + 5
        )

        def both_events() -> list[payloops.WebhookEvent] | None:
            events = [e for e in dashboard.webhook_events.list(page_size=1) if e.data["object"]["id"] == order.id]
            return events if len(events) == 2 else None

        events = wait_for(both_events, "two events listed one per page")
        assert [e.type for e in events] == ["order.succeeded", "order.failed"]
        assert events[0].deliveries and events[0].deliveries[0].endpoint_id == endpoint.id
        replayed = dashboard.webhook_events.replay(events[0].id, endpoint_id=endpoint.id)
        assert [delivery.endpoint_id for delivery in replayed] == [endpoint.id]
        wait_for(lambda: receiver.seen(events[0].id) >= 2, "the replayed delivery")

        assert dashboard.webhook_endpoints.delete(endpoint.id).id == endpoint.id
        assert endpoint.id not in [listed.id for listed in dashboard.webhook_endpoints.list()]


# --- secrets, packaging -------------------------------------------------------------------


def test_no_secret_in_repr_str_or_logs(
    platform: Platform, merchant: Merchant, client: PayLoops, dashboard: Dashboard, caplog: pytest.LogCaptureFixture
) -> None:
    for shown in (repr(client), str(client), repr(dashboard), str(dashboard)):
        assert merchant.api_key not in shown and merchant.account.token not in shown
    assert "sk_test_****" in repr(client)
    with caplog.at_level(logging.DEBUG, logger="payloops"):
        client.orders.create(amount=100, currency="USD")
        with pytest.raises(NotFoundError) as raised:
            client.orders.retrieve("ord_missing")
    assert caplog.records and merchant.api_key not in caplog.text
    assert merchant.api_key not in str(raised.value) + repr(raised.value) + repr(raised.value.body)
    assert merchant.api_key not in repr(AsyncPayLoops(merchant.api_key, base_url=platform.gateway_url))


def test_the_package_installs_on_its_own(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT / "clients" / "python", source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    target = tmp_path / "target"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True, cwd=tmp_path, capture_output=True)
    assert (target / "payloops" / "sdk" / "py.typed").exists()
    assert (target / "payloops" / "order" / "v1" / "order_service_pb2.pyi").exists()
    code = (
        "import payloops, sys; from payloops import PayLoops, AsyncPayLoops; "
        "import payloops.order.v1.order_service_pb2; print(payloops.__file__)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().startswith(str(target))
