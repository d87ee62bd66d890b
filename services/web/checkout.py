"""The hosted checkout's routes: the page, its payment, the customer's return (from the
payment or from their bank) and cancel. Every call goes to the order service, acting on
nothing but the session in the URL; the page never sees an API key."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

import grpc
from aiohttp import web
from payloops.merchant.v1 import merchant_internal_service_pb2 as merchant_pb
from payloops.order.v1 import order_internal_service_pb2 as pb
from payloops.order.v1 import order_pb2

from services.common.errors import reason_of
from services.common.money import format_amount
from services.order.checkout.domain import is_web_url
from services.web import pages
from services.web.cards import CardProblem, card_token

if TYPE_CHECKING:  # the async stub types exist in the type stubs only
    from payloops.merchant.v1.merchant_internal_service_pb2_grpc import MerchantInternalServiceAsyncStub
    from payloops.order.v1.order_internal_service_pb2_grpc import OrderInternalServiceAsyncStub

log = logging.getLogger("payloops.web.checkout")
Status = order_pb2.Order.Status
Session = order_pb2.CheckoutSession.Status
PAID = {Status.SUCCEEDED, Status.AUTHORIZED, Status.PARTIALLY_REFUNDED, Status.REFUNDED}
PENDING = {Status.PROCESSING, Status.REQUIRES_ACTION}
POLL_SECONDS = 0.25


def with_session_id(url: str, session_id: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"session_id": session_id})) if q)
    return urlunsplit(parts._replace(query=query))


class Checkout:
    def __init__(
        self,
        orders: OrderInternalServiceAsyncStub,
        merchants: MerchantInternalServiceAsyncStub,
        *,
        return_wait_seconds: float,
        call_timeout: float,
    ) -> None:
        self.orders = orders
        self.merchants = merchants
        self.return_wait_seconds = return_wait_seconds
        self.call_timeout = call_timeout

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/checkout/{session_id}", self.show),
            web.post("/checkout/{session_id}/pay", self.pay),
            web.get("/checkout/{session_id}/return", self.come_back),
            web.get("/checkout/{session_id}/cancel", self.cancel),
        ]

    async def load(self, session_id: str) -> pb.GetCheckoutPageResponse:
        request = pb.GetCheckoutPageRequest(session_id=session_id)
        return await self.orders.GetCheckoutPage(request, timeout=self.call_timeout)

    async def form(
        self, found: pb.GetCheckoutPageResponse, *, error: str = "", error_field: str = ""
    ) -> pages.PaymentForm:
        order = found.order
        profile = await self.merchants.GetMerchantProfile(
            merchant_pb.GetMerchantProfileRequest(merchant_id=order.merchant_id), timeout=self.call_timeout
        )
        if not error and order.status == Status.FAILED:
            reason = (order.failure_message or order.failure_code).rstrip(".")
            error = f"The payment was declined: {reason}. Try another card."
        return pages.PaymentForm(
            session_id=found.session.id,
            merchant=profile.name,
            amount=format_amount(order.amount, order.currency),
            description=order.description,
            attempt=found.attempt,
            error=error,
            error_field=error_field,
        )

    async def show(self, request: web.Request) -> web.StreamResponse:
        found = await self.load(request.match_info["session_id"])
        if closed := self.closed(found):
            return closed
        if found.order.status in PENDING:
            raise web.HTTPSeeOther(f"/checkout/{found.session.id}/return")
        return pages.payment_form(await self.form(found))

    def closed(self, found: pb.GetCheckoutPageResponse) -> web.StreamResponse | None:
        """The page for a session that takes no payment any more, None for an open one."""
        session = found.session
        if session.status == Session.COMPLETE or found.order.status in PAID:
            return pages.leave_for(
                with_session_id(session.success_url, session.id), "Payment received", "Thank you: you have paid."
            )
        expired = session.expire_time.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)
        if session.status == Session.EXPIRED or expired:
            return pages.notice(
                "This checkout link has expired", "Ask the merchant for a new payment link.", status=410
            )
        return None

    async def pay(self, request: web.Request) -> web.StreamResponse:
        session_id = request.match_info["session_id"]
        form = await request.post()
        found = await self.load(session_id)
        if closed := self.closed(found):
            return closed
        try:
            token = card_token(
                str(form.get("number", "")),
                str(form.get("expiry", "")),
                str(form.get("cvc", "")),
                today=datetime.now(UTC).date(),
            )
        except CardProblem as problem:
            return pages.payment_form(
                await self.form(found, error=problem.message, error_field=problem.field), status=400
            )
        attempt = str(form.get("attempt", ""))
        paying = pb.PayCheckoutSessionRequest(
            session_id=session_id,
            payment_method=order_pb2.PaymentMethod(type="card", token=token),
            attempt=int(attempt) if attempt.isdigit() else found.attempt,
            return_url=f"{found.session.url}/return?authenticated=1",
        )
        try:
            await self.orders.PayCheckoutSession(paying, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            if reason_of(error) != "ORDER_NOT_PAYABLE":  # paid or paying meanwhile: show it
                raise
        raise web.HTTPSeeOther(f"/checkout/{session_id}/return")

    async def come_back(self, request: web.Request) -> web.StreamResponse:
        """Where the customer lands after paying, and after their bank: the outcome, once
        there is one (waiting a little for it, then a page that checks again)."""
        session_id = request.match_info["session_id"]
        from_bank = request.query.get("authenticated") == "1"
        found = await self.settled(session_id, from_bank=from_bank)
        if closed := self.closed(found):
            return closed
        order = found.order
        if order.status == Status.REQUIRES_ACTION and not from_bank and is_web_url(order.next_action.redirect_url):
            return pages.leave_for(
                order.next_action.redirect_url, "Your bank needs to confirm this payment", "Taking you to your bank."
            )
        if order.status in PENDING:
            again = f"/checkout/{session_id}/return" + ("?authenticated=1" if from_bank else "")
            return pages.waiting(
                "We are waiting for your payment to be confirmed. This page checks again by itself.", again
            )
        raise web.HTTPSeeOther(f"/checkout/{session_id}")

    async def settled(self, session_id: str, *, from_bank: bool) -> pb.GetCheckoutPageResponse:
        deadline = time.monotonic() + self.return_wait_seconds
        while True:
            found = await self.load(session_id)
            status = found.order.status
            waiting = status == Status.PROCESSING or (from_bank and status == Status.REQUIRES_ACTION)
            if not waiting or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(POLL_SECONDS)

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        found = await self.load(request.match_info["session_id"])
        session = found.session
        return pages.leave_for(
            with_session_id(session.cancel_url, session.id), "Payment cancelled", "Taking you back to the merchant."
        )
