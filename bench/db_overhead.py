"""What the data layer costs per transaction: an order's read and insert as the order
service's repository makes them (psycopg, on a connection of SQLAlchemy's pool) against
psycopg on a connection of its own, SQLAlchemy Core (on a connection, and through an ORM
session) and the ORM; and the pay path's locked read (through the ORM: the order's state
machine works on its ORM row) against psycopg. In one run and interleaved, as CPU ms and
wall ms per transaction and as ratios to the first variant of each kind.

    .venv/bin/python -m bench.db_overhead [--database-url postgresql://...] [--transactions 2000]

It creates a scratch database next to the one named (dropped at the end) with the
order service's schema. Loopback PostgreSQL only; it stops after --transactions."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.db import driver_transaction, session_factory, sqlalchemy_url
from services.common.identity import Caller
from services.common.ids import new_id
from services.common.migrate import upgrade
from services.order import repository
from services.order.domain import CaptureMethod, NewOrder
from services.order.models import OrderRow

Step = Callable[[], Awaitable[Any]]
CALLER = Caller(merchant_id="mer_bench", mode="test")
NEW_ORDER = NewOrder(
    amount=1999, currency="USD", capture_method=CaptureMethod.AUTOMATIC, customer_email="", description="", metadata={}
)
ORDER_COLUMNS = ", ".join(column.name for column in OrderRow.__table__.columns)


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name = f"payloops_db_overhead_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def measure(steps: dict[str, Step], transactions: int, rounds: int = 5) -> dict[str, dict[str, float]]:
    """CPU and wall ms per call of each step, the steps taking turns in rounds."""
    spent = {name: [0.0, 0.0] for name in steps}
    for step in steps.values():  # warm: pools filled, statements compiled and prepared
        for _ in range(50):
            await step()
    per_round = max(transactions // rounds, 1)
    for _ in range(rounds):
        for name, step in steps.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(per_round):
                await step()
            spent[name][0] += time.process_time() - cpu
            spent[name][1] += time.perf_counter() - wall
    calls = per_round * rounds
    return {name: {"cpu_ms": cpu * 1000 / calls, "wall_ms": wall * 1000 / calls} for name, (cpu, wall) in spent.items()}


async def compare(url: str, transactions: int) -> dict[str, dict[str, float]]:
    engine = create_async_engine(sqlalchemy_url(url), pool_size=1, hide_parameters=True)
    sessions = session_factory(engine)
    raw = await psycopg.AsyncConnection.connect(url)
    try:
        async with driver_transaction(engine) as db:
            order = await repository.create_order(db=db, caller=CALLER, order=NEW_ORDER)
        key = (order.id, CALLER.merchant_id, CALLER.mode)
        by_key = f"SELECT {ORDER_COLUMNS} FROM orders.orders WHERE id = %s AND merchant_id = %s AND mode = %s"
        table = OrderRow.__table__
        core_query = select(table).where(
            table.c.id == order.id, table.c.merchant_id == CALLER.merchant_id, table.c.mode == CALLER.mode
        )
        orm_query = select(OrderRow).where(
            OrderRow.id == order.id, OrderRow.merchant_id == CALLER.merchant_id, OrderRow.mode == CALLER.mode
        )

        async def psycopg_read() -> None:
            async with raw.transaction():
                await (await raw.execute(by_key, key)).fetchone()

        async def repository_read() -> None:
            async with driver_transaction(engine) as db:
                await repository.get_order(db=db, caller=CALLER, order_id=order.id)

        async def core_read() -> None:
            async with engine.connect() as connection:
                (await connection.execute(core_query)).one()

        async def core_read_in_session() -> None:
            async with sessions() as session:
                (await session.execute(core_query)).one()

        async def orm_read() -> None:
            async with sessions() as session:
                repository.to_domain((await session.scalars(orm_query)).one())

        async def psycopg_locked_read() -> None:
            async with raw.transaction():
                await (await raw.execute(by_key + " FOR UPDATE", key)).fetchone()

        async def orm_locked_read() -> None:
            async with sessions.begin() as session:
                await repository.order_row_or_raise(session=session, caller=CALLER, order_id=order.id, for_update=True)

        async def repository_insert() -> None:
            async with driver_transaction(engine) as db:
                await repository.create_order(db=db, caller=CALLER, order=NEW_ORDER)

        async def orm_insert() -> None:
            async with sessions.begin() as session:
                values: dict[str, Any] = {"merchant_id": CALLER.merchant_id, "mode": CALLER.mode, "status": "CREATED"}
                values |= {"amount": NEW_ORDER.amount, "currency": NEW_ORDER.currency, "capture_method": "AUTOMATIC"}
                statement = insert(OrderRow).values(id=new_id("ord"), **values).returning(OrderRow)
                repository.to_domain((await session.scalars(statement)).one())

        steps: dict[str, Step] = {
            "read: psycopg": psycopg_read,
            "read: psycopg, pooled (repository)": repository_read,
            "read: SQLAlchemy Core": core_read,
            "read: SQLAlchemy Core in an ORM session": core_read_in_session,
            "read: SQLAlchemy ORM": orm_read,
            "locked read: psycopg": psycopg_locked_read,
            "locked read: SQLAlchemy ORM (repository)": orm_locked_read,
            "insert: psycopg, pooled (repository)": repository_insert,
            "insert: SQLAlchemy ORM": orm_insert,
        }
        return await measure(steps, transactions)
    finally:
        await raw.close()
        await engine.dispose()


def report(figures: dict[str, dict[str, float]]) -> None:
    """Each variant's CPU as a ratio to the first of its kind."""
    first: dict[str, tuple[str, float]] = {}
    print("per transaction (one statement, BEGIN ... COMMIT/ROLLBACK), CPU of this process:")
    for name, cost in figures.items():
        kind, variant = (part.strip() for part in name.split(":", 1))
        baseline, baseline_cpu = first.setdefault(kind, (variant, cost["cpu_ms"]))
        ratio = f"  {cost['cpu_ms'] / baseline_cpu:4.1f}x {baseline}" if baseline != variant else ""
        print(f"  {name:42s} CPU {cost['cpu_ms']:6.3f} ms  wall {cost['wall_ms']:6.3f} ms{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to create the scratch database from (default: $DATABASE_URL)",
    )
    ap.add_argument("--transactions", type=int, default=2000, help="transactions per variant")
    args = ap.parse_args()
    with scratch_database(args.database_url) as url:
        upgrade(url)
        report(asyncio.run(compare(url, args.transactions)))


if __name__ == "__main__":
    main()
