from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from launcher.platform import Platform
from services.common.db import sqlalchemy_url


@pytest.fixture()
async def engine(platform: Platform) -> AsyncIterator[AsyncEngine]:
    """An engine on the test platform's database with a pool of one connection."""
    engine = create_async_engine(sqlalchemy_url(platform.database_libpq_url), pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()
