"""common.db.driver_transaction: a psycopg transaction on a connection of the engine's
pool, committed at the end of the block, rolled back on an error, and the connection
back in the pool either way (still usable, and no transaction left open)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import driver_transaction


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
