"""Outbound merchant webhooks end to end: order changes become signed events at the
merchant's endpoint (a local server), retried on the (fast, test) schedule, listed and
replayed through the dashboard API, and kept across a crash of the delivery worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from launcher.platform import Platform
from tests.e2e.flows import DECLINED, VISA, create, pay
from tests.merchant.helpers import Merchant, aip193, client, remember, set_up_merchant
from tests.webhook.receiver import Receiver, running_receiver


@pytest.fixture(scope="module")
def merchant(platform: Platform) -> Merchant:
    return set_up_merchant(platform)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture()
def dashboard(platform: Platform, merchant: Merchant) -> Iterator[httpx.Client]:
    with client(platform, **merchant.account.bearer) as opened:
        yield opened


@pytest.fixture()
def api(platform: Platform, merchant: Merchant) -> Iterator[httpx.Client]:
    with client(platform, **{"X-API-Key": merchant.api_key}) as opened:
        yield opened


def endpoint(dashboard: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    answer = dashboard.post("/api/webhook-endpoints", json={"url": url, "events": events or []})
    assert answer.status_code == 200, answer.text
    created: dict[str, Any] = answer.json()
    remember(created["secret"])
    return created


def events_of(dashboard: httpx.Client, **query: str) -> list[dict[str, Any]]:
    answer = dashboard.get("/api/webhook-events", params={"pageSize": "100", **query})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["events"]
    return found


def wait_for(check: Callable[[], Any], seconds: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what or check}")


def event_for(dashboard: httpx.Client, order_id: str, type_: str) -> dict[str, Any] | None:
    return next(
        (e for e in events_of(dashboard, type=type_) if e["data"]["object"]["id"] == order_id),
        None,
    )


def delivery_to(event: dict[str, Any], endpoint_id: str, status: str) -> list[dict[str, Any]]:
    return [d for d in event.get("deliveries", []) if d["endpointId"] == endpoint_id and d["status"] == status]


def settled_delivery(
    dashboard: httpx.Client, order_id: str, type_: str, endpoint_id: str, status: str, seconds: float = 60
) -> tuple[dict[str, Any], dict[str, Any]]:
    def check() -> tuple[dict[str, Any], dict[str, Any]] | None:
        event = event_for(dashboard, order_id, type_)
        found = delivery_to(event, endpoint_id, status) if event else []
        return (event, found[-1]) if event and found else None

    settled: tuple[dict[str, Any], dict[str, Any]] = wait_for(check, seconds, f"{type_} {status} for {order_id}")
    return settled


def test_paid_and_declined_orders_are_delivered_signed_after_retries(
    dashboard: httpx.Client, api: httpx.Client, receiver: Receiver
) -> None:
    flaky = endpoint(dashboard, f"{receiver.base_url}/flaky/3")
    order = create(api)
    declined = pay(api, order["id"], DECLINED)
    assert declined.status_code == 200 and declined.json()["status"] == "FAILED", declined.text
    succeeded = pay(api, order["id"], VISA)
    assert succeeded.status_code == 200 and succeeded.json()["status"] == "SUCCEEDED", succeeded.text
    current = api.get(f"/v1/orders/{order['id']}").json()

    failed_event, failed_delivery = settled_delivery(dashboard, order["id"], "order.failed", flaky["id"], "SUCCEEDED")
    event, delivery = settled_delivery(dashboard, order["id"], "order.succeeded", flaky["id"], "SUCCEEDED")
    assert event["id"].startswith("evt_") and event["data"]["object"] == current
    assert failed_event["data"]["object"]["status"] == "FAILED" and failed_event["data"]["object"]["failureCode"]
    assert (failed_event["sequence"], event["sequence"]) == (1, 2)
    assert failed_event["createdAt"] <= event["createdAt"]
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert all(a["latencyMs"] >= 0 and a["attemptedAt"] for a in delivery["attempts"])
    assert delivery["url"] == f"{receiver.base_url}/flaky/3" and "nextAttemptAt" not in delivery

    # Exactly one success per event, every request signed with the endpoint's secret.
    for done in (event, failed_event):
        requests = receiver.answered("/flaky/3", done["id"])
        assert [r.status for r in requests] == [500, 500, 500, 200]
        for request in requests:
            payload = Webhook(flaky["secret"]).verify(request.body, request.headers)
            assert payload == {
                "id": done["id"],
                "type": done["type"],
                "createdAt": done["createdAt"],
                "sequence": done["sequence"],
                "data": done["data"],
            }
    assert failed_delivery["attempts"][-1]["statusCode"] == 200


def test_a_refund_is_delivered_as_refund_succeeded_with_the_refund(
    dashboard: httpx.Client, api: httpx.Client, receiver: Receiver
) -> None:
    hook = endpoint(dashboard, f"{receiver.base_url}/ok", events=["refund.succeeded", "refund.failed"])
    order = create(api)
    assert pay(api, order["id"], VISA).json()["status"] == "SUCCEEDED"
    refund = api.post(f"/v1/orders/{order['id']}/refund", json={"amount": 500})
    assert refund.status_code == 200 and refund.json()["status"] == "SUCCEEDED", refund.text
    current = api.get(f"/v1/refunds/{refund.json()['id']}").json()

    event, delivery = settled_delivery(dashboard, current["id"], "refund.succeeded", hook["id"], "SUCCEEDED")
    assert event["data"]["object"] == current and event["sequence"] == 1
    assert [a["statusCode"] for a in delivery["attempts"]] == [200]
    assert len(receiver.answered("/ok", event["id"])) == 1
    # The endpoint subscribed to refunds only: the order's own event was not sent to it.
    paid = wait_for(lambda: event_for(dashboard, order["id"], "order.succeeded"), what="order.succeeded")
    assert hook["id"] not in {d["endpointId"] for d in paid.get("deliveries", [])}


def test_a_dead_endpoint_is_retried_then_failed_and_a_replay_delivers(
    platform: Platform, dashboard: httpx.Client, api: httpx.Client, receiver: Receiver
) -> None:
    dead = endpoint(dashboard, f"{receiver.base_url}/dead", ["order.succeeded"])
    order = create(api)
    assert pay(api, order["id"]).json()["status"] == "SUCCEEDED"
    event, delivery = settled_delivery(dashboard, order["id"], "order.succeeded", dead["id"], "FAILED")
    assert [a["statusCode"] for a in delivery["attempts"]] == [500] * 5  # the schedule's 4 retries
    times = [a["attemptedAt"] for a in delivery["attempts"]]
    assert times == sorted(times)
    failed_ids = {e["id"] for e in events_of(dashboard, deliveryStatus="FAILED")}
    assert event["id"] in failed_ids

    # Another merchant's replay (or list) never finds it.
    other = set_up_merchant(platform)
    with client(platform, **other.account.bearer) as stranger:
        reason, _ = aip193(stranger.post(f"/api/webhook-events/{event['id']}/replay", json={}), 404)
        assert reason == "WEBHOOK_EVENT_NOT_FOUND"
        assert event["id"] not in {e["id"] for e in events_of(stranger)}
    reason, _ = aip193(dashboard.post(f"/api/webhook-events/{event['id']}/replay", json={"endpointId": "we_nope"}), 404)
    assert reason == "WEBHOOK_ENDPOINT_NOT_FOUND"

    receiver.revive()
    replayed = dashboard.post(f"/api/webhook-events/{event['id']}/replay", json={"endpointId": dead["id"]})
    assert replayed.status_code == 200, replayed.text
    [again] = replayed.json()["deliveries"]
    assert again["id"] != delivery["id"] and again["status"] == "PENDING"
    _, done = settled_delivery(dashboard, order["id"], "order.succeeded", dead["id"], "SUCCEEDED")
    assert done["id"] == again["id"] and [a["statusCode"] for a in done["attempts"]] == [200]
    assert [r.status for r in receiver.answered("/dead", event["id"])] == [500] * 5 + [200]


def test_killing_the_webhook_worker_mid_delivery_loses_no_event(
    platform: Platform, dashboard: httpx.Client, api: httpx.Client, receiver: Receiver
) -> None:
    slow = endpoint(dashboard, f"{receiver.base_url}/slow-first/2", ["order.succeeded"])
    order = create(api)
    assert pay(api, order["id"]).json()["status"] == "SUCCEEDED"
    event = wait_for(lambda: event_for(dashboard, order["id"], "order.succeeded"), what="the event")
    wait_for(lambda: receiver.seen(event["id"]), what="the first request")  # in flight now
    platform.restart("webhook_worker", crash=True)
    _, delivery = settled_delivery(dashboard, order["id"], "order.succeeded", slow["id"], "SUCCEEDED", seconds=120)
    assert delivery["attempts"][-1]["statusCode"] == 200
    assert receiver.seen(event["id"]) >= 2  # sent again after the crash
    assert sum(1 for a in delivery["attempts"] if a["statusCode"] == 200) == 1


def test_a_crashed_webhook_service_loses_no_event(
    platform: Platform, dashboard: httpx.Client, api: httpx.Client, receiver: Receiver
) -> None:
    ok = endpoint(dashboard, f"{receiver.base_url}/ok", ["order.cancelled"])
    platform.restart("webhook", crash=True)
    order = create(api)
    cancelled = api.post(f"/v1/orders/{order['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED", cancelled.text
    event, _ = settled_delivery(dashboard, order["id"], "order.cancelled", ok["id"], "SUCCEEDED")
    assert event["sequence"] == 1 and event["data"]["object"]["status"] == "CANCELLED"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://10.0.0.1/",
        "file:///etc/passwd",
        "http://[::ffff:10.0.0.1]/",
        "http://100.64.0.1/",
    ],
)
def test_internal_endpoints_are_refused_at_registration(dashboard: httpx.Client, url: str) -> None:
    reason, _ = aip193(dashboard.post("/api/webhook-endpoints", json={"url": url}), 400)
    assert reason == "URL_INVALID"


def test_list_filters_and_pages(dashboard: httpx.Client) -> None:
    first = dashboard.get("/api/webhook-events", params={"pageSize": "1"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["events"]) == 1 and body["nextPageToken"]
    second = dashboard.get("/api/webhook-events", params={"pageSize": "1", "pageToken": body["nextPageToken"]})
    assert second.json()["events"][0]["id"] != body["events"][0]["id"]
    assert all(e["type"] == "order.failed" for e in events_of(dashboard, type="order.failed"))
    reason, _ = aip193(dashboard.get("/api/webhook-events", params={"pageToken": "garbage!"}), 400)
    assert reason == "PAGE_TOKEN_INVALID"
    succeeded = events_of(dashboard, deliveryStatus="SUCCEEDED")
    assert succeeded and all(any(d["status"] == "SUCCEEDED" for d in e["deliveries"]) for e in succeeded)
