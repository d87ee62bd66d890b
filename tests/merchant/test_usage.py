"""API keys' lastUsedAt: batched in memory, written in one statement, only forward."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from launcher.platform import Platform
from services.merchant import repository
from services.merchant.keys import issue_key
from services.merchant.models import ApiKeyRow
from services.merchant.usage import KeyUsage


@pytest.fixture()
async def sessions(platform: Platform) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(platform.database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def stored(sessions: async_sessionmaker[AsyncSession], key_id: str) -> datetime | None:
    async with sessions() as session:
        row = await session.get(ApiKeyRow, key_id)
        assert row is not None
        return row.last_used_at


async def test_uses_are_flushed_in_one_batch_and_never_move_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        merchant = await repository.create_merchant(session=session, name="Usage")
        keys = [
            await repository.create_api_key(
                session=session, merchant_id=merchant.id, issued=issue_key("test"), hmac_secret="h" * 32
            )
            for _ in range(2)
        ]
    usage = KeyUsage(sessions, flush_seconds=60)
    for key in keys:
        usage.note(key.id)
    noted = usage.pending[keys[0].id]
    assert usage.last_used(keys[0].id, None) == noted  # fresher than the database until flushed
    assert await stored(sessions, keys[0].id) is None
    assert await usage.flush() == 2 and usage.pending == {}
    first = await stored(sessions, keys[0].id)
    assert first is not None and abs(first - noted) < timedelta(milliseconds=1)
    usage.pending[keys[0].id] = noted - timedelta(hours=1)  # a replica's older news
    await usage.flush()
    assert await stored(sessions, keys[0].id) == first
    assert usage.last_used(keys[1].id, datetime.now(UTC) + timedelta(days=1)) is not None
