"""Stripe through its official SDK (async, on aiohttp), one StripeClient per call with the
merchant's secret key and the SDK's retries off: the payment workflow owns retries.

Every money-moving call sends an idempotency key (`<key>-create`, `-confirm`, ...), which
real Stripe honours. localstripe does not, so PayLoops never relies on it for dedup: a retry
resumes the PaymentIntent recorded by the earlier try (`existing_reference`), and a refund
is looked up by its PayLoops refund id before one is created. A first confirm of a
PaymentIntent the caller has just prepared (`newly_prepared`) confirms it without reading it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

import aiohttp
import stripe
from stripe.params import (
    PaymentIntentCaptureParams,
    PaymentIntentListParams,
    PaymentIntentSearchParams,
    PaymentIntentUpdateParams,
    RefundListParams,
)

from services.processor_common import keys
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
    ProcessorPlugin,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    credential,
)
from services.processor_stripe import transformers as wire
from services.processor_stripe.config import Settings

WEBHOOK_TOLERANCE_SECONDS = 300
PAGE = 100

Json = dict[str, Any]


class _Resource(Protocol):
    def to_dict(self) -> Json: ...


class StripePlugin(ProcessorPlugin):
    id = "stripe"

    def __init__(self, api_base: str, *, sandbox: bool, connect_timeout: float, timeout: float) -> None:
        self.api_base = api_base.rstrip("/")
        self.sandbox = sandbox
        timeouts = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self.http = stripe.AIOHTTPClient(timeout=timeouts)

    @classmethod
    def from_settings(cls, settings: Settings) -> StripePlugin:
        logging.getLogger("stripe").setLevel(logging.WARNING)  # the SDK logs two INFO lines per request
        return cls(
            settings.stripe_api_base,
            sandbox=settings.sandbox,
            connect_timeout=settings.processor_connect_timeout_seconds,
            timeout=settings.processor_timeout_seconds,
        )

    async def close(self) -> None:
        await self.http.close_async()  # type: ignore[no-untyped-call]

    def _client(self, credentials: Credentials) -> stripe.StripeClient:
        return stripe.StripeClient(
            api_key=credential(credentials, "secretKey", self.id),
            base_addresses={"api": self.api_base},
            max_network_retries=0,
            http_client=self.http,
        )

    @staticmethod
    async def _call(request: Awaitable[_Resource]) -> Json:
        """One SDK call as a plain dict; failures as the taxonomy (CardError passes through)."""
        try:
            return (await request).to_dict()
        except Exception as error:
            mapped = wire.error_for(error)
            if mapped is None:
                raise
            raise mapped from None

    # -- payments

    async def _payment_method(self, client: stripe.StripeClient, request: PaymentRequest) -> str:
        plan = wire.payment_method_plan(
            request.payment_method_token, sandbox=self.sandbox, authenticate=request.authenticate
        )
        if plan.payment_method:
            return plan.payment_method
        created = await self._call(client.v1.payment_methods.create_async(wire.card_params(plan.card_number)))
        return str(created["id"])

    async def _create(self, client: stripe.StripeClient, request: PaymentRequest) -> Json:
        params = wire.create_params(request, await self._payment_method(client, request), sandbox=self.sandbox)
        options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "create")}
        return await self._call(client.v1.payment_intents.create_async(params, options))

    async def prepare(self, request: PaymentRequest, credentials: Credentials) -> str:
        intent = await self._create(self._client(credentials), request)
        return str(intent["id"])

    async def authorize(self, request: PaymentRequest, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        if request.existing_reference and request.newly_prepared:
            # Our own prepare created it moments ago, with its payment method: nothing to resume.
            return await self._send_confirm(client, request.existing_reference, request, intent=None)
        if request.existing_reference:
            intent = await self._call(client.v1.payment_intents.retrieve_async(request.existing_reference))
            if not wire.same_payment(intent, request):
                raise InvalidRequest(message="existing_reference is a PaymentIntent of another payment")
        else:
            intent = await self._create(client, request)
        return await self._confirm(client, intent, request)

    async def _confirm(self, client: stripe.StripeClient, intent: Json, request: PaymentRequest) -> PaymentResult:
        """Confirm only a PaymentIntent nobody confirmed yet; any other state is the answer."""
        if intent.get("status") == "requires_payment_method" and not intent.get("payment_method"):
            update: PaymentIntentUpdateParams = {"payment_method": await self._payment_method(client, request)}
            options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "attach")}
            intent = await self._call(client.v1.payment_intents.update_async(intent["id"], update, options))
        if intent.get("status") != "requires_confirmation":
            return wire.payment_result(intent)
        return await self._send_confirm(client, str(intent["id"]), request, intent=intent)

    async def _send_confirm(
        self, client: stripe.StripeClient, intent_id: str, request: PaymentRequest, *, intent: Json | None
    ) -> PaymentResult:
        """Confirms the PaymentIntent (`intent`: as last read; None when not read)."""
        options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "confirm")}
        params = wire.confirm_params(request, sandbox=self.sandbox)
        try:
            confirmed = await self._call(client.v1.payment_intents.confirm_async(intent_id, params, options))
        except stripe.CardError as error:
            declined = intent or await self._call(client.v1.payment_intents.retrieve_async(intent_id))
            return wire.declined(declined, error)
        except InvalidRequest:
            # Confirmed concurrently (or by an earlier try whose answer we lost)?
            current = await self._call(client.v1.payment_intents.retrieve_async(intent_id))
            if current.get("status") == "requires_confirmation":
                raise
            confirmed = current
        return wire.payment_result(confirmed)

    async def capture(self, request: CaptureRequest, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        params: PaymentIntentCaptureParams = {"amount_to_capture": request.amount} if request.amount else {}
        options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "capture")}
        try:
            intent = await self._call(client.v1.payment_intents.capture_async(request.reference, params, options))
        except InvalidRequest:
            intent = await self._call(client.v1.payment_intents.retrieve_async(request.reference))
            if intent.get("status") != "succeeded":  # not an earlier try that already captured
                raise
        return wire.payment_result(intent)

    async def void(self, request: VoidRequest, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "cancel")}
        try:
            intent = await self._call(client.v1.payment_intents.cancel_async(request.reference, None, options))
        except InvalidRequest:
            # Not cancellable: cancelled by an earlier try, or settled (succeeded) already.
            intent = await self._call(client.v1.payment_intents.retrieve_async(request.reference))
        return wire.payment_result(intent)

    async def get_payment(self, lookup: PaymentLookup, credentials: Credentials) -> PaymentResult:
        client = self._client(credentials)
        if lookup.reference:
            try:
                return wire.payment_result(await self._call(client.v1.payment_intents.retrieve_async(lookup.reference)))
            except InvalidRequest as error:
                if wire.not_found(error):
                    return NO_PAYMENT
                raise
        intents = wire.for_order(await self._order_intents(client, lookup.order_id), lookup.order_id)
        return most_relevant([wire.payment_result(intent) for intent in intents])

    async def _order_intents(self, client: stripe.StripeClient, order_id: str) -> list[Json]:
        if not self.sandbox:
            query: PaymentIntentSearchParams = {"query": wire.search_query(order_id), "limit": PAGE}
            found = await self._call(client.v1.payment_intents.search_async(query))
            return list(found.get("data", []))
        # localstripe: no search and no metadata filter; list every page.
        intents: list[Json] = []
        params: PaymentIntentListParams = {"limit": PAGE}
        while True:
            page = await self._call(client.v1.payment_intents.list_async(params))
            intents += page.get("data", [])
            if not page.get("has_more") or not intents:
                return intents
            params["starting_after"] = intents[-1]["id"]

    async def list_payments(
        self, order_id: str, references: Sequence[str], credentials: Credentials
    ) -> list[PaymentResult]:
        client = self._client(credentials)
        intents = {str(i["id"]): i for i in wire.for_order(await self._order_intents(client, order_id), order_id)}
        for reference in references:
            if reference in intents:
                continue
            try:
                intents[reference] = await self._call(client.v1.payment_intents.retrieve_async(reference))
            except InvalidRequest as error:
                if not wire.not_found(error):
                    raise
        found = []
        for intent in intents.values():
            result = wire.payment_result(intent)
            if result.status is PaymentStatus.CAPTURED:  # only a captured payment has refunds
                result = dataclasses.replace(
                    result, amount_refunded=wire.refunded(await self._refunds(client, result.reference))
                )
            found.append(result)
        return found

    # -- refunds

    async def refund(self, request: RefundRequest, credentials: Credentials) -> RefundResult:
        client = self._client(credentials)
        refunds = await self._refunds(client, request.reference)
        existing = wire.refund_for(refunds, request.refund_id)
        if existing is not None:
            return wire.refund_result(existing)
        intent = await self._call(client.v1.payment_intents.retrieve_async(request.reference))
        amount = request.amount or wire.refundable(intent, refunds)
        if amount <= 0:
            return wire.NOTHING_TO_REFUND
        order_id = str(intent.get("metadata", {}).get(keys.ORDER_ID, ""))
        params = wire.refund_params(request.reference, order_id, request.refund_id, amount, request.reason)
        options: stripe.RequestOptions = {"idempotency_key": keys.step_key(request.idempotency_key, "refund")}
        try:
            refund = await self._call(client.v1.refunds.create_async(params, options))
        except InvalidRequest as error:
            return wire.refused_refund(error)
        return wire.refund_result(refund)

    async def _refunds(self, client: stripe.StripeClient, reference: str) -> list[Json]:
        refunds: list[Json] = []
        params: RefundListParams = {"payment_intent": reference, "limit": PAGE}
        while True:
            page = await self._call(client.v1.refunds.list_async(params))
            refunds += page.get("data", [])
            if not page.get("has_more") or not refunds:
                return refunds
            params["starting_after"] = refunds[-1]["id"]

    async def get_refund(self, reference: str, credentials: Credentials) -> RefundResult:
        return wire.refund_result(await self._call(self._client(credentials).v1.refunds.retrieve_async(reference)))

    # -- webhooks

    async def parse_webhook(self, request: WebhookRequest, credentials: Credentials) -> ProcessorEvent:
        secret = credential(credentials, "webhookSecret", self.id)
        header = request.header("stripe-signature")
        if not header:
            raise WebhookSignatureInvalid(message="the Stripe-Signature header is missing")
        try:
            verified = stripe.Webhook.construct_event(request.body, header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            raise WebhookSignatureInvalid(message="the Stripe-Signature does not match the body") from None
        except ValueError:  # signed, but not JSON (or not UTF-8)
            raise WebhookPayloadInvalid(message="the webhook body is not a JSON event") from None
        timestamp = wire.signature_timestamp(header)
        if timestamp is None or timestamp > time.time() + WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookSignatureInvalid(message="the Stripe-Signature timestamp is in the future")
        return wire.event(verified.to_dict())
