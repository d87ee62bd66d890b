"""Async SQLAlchemy engine and sessions (psycopg 3). Each service owns one schema."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.common.config import ServiceSettings


def sqlalchemy_url(url: str) -> str:
    """Accept plain libpq URLs too and pick the psycopg 3 driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(settings.database_url),
        # A database error's text would carry its bind parameters (payment tokens, emails,
        # password hashes) into the logs.
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=settings.db_pre_ping,
        pool_recycle=settings.db_recycle_seconds,
    )
    # ... and so would the server's own message, which quotes them back.
    event.listen(engine.sync_engine, "handle_error", _withhold_data_in_wrapper)
    return engine


_QUOTED = re.compile(r'".*"', re.DOTALL)


def withhold_data(error: psycopg.Error) -> None:
    """Leave out of the error's text what quotes the statement's data: the server's detail
    (the duplicate key, the failing row), hint and context, and the quoted value in a data
    exception's message (class 22: `invalid input syntax for type integer: "…"`). The
    message names constraints, so code can still tell them apart; `error.diag` keeps all."""
    diag = error.diag
    if diag.sqlstate is None:  # raised by psycopg itself, not by the server
        return
    message = diag.message_primary or ""
    if diag.sqlstate.startswith("22"):
        message = _QUOTED.sub('"…"', message)
    error.args = (f"{message} (SQLSTATE {diag.sqlstate})",)


def _withhold_data_in_wrapper(context: ExceptionContext) -> StatementError | None:
    error = context.original_exception
    if not isinstance(error, psycopg.Error):
        return None
    withhold_data(error)
    if context.sqlalchemy_exception is None:
        return None
    # SQLAlchemy's exception copied the original's text when it was made: make it again.
    return DBAPIError.instance(
        context.statement,
        context.parameters,
        error,
        context.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=context.is_disconnect,
        dialect=context.dialect,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory opens its sessions on."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


@asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A transaction straight on psycopg, on a connection of the engine's pool: for the
    hot, self-contained statements whose ORM round trip costs several times the statement
    (`python -m bench.db_overhead`). Commits at the end of the block, rolls back on error;
    a connection that broke is dropped by the pool when it comes back. Its errors are
    psycopg's own, their data withheld as the engine's are."""
    async with _driver(engine, autocommit=False) as driver, driver.transaction():
        yield driver


@asynccontextmanager
async def driver_statements(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """As driver_transaction, but each statement commits as it ends (autocommit): for work
    that is one statement, a read or a write that stands alone, it saves the BEGIN and
    COMMIT round trips (0.2 ms of a 0.3 ms read here). Never for statements that must
    commit together."""
    async with _driver(engine, autocommit=True) as driver:
        yield driver


@asynccontextmanager
async def _driver(engine: AsyncEngine, *, autocommit: bool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, psycopg.AsyncConnection)
        if autocommit:
            await driver.set_autocommit(True)
        try:
            yield driver
        except psycopg.Error as error:
            withhold_data(error)
            raise
        finally:
            if autocommit:  # the pool's other users expect transactions
                if driver.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    await driver.set_autocommit(False)
                else:  # a statement was cut off mid-way: the connection is not given out again
                    await connection.invalidate()
