"""Hosted checkout sessions through the gateway: the merchant API's lifecycle, isolation
and bad input; the expiry timer; and the hosted page paying exactly once however often it
is submitted, with the card number going nowhere."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from temporalio.client import Client

from launcher.platform import Platform
from services.order.checkout.workflow import expiry_workflow_id
from tests.e2e.flows import create, pay, razorpay_account, sandbox_counts, transactions, wait_for_status
from tests.e2e.test_money_core import Merchant as BooksOf
from tests.e2e.test_money_core import assert_reconciled, eventually, fault
from tests.e2e.test_outbound_webhooks import events_of
from tests.merchant.helpers import SignedUp as Merchant
from tests.merchant.helpers import aip193, client, create_api_key, signed_up, violated_fields

SUCCESS_URL = "https://shop.example/thanks?cart=7"
CANCEL_URL = "https://shop.example/cart"
CARD = "4242 4242 4242 4242"


@pytest.fixture(scope="module")
def merchant(platform: Platform) -> Iterator[Merchant]:
    with signed_up(platform) as made:
        yield made


@pytest.fixture()
def browser_like(platform: Platform) -> Iterator[httpx.Client]:
    """A customer's browser without the browser: no credentials, redirects not followed."""
    with httpx.Client(base_url=platform.gateway_url, timeout=60) as customer:
        yield customer


def open_session(rest: httpx.Client, order_id: str, **fields: Any) -> dict[str, Any]:
    body = {"orderId": order_id, "successUrl": SUCCESS_URL, "cancelUrl": CANCEL_URL, **fields}
    answer = rest.post("/v1/checkout/sessions", json=body)
    assert answer.status_code == 200, answer.text
    session: dict[str, Any] = answer.json()
    return session


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def attempt_of(page: httpx.Response) -> str:
    found = re.search(r'name="attempt" value="(\d+)"', page.text)
    assert found, page.text
    return found.group(1)


def card_form(page: httpx.Response, number: str = CARD) -> dict[str, str]:
    return {"number": number, "expiry": "12 / 34", "cvc": "123", "attempt": attempt_of(page)}


def event_about(merchant: Merchant, type_: str, object_id: str) -> dict[str, Any] | None:
    return next((e for e in events_of(merchant.dashboard, type=type_) if e["data"]["object"]["id"] == object_id), None)


def test_a_session_opens_for_a_payable_order_and_expires_on_request(platform: Platform, merchant: Merchant) -> None:
    order = create(merchant.rest, amount=1_999, currency="USD")
    session = open_session(merchant.rest, order["id"])
    assert session["id"].startswith("cs_") and session["orderId"] == order["id"]
    assert session["url"] == f"{platform.gateway_url}/checkout/{session['id']}"
    assert (session["status"], session["successUrl"], session["cancelUrl"]) == ("OPEN", SUCCESS_URL, CANCEL_URL)
    assert moment(session["expiresAt"]) - moment(session["createdAt"]) == timedelta(seconds=86_400)
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json() == session

    again = merchant.rest.post("/v1/checkout/sessions", json={"orderId": order["id"], **urls()})
    reason, body = aip193(again, 409)
    assert reason == "CHECKOUT_SESSION_ALREADY_OPEN" and session["id"] in body["message"]

    expired = merchant.rest.post(f"/v1/checkout/sessions/{session['id']}/expire", json={})
    assert expired.status_code == 200 and expired.json()["status"] == "EXPIRED", expired.text
    twice = merchant.rest.post(f"/v1/checkout/sessions/{session['id']}/expire", json={})
    assert aip193(twice, 400)[0] == "CHECKOUT_SESSION_NOT_OPEN"
    assert eventually(lambda: event_about(merchant, "checkout.session.expired", session["id"]))
    # Its page says so; a new session can be opened.
    assert httpx.get(session["url"]).status_code == 410
    assert open_session(merchant.rest, order["id"])["status"] == "OPEN"


def urls() -> dict[str, str]:
    return {"successUrl": SUCCESS_URL, "cancelUrl": CANCEL_URL}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"successUrl": "javascript:alert(1)"}, "success_url"),
        ({"cancelUrl": "ftp://shop.example/cart"}, "cancel_url"),
        ({"successUrl": "/relative"}, "success_url"),
        ({"expiresInSeconds": 1}, "expires_in_seconds"),
        ({"expiresInSeconds": 86_401}, "expires_in_seconds"),
        ({"orderId": ""}, "order_id"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(merchant: Merchant, fields: dict[str, Any], field: str) -> None:
    order = create(merchant.rest, amount=500, currency="JPY")
    answer = merchant.rest.post("/v1/checkout/sessions", json={"orderId": order["id"], **urls(), **fields})
    reason, body = aip193(answer, 400)
    assert reason == "CHECKOUT_SESSION_INVALID" and violated_fields(body) == [field]
    assert open_session(merchant.rest, order["id"])["status"] == "OPEN"  # nothing was half-written


def test_only_the_merchants_own_payable_test_mode_orders_get_a_session(
    platform: Platform, merchant: Merchant, rest: httpx.Client
) -> None:
    mine = create(merchant.rest, amount=700, currency="USD")
    session = open_session(merchant.rest, mine["id"])
    # Another merchant: 404 for the order and the session, exactly like unknown ids.
    assert (
        aip193(rest.post("/v1/checkout/sessions", json={"orderId": mine["id"], **urls()}), 404)[0] == "ORDER_NOT_FOUND"
    )
    assert aip193(rest.get(f"/v1/checkout/sessions/{session['id']}"), 404)[0] == "CHECKOUT_SESSION_NOT_FOUND"
    assert aip193(rest.post(f"/v1/checkout/sessions/{session['id']}/expire", json={}), 404)[0] == (
        "CHECKOUT_SESSION_NOT_FOUND"
    )
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "OPEN"

    paid = create(merchant.rest, amount=800, currency="USD")
    assert pay(merchant.rest, paid["id"]).json()["status"] == "SUCCEEDED"
    refused = merchant.rest.post("/v1/checkout/sessions", json={"orderId": paid["id"], **urls()})
    assert aip193(refused, 400)[0] == "ORDER_NOT_PAYABLE"
    cancelled = create(merchant.rest, amount=900, currency="USD")
    assert merchant.rest.post(f"/v1/orders/{cancelled['id']}/cancel", json={}).status_code == 200
    refused = merchant.rest.post("/v1/checkout/sessions", json={"orderId": cancelled["id"], **urls()})
    assert aip193(refused, 400)[0] == "ORDER_NOT_PAYABLE"

    live_key, _ = create_api_key(merchant.dashboard, mode="live")
    with client(platform, **{"X-API-Key": live_key}) as live:
        order = create(live, amount=1_000, currency="USD")
        answer = live.post("/v1/checkout/sessions", json={"orderId": order["id"], **urls()})
        assert aip193(answer, 400)[0] == "CHECKOUT_LIVE_MODE_UNSUPPORTED"


def test_cancelling_the_order_expires_its_open_session(merchant: Merchant) -> None:
    order = create(merchant.rest, amount=1_200, currency="USD")
    session = open_session(merchant.rest, order["id"])
    assert merchant.rest.post(f"/v1/orders/{order['id']}/cancel", json={}).status_code == 200
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "EXPIRED"


async def timer_result(platform: Platform, session_id: str) -> str:
    temporal = await Client.connect(platform.temporal_address)
    result: str = await temporal.get_workflow_handle(expiry_workflow_id(session_id)).result()
    return result


def test_the_expiry_timer_expires_an_unused_session(platform: Platform, merchant: Merchant) -> None:
    order = create(merchant.rest, amount=1_500, currency="EUR")
    session = open_session(merchant.rest, order["id"], expiresInSeconds=2)
    assert moment(session["expiresAt"]) - moment(session["createdAt"]) == timedelta(seconds=2)
    # The durable timer did it (not a check on read): its workflow says so.
    assert asyncio.run(asyncio.wait_for(timer_result(platform, session["id"]), 60)) == "expired"
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "EXPIRED"
    assert eventually(lambda: event_about(merchant, "checkout.session.expired", session["id"]))
    # The order itself is untouched and can get a new session.
    assert merchant.rest.get(f"/v1/orders/{order['id']}").json()["status"] == "CREATED"


def test_the_hosted_page_pays_once_however_often_it_is_submitted(
    platform: Platform, merchant: Merchant, browser_like: httpx.Client
) -> None:
    order = create(merchant.rest, amount=1_999, currency="USD", description="Blue mug")
    session = open_session(merchant.rest, order["id"])
    page = browser_like.get(f"/checkout/{session['id']}")
    assert page.status_code == 200, page.text
    assert "19.99 USD" in page.text and "Blue mug" in page.text and "Test Merchant" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "sk_test_" not in page.text

    form = card_form(page)
    with ThreadPoolExecutor(4) as pool:  # a quadruple click
        answers = list(pool.map(lambda _: browser_like.post(f"/checkout/{session['id']}/pay", data=form), range(4)))
    assert {a.status_code for a in answers} == {303}, [a.text for a in answers]
    outcome = browser_like.get(answers[0].headers["location"])
    assert outcome.status_code == 200 and "Payment received" in outcome.text
    assert f"{SUCCESS_URL}&amp;session_id={session['id']}" in outcome.text
    reload = browser_like.post(f"/checkout/{session['id']}/pay", data=form)  # the form posted again
    assert reload.status_code == 200 and "Payment received" in reload.text

    paid = merchant.rest.get(f"/v1/orders/{order['id']}").json()
    assert (paid["status"], paid["amountCaptured"]) == ("SUCCEEDED", 1_999)
    charges = [t for t in transactions(merchant.rest, order["id"]) if t["type"] in ("CHARGE", "AUTHORIZE")]
    assert len(charges) == 1, charges
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "COMPLETE"
    completed = eventually(lambda: event_about(merchant, "checkout.session.completed", session["id"]))
    assert completed["data"]["object"]["status"] == "COMPLETE"
    # Expiring a completed session is refused; its timer finds it closed.
    answer = merchant.rest.post(f"/v1/checkout/sessions/{session['id']}/expire", json={})
    assert aip193(answer, 400)[0] == "CHECKOUT_SESSION_NOT_OPEN"
    assert_card_number_went_nowhere(platform, "4242424242424242")


def assert_card_number_went_nowhere(platform: Platform, number: str) -> None:
    """Not in any component's log, not in any table of the database."""
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    for path in sorted(platform.log_dir.glob("*")):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert number not in text and spaced not in text, f"{path.name} holds the card number"
    with psycopg.connect(platform.database_libpq_url, autocommit=True) as db:
        tables = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 5
        for schema, table in tables:
            row = db.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE %s OR t::text LIKE %s',
                (f"%{number}%", f"%{spaced}%"),
            ).fetchone()
            assert row == (0,), f"{schema}.{table} holds the card number"


def test_a_declined_card_shows_the_reason_and_the_page_pays_with_another(
    merchant: Merchant, browser_like: httpx.Client
) -> None:
    order = create(merchant.rest, amount=2_500, currency="USD")
    session = open_session(merchant.rest, order["id"])
    page = browser_like.get(f"/checkout/{session['id']}")
    declined = browser_like.post(f"/checkout/{session['id']}/pay", data=card_form(page, "4000 0000 0000 0002"))
    back = browser_like.get(declined.headers["location"])
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{session['id']}"
    retry_page = browser_like.get(back.headers["location"])
    assert "declined" in retry_page.text and attempt_of(retry_page) != attempt_of(page)
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "OPEN"

    wrong = browser_like.post(f"/checkout/{session['id']}/pay", data=card_form(retry_page, "4242 4242 4242 4241"))
    assert wrong.status_code == 400 and "card number is not valid" in wrong.text
    paid = browser_like.post(f"/checkout/{session['id']}/pay", data=card_form(retry_page))
    assert "Payment received" in browser_like.get(paid.headers["location"]).text
    assert [t["status"] for t in transactions(merchant.rest, order["id"])][:2] == ["FAILED", "SUCCEEDED"]


def test_unknown_and_expired_pages_are_clear_pages(platform: Platform, merchant: Merchant) -> None:
    unknown = httpx.get(f"{platform.gateway_url}/checkout/cs_doesnotexist")
    assert unknown.status_code == 404 and "not valid" in unknown.text and "Traceback" not in unknown.text
    order = create(merchant.rest, amount=300, currency="USD")
    session = open_session(merchant.rest, order["id"])
    merchant.rest.post(f"/v1/checkout/sessions/{session['id']}/expire", json={})
    form = {"number": CARD, "expiry": "12/34", "cvc": "123", "attempt": "0"}
    late = httpx.post(f"{session['url']}/pay", data=form)
    assert late.status_code == 410 and "expired" in late.text
    assert merchant.rest.get(f"/v1/orders/{order['id']}").json()["status"] == "CREATED"
    cancel = httpx.get(f"{session['url']}/cancel")
    assert f"{CANCEL_URL}?session_id={session['id']}" in cancel.text


def test_a_customer_who_gives_up_while_the_processor_is_slow_and_posts_again_pays_once(
    platform: Platform, merchant: Merchant, browser_like: httpx.Client
) -> None:
    """The bank is slow; the customer's browser gives up; the web service and the order
    service (with the payment running in it) die; the customer posts the form again."""
    account = razorpay_account(platform, merchant.merchant_id)
    orders_before, captured_before = sandbox_counts(platform, account)
    order = create(merchant.rest, amount=77_700, currency="INR")
    session = open_session(merchant.rest, order["id"])
    form = card_form(browser_like.get(f"/checkout/{session['id']}"))
    # Razorpay applies the payment at once and answers 4 s later.
    fault(platform, account, "timeout_after", "/payments", 4_000)
    with pytest.raises(httpx.ReadTimeout):
        browser_like.post(f"/checkout/{session['id']}/pay", data=form, timeout=1.5)
    for component in ("web", "order", "order_worker"):
        platform.kill(component)
    for component in ("web", "order", "order_worker"):
        platform.wait_ready(component)

    again = browser_like.post(f"/checkout/{session['id']}/pay", data=form)
    assert again.status_code in (200, 303), again.text
    paid = wait_for_status(merchant.rest, order["id"])
    assert (paid["status"], paid["processor"], paid["amountCaptured"]) == ("SUCCEEDED", "razorpay", 77_700)
    assert sandbox_counts(platform, account) == (orders_before + 1, captured_before + 1)
    assert len(transactions(merchant.rest, order["id"])) == 1
    assert merchant.rest.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "COMPLETE"
    assert_reconciled(platform, BooksOf(merchant.merchant_id, merchant.rest, account))
