"""Async SQLAlchemy engine and sessions (psycopg 3). Each service owns one schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.common.config import ServiceSettings


def sqlalchemy_url(url: str) -> str:
    """Accept plain libpq URLs too and pick the psycopg 3 driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(settings.database_url),
        # A database error's text would carry its bind parameters (payment tokens, emails,
        # password hashes) into the logs.
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=settings.db_pre_ping,
        pool_recycle=settings.db_recycle_seconds,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A transaction straight on psycopg, on a connection of the engine's pool: for the
    hot, self-contained statements whose ORM round trip costs several times the statement
    (`python -m bench.db_overhead`). Commits at the end of the block, rolls back on error;
    a connection that broke is dropped by the pool when it comes back."""
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, psycopg.AsyncConnection)
        async with driver.transaction():
            yield driver
