"""Publishes the outbox's events to the webhook service (WebhookInternalService.PublishEvent,
idempotent by event id) and marks them published.

One relay works at a time, whatever the number of order service replicas: each batch
runs under a transaction-level advisory lock that the others skip, so events leave in
outbox order (per object too). An event is marked only after the webhook service has
taken it; a crash in between publishes it again, which the event id makes harmless.
While the webhook service is unavailable the relay backs off; payments never wait for
it (it is a background task with its own database sessions)."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

import grpc
from google.protobuf import struct_pb2
from payloops.webhook.v1 import webhook_internal_service_pb2, webhook_pb2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.timestamps import timestamp
from services.order.models import OutboxEventRow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.webhook.v1.webhook_internal_service_pb2_grpc import (
        WebhookInternalServiceAsyncStub as WebhookInternalStub,
    )

log = logging.getLogger("payloops.order.relay")

# pg_advisory lock key of the relay ("outbox" in ASCII).
RELAY_LOCK = 0x6F7574626F78


def publish_request(row: OutboxEventRow) -> webhook_internal_service_pb2.PublishEventRequest:
    data = struct_pb2.Struct()
    data.update(row.data)
    return webhook_internal_service_pb2.PublishEventRequest(
        merchant_id=row.merchant_id,
        event=webhook_pb2.WebhookEvent(
            id=row.id, type=row.type, data=data, create_time=timestamp(row.created_at), sequence=row.sequence
        ),
    )


REFUSALS = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND})


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        webhooks: WebhookInternalStub,
        *,
        batch_size: int = 100,
        poll_seconds: float = 0.5,
        call_timeout: float = 5.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.webhooks = webhooks
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.call_timeout = call_timeout
        self.max_backoff_seconds = max_backoff_seconds

    async def publish_batch(self) -> int:
        """Publishes up to batch_size events, oldest first; returns how many. Raises the
        publishing error after marking the events published before it."""
        published, failure = 0, None
        async with self.sessions.begin() as session:
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0  # another replica is relaying
            rows = await session.scalars(
                select(OutboxEventRow)
                .where(OutboxEventRow.published_at.is_(None))
                .order_by(OutboxEventRow.position)
                .limit(self.batch_size)
            )
            for row in rows:
                try:
                    await self.webhooks.PublishEvent(publish_request(row), timeout=self.call_timeout)
                except grpc.aio.AioRpcError as error:
                    if error.code() not in REFUSALS:
                        failure = error  # the webhook service is unreachable or struggling: back off
                        break
                    # This one event is refused (a bug on one side); the others must not wait
                    # behind it. It stays unpublished and is offered again on the next pass.
                    log.error(
                        "outbox event refused by the webhook service",
                        extra={"event_id": row.id, "code": error.code().name, "error": error.details()},
                    )
                    continue
                row.published_at = func.now()
                published += 1
        if failure is not None:
            raise failure
        return published

    async def run(self) -> None:
        """Forever: publish, wait when idle, back off (with jitter) on failures."""
        failures = 0
        while True:
            try:
                published = await self.publish_batch()
                failures = 0
            except Exception as error:
                failures += 1
                delay = min(self.max_backoff_seconds, self.poll_seconds * 2**failures)
                log.warning(
                    "outbox relay failed; backing off",
                    extra={"error": type(error).__name__, "failures": failures, "delay": delay},
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                continue
            if published < self.batch_size:
                await asyncio.sleep(self.poll_seconds)
