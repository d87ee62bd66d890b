"""The delivery workflow's activities. Idempotent by (delivery, attempt number): a
retried activity whose attempt is already logged returns that attempt's outcome. A crash
between the POST and its log sends the webhook again (at-least-once; receivers dedupe by
`webhook-id`). Signing secrets are fetched here, never carried in workflow history."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.webhook.outbound import repository, sender
from services.webhook.outbound.convert import event_body
from services.webhook.outbound.models import FAILED, SUCCEEDED, DeliveryRow, EventRow
from services.webhook.outbound.signing import signed_headers
from services.webhook.outbound.workflows import DELIVERED, GONE, RETRY, AttemptInput

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.merchant.v1.merchant_internal_service_pb2_grpc import (
        MerchantInternalServiceAsyncStub as MerchantInternalStub,
    )

# How many times a delivery row may be missing (its replay transaction not committed
# yet) before the delivery is given up as never written.
MISSING_DELIVERY_ATTEMPTS = 5


class DeliveryActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        merchants: MerchantInternalStub,
        *,
        call_timeout: float,
        allow_loopback: bool,
    ) -> None:
        self.sessions = sessions
        self.merchants = merchants
        self.call_timeout = call_timeout
        self.allow_loopback = allow_loopback

    async def load(self, delivery_id: str) -> tuple[DeliveryRow, EventRow]:
        async with self.sessions() as session:
            found = await repository.delivery_with_event(session=session, delivery_id=delivery_id)
        if found is None:
            raise ApplicationError(
                f"delivery {delivery_id} not found",
                type="DELIVERY_NOT_FOUND",
                non_retryable=activity.info().attempt >= MISSING_DELIVERY_ATTEMPTS,
            )
        return found

    async def signing_secret(self, merchant_id: str, event_type: str, endpoint_id: str) -> str | None:
        """The endpoint's secret; None when it was deleted or no longer wants the type."""
        try:
            answer = await self.merchants.ListWebhookSubscriptions(
                merchant_internal_service_pb2.ListWebhookSubscriptionsRequest(
                    merchant_id=merchant_id, event_type=event_type
                ),
                timeout=self.call_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise ApplicationError(f"merchant service: {error.code().name}", type="MERCHANT_UNAVAILABLE") from None
        return next((e.secret for e in answer.webhook_endpoints if e.id == endpoint_id), None)

    @activity.defn(name="attempt_delivery")
    async def attempt_delivery(self, job: AttemptInput) -> str:
        delivery, event = await self.load(job.delivery_id)
        if delivery.status == SUCCEEDED:
            return DELIVERED
        async with self.sessions() as session:
            done = await repository.attempt(session=session, delivery_id=delivery.id, number=job.number)
        if done is not None:
            return DELIVERED if not done.error and 200 <= done.status_code < 300 else RETRY
        secret = await self.signing_secret(event.merchant_id, event.type, delivery.endpoint_id)
        if secret is None:
            result = sender.SendResult(0, 0, "the endpoint was deleted or no longer subscribes to this event type")
        else:
            body = json.dumps(event_body(event), separators=(",", ":")).encode()
            headers = signed_headers(secret, event.id, int(time.time()), body)
            result = await sender.send(
                delivery.url, body, headers, timeout=job.timeout, allow_loopback=self.allow_loopback
            )
        async with self.sessions.begin() as session:
            await repository.record_attempt(
                session=session,
                delivery_id=delivery.id,
                number=job.number,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error=result.error,
                delivered=result.delivered,
                retry_in=job.retry_in if secret is not None else None,
            )
        if result.delivered:
            return DELIVERED
        activity.logger.info(
            "webhook attempt failed",
            extra={"delivery_id": delivery.id, "attempt": job.number, "status_code": result.status_code},
        )
        return RETRY if secret is not None else GONE

    @activity.defn(name="fail_delivery")
    async def fail_delivery(self, delivery_id: str) -> None:
        async with self.sessions.begin() as session:
            await repository.finish_delivery(session=session, delivery_id=delivery_id, status=FAILED)
