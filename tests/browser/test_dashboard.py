"""The merchant dashboard in a real browser, served by the platform at /dashboard/.

A new merchant registers, creates an API key (its secret shown once), configures both
processors, adds routing rules and a webhook endpoint; orders created and paid with the key
over REST show in the order list (filters, pages) and in their detail with transactions and
routing decisions; a refund and a checkout link are made from the detail page; the webhook
deliveries show their attempts and replay; analytics count the payment. The same pages work
on a phone-sized screen, and a second merchant sees none of it. Every page is screenshotted."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from launcher.platform import Platform
from tests.browser.shop import pay_with
from tests.e2e.flows import DECLINED, create, pay
from tests.merchant.helpers import new_email, new_password, razorpay_credentials, remember, stripe_credentials
from tests.webhook.receiver import Receiver, running_receiver

Shot = Callable[[Page, str], Path]

SESSION_KEY = "payloops.dashboard.session"
# Path under /dashboard/ -> the page's main heading.
PAGES = {
    "orders": "Orders",
    "analytics": "Analytics",
    "api-keys": "API keys",
    "processors": "Processors",
    "routing-rules": "Routing rules",
    "webhooks": "Webhook endpoints",
    "webhooks/deliveries": "Webhook deliveries",
}


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture()
def dashboard(platform: Platform) -> str:
    url = f"{platform.gateway_url}/dashboard"
    answer = httpx.get(f"{url}/", timeout=30)
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"], (
        f"the platform does not serve the dashboard ({answer.status_code}): build it with `npm ci && npm run build`"
        " in dashboard/"
    )
    return url


class BrowserProblems:
    """Uncaught script errors and Content-Security-Policy violations on a page."""

    def __init__(self, page: Page) -> None:
        self.found: list[str] = []
        page.on("pageerror", lambda error: self.found.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"CSP: {message.text}")

    def assert_none(self) -> None:
        assert not self.found, self.found


def heading(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", name=name, exact=True, level=1)


def session_token(page: Page) -> str:
    stored = page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')")
    assert stored, "no session in sessionStorage"
    token: str = json.loads(stored)["token"]
    remember(token)
    return token


def register(page: Page, dashboard: str, name: str) -> tuple[str, str]:
    email, password = new_email(), new_password()
    page.goto(f"{dashboard}/")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your merchant account")).to_be_visible()
    page.get_by_label("Business name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("Password1234")  # long enough, but common
    page.get_by_role("button", name="Create account").click()
    # The API's AIP-193 answer, shown as its message.
    expect(page.get_by_role("alert")).to_contain_text("password")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard/orders$"))
    expect(heading(page, "Orders")).to_be_visible()
    expect(page.get_by_test_id("merchant-name")).to_contain_text(name)
    session_token(page)
    return email, password


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def refresh_until(page: Page, locator: Locator, text: str, seconds: float = 60) -> None:
    """Presses the page's Refresh button until `locator` shows `text` (server-side work)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            expect(locator).to_contain_text(text, timeout=2_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.get_by_role("button", name="Refresh").click()


def fits_the_screen(page: Page) -> None:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    viewport: int = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px screen"


def create_api_key(page: Page, name: str) -> str:
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("secret-value")
    expect(secret).to_have_text(re.compile(r"^sk_test_\S+$"))
    value = secret.inner_text().strip()
    remember(value)
    return value


def set_processor(page: Page, processor: str, credentials: dict[str, str], *, button: str) -> Locator:
    section = page.get_by_role("region", name=processor.capitalize(), exact=True)
    section.get_by_role("button", name=button).click()
    labels = {
        "secretKey": "Secret key",
        "webhookSecret": "Webhook secret",
        "keyId": "Key ID",
        "keySecret": "Key secret",
    }
    for name, value in credentials.items():
        section.get_by_label(labels[name]).fill(value)
    section.get_by_role("button", name=f"Save {processor.capitalize()}").click()
    expect(section.get_by_role("button", name=re.compile(f"^Save {processor.capitalize()}"))).to_have_count(0)
    return section


def test_a_merchant_runs_its_business_from_the_dashboard(
    page: Page, phone: Page, platform: Platform, dashboard: str, shot: Shot, receiver: Receiver, shop: str
) -> None:
    problems = BrowserProblems(page)

    # -- register (an AIP-193 error first, shown as its message) ---------------------------
    page.goto(f"{dashboard}/")
    expect(page.get_by_role("heading", name="Log in to your dashboard")).to_be_visible()
    shot(page, "dashboard-login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your merchant account")).to_be_visible()
    shot(page, "dashboard-register")
    email, password = register(page, dashboard, "Dashboard Shop")
    token = session_token(page)
    assert page.evaluate("localStorage.length") == 0, "the session must not be kept in localStorage"

    # -- API keys: the secret once, with a copy button; list; revoke ---------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(heading(page, "API keys")).to_be_visible()
    api_key = create_api_key(page, "server")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=platform.gateway_url)
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == api_key
    shot(page, "dashboard-api-keys-secret")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("secret-value")).to_have_count(0)
    doomed = create_api_key(page, "to revoke")
    page.get_by_role("button", name="Done").click()
    keys = page.get_by_role("table", name="API keys")
    expect(keys.get_by_role("row")).to_have_count(3)  # the header and two keys
    assert api_key not in page.content() and doomed not in page.content(), "a secret is shown again"
    row = keys.get_by_role("row").filter(has_text="to revoke")
    row.get_by_role("button", name=re.compile(r"^Revoke ")).click()
    row.get_by_role("button", name=re.compile(r"^Confirm revoke ")).click()
    expect(row).to_contain_text("Revoked")
    expect(keys.get_by_role("row").filter(has_text="server")).to_contain_text("Active")
    shot(page, "dashboard-api-keys")
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as anonymous:
        assert anonymous.get("/v1/orders", headers={"X-API-Key": doomed}).status_code == 401
        assert anonymous.get("/v1/orders", headers={"X-API-Key": api_key}).status_code == 200

    # -- processors: credentials in, masked out; disable and enable ----------------------
    page.get_by_role("link", name="Processors").click()
    expect(heading(page, "Processors")).to_be_visible()
    stripe_section = page.get_by_role("region", name="Stripe", exact=True)
    expect(stripe_section).to_contain_text("Not configured")
    stripe_section.get_by_role("button", name="Enter credentials").click()
    stripe_section.get_by_label("Secret key").fill("not-a-stripe-key")
    stripe_section.get_by_label("Webhook secret").fill("whsec_x")
    stripe_section.get_by_role("button", name="Save Stripe").click()
    expect(stripe_section.get_by_role("alert")).to_contain_text("must start with")
    stripe_section.get_by_role("button", name="Cancel").click()
    stripe = stripe_credentials()
    razorpay = razorpay_credentials()
    stripe_section = set_processor(page, "stripe", stripe, button="Enter credentials")
    expect(stripe_section.get_by_test_id("masked-stripe-secretKey")).to_contain_text(stripe["secretKey"][-4:])
    razorpay_section = set_processor(page, "razorpay", razorpay, button="Enter credentials")
    expect(razorpay_section.get_by_test_id("masked-razorpay-keySecret")).to_contain_text(razorpay["keySecret"][-4:])
    expect(razorpay_section).to_contain_text("Enabled")
    set_processor(page, "razorpay", razorpay, button="Disable")
    expect(razorpay_section).to_contain_text("Disabled")
    set_processor(page, "razorpay", razorpay, button="Enable")
    expect(razorpay_section).to_contain_text("Enabled")
    expect(stripe_section).to_contain_text("Enabled")
    for secret in (stripe["secretKey"], stripe["webhookSecret"], razorpay["keySecret"], razorpay["webhookSecret"]):
        assert secret not in page.content(), "a processor credential is shown after saving"
    shot(page, "dashboard-processors")

    # -- routing rules: single, priority list and split; delete ----------------------------
    page.get_by_role("link", name="Routing rules").click()
    expect(heading(page, "Routing rules")).to_be_visible()
    form = page.get_by_role("form", name="New routing rule")
    form.get_by_label("Priority", exact=True).fill("10")
    form.get_by_label("Currency").fill("eur")
    form.get_by_label("Volume split").check()
    form.get_by_label("Weight of stripe").fill("70")
    form.get_by_label("Weight of razorpay").fill("30")
    form.get_by_role("button", name="Create rule").click()
    rules = page.get_by_test_id("routing-rule")
    expect(rules).to_have_count(1)
    expect(rules.first).to_contain_text("currency is EUR")
    expect(rules.first).to_contain_text("stripe 70%, razorpay 30%")
    form.get_by_label("Priority", exact=True).fill("20")
    form.get_by_label("Amount at least").fill("1000000")
    form.get_by_label("Priority list").check()
    form.get_by_role("button", name="Move razorpay up").click()
    form.get_by_role("button", name="Create rule").click()
    expect(rules).to_have_count(2)
    expect(rules.nth(1)).to_contain_text("In order: razorpay → stripe")
    form.get_by_label("Priority", exact=True).fill("30")
    form.get_by_label("Payment method").select_option("upi")
    form.get_by_label("Single processor").check()
    form.get_by_role("combobox", name=re.compile(r"^Processor")).select_option("razorpay")
    form.get_by_role("button", name="Create rule").click()
    expect(rules).to_have_count(3)
    expect(rules.nth(2)).to_contain_text("payment method is upi")
    expect(rules.nth(2)).to_contain_text("Always razorpay")
    form.get_by_label("Priority", exact=True).fill("40")
    form.get_by_label("Currency").fill("jpy")
    form.get_by_label("Success rate").check()
    form.get_by_label("Exploration %").fill("10")
    form.get_by_label("Minimum samples").fill("5")
    form.get_by_role("button", name="Create rule").click()
    expect(rules).to_have_count(4)
    expect(rules.nth(3)).to_contain_text("currency is JPY")
    expect(rules.nth(3)).to_contain_text("Best success rate among stripe, razorpay (10% exploration, min 5 samples)")
    form.get_by_label("Currency").fill("zzz")
    form.get_by_role("button", name="Create rule").click()
    expect(form.get_by_role("alert")).to_contain_text("ISO 4217")  # the API's 400, as its message
    rules.first.get_by_role("button", name=re.compile(r"^Delete ")).click()
    rules.first.get_by_role("button", name=re.compile(r"^Confirm delete ")).click()
    expect(rules).to_have_count(3)
    expect(rules.first).to_contain_text("In order: razorpay → stripe")
    shot(page, "dashboard-routing-rules")

    # -- webhook endpoints: the secret once; delete ---------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhook endpoints").click()
    expect(heading(page, "Webhook endpoints")).to_be_visible()
    for path in ("/ok", "/spare"):
        page.get_by_label("Endpoint URL").fill(f"{receiver.base_url}{path}")
        page.get_by_role("button", name="Add endpoint").click()
        signing = page.get_by_test_id("secret-value")
        expect(signing).to_have_text(re.compile(r"^whsec_\S+$"))
        remember(signing.inner_text().strip())
        page.get_by_role("button", name="Done").click()
    endpoints = page.get_by_test_id("webhook-endpoint")
    expect(endpoints).to_have_count(2)
    spare = endpoints.filter(has_text="/spare")
    spare.get_by_role("button", name=re.compile(r"^Delete ")).click()
    spare.get_by_role("button", name=re.compile(r"^Confirm delete ")).click()
    expect(endpoints).to_have_count(1)
    expect(endpoints.first).to_contain_text(f"{receiver.base_url}/ok")
    shot(page, "dashboard-webhooks")

    # -- orders over REST with the new key: one paid, one declined, twenty unpaid ---------
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": api_key}, timeout=60) as rest:
        paid: dict[str, Any] = create(rest, customerEmail="buyer@example.com", description="Paid in the test")
        assert pay(rest, paid["id"]).json()["status"] == "SUCCEEDED"
        declined: dict[str, Any] = create(rest, description="Declined in the test")
        assert pay(rest, declined["id"], DECLINED).json()["status"] == "FAILED"
        unpaid = [create(rest, description=f"Unpaid {n}") for n in range(19)]

    page.get_by_role("link", name="Orders", exact=True).click()
    table = page.get_by_role("table", name="Orders")
    expect(table.get_by_role("row")).to_have_count(21)  # the header and a page of 20
    expect(table).not_to_contain_text(paid["id"])
    page.get_by_role("button", name="Next page").click()
    expect(page).to_have_url(re.compile(r"pageToken="))
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text(paid["id"])
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(table.get_by_role("row")).to_have_count(21)
    page.get_by_label("Status").select_option("FAILED")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text(declined["id"])
    page.get_by_label("Status").select_option("SUCCEEDED")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("19.99 USD")
    shot(page, "dashboard-orders")

    # -- order detail: transactions with routing decisions; refund -----------------------
    table.get_by_role("link", name=paid["id"]).click()
    expect(heading(page, f"Order {paid['id']}")).to_be_visible()
    expect(page.get_by_test_id("order-amount")).to_have_text("19.99 USD")
    transactions = page.get_by_test_id("transaction")
    expect(transactions).to_have_count(1)
    expect(transactions.first).to_contain_text("Charge")
    expect(transactions.first).to_contain_text("Succeeded")
    expect(transactions.first).to_contain_text("via stripe")
    expect(transactions.first.get_by_test_id("routing-decision")).to_contain_text("Default")
    expect(page.get_by_role("region", name="Checkout link")).to_contain_text("Only an unpaid order")
    shot(page, "dashboard-order")
    refund = page.get_by_role("region", name="Refund", exact=True)
    refund.get_by_label("Amount (USD)").fill("5")
    refund.get_by_label("Reason").fill("Damaged in transit")
    refund.get_by_role("button", name="Refund", exact=True).click()
    expect(refund.get_by_role("status")).to_contain_text("5.00 USD")
    expect(page.get_by_test_id("order-refunded")).to_have_text("5.00 USD")
    expect(transactions).to_have_count(2)
    expect(transactions.nth(1)).to_contain_text("Refund")
    expect(refund).to_contain_text("Up to 14.99 USD can be refunded")
    refund.get_by_label("Amount (USD)").fill("100")
    refund.get_by_role("button", name="Refund", exact=True).click()
    expect(refund.get_by_role("alert")).to_contain_text(re.compile(r"refund", re.IGNORECASE))
    shot(page, "dashboard-order-refunded")
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": api_key}, timeout=30) as rest:
        assert rest.get(f"/v1/orders/{paid['id']}").json()["amountRefunded"] == 500

    # -- a checkout link for an unpaid order (a reload keeps the session) ----------------
    page.goto(f"{dashboard}/orders/{unpaid[0]['id']}")
    expect(heading(page, f"Order {unpaid[0]['id']}")).to_be_visible()
    expect(page.get_by_test_id("transaction")).to_have_count(0)
    checkout = page.get_by_role("region", name="Checkout link")
    checkout.get_by_label("Success URL").fill(f"{shop}/paid")
    checkout.get_by_label("Cancel URL").fill(f"{shop}/cart")
    checkout.get_by_role("button", name="Create checkout link").click()
    link = page.get_by_test_id("checkout-url")
    expect(link).to_have_text(re.compile(r"^https?://\S+$"))
    checkout_url = link.inner_text().strip()
    shot(page, "dashboard-checkout-link")

    # -- webhook deliveries: attempts; replay ----------------------------------------------
    page.get_by_role("link", name="Webhook deliveries").click()
    expect(heading(page, "Webhook deliveries")).to_be_visible()
    events = page.get_by_test_id("webhook-event")
    succeeded = events.filter(has_text="order.succeeded")
    refresh_until(page, succeeded, "HTTP 200")
    refresh_until(page, events.filter(has_text="refund.succeeded"), "HTTP 200")
    expect(events.filter(has_text="order.failed")).to_have_count(1)
    succeeded.get_by_role("button", name=re.compile(r"^Replay to every endpoint")).click()
    expect(page.get_by_role("status").filter(has_text="sent again")).to_contain_text("1 new delivery")
    refresh_until(page, succeeded.get_by_test_id("webhook-delivery").nth(1), "HTTP 200")
    page.get_by_label("Event type").select_option("refund.succeeded")
    expect(events).to_have_count(1)
    shot(page, "dashboard-webhook-deliveries")
    bodies = [r.body for r in receiver.answered("/ok") if b'"order.succeeded"' in r.body]
    assert len(bodies) == 2 and all(paid["id"].encode() in body for body in bodies)

    # -- analytics: the payment, the decline, the refund -----------------------------------
    page.get_by_role("link", name="Analytics").click()
    expect(heading(page, "Analytics")).to_be_visible()
    expect(page.get_by_test_id("stat-orders")).to_contain_text("21")
    expect(page.get_by_test_id("stat-paid")).to_contain_text("1")
    expect(page.get_by_test_id("stat-captured")).to_contain_text("19.99 USD")
    expect(page.get_by_test_id("stat-refunds")).to_contain_text("5.00 USD")
    by_processor = page.get_by_role("region", name="By processor")
    expect(by_processor.get_by_role("img", name="stripe: 50%")).to_be_visible()
    expect(by_processor).to_contain_text("1 of 2")
    expect(by_processor.get_by_role("img", name="stripe: 19.99 USD")).to_be_visible()
    expect(page.get_by_role("region", name="Failure reasons")).to_contain_text("card_declined")
    expect(page.get_by_role("region", name="Per day").get_by_role("img").first).to_be_visible()
    expect(page.get_by_role("table", name="By currency")).to_contain_text("USD")
    shot(page, "dashboard-analytics")

    # -- logout forgets the session; a login comes back to where it was asked for ---------
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is None
    assert page.evaluate("localStorage.length") == 0
    page.goto(f"{dashboard}/analytics")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=%2Fdashboard%2Fanalytics"))
    log_in(page, email, "not-the-password-123")
    expect(page.get_by_role("alert")).to_be_visible()
    log_in(page, email, password)
    expect(heading(page, "Analytics")).to_be_visible()
    assert session_token(page) != token
    problems.assert_none()

    # -- the customer pays through the checkout link and lands on the success URL ---------
    customer = page.context.new_page()
    customer.goto(checkout_url)
    expect(customer.get_by_text("19.99 USD", exact=True)).to_be_visible()
    pay_with(customer, "4242 4242 4242 4242")
    customer.wait_for_url(re.compile(re.escape(f"{shop}/paid?session_id=cs_")))
    customer.close()
    page.goto(f"{dashboard}/orders/{unpaid[0]['id']}")
    expect(page.get_by_test_id("transaction")).to_have_count(1)
    expect(page.get_by_test_id("transaction")).to_contain_text("Succeeded")

    # -- the same merchant on a phone ------------------------------------------------------
    on_phone = BrowserProblems(phone)
    phone.goto(f"{dashboard}/orders")
    log_in(phone, email, password)
    expect(heading(phone, "Orders")).to_be_visible()
    expect(phone.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics")).to_be_hidden()
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(heading(phone, "Analytics")).to_be_visible()
    expect(phone.get_by_test_id("stat-orders")).to_contain_text("21")
    for path, title in PAGES.items():
        phone.goto(f"{dashboard}/{path}")
        expect(heading(phone, title)).to_be_visible()
        expect(phone.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        fits_the_screen(phone)
        shot(phone, f"dashboard-{path.replace('/', '-')}-phone")
    phone.goto(f"{dashboard}/orders/{paid['id']}")
    expect(phone.get_by_test_id("transaction")).to_have_count(2)
    fits_the_screen(phone)
    shot(phone, "dashboard-order-phone")
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("button", name="Log out").click()
    expect(phone).to_have_url(re.compile(r"/dashboard/login"))

    # -- a second merchant sees none of it -------------------------------------------------
    register(phone, dashboard, "Second Shop")
    expect(phone.get_by_text("No orders yet")).to_be_visible()
    phone.goto(f"{dashboard}/orders/{paid['id']}")
    expect(phone.get_by_role("alert").first).to_contain_text("not found")
    expect(phone.get_by_test_id("order-amount")).to_have_count(0)
    phone.goto(f"{dashboard}/api-keys")
    expect(phone.get_by_text("No keys yet.")).to_be_visible()
    phone.goto(f"{dashboard}/processors")
    expect(phone.get_by_text("Not configured", exact=True)).to_have_count(2)
    phone.goto(f"{dashboard}/routing-rules")
    expect(phone.get_by_text("No rules: the default routing applies.")).to_be_visible()
    phone.goto(f"{dashboard}/webhooks")
    expect(phone.get_by_text("No endpoints yet.")).to_be_visible()
    phone.goto(f"{dashboard}/webhooks/deliveries")
    expect(phone.get_by_text("No events.")).to_be_visible()
    phone.goto(f"{dashboard}/analytics")
    expect(phone.get_by_test_id("stat-orders")).to_contain_text("0")
    expect(phone.get_by_text("No payment attempts in this range.")).to_be_visible()
    shot(phone, "dashboard-analytics-second-merchant")
    on_phone.assert_none()


def test_without_a_valid_session_every_page_goes_to_login(page: Page, dashboard: str) -> None:
    problems = BrowserProblems(page)
    for path in PAGES:
        page.goto(f"{dashboard}/{path}")
        expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
        expect(page.get_by_role("heading", name="Log in to your dashboard")).to_be_visible()
    # A token the API refuses (401): the session is dropped and the login page shown.
    refused = json.dumps({"token": "not-a-jwt", "expiresAt": "2999-01-01T00:00:00Z"})
    page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [SESSION_KEY, refused])
    page.goto(f"{dashboard}/api-keys")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=%2Fdashboard%2Fapi-keys"))
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is None
    problems.assert_none()
