"""Publishes the outbox's events to the webhook service (WebhookInternalService.PublishEvent,
idempotent by event id) and marks them published.

One relay works at a time, whatever the number of order service replicas: a pass runs
under a session-level advisory lock that the others skip. The lock is held on a
connection of its own in autocommit mode, so no transaction stays open while the
webhook service is called: the batch is read in one short transaction, each event is
published with none open, and the outcomes are written in another short transaction at
the end of the pass. An event is marked only after the webhook service has taken it; a
crash in between publishes it again, which the event id makes harmless.

No head-of-line blocking: an event the webhook service refuses (a bug on one side) is
retried later with exponential backoff (attempts, next_attempt_at, last_error) and the
relay moves on. Each pass takes the new events first, in outbox order, then the retries
that are due, so a retry never delays a new event. Events of one object therefore leave
in order unless one of them is refused: the later ones go ahead of it rather than
wait. That is acceptable because deliveries may arrive out of order anyway and carry a
per-object sequence for the receiver to order them (services/webhook/README.md).

While the webhook service is unavailable the relay backs off without marking the event
it could not publish; payments never wait for it (it is a background task with its own
database connections)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import grpc
from google.protobuf import struct_pb2
from payloops.webhook.v1 import webhook_internal_service_pb2, webhook_pb2
from sqlalchemy import Select, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.backoff import backoff
from services.common.db import session_factory
from services.common.timestamps import timestamp
from services.order.models import OutboxEventRow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.webhook.v1.webhook_internal_service_pb2_grpc import (
        WebhookInternalServiceAsyncStub as WebhookInternalStub,
    )

log = logging.getLogger("payloops.order.relay")

# pg_advisory lock key of the relay ("outbox" in ASCII).
RELAY_LOCK = 0x6F7574626F78

# When an unpublished event is due: a new one (never tried, next_attempt_at NULL) at once
# and before any retry. The index outbox_events_due (migration 0007) is on this expression,
# so the due events are one range of it, read in order.
DUE_AT = func.coalesce(OutboxEventRow.next_attempt_at, literal_column("'-infinity'::timestamptz"))


def due_events(limit: int) -> Select[OutboxEventRow]:
    """The unpublished events due now: the new ones in outbox order, then the due retries."""
    return (
        select(OutboxEventRow)
        .where(OutboxEventRow.published_at.is_(None), DUE_AT <= func.now())
        .order_by(DUE_AT, OutboxEventRow.position)
        .limit(limit)
    )


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
Refusal = tuple[OutboxEventRow, grpc.aio.AioRpcError]


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        webhooks: WebhookInternalStub,
        *,
        batch_size: int = 100,
        poll_seconds: float = 0.5,
        call_timeout: float = 5.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.webhooks = webhooks
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.call_timeout = call_timeout
        self.max_backoff_seconds = max_backoff_seconds

    @contextlib.asynccontextmanager
    async def relay_lock(self) -> AsyncIterator[bool]:
        """Whether this replica holds the relay's lock (until the block ends). The
        connection holding it is in autocommit mode: idle between its two statements, not
        in a transaction."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            if not await connection.scalar(select(func.pg_try_advisory_lock(RELAY_LOCK))):
                yield False  # another replica is relaying
                return
            try:
                yield True
            finally:
                try:
                    await connection.scalar(select(func.pg_advisory_unlock(RELAY_LOCK)))
                except BaseException:
                    # It must not go back to the pool still holding the lock: closing it
                    # releases the lock.
                    await connection.invalidate()
                    raise

    async def publish_batch(self) -> int:
        """Publishes up to batch_size due events; returns how many it published. Raises the
        publishing error of an outage after marking the events published before it."""
        async with self.relay_lock() as held:
            if not held:
                return 0
            async with self.sessions.begin() as session:
                rows = list(await session.scalars(due_events(self.batch_size)))
            published: list[int] = []
            refused: list[Refusal] = []
            try:
                for row in rows:
                    try:
                        await self.webhooks.PublishEvent(publish_request(row), timeout=self.call_timeout)
                    except grpc.aio.AioRpcError as error:
                        if error.code() not in REFUSALS:
                            raise  # the webhook service is unreachable or struggling: back off (run)
                        log.error(
                            "outbox event refused by the webhook service",
                            extra={"event_id": row.id, "code": error.code().name, "error": error.details()},
                        )
                        refused.append((row, error))
                    else:
                        published.append(row.position)
            finally:
                await self.record(published, refused)
            return len(published)

    async def record(self, published: Sequence[int], refused: Sequence[Refusal]) -> None:
        """Marks the published events, and schedules the refused ones' retries."""
        if not published and not refused:
            return
        async with self.sessions.begin() as session:
            if published:
                await session.execute(
                    update(OutboxEventRow).where(OutboxEventRow.position.in_(published)).values(published_at=func.now())
                )
            for row, error in refused:
                retry_in = backoff(row.attempts, base=self.poll_seconds, cap=self.max_backoff_seconds)
                await session.execute(
                    update(OutboxEventRow)
                    .where(OutboxEventRow.position == row.position)
                    .values(
                        attempts=OutboxEventRow.attempts + 1,
                        next_attempt_at=func.now() + retry_in,
                        last_error=f"{error.code().name}: {error.details()}"[:1000],
                    )
                )

    async def run(self) -> None:
        """Forever: publish, wait when idle, back off (with jitter) on failures."""
        failures = 0
        while True:
            try:
                published = await self.publish_batch()
                failures = 0
            except Exception as error:
                failures += 1
                delay = backoff(failures, base=self.poll_seconds, cap=self.max_backoff_seconds).total_seconds()
                log.warning(
                    "outbox relay failed; backing off",
                    extra={"error": type(error).__name__, "failures": failures, "delay": delay},
                )
                await asyncio.sleep(delay)
                continue
            if published < self.batch_size:
                await asyncio.sleep(self.poll_seconds)
