"""Applies recorded processor events through OrderInternalService.ApplyProcessorEvent.

An event is recorded before it is acknowledged; applying it happens after, in the
background, and is retried by a sweep over the unapplied rows until the order service
has taken it (so a crash or an order-service outage between the 200 and the apply loses
nothing). Applying is idempotent on the order side, so applying twice is harmless.

The sweep takes only the rows that are due: a new row once the apply right after
recording has had `retry_seconds` to finish, a failed one after a backoff that doubles
with each failure (retry_seconds, twice that, ... up to max_backoff_seconds). So rows
that keep failing never hold up the others, however many they are. No transaction is
open while the order service is called."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import grpc
from payloops.order.v1 import order_internal_service_pb2
from payloops.processor.v1 import processor_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.backoff import backoff
from services.webhook.inbound import repository
from services.webhook.models import ProcessorEventRow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.order.v1.order_internal_service_pb2_grpc import OrderInternalServiceAsyncStub

log = logging.getLogger("payloops.webhook.apply")
SWEEP_BATCH = 100


class EventApplier:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        orders: OrderInternalServiceAsyncStub,
        *,
        call_timeout: float,
        retry_seconds: float,
        max_backoff_seconds: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.orders = orders
        self.call_timeout = call_timeout
        self.retry_seconds = retry_seconds
        self.max_backoff_seconds = max_backoff_seconds
        # How long the sweep leaves a new row to the apply started when it was recorded.
        self.sweep_after = timedelta(seconds=retry_seconds)
        self.running: set[asyncio.Task[None]] = set()

    def apply_soon(self, row: ProcessorEventRow) -> None:
        task = asyncio.create_task(self.apply(row))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def apply(self, row: ProcessorEventRow) -> None:
        request = order_internal_service_pb2.ApplyProcessorEventRequest(
            merchant_id=row.merchant_id,
            processor=row.processor,
            event=processor_pb2.ProcessorEvent.FromString(row.event),
        )
        try:
            answer = await self.orders.ApplyProcessorEvent(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            log.warning("processor event not applied yet", extra={"event_id": row.event_id, "code": error.code().name})
            retry_in = backoff(row.apply_attempts, base=self.retry_seconds, cap=self.max_backoff_seconds)
            async with self.sessions.begin() as session:
                await repository.mark_failed(
                    session=session, row_id=row.id, error=f"{error.code().name}: {error.details()}", retry_in=retry_in
                )
            return
        async with self.sessions.begin() as session:
            await repository.mark_applied(session=session, row_id=row.id, changed=answer.applied)
        log.info(
            "processor event applied",
            extra={"event_id": row.event_id, "processor": row.processor, "applied": answer.applied},
        )

    async def sweep(self) -> int:
        """Applies up to SWEEP_BATCH due rows, one after the other; returns how many."""
        async with self.sessions() as session:
            rows = await repository.unapplied(session=session, limit=SWEEP_BATCH)
        for row in rows:
            await self.apply(row)
        return len(rows)

    async def sweep_forever(self) -> None:
        """Sweeps every retry_seconds, at once again after a full batch."""
        while True:
            try:
                if await self.sweep() == SWEEP_BATCH:
                    continue
            except Exception:
                log.exception("processor event sweep failed")
            await asyncio.sleep(self.retry_seconds)

    async def close(self) -> None:
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
