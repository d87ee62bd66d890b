"""The sweep over unapplied processor events against real PostgreSQL (a database of its
own, migrated): only due rows are read, soonest due first; a failed apply backs off so
rows that keep failing never hold up the others; no transaction is open while the order
service is called."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import grpc
import psycopg
import pytest
from payloops.order.v1 import order_internal_service_pb2 as internal
from payloops.processor.v1 import processor_pb2
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from launcher.platform import Platform
from services.common.db import session_factory, sqlalchemy_url
from services.common.migrate import upgrade
from services.webhook.inbound import applier, repository
from services.webhook.inbound.applier import EventApplier
from services.webhook.models import ProcessorEventRow


class OrderService:
    """Stands in for OrderInternalService: applies every event except those it is told to
    fail, and notes who had a transaction open (other than itself) during each call."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.offered: list[str] = []
        self.failing: set[str] = set()
        self.open_transactions: list[str] = []

    async def ApplyProcessorEvent(  # noqa: N802 - the gRPC method name
        self, request: internal.ApplyProcessorEventRequest, timeout: float
    ) -> internal.ApplyProcessorEventResponse:
        self.offered.append(request.event.event_id)
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as observer:
            cursor = await observer.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            self.open_transactions += [str(query) for (query,) in await cursor.fetchall()]
        if request.event.event_id in self.failing:
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "down")
        return internal.ApplyProcessorEventResponse(applied=True, order_id=request.event.order_id)


@pytest.fixture(scope="module")
def sweep_database(platform: Platform) -> Iterator[str]:
    """A migrated database beside the platform's, so its own sweep never competes."""
    name = f"sweep_test_{secrets.token_hex(4)}"
    with psycopg.connect(platform.database_libpq_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = urlsplit(platform.database_libpq_url)._replace(path=f"/{name}").geturl()
        try:
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
async def engine(sweep_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(sqlalchemy_url(sweep_database), pool_pre_ping=True)
    async with engine.begin() as connection:
        await connection.execute(delete(ProcessorEventRow))
    yield engine
    await engine.dispose()


@pytest.fixture()
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def record(
    sessions: async_sessionmaker[AsyncSession], count: int, *, sweep_after: timedelta = timedelta(0)
) -> list[str]:
    """Records `count` events (due for the sweep after `sweep_after`); their event ids."""
    ids = [f"evt_{secrets.token_hex(8)}" for _ in range(count)]
    for event_id in ids:  # one transaction each: in order of next_attempt_at
        async with sessions.begin() as session:
            await repository.record_event(
                session=session,
                processor="stripe",
                merchant_id="mer_x",
                event=processor_pb2.ProcessorEvent(event_id=event_id, event_type="payment_intent.succeeded"),
                body=b"{}",
                sweep_after=sweep_after,
            )
    return ids


async def due(sessions: async_sessionmaker[AsyncSession], limit: int = 100) -> list[str]:
    async with sessions() as session:
        return [row.event_id for row in await repository.unapplied(session=session, limit=limit)]


async def row_of(sessions: async_sessionmaker[AsyncSession], event_id: str) -> ProcessorEventRow:
    async with sessions() as session:
        row = await session.scalar(select(ProcessorEventRow).where(ProcessorEventRow.event_id == event_id))
        assert row is not None
        return row


async def test_only_due_rows_are_read_soonest_due_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, failed, second = await record(sessions, 3)
    await record(sessions, 1, sweep_after=timedelta(minutes=1))  # being applied right now: not due yet
    assert await due(sessions) == [first, failed, second]
    first_id, failed_id = (await row_of(sessions, first)).id, (await row_of(sessions, failed)).id
    async with sessions.begin() as session:
        await repository.mark_failed(
            session=session, row_id=failed_id, error="UNAVAILABLE: down", retry_in=timedelta(0)
        )
    assert await due(sessions) == [first, second, failed]  # due again, after those due before it
    async with sessions.begin() as session:
        await repository.mark_failed(
            session=session, row_id=failed_id, error="UNAVAILABLE: down", retry_in=timedelta(1)
        )
        await repository.mark_applied(session=session, row_id=first_id, changed=True)
    assert await due(sessions) == [second]


async def test_failing_rows_beyond_a_batch_do_not_block_a_later_one(
    sweep_database: str, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(applier, "SWEEP_BATCH", 3)
    *failing, good = await record(sessions, 5)
    orders = OrderService(sweep_database)
    orders.failing = set(failing)
    sweeper = EventApplier(sessions, orders, call_timeout=1, retry_seconds=60)  # type: ignore[arg-type]
    assert await sweeper.sweep() == 3  # the first three, all failing
    assert await sweeper.sweep() == 2  # the fourth (failing) and the good one
    assert orders.offered == [*failing, good] and (await row_of(sessions, good)).outcome == "applied"
    # The failed ones wait for their retry (retry_seconds, less up to half); nothing else is offered.
    assert await sweeper.sweep() == 0 and len(orders.offered) == 5
    for event_id in failing:
        row = await row_of(sessions, event_id)
        assert (row.apply_attempts, row.last_error, row.applied_at) == (1, "UNAVAILABLE: down", None)
        assert row.next_attempt_at - row.received_at > timedelta(seconds=29)
    assert orders.open_transactions == []


async def test_the_due_query_reads_one_range_of_its_index(engine: AsyncEngine) -> None:
    query = repository.due_rows(100).compile(engine, compile_kwargs={"literal_binds": True})
    async with engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(await connection.scalars(text(f"EXPLAIN {query}")))
    assert "processor_events_due" in plan and "Index Cond" in plan and "Sort" not in plan, plan
