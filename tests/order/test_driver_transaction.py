"""common.db.driver_transaction: a psycopg transaction on a connection of the engine's
pool, committed at the end of the block, rolled back on an error, and the connection
back in the pool either way (still usable, and no transaction left open).
common.db.driver_statements: each statement commits as it ends, and the connection goes
back to the pool out of autocommit, or not at all when a statement was cut off."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import driver_statements, driver_transaction


@pytest.fixture()
async def table(engine: AsyncEngine) -> AsyncIterator[str]:
    name = f"driver_tx_{secrets.token_hex(4)}"
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE public.{name} (value int)"))
    yield f"public.{name}"
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE public.{name}"))


async def values(engine: AsyncEngine, table: str) -> list[int]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(f"SELECT value FROM {table} ORDER BY value"))).scalars())


async def test_commits_at_the_end_and_rolls_back_on_an_error(engine: AsyncEngine, table: str) -> None:
    async with driver_transaction(engine) as db:
        await db.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
    with pytest.raises(RuntimeError):
        async with driver_transaction(engine) as db:
            await db.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
            raise RuntimeError("the caller failed half-way")
    assert await values(engine, table) == [1]


async def test_the_one_pooled_connection_comes_back_idle(engine: AsyncEngine, table: str) -> None:
    for value in range(3):  # a pool of one: each block needs the connection the last gave back
        async with driver_transaction(engine) as db:
            await db.execute(f"INSERT INTO {table} VALUES (%s)", (value,))
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert await values(engine, table) == [0, 1, 2]


async def test_statements_commit_one_by_one_and_the_connection_comes_back_transactional(
    engine: AsyncEngine, table: str
) -> None:
    with pytest.raises(RuntimeError):
        async with driver_statements(engine) as db:
            await db.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
            raise RuntimeError("the caller failed after its statement")
    assert await values(engine, table) == [1]  # committed as it ended
    with pytest.raises(RuntimeError):  # the same, one pooled connection: back in transactions
        async with driver_transaction(engine) as db:
            await db.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
            raise RuntimeError("the caller failed half-way")
    assert await values(engine, table) == [1]


async def test_a_connection_that_broke_mid_statement_is_not_given_back(engine: AsyncEngine) -> None:
    with pytest.raises(psycopg.errors.AdminShutdown):  # the error itself, not one about resetting the connection
        async with driver_statements(engine) as db:
            await db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    async with driver_transaction(engine) as db:  # the pool of one opens a new connection
        assert not db.autocommit
        assert await (await db.execute("SELECT 1")).fetchone() == (1,)


async def test_a_statement_cancelled_mid_way_leaves_its_connection_usable(engine: AsyncEngine) -> None:
    with pytest.raises(TimeoutError):
        async with driver_statements(engine) as db:
            await asyncio.wait_for(db.execute("SELECT pg_sleep(5)"), timeout=0.2)
    async with driver_transaction(engine) as db:
        assert not db.autocommit
        assert await (await db.execute("SELECT 1")).fetchone() == (1,)
