"""What the analytics summary (GET /api/analytics/summary) costs for a merchant with
100 000 orders over 90 days: with migration 0010's indexes and, as the baseline in the
same run, without them.

    .venv/bin/python -m bench.analytics [--database-url postgresql://...] [--orders 100000]
        [--other-orders 100000] [--runs 40] [--gateway]

It creates a scratch database next to the one named (dropped at the end), migrates it and
seeds it in bulk SQL: the merchant's test-mode orders spread over 90 days (five
currencies, two processors, every status), their payment attempts (one in six failing
first, a dozen failure codes, some with no outcome at the processor) and refunds (some
failed), with their transactions; and --other-orders alike, of six other merchants and of
the merchant's live mode, which the queries must skip. Then, per range (the last 30 and
90 days), the variants taking turns call after call: `analytics.summary` (the service
function, on one pooled connection), the same REST call through Envoy with a dashboard
token (--gateway: the platform runs on the scratch database, the merchant registered
there), and the summary's queries without the indexes (dropped inside a transaction that
is rolled back) — p50 and p99 of each; then the EXPLAIN ANALYZE plan of each query with
and without the indexes (its scans, their indexes and heap fetches, its time). Loopback
PostgreSQL only; it stops after --runs calls per range and variant."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bench.db_overhead import scratch_database
from launcher.platform import Platform, PlatformConfig
from services.common.db import session_factory, sqlalchemy_url
from services.common.identity import Caller
from services.common.migrate import upgrade
from services.order import analytics

DAYS = 90
Call = Callable[[], Awaitable[None]]
RANGES = (30, 90)
INDEXES = ("orders_analytics", "transactions_analytics", "refunds_analytics")
# The merchant's orders (noise 0), or the other orders (noise 1): one in seven the
# merchant's live mode, the rest six other merchants'. created_at spreads over DAYS; c
# and s, uniform in [0, 100), pick the currency and the status.
SEED_ORDERS = """
INSERT INTO orders.orders (id, merchant_id, mode, amount, currency, status, capture_method,
    amount_captured, amount_refunded, processor, failure_code, created_at, updated_at)
SELECT 'ord_' || %(noise)s || '_' || n, merchant_id, mode, amount, currency, status,
    CASE status WHEN 'AUTHORIZED' THEN 'MANUAL' ELSE 'AUTOMATIC' END,
    CASE WHEN status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED') THEN amount ELSE 0 END,
    CASE status WHEN 'REFUNDED' THEN amount WHEN 'PARTIALLY_REFUNDED' THEN amount / 2 ELSE 0 END,
    CASE WHEN status = 'CREATED' THEN '' WHEN currency = 'INR' THEN 'razorpay' ELSE 'stripe' END,
    CASE WHEN status = 'FAILED' THEN (%(codes)s::text[])[1 + n %% 11] ELSE '' END,
    created_at, created_at
FROM (
    SELECT n, amount, created_at,
        CASE WHEN %(noise)s = 0 OR n %% 7 = 0 THEN %(merchant)s ELSE 'mer_other_' || n %% 6 END AS merchant_id,
        CASE WHEN %(noise)s = 1 AND n %% 7 = 0 THEN 'live' ELSE 'test' END AS mode,
        CASE WHEN c < 45 THEN 'USD' WHEN c < 65 THEN 'EUR' WHEN c < 90 THEN 'INR'
             WHEN c < 95 THEN 'GBP' ELSE 'JPY' END AS currency,
        CASE WHEN s < 60 THEN 'SUCCEEDED' WHEN s < 75 THEN 'FAILED' WHEN s < 78 THEN 'PARTIALLY_REFUNDED'
             WHEN s < 80 THEN 'REFUNDED' WHEN s < 88 THEN 'CREATED' WHEN s < 92 THEN 'CANCELLED'
             WHEN s < 95 THEN 'AUTHORIZED' WHEN s < 97 THEN 'REQUIRES_ACTION' ELSE 'PROCESSING' END AS status
    FROM (
        SELECT n, 100 + floor(random() * 99900)::int AS amount,
            now() - random() * %(days)s * interval '1 day' AS created_at,
            floor(random() * 100)::int AS c, floor(random() * 100)::int AS s
        FROM generate_series(1, %(rows)s) AS n
    ) AS drawn
) AS orders_drawn
"""
# Per paid-at order: its charge or authorization, final as its status says; one in six
# first failed once (a decline, or no outcome at that processor).
SEED_ATTEMPTS = """
INSERT INTO orders.transactions (id, order_id, merchant_id, attempt, type, status, processor,
    amount, currency, failure_code, idempotency_key, created_at, updated_at)
SELECT 'txn_' || o.id || '_' || a.attempt, o.id, o.merchant_id, a.attempt,
    CASE o.capture_method WHEN 'MANUAL' THEN 'AUTHORIZE' ELSE 'CHARGE' END,
    a.status, o.processor, o.amount, o.currency, a.failure_code,
    o.id || '-' || a.attempt, o.created_at + a.attempt * interval '2 seconds',
    o.created_at + a.attempt * interval '2 seconds'
FROM orders.orders AS o
CROSS JOIN LATERAL (
    SELECT 2 AS attempt,
        CASE WHEN o.status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'AUTHORIZED') THEN 'SUCCEEDED'
             WHEN o.status = 'PROCESSING' THEN 'PENDING' WHEN o.status = 'REQUIRES_ACTION' THEN 'ACTION_REQUIRED'
             ELSE 'FAILED' END AS status,
        CASE o.status WHEN 'FAILED' THEN o.failure_code WHEN 'CANCELLED' THEN 'cancelled' ELSE '' END AS failure_code
    UNION ALL
    SELECT 1, 'FAILED', (%(codes)s::text[])[1 + abs(hashtext(o.id || 'code')) %% 12]
    WHERE hashtext(o.id) %% 6 = 0
) AS a
WHERE o.status <> 'CREATED'
"""
SEED_REFUNDS = """
INSERT INTO orders.refunds (id, order_id, merchant_id, mode, amount, currency, status, processor,
    payment_reference, created_at, updated_at)
SELECT 'ref_' || o.id || r.n, o.id, o.merchant_id, o.mode, r.amount, o.currency, r.status,
    o.processor, 'pay_' || o.id, o.created_at + interval '1 day', o.created_at + interval '1 day'
FROM orders.orders AS o
CROSS JOIN LATERAL (
    SELECT '_1' AS n, o.amount_refunded AS amount, 'SUCCEEDED' AS status WHERE o.amount_refunded > 0
    UNION ALL
    SELECT '_2', o.amount, 'FAILED' WHERE o.status = 'SUCCEEDED' AND hashtext(o.id) %% 50 = 0
) AS r
"""
SEED_REFUND_TRANSACTIONS = """
INSERT INTO orders.transactions (id, order_id, merchant_id, attempt, type, status, processor,
    amount, currency, idempotency_key, refund_id, created_at, updated_at)
SELECT 'txn_' || r.id, r.order_id, r.merchant_id, 2, 'REFUND', r.status, r.processor, r.amount,
    r.currency, r.id, r.id, r.created_at, r.created_at
FROM orders.refunds AS r
"""
FAILURE_CODES = [
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "incorrect_cvc",
    "do_not_honor",
    "processing_error",
    "authentication_required",
    "fraudulent",
    "lost_card",
    "stolen_card",
    "generic_decline",
    "PROCESSOR_UNAVAILABLE",
]


def seed(url: str, merchant_id: str, orders: int, others: int) -> dict[str, int]:
    """The orders, attempts and refunds; VACUUM ANALYZE (the visibility map lets the
    index-only scans skip the heap, as autovacuum keeps it for a live table)."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("SELECT setseed(0.42)")
        common = {"merchant": merchant_id, "codes": FAILURE_CODES, "days": DAYS}
        db.execute(SEED_ORDERS, {**common, "noise": 0, "rows": orders})
        db.execute(SEED_ORDERS, {**common, "noise": 1, "rows": others})
        for statement in (SEED_ATTEMPTS, SEED_REFUNDS, SEED_REFUND_TRANSACTIONS):
            db.execute(statement, {"codes": FAILURE_CODES})
        db.execute("VACUUM ANALYZE orders.orders, orders.transactions, orders.refunds")
        return {table: count(db, f"orders.{table}") for table in ("orders", "transactions", "refunds")}


def count(db: psycopg.Connection[Any], table: str) -> int:
    row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def percentiles(seconds: list[float]) -> str:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms"


def scope(merchant_id: str, days: int) -> analytics.Scope:
    now = datetime.now(UTC)
    return analytics.scope_of(Caller(merchant_id, "test"), start=now - timedelta(days=days), end=now, mode="")


async def without_indexes(connection: AsyncConnection) -> None:
    """DDL is transactional: the indexes are gone for this transaction only (rolled back)."""
    for index in INDEXES:
        await connection.exec_driver_sql(f"DROP INDEX orders.{index}")


def service_call(sessions: async_sessionmaker[AsyncSession], where: analytics.Scope) -> Call:
    async def call() -> None:
        await analytics.summary(sessions=sessions, scope=where)

    return call


def baseline_call(sessions: async_sessionmaker[AsyncSession], where: analytics.Scope) -> Call:
    """The summary's queries and assembly, without the indexes."""

    async def call() -> None:
        async with sessions() as session:
            await without_indexes(await session.connection())
            orders = (await session.execute(analytics.order_query(where))).all()
            attempts = (await session.execute(analytics.attempt_query(where))).all()
            refunds = (await session.execute(analytics.refund_query(where))).all()
            analytics.assemble(where, orders, attempts, refunds)
            await session.rollback()

    return call


def gateway_call(http: httpx.AsyncClient, days: int) -> Call:
    async def call() -> None:
        now = datetime.now(UTC)
        query = {"from": (now - timedelta(days=days)).isoformat(), "to": now.isoformat()}
        (await http.get("/api/analytics/summary", params=query)).raise_for_status()

    return call


async def timed(calls: dict[str, Call], runs: int) -> dict[str, list[float]]:
    """Seconds per call of each variant, the variants taking turns (a load that comes and
    goes on the machine weighs on each alike)."""
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(runs + 3):  # the first three warm up
        for name, call in calls.items():
            began = time.perf_counter()
            await call()
            if round_ >= 3:
                spent[name].append(time.perf_counter() - began)
    return spent


async def plans(engine: AsyncEngine, where: analytics.Scope, *, indexes: bool) -> list[str]:
    """One line per query: its scans (with index and heap fetches) and execution time."""
    queries: dict[str, Select[*tuple[Any, ...]]] = {
        "orders": analytics.order_query(where),
        "attempts": analytics.attempt_query(where),
        "refunds": analytics.refund_query(where),
    }
    lines = []
    async with engine.connect() as connection:  # rolled back at the end
        if not indexes:
            await without_indexes(connection)
        for name, query in queries.items():
            compiled = query.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
            explained = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params)
            [[plan]] = explained.all()
            scans = "; ".join(scan_nodes(plan[0]["Plan"]))
            lines.append(f"{name:8s} {plan[0]['Execution Time']:6.1f} ms  {scans}")
    return lines


def scan_nodes(node: dict[str, Any]) -> Iterator[str]:
    if "Relation Name" in node:
        index = f" using {node['Index Name']}" if "Index Name" in node else ""
        fetches = f", heap fetches {node['Heap Fetches']}" if "Heap Fetches" in node else ""
        rows = node["Actual Rows"] * node["Actual Loops"]  # a parallel scan's rows are per process
        yield f"{node['Node Type']}{index} on {node['Relation Name']} ({rows} rows{fetches})"
    for child in node.get("Plans", []):
        yield from scan_nodes(child)


async def measure(url: str, merchant_id: str, runs: int, gateway: tuple[str, str] | None) -> None:
    engine = create_async_engine(sqlalchemy_url(url), pool_size=1, hide_parameters=True)
    sessions = session_factory(engine)
    base_url, token = gateway or ("", "")
    http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        for days in RANGES:
            where = scope(merchant_id, days)
            calls = {"service function": service_call(sessions, where)}
            if gateway is not None:
                calls["REST via Envoy"] = gateway_call(http, days)
            calls["without the indexes"] = baseline_call(sessions, where)
            print(f"last {days} days ({runs} calls each):")
            for name, seconds in (await timed(calls, runs)).items():
                print(f"  {name:20s} {percentiles(seconds)}")
            for indexes in (True, False):
                print(f"  plans {'with' if indexes else 'without'} the indexes:")
                for line in await plans(engine, where, indexes=indexes):
                    print(f"    {line}")
    finally:
        await http.aclose()
        await engine.dispose()


@contextmanager
def platform_on(url: str) -> Iterator[tuple[Platform, str, str]]:
    """The platform on the scratch database; yields it, a registered merchant's id and its
    dashboard token."""
    with tempfile.TemporaryDirectory() as data_dir:
        config = PlatformConfig(data_dir=Path(data_dir), temporal_ui=False, database_url=url)
        with Platform(config) as platform:
            account = {"email": f"bench-{time.time_ns()}@example.com", "password": "bench-password-1234", "name": "B"}
            answer = httpx.post(f"{platform.gateway_url}/api/auth/register", json=account, timeout=30)
            answer.raise_for_status()
            body = answer.json()
            yield platform, body["merchant"]["id"], body["token"]


def run(url: str, args: argparse.Namespace) -> None:
    if not args.gateway:
        upgrade(url)
        print(f"seeded {seed(url, 'mer_bench', args.orders, args.other_orders)}")
        asyncio.run(measure(url, "mer_bench", args.runs, None))
        return
    with platform_on(url) as (platform, merchant_id, token):
        print(f"seeded {seed(url, merchant_id, args.orders, args.other_orders)}")
        asyncio.run(measure(url, merchant_id, args.runs, (platform.gateway_url, token)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to create the scratch database from (default: $DATABASE_URL)",
    )
    ap.add_argument("--orders", type=int, default=100_000, help="the merchant's orders")
    ap.add_argument("--other-orders", type=int, default=100_000, help="other merchants' and live-mode orders")
    ap.add_argument("--runs", type=int, default=40, help="calls per range and variant")
    ap.add_argument("--gateway", action="store_true", help="also through Envoy (starts the platform)")
    args = ap.parse_args()
    with scratch_database(args.database_url) as url:
        run(url, args)


if __name__ == "__main__":
    main()
