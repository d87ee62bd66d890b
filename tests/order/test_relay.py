"""The outbox relay against real PostgreSQL (a database of its own, migrated): events
leave in order, refused events are retried with backoff and never hold up the others,
no transaction is open while the webhook service is called, and an unreachable webhook
service stops the pass without marking anything it did not take."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from urllib.parse import urlsplit

import grpc
import psycopg
import pytest
from payloops.webhook.v1 import webhook_internal_service_pb2 as internal
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from launcher.platform import Platform
from services.common.db import session_factory, sqlalchemy_url
from services.common.migrate import upgrade
from services.order.models import OutboxEventRow
from services.order.relay import OutboxRelay, due_events


class WebhookService:
    """Stands in for WebhookInternalService: takes every event except those it is told to
    refuse (with `refusal`), or refuses everything with `outage`. `offered` lists every
    call; `during` runs inside each call."""

    def __init__(self) -> None:
        self.offered: list[str] = []
        self.taken: list[str] = []
        self.refused: dict[str, grpc.StatusCode] = {}
        self.outage = False
        self.during: Callable[[], Awaitable[None]] | None = None

    async def PublishEvent(  # noqa: N802 - the gRPC method name
        self, request: internal.PublishEventRequest, timeout: float
    ) -> internal.PublishEventResponse:
        self.offered.append(request.event.id)
        if self.during is not None:
            await self.during()
        code = grpc.StatusCode.UNAVAILABLE if self.outage else self.refused.get(request.event.id)
        if code is not None:
            raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="no")
        self.taken.append(request.event.id)
        return internal.PublishEventResponse(created=True)


@pytest.fixture(scope="module")
def relay_database(platform: Platform) -> Iterator[str]:
    """A migrated database beside the platform's, so its own relay never competes."""
    name = f"relay_test_{secrets.token_hex(4)}"
    with psycopg.connect(platform.database_libpq_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = urlsplit(platform.database_libpq_url)._replace(path=f"/{name}").geturl()
        try:
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
async def engine(relay_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(sqlalchemy_url(relay_database), pool_pre_ping=True)  # as services.common.db
    async with engine.begin() as connection:
        await connection.execute(delete(OutboxEventRow))
    yield engine
    await engine.dispose()


@pytest.fixture()
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def add_events(sessions: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    ids = [f"evt_{secrets.token_hex(8)}" for _ in range(count)]
    async with sessions.begin() as session:
        last = await session.scalar(select(func.max(OutboxEventRow.sequence))) or 0
        for sequence, event_id in enumerate(ids, start=last + 1):
            session.add(
                OutboxEventRow(
                    id=event_id,
                    merchant_id="mer_x",
                    type="order.succeeded",
                    object_id="ord_x",
                    sequence=sequence,
                    data={"object": {"id": "ord_x"}},
                )
            )
    return ids


async def unpublished(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        query = select(OutboxEventRow.id).where(OutboxEventRow.published_at.is_(None)).order_by(OutboxEventRow.position)
        return list(await session.scalars(query))


async def retry_state(sessions: async_sessionmaker[AsyncSession], event_id: str) -> tuple[int, str, float | None]:
    """The event's attempts, last error, and seconds until it is due again (None: never
    tried, due at once)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(
                    OutboxEventRow.attempts,
                    OutboxEventRow.last_error,
                    func.extract("epoch", OutboxEventRow.next_attempt_at - func.now()),
                ).where(OutboxEventRow.id == event_id)
            )
        ).one()
        return row[0], row[1], None if row[2] is None else float(row[2])


async def test_events_leave_in_order_and_are_marked(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await add_events(sessions, 5)
    webhooks = WebhookService()
    relay = OutboxRelay(engine, webhooks, batch_size=3)  # type: ignore[arg-type]
    assert (await relay.publish_batch(), await relay.publish_batch(), await relay.publish_batch()) == (3, 2, 0)
    assert webhooks.taken == ids and await unpublished(sessions) == []


async def test_more_refused_events_than_a_batch_do_not_block_a_later_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    *poison, good = await add_events(sessions, 5)
    webhooks = WebhookService()
    webhooks.refused = dict.fromkeys(poison, grpc.StatusCode.FAILED_PRECONDITION)
    relay = OutboxRelay(engine, webhooks, batch_size=3, poll_seconds=60)  # type: ignore[arg-type]
    assert await relay.publish_batch() == 0  # the first three, all refused
    assert await relay.publish_batch() == 1  # the fourth (refused) and the good one
    assert webhooks.offered == [*poison, good] and webhooks.taken == [good]
    # The refused ones wait for their retry; nothing else is offered meanwhile.
    assert await relay.publish_batch() == 0 and len(webhooks.offered) == 5
    assert await unpublished(sessions) == poison


async def test_a_refused_event_is_retried_after_its_backoff(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, poison, last = await add_events(sessions, 3)
    webhooks = WebhookService()
    webhooks.refused[poison] = grpc.StatusCode.INVALID_ARGUMENT
    relay = OutboxRelay(engine, webhooks, poll_seconds=0.5, max_backoff_seconds=10)  # type: ignore[arg-type]
    assert await relay.publish_batch() == 2
    assert webhooks.taken == [first, last] and await unpublished(sessions) == [poison]
    attempts, error, due_in = await retry_state(sessions, poison)
    assert (attempts, error) == (1, "INVALID_ARGUMENT: no")
    assert due_in is not None and 0 < due_in <= 0.5  # poll_seconds, less jitter
    # Not offered again before it is due.
    assert await relay.publish_batch() == 0 and webhooks.offered.count(poison) == 1
    await asyncio.sleep(due_in + 0.05)
    assert await relay.publish_batch() == 0 and webhooks.offered.count(poison) == 2
    attempts, error, due_in = await retry_state(sessions, poison)
    assert attempts == 2 and due_in is not None and 0.4 < due_in <= 1.0  # doubled
    # Published once the webhook service takes it.
    del webhooks.refused[poison]
    await asyncio.sleep(due_in + 0.05)
    assert await relay.publish_batch() == 1
    assert webhooks.taken == [first, last, poison] and await unpublished(sessions) == []


async def test_no_transaction_is_open_while_publishing(
    relay_database: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await add_events(sessions, 2)
    webhooks = WebhookService()
    relay = OutboxRelay(engine, webhooks)  # type: ignore[arg-type]
    rival_webhooks = WebhookService()
    rival = OutboxRelay(engine, rival_webhooks)  # type: ignore[arg-type]
    seen: list[list[tuple[str, str]]] = []

    async def check() -> None:
        async with await psycopg.AsyncConnection.connect(relay_database, autocommit=True) as observer:
            cursor = await observer.execute(
                "SELECT state, query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            seen.append([(str(state), str(query)) for state, query in await cursor.fetchall()])
        assert await rival.publish_batch() == 0  # the relay lock is held all the same

    webhooks.during = check
    webhooks.refused[ids[0]] = grpc.StatusCode.NOT_FOUND
    assert await relay.publish_batch() == 1
    assert seen == [[], []]
    # The lock is released after the pass.
    [later] = await add_events(sessions, 1)
    assert await rival.publish_batch() == 1 and rival_webhooks.taken == [later]


async def test_the_due_query_reads_one_range_of_its_index(engine: AsyncEngine) -> None:
    query = due_events(100).compile(engine, compile_kwargs={"literal_binds": True})
    async with engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(await connection.scalars(text(f"EXPLAIN {query}")))
    assert "outbox_events_due" in plan and "Index Cond" in plan and "Sort" not in plan, plan


async def test_an_outage_stops_the_pass_and_loses_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await add_events(sessions, 3)
    webhooks = WebhookService()
    webhooks.outage = True
    relay = OutboxRelay(engine, webhooks)  # type: ignore[arg-type]
    with pytest.raises(grpc.aio.AioRpcError):
        await relay.publish_batch()
    assert webhooks.taken == [] and await unpublished(sessions) == ids
    assert await retry_state(sessions, ids[0]) == (0, "", None)  # an outage is not the event's fault
    webhooks.outage = False
    assert await relay.publish_batch() == 3 and webhooks.taken == ids
