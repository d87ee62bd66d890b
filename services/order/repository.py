"""Order persistence. Every query is scoped to the calling merchant and mode, so
another merchant's id behaves exactly like an id that does not exist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import NotFound
from services.common.identity import Caller
from services.common.ids import new_id
from services.order import outbox
from services.order.convert import order_json
from services.order.domain import CaptureMethod, NewOrder, Order, OrderStatus, check_transition
from services.order.models import OrderRow, TransactionRow

# The order changes merchants hear about by webhook (the REST contract's event list).
ORDER_EVENTS = {
    OrderStatus.SUCCEEDED: "order.succeeded",
    OrderStatus.FAILED: "order.failed",
    OrderStatus.REQUIRES_ACTION: "order.requires_action",
    OrderStatus.AUTHORIZED: "order.authorized",
    OrderStatus.CANCELLED: "order.cancelled",
}


def to_domain(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        merchant_id=row.merchant_id,
        mode=row.mode,
        amount=row.amount,
        currency=row.currency,
        status=OrderStatus(row.status),
        capture_method=CaptureMethod(row.capture_method),
        amount_captured=row.amount_captured,
        amount_refunded=row.amount_refunded,
        customer_email=row.customer_email,
        description=row.description,
        metadata=dict(row.metadata_),
        processor=row.processor,
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        next_action_type=row.next_action_type,
        next_action_url=row.next_action_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def create_order(*, session: AsyncSession, caller: Caller, order: NewOrder) -> Order:
    row = OrderRow(
        id=new_id("ord"),
        merchant_id=caller.merchant_id,
        mode=caller.mode,
        amount=order.amount,
        currency=order.currency,
        status=OrderStatus.CREATED.value,
        capture_method=order.capture_method.value,
        customer_email=order.customer_email,
        description=order.description,
        metadata_=order.metadata,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return to_domain(row)


async def get_order_or_raise(*, session: AsyncSession, caller: Caller, order_id: str) -> Order:
    return to_domain(await order_row_or_raise(session=session, caller=caller, order_id=order_id))


async def order_row_or_raise(
    *, session: AsyncSession, caller: Caller, order_id: str, for_update: bool = False
) -> OrderRow:
    """The caller's order row, locked for the transaction when `for_update`."""
    query = select(OrderRow).where(
        OrderRow.id == order_id, OrderRow.merchant_id == caller.merchant_id, OrderRow.mode == caller.mode
    )
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(
            message=f"order {order_id!r} not found",
            reason="ORDER_NOT_FOUND",
            resource_type="order",
            resource_name=order_id,
        )
    return row


def move(row: OrderRow, target: OrderStatus, *, reason: str = "ORDER_STATE_CONFLICT") -> None:
    """The one place an order changes status: legal moves only. A move merchants hear
    about records its event in the same transaction (the order as it is at commit)."""
    check_transition(OrderStatus(row.status), target, reason=reason)
    row.status = target.value
    row.version += 1
    row.updated_at = func.now()
    event_type = ORDER_EVENTS.get(target)
    if event_type is not None:
        outbox.stage(row, event_type, order_subject)


def order_subject(row: OrderRow) -> outbox.Subject:
    return outbox.Subject(merchant_id=row.merchant_id, object_id=row.id, data=order_json(to_domain(row)))


async def list_orders(
    *,
    session: AsyncSession,
    caller: Caller,
    limit: int,
    status: OrderStatus | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[Order]:
    """Newest first; `after` is the (created_at, id) of the previous page's last order."""
    query = select(OrderRow).where(OrderRow.merchant_id == caller.merchant_id, OrderRow.mode == caller.mode)
    if status is not None:
        query = query.where(OrderRow.status == status.value)
    if after is not None:
        query = query.where(tuple_(OrderRow.created_at, OrderRow.id) < tuple_(*after))
    query = query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).limit(limit)
    return [to_domain(row) for row in await session.scalars(query)]


async def get_or_create_transaction(*, session: AsyncSession, values: dict[str, object]) -> TransactionRow:
    """The transaction with values["idempotency_key"], created PENDING if new (retry-safe)."""
    await session.execute(
        insert(TransactionRow)
        .values(id=new_id("txn"), **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    row = await session.scalar(
        select(TransactionRow).where(TransactionRow.idempotency_key == values["idempotency_key"]).with_for_update()
    )
    assert row is not None
    return row


async def find_transaction(
    *, session: AsyncSession, order_id: str, attempt: int, type_: str, status: str
) -> TransactionRow | None:
    row: TransactionRow | None = await session.scalar(
        select(TransactionRow)
        .where(
            TransactionRow.order_id == order_id,
            TransactionRow.attempt == attempt,
            TransactionRow.type == type_,
            TransactionRow.status == status,
        )
        .order_by(TransactionRow.created_at.desc())
        .limit(1)
    )
    return row


async def list_transactions(*, session: AsyncSession, caller: Caller, order_id: str) -> list[TransactionRow]:
    await order_row_or_raise(session=session, caller=caller, order_id=order_id)
    rows = await session.scalars(
        select(TransactionRow)
        .where(TransactionRow.order_id == order_id)
        .order_by(TransactionRow.created_at, TransactionRow.id)
    )
    return list(rows)
