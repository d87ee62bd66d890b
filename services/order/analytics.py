"""The analytics summary of a merchant's orders (GET /api/analytics/summary), computed in
PostgreSQL. Every figure is about the orders created in [start, end) in one mode and what
happened to them since: their payment attempts and refunds count whenever they happened.
Three grouped queries (orders, payment attempts, refunds), each read from one index of
migration 0010 in one snapshot; Python only adds up their few hundred rows. Money stays
per currency."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVarTuple

from payloops.order.v1 import order_pb2
from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FieldViolation, require
from services.common.identity import Caller
from services.order.domain import OrderStatus, TransactionStatus
from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.payments import PROCESSOR_UNAVAILABLE
from services.order.refunds import RefundStatus

Summary = order_pb2.AnalyticsSummary
MODES = ("test", "live")
DEFAULT_RANGE = timedelta(days=30)
MAX_RANGE = timedelta(days=366)
TOP_FAILURE_CODES = 10
PAID = (OrderStatus.SUCCEEDED.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value)
PAYMENT_ATTEMPTS = ("CHARGE", "AUTHORIZE")
# Failed attempts the processor gave no outcome for: it was unavailable (or the attempt
# was abandoned there unanswered), or the attempt was cancelled before it completed.
NO_OUTCOME = (PROCESSOR_UNAVAILABLE, "cancelled")
EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Scope:
    merchant_id: str
    mode: str
    start: datetime
    end: datetime


def scope_of(
    who: Caller, *, start: datetime | None, end: datetime | None, mode: str, now: datetime | None = None
) -> Scope:
    """The caller's orders asked about: `mode` ("" for the caller's), and the range, by
    default the 30 days before `end` (by default now)."""
    require([] if mode in ("", *MODES) else [FieldViolation("mode", "must be test or live")], reason="MODE_INVALID")
    end = end or now or datetime.now(UTC)
    start = start or max(end, EARLIEST + DEFAULT_RANGE) - DEFAULT_RANGE  # not before year 1
    require(range_violations(start, end), reason="TIME_RANGE_INVALID")
    return Scope(who.merchant_id, mode or who.mode, start, end)


def range_violations(start: datetime, end: datetime) -> list[FieldViolation]:
    if start >= end:
        return [FieldViolation("from", "must be before to (default: now)")]
    if end - start > MAX_RANGE:
        return [FieldViolation("from", f"must be at most {MAX_RANGE.days} days before to")]
    return []


@dataclass
class Tally:
    """Orders counted into one group: how many, how many paid, their money per currency."""

    count: int = 0
    succeeded: int = 0
    volume: Counter[str] = field(default_factory=Counter)
    captured: Counter[str] = field(default_factory=Counter)

    def add(self, currency: str, count: int, succeeded: int, volume: int, captured: int) -> None:
        self.count += count
        self.succeeded += succeeded
        self.volume[currency] += volume
        self.captured[currency] += captured


@dataclass
class Attempts:
    """Payment attempts at one processor that reached an outcome there."""

    attempted: int = 0
    succeeded: int = 0
    volume: Counter[str] = field(default_factory=Counter)


def orders_in(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    return (
        OrderRow.merchant_id == scope.merchant_id,
        OrderRow.mode == scope.mode,
        OrderRow.created_at >= scope.start,
        OrderRow.created_at < scope.end,
    )


def order_query(scope: Scope) -> Select[date | None, str | None, str, int, int, int, int]:
    """(day, status, currency, count, paid, volume, captured) of the orders in scope, in
    one scan: per UTC day and currency (status NULL), and per status and currency (day
    NULL)."""
    day = func.date(func.timezone("UTC", OrderRow.created_at))
    return (
        select(
            day,
            OrderRow.status,
            OrderRow.currency,
            func.count(),
            func.count().filter(OrderRow.status.in_(PAID)),
            func.sum(OrderRow.amount),
            func.sum(OrderRow.amount_captured),
        )
        .where(*orders_in(scope))
        .group_by(func.grouping_sets(tuple_(day, OrderRow.currency), tuple_(OrderRow.status, OrderRow.currency)))
    )


def attempt_query(scope: Scope) -> Select[str, str, str, str, int, int]:
    """(processor, currency, status, failure code, count, amount) of the payment attempts
    of the orders in scope that reached an outcome at their processor. A transaction is
    written after its order, so none of an order created from `start` on is older than
    `start`: that bound keeps the merchant's older transactions out of the index scan."""
    txn = TransactionRow
    outcome = or_(
        txn.status == TransactionStatus.SUCCEEDED.value,
        and_(txn.status == TransactionStatus.FAILED.value, txn.failure_code.not_in(NO_OUTCOME)),
    )
    return (
        select(txn.processor, txn.currency, txn.status, txn.failure_code, func.count(), func.sum(txn.amount))
        .join(OrderRow, OrderRow.id == txn.order_id)
        .where(
            *orders_in(scope),
            txn.merchant_id == scope.merchant_id,
            txn.created_at >= scope.start,
            txn.type.in_(PAYMENT_ATTEMPTS),
            outcome,
        )
        .group_by(txn.processor, txn.currency, txn.status, txn.failure_code)
    )


def refund_query(scope: Scope) -> Select[str, int, int]:
    """(currency, count, volume) of the non-failed refunds of the orders in scope (a refund
    is created after its order, as for attempt_query)."""
    return (
        select(RefundRow.currency, func.count(), func.sum(RefundRow.amount))
        .join(OrderRow, OrderRow.id == RefundRow.order_id)
        .where(
            *orders_in(scope),
            RefundRow.merchant_id == scope.merchant_id,
            RefundRow.mode == scope.mode,
            RefundRow.created_at >= scope.start,
            RefundRow.status != RefundStatus.FAILED.value,
        )
        .group_by(RefundRow.currency)
    )


Columns = TypeVarTuple("Columns")
SNAPSHOT_READ = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


async def summary(*, sessions: async_sessionmaker[AsyncSession], scope: Scope) -> Summary:
    """The summary of the orders in scope. Its three statements run side by side on three
    connections (PostgreSQL gives each one core), all reading the first one's snapshot."""
    async with sessions() as first:
        await first.connection(execution_options=SNAPSHOT_READ)
        snapshot = await first.scalar(text("SELECT pg_export_snapshot()"))

        async def in_snapshot(query: Select[*Columns]) -> Sequence[Row[*Columns]]:
            async with sessions() as other:
                await other.connection(execution_options=SNAPSHOT_READ)
                await other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                return (await other.execute(query)).all()

        orders, attempts, refunds = await asyncio.gather(
            first.execute(order_query(scope)), in_snapshot(attempt_query(scope)), in_snapshot(refund_query(scope))
        )
        return assemble(scope, orders.all(), attempts, refunds)


def assemble(
    scope: Scope,
    orders: Iterable[tuple[date | None, str | None, str, int, int, int, int]],
    attempts: Iterable[tuple[str, str, str, str, int, int]],
    refunds: Iterable[tuple[str, int, int]],
) -> Summary:
    total, by_status, by_currency = Tally(), defaultdict[str, Tally](Tally), defaultdict[str, Tally](Tally)
    daily = {day: Tally() for day in days(scope)}
    for day, status, currency, *figures in orders:
        if day is not None:
            daily[day].add(currency, *figures)
        elif status is not None:
            for tally in (total, by_status[status], by_currency[currency]):
                tally.add(currency, *figures)
    by_processor, failures = defaultdict[str, Attempts](Attempts), Counter[str]()
    for processor, currency, status, code, count, amount in attempts:
        at = by_processor[processor]
        at.attempted += count
        if status == TransactionStatus.SUCCEEDED.value:
            at.succeeded += count
            at.volume[currency] += amount
        else:
            failures[code or "unknown"] += count
    refunded = {currency: (count, volume) for currency, count, volume in refunds}
    return Summary(
        totals=totals_proto(total, refunded),
        by_status=[status_proto(status, by_status[status]) for status in sorted(by_status, key=pb_status)],
        by_processor=[processor_proto(name, by_processor[name]) for name in sorted(by_processor)],
        by_currency=[currency_proto(c, by_currency[c], refunded.get(c, (0, 0))) for c in sorted(by_currency)],
        failure_codes=[
            Summary.FailureCode(code=code, count=count)
            for code, count in sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURE_CODES]
        ],
        daily=[day_proto(day, tally) for day, tally in daily.items()],
    )


def days(scope: Scope) -> list[date]:
    """Every UTC day [start, end) touches, oldest first."""
    first, last = scope.start.astimezone(UTC).date(), (scope.end - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def pb_status(name: str) -> order_pb2.Order.Status.ValueType:
    return order_pb2.Order.Status.Value(name)


def volumes(sums: Mapping[str, int]) -> list[Summary.Volume]:
    return [Summary.Volume(currency=currency, amount=amount) for currency, amount in sorted(sums.items())]


def totals_proto(total: Tally, refunded: Mapping[str, tuple[int, int]]) -> Summary.Totals:
    return Summary.Totals(
        count=total.count,
        volume=volumes(total.volume),
        succeeded=total.succeeded,
        captured_volume=volumes(total.captured),
        refunds=Summary.Refunds(
            count=sum(count for count, _ in refunded.values()),
            volume=volumes({currency: volume for currency, (_, volume) in refunded.items()}),
        ),
    )


def status_proto(status: str, tally: Tally) -> Summary.StatusTotals:
    return Summary.StatusTotals(status=pb_status(status), count=tally.count, volume=volumes(tally.volume))


def processor_proto(processor: str, at: Attempts) -> Summary.ProcessorTotals:
    return Summary.ProcessorTotals(
        processor=processor,
        attempted=at.attempted,
        succeeded=at.succeeded,
        success_rate=at.succeeded / at.attempted,
        volume=volumes(at.volume),
    )


def currency_proto(currency: str, tally: Tally, refunded: tuple[int, int]) -> Summary.CurrencyTotals:
    return Summary.CurrencyTotals(
        currency=currency,
        count=tally.count,
        volume=tally.volume[currency],
        succeeded=tally.succeeded,
        captured_volume=tally.captured[currency],
        refund_count=refunded[0],
        refunded_volume=refunded[1],
    )


def day_proto(day: date, tally: Tally) -> Summary.Day:
    return Summary.Day(
        date=day.isoformat(),
        count=tally.count,
        volume=volumes(tally.volume),
        succeeded=tally.succeeded,
        captured_volume=volumes(tally.captured),
    )
