"""The outbox relay against real PostgreSQL (a database of its own, migrated): events
leave in order, a refused event does not hold up the others, and an unreachable
webhook service stops the pass without marking anything it did not take."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import grpc
import psycopg
import pytest
from payloops.webhook.v1 import webhook_internal_service_pb2 as internal
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from launcher.platform import Platform
from services.common.db import sqlalchemy_url
from services.common.migrate import upgrade
from services.order.models import OutboxEventRow
from services.order.relay import OutboxRelay


class WebhookService:
    """Stands in for WebhookInternalService: takes every event except those it is told to
    refuse (with `refusal`), or refuses everything with `outage`."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.refused: dict[str, grpc.StatusCode] = {}
        self.outage = False

    async def PublishEvent(  # noqa: N802 - the gRPC method name
        self, request: internal.PublishEventRequest, timeout: float
    ) -> internal.PublishEventResponse:
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
async def sessions(relay_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(sqlalchemy_url(relay_database))
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory.begin() as session:
        await session.execute(delete(OutboxEventRow))
    yield factory
    await engine.dispose()


async def add_events(sessions: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    ids = [f"evt_{secrets.token_hex(8)}" for _ in range(count)]
    async with sessions.begin() as session:
        for sequence, event_id in enumerate(ids, start=1):
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


async def test_events_leave_in_order_and_are_marked(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await add_events(sessions, 5)
    webhooks = WebhookService()
    relay = OutboxRelay(sessions, webhooks, batch_size=3)  # type: ignore[arg-type]
    assert (await relay.publish_batch(), await relay.publish_batch(), await relay.publish_batch()) == (3, 2, 0)
    assert webhooks.taken == ids and await unpublished(sessions) == []


async def test_a_refused_event_does_not_hold_up_the_others(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, poison, last = await add_events(sessions, 3)
    webhooks = WebhookService()
    webhooks.refused[poison] = grpc.StatusCode.INVALID_ARGUMENT
    relay = OutboxRelay(sessions, webhooks)  # type: ignore[arg-type]
    assert await relay.publish_batch() == 2
    assert webhooks.taken == [first, last] and await unpublished(sessions) == [poison]
    # Kept, and published once the webhook service takes it.
    del webhooks.refused[poison]
    assert await relay.publish_batch() == 1
    assert await unpublished(sessions) == []


async def test_an_outage_stops_the_pass_and_loses_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await add_events(sessions, 3)
    webhooks = WebhookService()
    webhooks.outage = True
    relay = OutboxRelay(sessions, webhooks)  # type: ignore[arg-type]
    with pytest.raises(grpc.aio.AioRpcError):
        await relay.publish_batch()
    assert webhooks.taken == [] and await unpublished(sessions) == ids
    webhooks.outage = False
    assert await relay.publish_batch() == 3 and webhooks.taken == ids
