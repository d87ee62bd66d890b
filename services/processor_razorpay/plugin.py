"""Razorpay through its official SDK (synchronous: run in a thread pool of our own), one
`razorpay.Client` per call with the merchant's key, sharing one HTTP session; every call
has a timeout and the SDK's retries stay off (the payment workflow owns retries).

Flow: an order (`order.create`, receipt derived from the idempotency key), then an S2S
payment on it with the token (`payment.createPaymentJson`), then a capture when asked and
only authorized. Razorpay's advice after a timed-out payment call is followed: fetch the
order's payments first, then retry on the same order (a paid order refuses a second payment;
"Order has been already paid" means "look at the order", not failure). A first confirm of
an order the caller has just prepared (`newly_prepared`) has nothing to look for and pays.

Razorpay has no void: an authorization that is never captured is released (refunded) by
Razorpay itself, so Void checks the payment is uncaptured and answers VOIDED.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import razorpay
import requests
from razorpay.errors import SignatureVerificationError
from requests.adapters import HTTPAdapter

from services.processor_common import keys
from services.processor_common.blocking import BlockingCalls
from services.processor_common.model import (
    NO_PAYMENT,
    CaptureRequest,
    Credentials,
    PaymentLookup,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProcessorEvent,
    RefundRequest,
    RefundResult,
    VoidRequest,
    WebhookRequest,
    most_relevant,
)
from services.processor_common.plugin import (
    InvalidRequest,
    OutcomeUnknown,
    ProcessorPlugin,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    credential,
)
from services.processor_razorpay import transformers as wire
from services.processor_razorpay.config import Settings

Json = Mapping[str, Any]


def _session(pool_size: int) -> requests.Session:
    session = requests.Session()
    # Shared by every merchant: never carry a cookie from one merchant's answer to another's call.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RazorpayPlugin(ProcessorPlugin):
    id = "razorpay"
    finds_payments_by_order_id = False  # Razorpay cannot search orders by our notes

    def __init__(self, base_url: str, *, connect_timeout: float, timeout: float, max_concurrency: int = 16) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, timeout)
        self.session = _session(max_concurrency)
        self.blocking = BlockingCalls(max_concurrency, "razorpay")

    @classmethod
    def from_settings(cls, settings: Settings) -> RazorpayPlugin:
        return cls(
            settings.razorpay_base_url,
            connect_timeout=settings.processor_connect_timeout_seconds,
            timeout=settings.processor_timeout_seconds,
            max_concurrency=settings.razorpay_max_concurrency,
        )

    async def close(self) -> None:
        self.blocking.close()
        self.session.close()

    def _client(self, credentials: Credentials) -> razorpay.Client:
        auth = (credential(credentials, "keyId", self.id), credential(credentials, "keySecret", self.id))
        return razorpay.Client(session=self.session, auth=auth, base_url=self.base_url)

    async def _call(self, method: Callable[..., Any], *args: Any, **options: Any) -> Json:
        """One SDK call (always with our timeout); failures as the taxonomy."""
        try:
            answer: Json = await self.blocking.run(method, *args, timeout=self.timeout, **options)
        except Exception as error:
            mapped = wire.error_for(error)
            if mapped is None:
                raise
            raise mapped from None
        return answer

    async def _payments(self, client: razorpay.Client, order_id: str) -> list[Json]:
        """The order's payments, newest first."""
        return wire.items(await self._call(client.order.payments, order_id))

    async def _order_id(self, client: razorpay.Client, reference: str) -> str:
        if reference.startswith(wire.PAYMENT_PREFIX):
            return str((await self._call(client.payment.fetch, reference))["order_id"])
        if reference.startswith(wire.ORDER_PREFIX):
            return reference
        raise InvalidRequest(message=f"{reference!r} is not a Razorpay order or payment id")

    async def _payment(self, client: razorpay.Client, reference: str) -> Json:
        """The payment a reference names; for an order, its authorized or captured one."""
        if reference.startswith(wire.PAYMENT_PREFIX):
            return await self._call(client.payment.fetch, reference)
        settled = wire.settled_payment(await self._payments(client, await self._order_id(client, reference)))
        if settled is None:
            raise InvalidRequest(message=f"Razorpay order {reference} has no authorized payment")
        return settled

    # -- payments

    async def _create_order(self, client: razorpay.Client, request: PaymentRequest) -> str:
        return str((await self._call(client.order.create, wire.order_params(request)))["id"])

    async def prepare(self, request: PaymentRequest, credentials: Credentials) -> str:
        return await self._create_order(self._client(credentials), request)

    async def authorize(self, request: PaymentRequest, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        if not request.existing_reference:
            return await self._pay(client, await self._create_order(client, request), request, known=())
        if request.newly_prepared and request.existing_reference.startswith(wire.ORDER_PREFIX):
            # Our own prepare made this order for this payment, and nobody has paid on it.
            return await self._pay(client, request.existing_reference, request, known=())
        order_id = await self._order_id(client, request.existing_reference)
        if not wire.same_payment(await self._call(client.order.fetch, order_id), request):
            raise InvalidRequest(message="existing_reference is a Razorpay order of another payment")
        payments = await self._payments(client, order_id)
        decided = wire.resumable_outcome(payments)
        if decided is not None:
            return await self._finish(client, decided, request)
        return await self._pay(client, order_id, request, known=[str(p["id"]) for p in payments])

    async def _pay(
        self, client: razorpay.Client, order_id: str, request: PaymentRequest, known: Sequence[str]
    ) -> PaymentResult:
        try:
            answer = await self._call(client.payment.createPaymentJson, wire.payment_params(request, order_id))
        except InvalidRequest as error:
            # The SDK keeps only the description: the decline's reason is on the order's payments.
            payments = await self._payments(client, order_id)
            if wire.refusal(error) == wire.ORDER_ALREADY_PAID and (paid := wire.settled_payment(payments)):
                return await self._finish(client, paid, request)
            failed = wire.new_failure(payments, known)
            if failed is None:
                raise
            return wire.payment_result(failed)
        if answer.get("next"):
            return wire.action_result(answer, request)
        return await self._finish(
            client, await self._call(client.payment.fetch, answer["razorpay_payment_id"]), request
        )

    async def _finish(self, client: razorpay.Client, payment: Json, request: PaymentRequest) -> PaymentResult:
        """Capture when asked and the payment is only authorized."""
        if request.capture and payment.get("status") == "authorized":
            payment = await self._capture(client, payment, payment["currency"])
        return wire.payment_result(payment)

    async def _capture(self, client: razorpay.Client, payment: Json, currency: str) -> Json:
        """Capture the whole authorized amount (Razorpay captures nothing less)."""
        try:
            return await self._call(client.payment.capture, payment["id"], payment["amount"], {"currency": currency})
        except InvalidRequest as error:
            if wire.refusal(error) != wire.ALREADY_CAPTURED:
                raise
            return await self._call(client.payment.fetch, payment["id"])

    async def capture(self, request: CaptureRequest, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        payment = await self._payment(client, request.reference)
        if payment.get("status") != "authorized":
            if payment.get("captured"):
                return wire.payment_result(payment)  # an earlier try captured it
            raise InvalidRequest(message=f"a {payment.get('status')} Razorpay payment cannot be captured")
        if request.amount and request.amount != payment["amount"]:
            raise InvalidRequest(message="Razorpay captures the whole authorized amount only")
        captured = await self._capture(client, payment, request.currency or payment["currency"])
        return wire.payment_result(captured)

    async def void(self, request: VoidRequest, credentials: Credentials) -> PaymentResult:
        """Razorpay cannot cancel: an uncaptured payment (or an order nobody paid) is left to
        lapse, which Razorpay does itself, and answered VOIDED; a captured one answers its
        state (refund it)."""
        current = await self.get_payment(PaymentLookup(reference=request.reference), credentials)
        if current.status in (PaymentStatus.CAPTURED, PaymentStatus.FAILED, PaymentStatus.VOIDED):
            return current
        return PaymentResult(
            status=PaymentStatus.VOIDED,
            reference=current.reference or request.reference,
            amount=current.amount,
            processor_status=current.processor_status,
        )

    async def get_payment(self, lookup: PaymentLookup, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        try:
            if lookup.reference.startswith(wire.PAYMENT_PREFIX):
                return wire.payment_result(await self._call(client.payment.fetch, lookup.reference))
            order_id = await self._order_id(client, lookup.reference)
            payments = await self._payments(client, order_id)
            if not payments:
                return wire.order_result(await self._call(client.order.fetch, order_id))
        except InvalidRequest as error:
            if wire.refusal(error) == wire.ID_NOT_FOUND:
                return NO_PAYMENT
            raise
        return most_relevant([wire.payment_result(p) for p in payments])

    async def list_payments(
        self, order_id: str, references: Sequence[str], credentials: Credentials
    ) -> list[PaymentResult]:
        """Razorpay cannot search by our order id: every payment of the Razorpay orders that
        the references are (or that their payments belong to)."""
        client = self._client(credentials)
        payments: dict[str, Json] = {}
        for reference in references:
            try:
                order = reference
                if reference.startswith(wire.PAYMENT_PREFIX):
                    payment = await self._call(client.payment.fetch, reference)
                    payments[str(payment["id"])] = payment
                    order = str(payment.get("order_id") or "")
                if order.startswith(wire.ORDER_PREFIX):
                    payments.update({str(p["id"]): p for p in await self._payments(client, order)})
            except InvalidRequest as error:
                if wire.refusal(error) != wire.ID_NOT_FOUND:
                    raise
        return [
            dataclasses.replace(wire.payment_result(p), amount_refunded=int(p.get("amount_refunded") or 0))
            for p in payments.values()
        ]

    # -- refunds

    async def refund(self, request: RefundRequest, credentials: Credentials) -> RefundResult:
        client = self._client(credentials)
        payment = await self._payment(client, request.reference)
        params = wire.refund_params(request, wire.notes(payment).get(keys.ORDER_ID, ""))
        try:
            refund = await self._call(
                client.payment.refund, payment["id"], params, headers=wire.refund_headers(request)
            )
        except InvalidRequest as error:
            if wire.refusal(error) == wire.REFUND_IN_FLIGHT:
                raise OutcomeUnknown(message="the same refund is still in flight at Razorpay") from None
            return wire.refused_refund(error)
        return wire.refund_result(refund)

    async def get_refund(self, reference: str, credentials: Credentials) -> RefundResult:
        return wire.refund_result(await self._call(self._client(credentials).refund.fetch, reference))

    # -- webhooks

    async def parse_webhook(self, request: WebhookRequest, credentials: Credentials) -> ProcessorEvent:
        secret = credential(credentials, "webhookSecret", self.id)
        signature = request.header("x-razorpay-signature")
        if not signature:
            raise WebhookSignatureInvalid(message="the X-Razorpay-Signature header is missing")
        try:
            body = request.body.decode()
            razorpay.Utility().verify_webhook_signature(body, signature, secret)
        except (UnicodeDecodeError, TypeError, SignatureVerificationError):  # TypeError: a non-ASCII signature
            raise WebhookSignatureInvalid(message="the X-Razorpay-Signature does not match the body") from None
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise WebhookPayloadInvalid(message="the webhook body is not a JSON event")
        # The X-Razorpay-Event-Id header is not signed: a captured body replayed under a new
        # id must still be the same event, so its identity comes from the signed body.
        event_id = wire.signed_event_id(payload)
        if not event_id:
            raise WebhookPayloadInvalid(message="the webhook body names no event, entity or created_at")
        return wire.event(payload, event_id)
