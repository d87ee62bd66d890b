"""The hosted checkout page in a real browser: a customer pays with a test card and lands
on the merchant's success URL; a 3-D Secure card goes to the processor's page and back; a
declined card shows the reason and another card pays; cancel returns to the merchant."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from launcher.platform import Platform
from tests.browser.shop import pay_with
from tests.e2e.flows import create, razorpay_webhooks
from tests.merchant.helpers import SignedUp as Merchant
from tests.merchant.helpers import signed_up

Shot = Callable[[Page, str], Path]


@pytest.fixture(scope="module")
def merchant(platform: Platform) -> Iterator[Merchant]:
    with signed_up(platform) as made:
        yield made


def checkout_url(rest: httpx.Client, shop: str, **order: Any) -> tuple[str, str, str]:
    """A new order's checkout page; (url, session id, order id)."""
    created = create(rest, **order)
    answer = rest.post(
        "/v1/checkout/sessions",
        json={"orderId": created["id"], "successUrl": f"{shop}/thanks", "cancelUrl": f"{shop}/cart"},
    )
    assert answer.status_code == 200, answer.text
    session = answer.json()
    return session["url"], session["id"], created["id"]


def test_a_customer_pays_and_lands_on_the_success_url(page: Page, shot: Shot, merchant: Merchant, shop: str) -> None:
    url, session_id, order_id = checkout_url(merchant.rest, shop, amount=1_999, currency="USD", description="Blue mug")
    page.goto(url)
    expect(page.get_by_text("19.99 USD", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Test Merchant")).to_be_visible()
    shot(page, "checkout-page")
    pay_with(page, "4242 4242 4242 4242")
    page.wait_for_url(f"{shop}/thanks?session_id={session_id}")
    shot(page, "checkout-success-url")
    assert merchant.rest.get(f"/v1/orders/{order_id}").json()["status"] == "SUCCEEDED"
    assert merchant.rest.get(f"/v1/checkout/sessions/{session_id}").json()["status"] == "COMPLETE"


def test_a_declined_card_shows_the_reason_and_another_card_pays(
    page: Page, shot: Shot, merchant: Merchant, shop: str
) -> None:
    url, session_id, order_id = checkout_url(merchant.rest, shop, amount=500, currency="JPY")
    page.goto(url)
    expect(page.get_by_text("500 JPY", exact=True)).to_be_visible()
    pay_with(page, "4000 0000 0000 0002")
    expect(page.get_by_role("alert")).to_contain_text("declined")
    shot(page, "checkout-declined")
    pay_with(page, "4242 4242 4242 4242")
    page.wait_for_url(f"{shop}/thanks?session_id={session_id}")
    assert merchant.rest.get(f"/v1/orders/{order_id}").json()["status"] == "SUCCEEDED"


def test_a_3d_secure_card_goes_to_the_processors_page_and_back(
    platform: Platform, page: Page, shot: Shot, merchant: Merchant, shop: str
) -> None:
    with razorpay_webhooks(platform, merchant.merchant_id, "payment.captured"):
        url, session_id, order_id = checkout_url(merchant.rest, shop, amount=42_000, currency="INR")
        page.goto(url)
        expect(page.get_by_text("420.00 INR", exact=True)).to_be_visible()
        pay_with(page, "4000 0027 6000 3184")
        page.wait_for_url(re.compile(re.escape(str(platform.razorpay_sandbox_url)) + ".*/authenticate"))
        shot(page, "checkout-3ds-processor-page")
        page.get_by_role("button", name="Authenticate", exact=True).click()
        page.wait_for_url(f"{shop}/thanks?session_id={session_id}")
    assert merchant.rest.get(f"/v1/orders/{order_id}").json()["status"] == "SUCCEEDED"


def test_cancel_returns_to_the_merchant_and_the_page_fits_a_phone(
    phone: Page, shot: Shot, merchant: Merchant, shop: str
) -> None:
    url, session_id, order_id = checkout_url(merchant.rest, shop, amount=1_250, currency="EUR")
    phone.goto(url)
    expect(phone.get_by_role("button", name="Pay 12.50 EUR")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    shot(phone, "checkout-phone")
    phone.get_by_role("link", name=re.compile("^Cancel")).click()
    phone.wait_for_url(f"{shop}/cart?session_id={session_id}")
    assert merchant.rest.get(f"/v1/orders/{order_id}").json()["status"] == "CREATED"
