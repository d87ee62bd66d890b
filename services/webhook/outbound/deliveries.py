"""Publishing and replaying events: the stored deliveries and their workflows.

A delivery row is written before its workflow starts, and starting is idempotent
(workflow id from the delivery, duplicates rejected), so a publish that fails half-way
(merchant service or Temporal unavailable) is simply published again by the outbox
relay and completes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from services.common.errors import FailedPrecondition, NotFound, Unavailable
from services.common.temporal import start_once
from services.webhook.config import Settings
from services.webhook.outbound import repository
from services.webhook.outbound.models import PENDING, DeliveryRow
from services.webhook.outbound.repository import Endpoint, NewEvent
from services.webhook.outbound.workflows import DeliveryInput, WebhookDeliveryWorkflow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.merchant.v1.merchant_internal_service_pb2_grpc import (
        MerchantInternalServiceAsyncStub as MerchantInternalStub,
    )


class Deliveries:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        merchants: MerchantInternalStub,
        temporal: Client,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.merchants = merchants
        self.temporal = temporal
        self.settings = settings

    async def subscribed(self, merchant_id: str, event_type: str) -> list[Endpoint]:
        """The merchant's endpoints for the type (their secrets stay here, unused)."""
        try:
            answer = await self.merchants.ListWebhookSubscriptions(
                merchant_internal_service_pb2.ListWebhookSubscriptionsRequest(
                    merchant_id=merchant_id, event_type=event_type
                ),
                timeout=self.settings.merchant_call_timeout_seconds,
            )
        except grpc.aio.AioRpcError as error:
            raise Unavailable(
                message="the merchant service is unavailable", reason="MERCHANT_SERVICE_UNAVAILABLE"
            ) from error
        return [Endpoint(id=e.id, url=e.url) for e in answer.webhook_endpoints]

    async def start(self, deliveries: Sequence[DeliveryRow]) -> None:
        """Starts each PENDING delivery's workflow; one already started is left alone."""
        for delivery in deliveries:
            if delivery.status != PENDING:
                continue
            job = DeliveryInput(
                delivery_id=delivery.id,
                schedule=list(self.settings.webhook_retry_schedule),
                jitter=self.settings.webhook_retry_jitter,
                attempt_timeout=self.settings.webhook_attempt_timeout_seconds,
            )
            try:
                await start_once(
                    self.temporal,
                    WebhookDeliveryWorkflow.run,
                    job,
                    workflow_id=delivery.workflow_id,
                    task_queue=self.settings.delivery_task_queue,
                )
            except RPCError as error:
                raise Unavailable(message="cannot start the delivery", reason="TEMPORAL_UNAVAILABLE") from error

    async def publish(self, event: NewEvent) -> tuple[bool, list[DeliveryRow]]:
        """Stores the event with a delivery per subscribed endpoint and starts them;
        publishing a stored event again only (re)starts its pending deliveries."""
        endpoints = await self.subscribed(event.merchant_id, event.type)
        async with self.sessions.begin() as session:
            deliveries = await repository.insert_event(session=session, event=event, endpoints=endpoints)
            created = deliveries is not None
            if deliveries is None:  # stored by an earlier publish, with the deliveries it chose
                deliveries = await repository.deliveries_of(session=session, event_ids=[event.id])
        first = [d for d in deliveries if d.replay == 0]
        await self.start(first)
        return created, first

    async def replay(self, merchant_id: str, event_id: str, endpoint_id: str) -> list[DeliveryRow]:
        """A new delivery of the event to the endpoint (or to every subscribed one)."""
        async with self.sessions() as session:
            event = await repository.event_or_raise(session=session, merchant_id=merchant_id, event_id=event_id)
        endpoints = await self.subscribed(merchant_id, event.type)
        if endpoint_id:
            endpoints = [e for e in endpoints if e.id == endpoint_id]
            if not endpoints:
                raise NotFound(
                    message=f"webhook endpoint {endpoint_id!r} not found for this event's type",
                    reason="WEBHOOK_ENDPOINT_NOT_FOUND",
                    resource_type="webhook_endpoint",
                    resource_name=endpoint_id,
                )
        elif not endpoints:
            raise FailedPrecondition(
                message=f"no webhook endpoint subscribes to {event.type}", reason="NO_WEBHOOK_ENDPOINT"
            )
        # Started inside the transaction: a failed start writes nothing. The worker
        # waits for the rows if it is faster than the commit.
        async with self.sessions.begin() as session:
            event = await repository.event_or_raise(
                session=session, merchant_id=merchant_id, event_id=event_id, lock=True
            )
            added = [await repository.add_replay(session=session, event=event, endpoint=e) for e in endpoints]
            await self.start(added)
        return added
