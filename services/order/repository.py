"""Order persistence. Every query is scoped to the calling merchant and mode, so
another merchant's id behaves exactly like an id that does not exist."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import func, inspect, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import FailedPrecondition, NotFound
from services.common.identity import Caller
from services.common.ids import new_id
from services.order import outbox
from services.order.checkout import repository as checkout
from services.order.convert import order_json, refund_json
from services.order.domain import (
    CaptureMethod,
    NewOrder,
    Order,
    OrderStatus,
    check_transition,
    transaction_may_move,
)
from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.refunds import (
    REFUNDABLE,
    RefundOutcome,
    RefundStatus,
    check_refundable,
    order_status_after_refund,
    refund_amount,
)

# The order changes merchants hear about by webhook (the REST contract's event list).
ORDER_EVENTS = {
    OrderStatus.SUCCEEDED: "order.succeeded",
    OrderStatus.FAILED: "order.failed",
    OrderStatus.REQUIRES_ACTION: "order.requires_action",
    OrderStatus.AUTHORIZED: "order.authorized",
    OrderStatus.CANCELLED: "order.cancelled",
}
REFUND_EVENTS = {RefundStatus.SUCCEEDED.value: "refund.succeeded", RefundStatus.FAILED.value: "refund.failed"}


def order_of(record: Mapping[str, Any]) -> Order:
    """The order of a record with (at least) Order's fields, named as the table's columns."""
    return Order(
        **{
            **{field: record[field] for field in ORDER_FIELDS},
            "status": OrderStatus(record["status"]),
            "capture_method": CaptureMethod(record["capture_method"]),
            "metadata": dict(record["metadata"]),
        }
    )


def record_of(row: OrderRow, fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ORM row as a record: Order's fields and `fields`, named as the table's columns."""
    return {field: getattr(row, ROW_ATTRIBUTE.get(field, field)) for field in ORDER_FIELDS + fields}


def to_domain(row: OrderRow) -> Order:
    return order_of(record_of(row))


# The order's reads, its insert and the pay path's lock, move to PROCESSING and prepared
# reference run straight on psycopg (`db.driver_transaction`, `db.driver_statements`):
# through the ORM's session and objects they cost about twice the CPU (`python -m
# bench.db_overhead`). Order's fields are the table's column names.
ORDER_FIELDS = tuple(field.name for field in dataclasses.fields(Order))
ROW_ATTRIBUTE = {"metadata": "metadata_"}  # OrderRow's attribute where it is not the column's name
ORDERS = f"{OrderRow.__table__.schema}.{OrderRow.__tablename__}"
TRANSACTIONS = f"{TransactionRow.__table__.schema}.{TransactionRow.__tablename__}"
OWNED = "WHERE merchant_id = %(merchant_id)s AND mode = %(mode)s"
SELECT_ORDER = f"SELECT {', '.join(ORDER_FIELDS)} FROM {ORDERS} {OWNED}"
# The columns of the order's current payment attempt (its workflow's input is made of them
# and the order's fields). The first, the attempt's number, only ever counts up.
ATTEMPT_FIELDS = (
    "attempt",
    "payment_method_type",
    "payment_method_token",
    "return_url",
    "payment_idempotency_key",
    "payment_candidates",
)
PAYMENT_COLUMNS = ", ".join(ORDER_FIELDS + ATTEMPT_FIELDS)
LOCK_PAYMENT = f"SELECT {PAYMENT_COLUMNS} FROM {ORDERS} {OWNED} AND id = %(id)s FOR UPDATE"
START_ATTEMPT = f"""UPDATE {ORDERS} SET status = %(status)s, version = version + 1, attempt = attempt + 1,
        {", ".join(f"{field} = %({field})s" for field in ATTEMPT_FIELDS[1:])},
        failure_code = '', failure_message = '', next_action_type = '', next_action_url = '', updated_at = now()
    WHERE id = %(id)s
    RETURNING {PAYMENT_COLUMNS}"""
INSERT_ORDER = f"""INSERT INTO {ORDERS} (id, merchant_id, mode, amount, currency, status, capture_method,
        customer_email, description, metadata, idempotency_key)
    VALUES (%(id)s, %(merchant_id)s, %(mode)s, %(amount)s, %(currency)s, %(status)s, %(capture_method)s,
        %(customer_email)s, %(description)s, %(metadata)s, %(idempotency_key)s)
    ON CONFLICT (merchant_id, mode, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING {", ".join(ORDER_FIELDS)}"""


async def create_order(
    *, db: psycopg.AsyncConnection[Any], caller: Caller, order: NewOrder, idempotency_key: str = ""
) -> Order:
    """A new order; with an Idempotency-Key, the order that key created if there is one.
    One INSERT ... RETURNING (the database's defaults come back with it); it yields to the
    key's unique index, and only then is the key's order read."""
    scope = {"merchant_id": caller.merchant_id, "mode": caller.mode}
    values = {
        "id": new_id("ord"),
        "amount": order.amount,
        "currency": order.currency,
        "status": OrderStatus.CREATED.value,
        "capture_method": order.capture_method.value,
        "customer_email": order.customer_email,
        "description": order.description,
        "metadata": Jsonb(order.metadata),
        "idempotency_key": idempotency_key or None,
    }
    async with db.cursor(row_factory=dict_row) as cursor:
        created = await (await cursor.execute(INSERT_ORDER, scope | values)).fetchone()
        if created is None and idempotency_key:  # the key's first request created it (or an earlier use)
            query = SELECT_ORDER + " AND idempotency_key = %(idempotency_key)s"
            created = await (await cursor.execute(query, scope | {"idempotency_key": idempotency_key})).fetchone()
    assert created is not None
    return order_of(created)


async def get_order(*, db: psycopg.AsyncConnection[Any], caller: Caller, order_id: str) -> Order:
    """The caller's order (NotFound for another merchant's or mode's, as for none)."""
    query = SELECT_ORDER + " AND id = %(id)s"
    async with db.cursor(row_factory=dict_row) as cursor:
        row = await (
            await cursor.execute(query, {"merchant_id": caller.merchant_id, "mode": caller.mode, "id": order_id})
        ).fetchone()
    if row is None:
        raise NotFound.of("order", order_id)
    return order_of(row)


async def lock_payment(*, db: psycopg.AsyncConnection[Any], caller: Caller, order_id: str) -> dict[str, Any]:
    """The caller's order with its current attempt (a record of ORDER_FIELDS and
    ATTEMPT_FIELDS), locked for the transaction."""
    values = {"merchant_id": caller.merchant_id, "mode": caller.mode, "id": order_id}
    async with db.cursor(row_factory=dict_row) as cursor:
        row = await (await cursor.execute(LOCK_PAYMENT, values)).fetchone()
    if row is None:
        raise NotFound.of("order", order_id)
    return row


async def start_attempt(
    *, db: psycopg.AsyncConnection[Any], locked: Mapping[str, Any], details: Mapping[str, Any]
) -> dict[str, Any]:
    """Moves the order `lock_payment` locked to PROCESSING with its next attempt's `details`
    (the ATTEMPT_FIELDS but the attempt's number, which counts up). This is the move of the
    state machine that merchants do not hear about (no event, no checkout session closes),
    so unlike move() it has nothing to stage and runs as one statement."""
    check_transition(OrderStatus(locked["status"]), OrderStatus.PROCESSING)
    values = {**details, "status": OrderStatus.PROCESSING.value, "id": locked["id"]}
    values["payment_candidates"] = Jsonb(values["payment_candidates"])
    async with db.cursor(row_factory=dict_row) as cursor:
        row = await (await cursor.execute(START_ATTEMPT, values)).fetchone()
    assert row is not None
    return row


def committed_order(row: OrderRow) -> Order | None:
    """The order as its (ended) transaction committed it; None when a column was left to
    the database and not read back, so only reading the order again can tell."""
    return None if inspect(row).unloaded else to_domain(row)


def owned_by(table: type[OrderRow] | type[RefundRow], caller: Caller) -> tuple[Any, Any]:
    return table.merchant_id == caller.merchant_id, table.mode == caller.mode


async def order_row_or_raise(
    *, session: AsyncSession, caller: Caller, order_id: str, for_update: bool = False
) -> OrderRow:
    """The caller's order row, locked for the transaction when `for_update`."""
    query = select(OrderRow).where(OrderRow.id == order_id, *owned_by(OrderRow, caller))
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound.of("order", order_id)
    return row


def move(row: OrderRow, target: OrderStatus, *, reason: str = "ORDER_STATE_CONFLICT") -> None:
    """The one place an order changes status: legal moves only. A move merchants hear
    about records its event in the same transaction (the order as it is at commit)."""
    check_transition(OrderStatus(row.status), target, reason=reason)
    row.status = target.value
    row.version += 1
    event_type = ORDER_EVENTS.get(target)
    if event_type is not None:
        outbox.stage(row, event_type, order_subject)
    checkout.close_with_order(row, target)


def order_subject(row: OrderRow) -> outbox.Subject:
    return outbox.Subject(merchant_id=row.merchant_id, object_id=row.id, data=order_json(to_domain(row)))


def record_payment(
    row: OrderRow,
    target: OrderStatus,
    *,
    processor: str,
    amount_captured: int,
    failure_code: str,
    failure_message: str,
    next_action_url: str,
) -> None:
    """Moves an order to a payment outcome (from the payment workflow or a processor event)."""
    move(row, target)
    row.processor = processor
    row.failure_code, row.failure_message = failure_code, failure_message[:1000]
    if target is OrderStatus.SUCCEEDED:
        row.amount_captured = amount_captured or row.amount
    # The customer's next step is only pending while the order waits for it.
    waiting = target is OrderStatus.REQUIRES_ACTION
    row.next_action_type, row.next_action_url = ("redirect", next_action_url) if waiting else ("", "")


async def list_orders(
    *,
    db: psycopg.AsyncConnection[Any],
    caller: Caller,
    limit: int,
    status: OrderStatus | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[Order]:
    """Newest first; `after` is the (created_at, id) of the previous page's last order."""
    query, values = SELECT_ORDER, {"merchant_id": caller.merchant_id, "mode": caller.mode, "limit": limit}
    if status is not None:
        query, values = query + " AND status = %(status)s", values | {"status": status.value}
    if after is not None:
        query += " AND (created_at, id) < (%(after_created_at)s, %(after_id)s)"
        values |= {"after_created_at": after[0], "after_id": after[1]}
    async with db.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(query + " ORDER BY created_at DESC, id DESC LIMIT %(limit)s", values)
        return [order_of(row) for row in await cursor.fetchall()]


def advance_transaction(row: TransactionRow, status: str, *, failure_code: str = "", failure_message: str = "") -> bool:
    """The one place a transaction changes status: forward only (a stale or repeated
    report changes nothing). Returns whether it moved."""
    if row.status == status or not transaction_may_move(row.status, status):
        return False
    row.status = status
    row.failure_code, row.failure_message = failure_code, failure_message[:1000]
    row.updated_at = func.now()
    return True


async def get_or_create_transaction(*, session: AsyncSession, values: dict[str, object]) -> TransactionRow:
    """The transaction with values["idempotency_key"], created PENDING if new (retry-safe),
    locked for the session's transaction: one statement, as the conflict's no-op update
    locks the existing row and returns it."""
    created_or_locked = (
        insert(TransactionRow)
        .values(id=new_id("txn"), **values)
        .on_conflict_do_update(
            index_elements=["idempotency_key"], set_={"idempotency_key": TransactionRow.idempotency_key}
        )
        .returning(TransactionRow)
        .execution_options(populate_existing=True)
    )
    row = await session.scalar(created_or_locked)
    assert row is not None
    return row


async def transaction_reference(*, db: psycopg.AsyncConnection[Any], idempotency_key: str) -> str:
    """The processor reference recorded for the step with this key ("" if none yet)."""
    query = f"SELECT processor_reference FROM {TRANSACTIONS} WHERE idempotency_key = %s"
    row = await (await db.execute(query, (idempotency_key,))).fetchone()
    return str(row[0]) if row is not None else ""


async def record_reference(
    *, db: psycopg.AsyncConnection[Any], values: Mapping[str, object], reference: str
) -> tuple[str, bool]:
    """Records `reference` on the transaction with values["idempotency_key"] (created PENDING
    if new), unless another run of the step recorded its own first. Returns the reference
    the transaction holds and whether it is this one, recorded by this call."""
    columns = {"id": new_id("txn"), **values, "processor_reference": reference}
    query = f"""INSERT INTO {TRANSACTIONS} AS recorded ({", ".join(columns)})
        VALUES ({", ".join(f"%({name})s" for name in columns)})
        ON CONFLICT (idempotency_key) DO UPDATE SET processor_reference = EXCLUDED.processor_reference
            WHERE recorded.processor_reference = ''
        RETURNING processor_reference"""
    if await (await db.execute(query, columns)).fetchone() is not None:
        return reference, True
    return await transaction_reference(db=db, idempotency_key=str(values["idempotency_key"])), False


async def list_transactions(*, session: AsyncSession, caller: Caller, order_id: str) -> list[TransactionRow]:
    await order_row_or_raise(session=session, caller=caller, order_id=order_id)
    rows = await session.scalars(
        select(TransactionRow)
        .where(TransactionRow.order_id == order_id)
        .order_by(TransactionRow.created_at, TransactionRow.id)
    )
    return list(rows)


async def order_row_of_merchant(*, session: AsyncSession, merchant_id: str, order_id: str) -> OrderRow | None:
    """The order locked for update, in either mode (processor events do not know the mode)."""
    row: OrderRow | None = await session.scalar(
        select(OrderRow).where(OrderRow.id == order_id, OrderRow.merchant_id == merchant_id).with_for_update()
    )
    return row


async def find_payment(*, session: AsyncSession, order: OrderRow) -> TransactionRow | None:
    """The successful charge or authorization of the order's current attempt."""
    row: TransactionRow | None = await session.scalar(
        select(TransactionRow)
        .where(
            TransactionRow.order_id == order.id,
            TransactionRow.attempt == order.attempt,
            TransactionRow.type.in_(("CHARGE", "AUTHORIZE")),
            TransactionRow.status == "SUCCEEDED",
            TransactionRow.processor_reference != "",
        )
        .order_by(TransactionRow.created_at.desc())
        .limit(1)
    )
    return row


async def reserve_refund(
    *, session: AsyncSession, caller: Caller, order_id: str, amount: int | None, reason: str, idempotency_key: str = ""
) -> RefundRow:
    """A PENDING refund holding its amount against the order, decided under the order's row
    lock so concurrent refunds can never reserve more than was captured. With an
    Idempotency-Key, the refund that key already asked for if there is one."""
    order = await order_row_or_raise(session=session, caller=caller, order_id=order_id, for_update=True)
    if idempotency_key:
        existing = await session.scalar(
            select(RefundRow).where(
                *owned_by(RefundRow, caller),
                RefundRow.idempotency_key == idempotency_key,
                RefundRow.order_id == order.id,
            )
        )
        if existing is not None:
            return existing
    check_refundable(order.status)
    reserved = await session.scalar(
        select(func.coalesce(func.sum(RefundRow.amount), 0)).where(
            RefundRow.order_id == order.id, RefundRow.status != RefundStatus.FAILED.value
        )
    )
    amount = refund_amount(amount, order.amount_captured - int(reserved or 0))
    payment = await find_payment(session=session, order=order)
    if payment is None:
        raise FailedPrecondition(message="the order has no captured payment to refund", reason="ORDER_NOT_REFUNDABLE")
    return await add_refund(
        session=session, order=order, charge=payment, amount=amount, reason=reason, idempotency_key=idempotency_key
    )


async def add_refund(
    *,
    session: AsyncSession,
    order: OrderRow,
    charge: TransactionRow,
    amount: int,
    reason: str,
    idempotency_key: str = "",
) -> RefundRow:
    """A PENDING refund of `amount` of `charge`, with its REFUND transaction."""
    refund = RefundRow(
        id=new_id("ref"),
        order_id=order.id,
        merchant_id=order.merchant_id,
        mode=order.mode,
        amount=amount,
        currency=charge.currency,
        status=RefundStatus.PENDING.value,
        processor=charge.processor,
        payment_reference=charge.processor_reference,
        reason=reason,
        idempotency_key=idempotency_key or None,
    )
    session.add(refund)
    session.add(
        TransactionRow(
            id=new_id("txn"),
            order_id=order.id,
            merchant_id=order.merchant_id,
            attempt=charge.attempt,
            type="REFUND",
            status="PENDING",
            processor=charge.processor,
            amount=amount,
            currency=charge.currency,
            idempotency_key=refund.id,
            refund_id=refund.id,
        )
    )
    await session.flush()
    await session.refresh(refund)
    return refund


async def refund_row_or_raise(*, session: AsyncSession, caller: Caller, refund_id: str) -> RefundRow:
    row: RefundRow | None = await session.scalar(
        select(RefundRow).where(RefundRow.id == refund_id, *owned_by(RefundRow, caller))
    )
    if row is None:
        raise NotFound.of("refund", refund_id)
    return row


async def find_refund(
    *, session: AsyncSession, merchant_id: str, refund_id: str = "", processor: str = "", reference: str = ""
) -> RefundRow | None:
    """A merchant's refund by its id, else by the processor's refund id."""
    query = select(RefundRow).where(RefundRow.merchant_id == merchant_id)
    if refund_id:
        query = query.where(RefundRow.id == refund_id)
    elif processor and reference:
        query = query.where(RefundRow.processor == processor, RefundRow.processor_reference == reference)
    else:
        return None
    row: RefundRow | None = await session.scalar(query)
    return row


async def settle_refund(
    *, session: AsyncSession, merchant_id: str, refund_id: str, outcome: RefundOutcome
) -> tuple[RefundRow, bool]:
    """The one place a refund changes status; it records refund.succeeded / refund.failed.

    PENDING -> SUCCEEDED (the order's amount_refunded grows and the order moves to
    PARTIALLY_REFUNDED or REFUNDED) or PENDING -> FAILED (the reservation is released).
    A refund already final is left alone, so the workflow and a webhook settling the same
    refund apply it once. Returns the refund and whether this call changed its status."""
    found = await find_refund(session=session, merchant_id=merchant_id, refund_id=refund_id)
    if found is None:
        raise NotFound.of("refund", refund_id)
    # Order first, then refund: the lock order every writer of both follows.
    order = await order_row_of_merchant(session=session, merchant_id=merchant_id, order_id=found.order_id)
    assert order is not None
    refund = await session.scalar(
        select(RefundRow).where(RefundRow.id == refund_id).with_for_update().execution_options(populate_existing=True)
    )
    assert refund is not None
    if refund.status != RefundStatus.PENDING.value:
        return refund, False
    txn = await session.scalar(select(TransactionRow).where(TransactionRow.idempotency_key == refund.id))
    refund.processor_reference = refund.processor_reference or outcome.processor_reference
    if txn is not None:
        txn.processor_reference = refund.processor_reference
    if outcome.status not in (RefundStatus.SUCCEEDED.value, RefundStatus.FAILED.value):
        return refund, False
    if outcome.status == RefundStatus.SUCCEEDED.value:
        order.amount_refunded += refund.amount
        if order.status in REFUNDABLE:  # a cancelled or failed order's automatic refund keeps its status
            move(order, order_status_after_refund(order.amount_captured, order.amount_refunded))
    refund.status = outcome.status
    refund.failure_code, refund.failure_message = outcome.failure_code, outcome.failure_message[:1000]
    if txn is not None:
        advance_transaction(
            txn, outcome.status, failure_code=refund.failure_code, failure_message=refund.failure_message
        )
    outbox.stage(refund, REFUND_EVENTS[outcome.status], refund_subject)
    return refund, True


def refund_subject(row: RefundRow) -> outbox.Subject:
    return outbox.Subject(merchant_id=row.merchant_id, object_id=row.id, data=refund_json(row))


async def charges_at(*, session: AsyncSession, order: OrderRow, processor: str) -> list[TransactionRow]:
    """The order's charges and authorizations at `processor`, every attempt, newest first, locked."""
    rows = await session.scalars(
        select(TransactionRow)
        .where(
            TransactionRow.order_id == order.id,
            TransactionRow.processor == processor,
            TransactionRow.type.in_(("CHARGE", "AUTHORIZE")),
        )
        .order_by(TransactionRow.created_at.desc(), TransactionRow.id.desc())
        .with_for_update()
    )
    return list(rows)
