"""The analytics summary against real PostgreSQL (a database of its own, migrated): only the
caller's orders of one mode created in [from, to) count, with their payment attempts and
refunds; volumes stay per currency; the success rate counts the attempts that reached an
outcome at their processor; the day series covers every UTC day of the range; bad ranges
and modes are refused with their reasons; each query reads its index."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from launcher.platform import Platform
from services.common.db import session_factory, sqlalchemy_url
from services.common.errors import InvalidArgument
from services.common.identity import Caller
from services.common.migrate import upgrade
from services.order import analytics
from services.order.models import OrderRow, RefundRow, TransactionRow

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PAID = ("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED")


@pytest.fixture(scope="module")
def analytics_database(platform: Platform) -> Iterator[str]:
    name = f"analytics_test_{secrets.token_hex(4)}"
    with psycopg.connect(platform.database_libpq_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = urlsplit(platform.database_libpq_url)._replace(path=f"/{name}").geturl()
        try:
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
async def engine(analytics_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(sqlalchemy_url(analytics_database))
    yield engine
    await engine.dispose()


@pytest.fixture()
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture()
def merchant() -> Caller:
    """A merchant of its own per test, so the figures are exactly the test's rows."""
    return Caller(merchant_id=f"mer_{secrets.token_hex(6)}", mode="test")


class Books:
    """Rows written straight to the tables, with the times and states a test needs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], who: Caller) -> None:
        self.sessions, self.who = sessions, who
        self.rows: list[OrderRow | TransactionRow | RefundRow] = []

    def order(
        self, amount: int, currency: str, status: str, created_at: datetime, *, who: Caller | None = None
    ) -> OrderRow:
        who = who or self.who
        row = OrderRow(
            id=f"ord_{secrets.token_hex(8)}",
            merchant_id=who.merchant_id,
            mode=who.mode,
            amount=amount,
            currency=currency,
            status=status,
            capture_method="AUTOMATIC",
            amount_captured=amount if status in PAID else 0,
            amount_refunded=0,
            created_at=created_at,
            updated_at=created_at,
        )
        self.rows.append(row)
        return row

    def attempt(
        self,
        order: OrderRow,
        processor: str,
        status: str,
        code: str = "",
        *,
        kind: str = "CHARGE",
        later: timedelta = timedelta(seconds=5),
    ) -> TransactionRow:
        row = TransactionRow(
            id=f"txn_{secrets.token_hex(8)}",
            order_id=order.id,
            merchant_id=order.merchant_id,
            attempt=1,
            type=kind,
            status=status,
            processor=processor,
            amount=order.amount,
            currency=order.currency,
            failure_code=code,
            idempotency_key=secrets.token_hex(12),
            created_at=order.created_at + later,
            updated_at=order.created_at + later,
        )
        self.rows.append(row)
        return row

    def refund(self, order: OrderRow, amount: int, status: str) -> RefundRow:
        row = RefundRow(
            id=f"ref_{secrets.token_hex(8)}",
            order_id=order.id,
            merchant_id=order.merchant_id,
            mode=order.mode,
            amount=amount,
            currency=order.currency,
            status=status,
            processor="stripe",
            payment_reference="pi_x",
            created_at=order.created_at + timedelta(days=1),
            updated_at=order.created_at + timedelta(days=1),
        )
        self.rows.append(row)
        return row

    async def write(self) -> None:
        orders = [r for r in self.rows if isinstance(r, OrderRow)]
        async with self.sessions.begin() as session:
            session.add_all(orders)
            await session.flush()
            session.add_all([r for r in self.rows if not isinstance(r, OrderRow)])

    async def summary(self, days: int = 30, end: datetime = NOW, mode: str = "") -> dict[str, Any]:
        scope = analytics.scope_of(self.who, start=end - timedelta(days=days), end=end, mode=mode)
        answer = await analytics.summary(sessions=self.sessions, scope=scope)
        return json_format.MessageToDict(answer, always_print_fields_with_no_presence=True)


@pytest.fixture()
def books(sessions: async_sessionmaker[AsyncSession], merchant: Caller) -> Books:
    return Books(sessions, merchant)


def volume(**amounts: int) -> list[dict[str, str]]:
    return [{"currency": currency, "amount": str(amount)} for currency, amount in sorted(amounts.items())]


async def test_only_the_callers_orders_of_the_mode_created_in_the_range_count(books: Books) -> None:
    start = NOW - timedelta(days=30)
    books.order(1000, "USD", "SUCCEEDED", start)  # from is inclusive
    books.order(2500, "USD", "FAILED", NOW - timedelta(days=3))
    books.order(700, "EUR", "REFUNDED", NOW - timedelta(seconds=1))
    books.order(300, "JPY", "CREATED", NOW - timedelta(days=1))
    books.order(9999, "USD", "SUCCEEDED", start - timedelta(microseconds=1))  # before from
    books.order(9999, "USD", "SUCCEEDED", NOW)  # to is exclusive
    books.order(9999, "USD", "SUCCEEDED", NOW - timedelta(days=1), who=Caller(books.who.merchant_id, "live"))
    books.order(9999, "USD", "SUCCEEDED", NOW - timedelta(days=1), who=Caller("mer_someone_else", "test"))
    await books.write()

    summary = await books.summary()

    assert summary["totals"] == {
        "count": 4,
        "volume": volume(EUR=700, JPY=300, USD=3500),
        "succeeded": 2,
        "capturedVolume": volume(EUR=700, JPY=0, USD=1000),
        "refunds": {"count": 0, "volume": []},
    }
    assert summary["byStatus"] == [  # in the order of Order.Status
        {"status": "CREATED", "count": 1, "volume": volume(JPY=300)},
        {"status": "SUCCEEDED", "count": 1, "volume": volume(USD=1000)},
        {"status": "FAILED", "count": 1, "volume": volume(USD=2500)},
        {"status": "REFUNDED", "count": 1, "volume": volume(EUR=700)},
    ]
    assert summary["byCurrency"] == [
        {
            "currency": "EUR",
            "count": 1,
            "volume": "700",
            "succeeded": 1,
            "capturedVolume": "700",
            "refundCount": 0,
            "refundedVolume": "0",
        },
        {
            "currency": "JPY",
            "count": 1,
            "volume": "300",
            "succeeded": 0,
            "capturedVolume": "0",
            "refundCount": 0,
            "refundedVolume": "0",
        },
        {
            "currency": "USD",
            "count": 2,
            "volume": "3500",
            "succeeded": 1,
            "capturedVolume": "1000",
            "refundCount": 0,
            "refundedVolume": "0",
        },
    ]
    live = await books.summary(mode="live")
    assert (live["totals"]["count"], live["totals"]["volume"]) == (1, volume(USD=9999))


async def test_sums_beyond_int32_are_exact(books: Books) -> None:
    for day in range(3):
        books.order(2_000_000_000, "IDR", "SUCCEEDED", NOW - timedelta(days=day, hours=1))
    await books.write()

    summary = await books.summary()

    assert summary["totals"]["volume"] == volume(IDR=6_000_000_000)
    assert summary["byCurrency"][0]["capturedVolume"] == "6000000000"


async def test_success_rate_counts_the_attempts_that_reached_an_outcome_at_the_processor(books: Books) -> None:
    when = NOW - timedelta(days=2)
    usd, eur, inr = (
        books.order(1000, "USD", "SUCCEEDED", when),
        books.order(500, "EUR", "FAILED", when),
        books.order(8000, "INR", "SUCCEEDED", when),
    )
    books.attempt(usd, "stripe", "FAILED", "card_declined")
    books.attempt(usd, "stripe", "SUCCEEDED")
    books.attempt(usd, "stripe", "SUCCEEDED", kind="CAPTURE")  # not a payment attempt
    books.attempt(eur, "stripe", "FAILED", "insufficient_funds", kind="AUTHORIZE")
    books.attempt(eur, "stripe", "FAILED", "PROCESSOR_UNAVAILABLE")  # no outcome at the processor
    books.attempt(eur, "stripe", "FAILED", "cancelled")  # cancelled before it completed
    books.attempt(eur, "stripe", "PENDING")
    books.attempt(eur, "stripe", "ACTION_REQUIRED")
    books.attempt(inr, "razorpay", "FAILED", "PROCESSOR_UNAVAILABLE")
    books.attempt(inr, "razorpay", "FAILED", "")
    books.attempt(inr, "razorpay", "SUCCEEDED")
    older = books.order(700, "USD", "SUCCEEDED", NOW - timedelta(days=31))
    books.attempt(older, "stripe", "SUCCEEDED", later=timedelta(days=2))  # within the range, its order before
    live = books.order(700, "USD", "SUCCEEDED", when, who=Caller(books.who.merchant_id, "live"))
    books.attempt(live, "stripe", "FAILED", "card_declined")
    await books.write()

    summary = await books.summary()

    assert summary["byProcessor"] == [
        {"processor": "razorpay", "attempted": 2, "succeeded": 1, "successRate": 0.5, "volume": volume(INR=8000)},
        {"processor": "stripe", "attempted": 3, "succeeded": 1, "successRate": 1 / 3, "volume": volume(USD=1000)},
    ]
    assert summary["failureCodes"] == [
        {"code": "card_declined", "count": 1},
        {"code": "insufficient_funds", "count": 1},
        {"code": "unknown", "count": 1},
    ]


async def test_the_ten_most_frequent_failure_codes_most_frequent_first(books: Books) -> None:
    order = books.order(1000, "USD", "FAILED", NOW - timedelta(days=1))
    counts = {f"code_{rank:02d}": 12 - rank for rank in range(12)} | {"also_three": 3}
    for code, count in counts.items():
        for _ in range(count):
            books.attempt(order, "stripe", "FAILED", code)
    await books.write()

    codes = (await books.summary())["failureCodes"]

    top = [(f"code_{rank:02d}", 12 - rank) for rank in range(9)] + [("also_three", 3)]  # a tie goes by code
    assert [(c["code"], c["count"]) for c in codes] == top


async def test_refunds_of_the_range_orders_count_unless_failed(books: Books) -> None:
    inside = books.order(1000, "USD", "PARTIALLY_REFUNDED", NOW - timedelta(days=5))
    books.refund(inside, 300, "SUCCEEDED")
    books.refund(inside, 200, "PENDING")
    books.refund(inside, 400, "FAILED")
    euro = books.order(900, "EUR", "REFUNDED", NOW - timedelta(days=4))
    books.refund(euro, 900, "SUCCEEDED")
    before = books.order(1000, "USD", "REFUNDED", NOW - timedelta(days=31))
    books.refund(before, 1000, "SUCCEEDED")  # refunded within the range, but the order is older
    await books.write()

    summary = await books.summary()

    assert summary["totals"]["refunds"] == {"count": 3, "volume": volume(EUR=900, USD=500)}
    by_currency = {c["currency"]: (c["refundCount"], c["refundedVolume"]) for c in summary["byCurrency"]}
    assert by_currency == {"EUR": (1, "900"), "USD": (2, "500")}


async def test_every_utc_day_of_the_range_is_in_the_series(books: Books) -> None:
    end = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
    books.order(100, "USD", "SUCCEEDED", datetime(2025, 3, 7, 23, 59, 59, tzinfo=UTC))
    books.order(200, "USD", "FAILED", datetime(2025, 3, 8, 0, 0, tzinfo=UTC))
    books.order(300, "EUR", "SUCCEEDED", datetime(2025, 3, 8, 13, 0, tzinfo=UTC))
    books.order(400, "USD", "SUCCEEDED", datetime(2025, 3, 10, 5, 0, tzinfo=UTC))
    await books.write()

    daily = (await books.summary(days=3, end=end))["daily"]

    assert daily == [
        {
            "date": "2025-03-07",
            "count": 1,
            "volume": volume(USD=100),
            "succeeded": 1,
            "capturedVolume": volume(USD=100),
        },
        {
            "date": "2025-03-08",
            "count": 2,
            "volume": volume(EUR=300, USD=200),
            "succeeded": 1,
            "capturedVolume": volume(EUR=300, USD=0),
        },
        {"date": "2025-03-09", "count": 0, "volume": [], "succeeded": 0, "capturedVolume": []},
        {
            "date": "2025-03-10",
            "count": 1,
            "volume": volume(USD=400),
            "succeeded": 1,
            "capturedVolume": volume(USD=400),
        },
    ]


async def test_a_merchant_without_orders_gets_zeros(books: Books) -> None:
    summary = await books.summary(days=2)
    assert summary["totals"] == {
        "count": 0,
        "volume": [],
        "succeeded": 0,
        "capturedVolume": [],
        "refunds": {"count": 0, "volume": []},
    }
    assert [summary[k] for k in ("byStatus", "byProcessor", "byCurrency", "failureCodes")] == [[], [], [], []]
    assert [day["count"] for day in summary["daily"]] == [0, 0, 0]


# -- the request ------------------------------------------------------------------------------


WHO = Caller("mer_x", "test")


def test_without_a_range_it_is_the_last_30_days_of_the_callers_mode() -> None:
    scope = analytics.scope_of(WHO, start=None, end=None, mode="", now=NOW)
    assert scope == analytics.Scope("mer_x", "test", NOW - timedelta(days=30), NOW)
    only_to = analytics.scope_of(WHO, start=None, end=NOW - timedelta(days=1), mode="live", now=NOW)
    assert (only_to.mode, only_to.start) == ("live", NOW - timedelta(days=31))
    only_from = analytics.scope_of(WHO, start=NOW - timedelta(days=2), end=None, mode="test", now=NOW)
    assert only_from.end == NOW
    year_one = datetime(1, 1, 2, tzinfo=UTC)
    assert analytics.scope_of(WHO, start=None, end=year_one, mode="", now=NOW).start == datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "mode", "reason", "field"),
    [
        (NOW, NOW, "", "TIME_RANGE_INVALID", "from"),
        (NOW + timedelta(seconds=1), NOW, "", "TIME_RANGE_INVALID", "from"),
        (NOW + timedelta(days=1), None, "", "TIME_RANGE_INVALID", "from"),  # to defaults to now
        (NOW - timedelta(days=367), NOW, "", "TIME_RANGE_INVALID", "from"),
        (None, None, "LIVE", "MODE_INVALID", "mode"),
        (None, None, "production", "MODE_INVALID", "mode"),
    ],
)
def test_bad_input_is_refused_with_its_reason(
    start: datetime | None, end: datetime | None, mode: str, reason: str, field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        analytics.scope_of(WHO, start=start, end=end, mode=mode, now=NOW)
    assert refused.value.reason == reason
    assert [v.field for v in refused.value.violations] == [field]


def test_a_year_and_a_day_is_the_longest_range() -> None:
    assert analytics.scope_of(WHO, start=NOW - timedelta(days=366), end=NOW, mode="", now=NOW)


async def test_each_query_reads_a_range_of_its_index(engine: AsyncEngine, merchant: Caller) -> None:
    scope = analytics.scope_of(merchant, start=NOW - timedelta(days=30), end=NOW, mode="")
    queries = {
        "orders_analytics": analytics.order_query(scope),
        "transactions_analytics": analytics.attempt_query(scope),
        "refunds_analytics": analytics.refund_query(scope),
    }
    async with engine.connect() as connection:
        for plan_kind in ("seqscan", "bitmapscan", "nestloop"):  # as on a large table, whatever these few rows
            await connection.exec_driver_sql(f"SET LOCAL enable_{plan_kind} = off")
        for index, query in queries.items():
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join((await connection.exec_driver_sql(f"EXPLAIN {compiled}")).scalars())
            assert f"Index Only Scan using {index}" in plan, plan
