"""Checkout session persistence. Lock order: an order row, then its session row (as the
pay path does), never the other way round."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from google.protobuf import json_format
from payloops.order.v1 import order_pb2
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, object_session

from services.common.errors import AlreadyExists, NotFound
from services.common.identity import Caller
from services.common.ids import new_id
from services.common.timestamps import timestamp
from services.order import outbox
from services.order.checkout.domain import CHECKOUT_EVENTS, CLOSED_BY_ORDER, CheckoutStatus, NewCheckoutSession
from services.order.domain import OrderStatus
from services.order.models import CheckoutSessionRow, OrderRow

CLOSING = "payloops.checkout.closing"
SESSIONS = f"{CheckoutSessionRow.__table__.schema}.{CheckoutSessionRow.__tablename__}"


def session_to_proto(row: CheckoutSessionRow) -> order_pb2.CheckoutSession:
    return order_pb2.CheckoutSession(
        id=row.id,
        order_id=row.order_id,
        url=row.url,
        status=order_pb2.CheckoutSession.Status.Value(row.status),
        success_url=row.success_url,
        cancel_url=row.cancel_url,
        expire_time=timestamp(row.expires_at),
        create_time=timestamp(row.created_at),
    )


def session_json(row: CheckoutSessionRow) -> dict[str, Any]:
    """The JSON GET /v1/checkout/sessions/{id} answers."""
    return json_format.MessageToDict(session_to_proto(row), always_print_fields_with_no_presence=True)


async def add_session(
    *, session: AsyncSession, order: OrderRow, new: NewCheckoutSession, base_url: str, expires_at: datetime
) -> CheckoutSessionRow:
    """A new OPEN session of `order`, whose row the caller holds locked."""
    current = await open_session_of(session=session, order_id=order.id)
    if current is not None:
        raise AlreadyExists(
            message=f"order {order.id} already has an open checkout session, {current.id}",
            reason="CHECKOUT_SESSION_ALREADY_OPEN",
            metadata={"sessionId": current.id},
        )
    session_id = new_id("cs")
    row = CheckoutSessionRow(
        id=session_id,
        merchant_id=order.merchant_id,
        mode=order.mode,
        order_id=order.id,
        status=CheckoutStatus.OPEN.value,
        url=f"{base_url.rstrip('/')}/checkout/{session_id}",
        success_url=new.success_url,
        cancel_url=new.cancel_url,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def open_session_of(*, session: AsyncSession, order_id: str) -> CheckoutSessionRow | None:
    return await session.scalar(
        select(CheckoutSessionRow).where(
            CheckoutSessionRow.order_id == order_id, CheckoutSessionRow.status == CheckoutStatus.OPEN.value
        )
    )


async def session_row_or_raise(
    *, session: AsyncSession, session_id: str, caller: Caller | None = None
) -> CheckoutSessionRow:
    """The session; the caller's only when `caller` is given (the merchant API), any
    merchant's for the hosted page (whose URL holds the id)."""
    query = select(CheckoutSessionRow).where(CheckoutSessionRow.id == session_id)
    if caller is not None:
        query = query.where(
            CheckoutSessionRow.merchant_id == caller.merchant_id, CheckoutSessionRow.mode == caller.mode
        )
    row = await session.scalar(query)
    if row is None:
        raise NotFound.of("checkout_session", session_id)
    return row


async def lock_status(*, db: psycopg.AsyncConnection[Any], session_id: str) -> tuple[str, datetime]:
    """The session's status and expiry, its row locked for the transaction (the pay path's,
    on psycopg, after the order's row)."""
    query = f"SELECT status, expires_at FROM {SESSIONS} WHERE id = %s FOR UPDATE"
    row = await (await db.execute(query, (session_id,))).fetchone()
    if row is None:
        raise NotFound.of("checkout_session", session_id)
    return str(row[0]), row[1]


async def order_of(*, session: AsyncSession, row: CheckoutSessionRow, for_update: bool = False) -> OrderRow:
    query = select(OrderRow).where(OrderRow.id == row.order_id, OrderRow.merchant_id == row.merchant_id)
    order = await session.scalar(query.with_for_update() if for_update else query)
    if order is None:  # sessions are only ever made for existing orders
        raise NotFound.of("checkout_session", row.id)
    return order


def close(row: CheckoutSessionRow, status: CheckoutStatus) -> None:
    """The one place a session leaves OPEN; merchants hear of it by webhook."""
    row.status = status.value
    row.updated_at = func.now()
    outbox.stage(row, CHECKOUT_EVENTS[status.value], subject)


def subject(row: CheckoutSessionRow) -> outbox.Subject:
    return outbox.Subject(merchant_id=row.merchant_id, object_id=row.id, data=session_json(row))


def close_with_order(order: OrderRow, target: OrderStatus) -> None:
    """Called on every order move: paid closes its open session COMPLETE, cancelled closes
    it EXPIRED, in the transaction of the move (when it commits)."""
    status = CLOSED_BY_ORDER.get(target)
    session = object_session(order)
    if status is not None and session is not None:
        session.info.setdefault(CLOSING, {})[order.id] = status


@event.listens_for(Session, "before_commit")
def _close_sessions(session: Session) -> None:
    closing: dict[str, CheckoutStatus] = session.info.pop(CLOSING, {})
    for order_id, status in closing.items():
        closed = session.execute(
            update(CheckoutSessionRow)
            .where(CheckoutSessionRow.order_id == order_id, CheckoutSessionRow.status == CheckoutStatus.OPEN.value)
            .values(status=status.value, updated_at=func.now())
            .returning(CheckoutSessionRow)
        ).scalars()
        for row in closed:
            data = subject(row)
            outbox.add_event(
                session,
                merchant_id=data.merchant_id,
                event_type=CHECKOUT_EVENTS[status.value],
                object_id=row.id,
                data=data.data,
            )


@event.listens_for(Session, "after_rollback")
def _forget_closing(session: Session) -> None:
    session.info.pop(CLOSING, None)
