"""Persistence of outbound events, deliveries and attempts. Reads for the dashboard are
scoped to the calling merchant: another merchant's event is simply not found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import NotFound
from services.common.ids import new_id
from services.webhook.outbound.models import PENDING, SUCCEEDED, AttemptRow, DeliveryRow, EventRow


@dataclass(frozen=True)
class NewEvent:
    id: str
    merchant_id: str
    type: str
    sequence: int
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str


async def insert_event(
    *, session: AsyncSession, event: NewEvent, endpoints: Sequence[Endpoint]
) -> list[DeliveryRow] | None:
    """Stores the event and one PENDING delivery per endpoint, and returns those; None
    (and nothing written) when the event id is already stored."""
    inserted = await session.scalar(
        insert(EventRow)
        .values(
            id=event.id,
            merchant_id=event.merchant_id,
            type=event.type,
            sequence=event.sequence,
            data=event.data,
            created_at=event.created_at,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(EventRow.id)
    )
    if inserted is None:
        return None
    deliveries = [
        DeliveryRow(id=new_id("dlv"), event_id=event.id, endpoint_id=endpoint.id, url=endpoint.url, replay=0)
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    await session.flush()  # the database's created_at comes back with the insert
    return deliveries


async def event_or_raise(*, session: AsyncSession, merchant_id: str, event_id: str, lock: bool = False) -> EventRow:
    query = select(EventRow).where(EventRow.id == event_id, EventRow.merchant_id == merchant_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound.of("webhook_event", event_id)
    return row


async def add_replay(*, session: AsyncSession, event: EventRow, endpoint: Endpoint) -> DeliveryRow:
    """A new delivery of `event` to `endpoint`, numbered after the earlier ones. Hold
    the event's row lock (event_or_raise(lock=True)) so concurrent replays queue."""
    last = await session.scalar(
        select(func.max(DeliveryRow.replay)).where(
            DeliveryRow.event_id == event.id, DeliveryRow.endpoint_id == endpoint.id
        )
    )
    row = DeliveryRow(
        id=new_id("dlv"),
        event_id=event.id,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        replay=(last + 1) if last is not None else 0,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def deliveries_of(*, session: AsyncSession, event_ids: Sequence[str]) -> list[DeliveryRow]:
    rows = await session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.event_id.in_(event_ids))
        .order_by(DeliveryRow.created_at, DeliveryRow.replay, DeliveryRow.id)
    )
    return list(rows)


async def attempts_of(*, session: AsyncSession, delivery_ids: Sequence[str]) -> list[AttemptRow]:
    rows = await session.scalars(
        select(AttemptRow)
        .where(AttemptRow.delivery_id.in_(delivery_ids))
        .order_by(AttemptRow.delivery_id, AttemptRow.number)
    )
    return list(rows)


async def list_events(
    *,
    session: AsyncSession,
    merchant_id: str,
    limit: int,
    type_: str = "",
    delivery_status: str = "",
    after: tuple[datetime, str] | None = None,
) -> list[EventRow]:
    """Newest first; `after` is the (created_at, id) of the previous page's last event."""
    query = select(EventRow).where(EventRow.merchant_id == merchant_id)
    if type_:
        query = query.where(EventRow.type == type_)
    if delivery_status:
        query = query.where(
            select(DeliveryRow.id)
            .where(DeliveryRow.event_id == EventRow.id, DeliveryRow.status == delivery_status)
            .exists()
        )
    if after is not None:
        query = query.where(tuple_(EventRow.created_at, EventRow.id) < tuple_(*after))
    query = query.order_by(EventRow.created_at.desc(), EventRow.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def delivery_with_event(*, session: AsyncSession, delivery_id: str) -> tuple[DeliveryRow, EventRow] | None:
    found = (
        await session.execute(
            select(DeliveryRow, EventRow)
            .join(EventRow, EventRow.id == DeliveryRow.event_id)
            .where(DeliveryRow.id == delivery_id)
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def attempt(*, session: AsyncSession, delivery_id: str, number: int) -> AttemptRow | None:
    return await session.get(AttemptRow, (delivery_id, number))


async def record_attempt(
    *,
    session: AsyncSession,
    delivery_id: str,
    number: int,
    status_code: int,
    latency_ms: int,
    error: str,
    delivered: bool,
    retry_in: float | None,
) -> None:
    """Logs attempt `number` once (a retried activity writes nothing twice) and moves
    the delivery: SUCCEEDED, or still PENDING with the next attempt's time."""
    written = await session.scalar(
        insert(AttemptRow)
        .values(
            delivery_id=delivery_id,
            number=number,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error[:1000],
        )
        .on_conflict_do_nothing()
        .returning(AttemptRow.number)
    )
    if written is None:
        return
    pending = DeliveryRow.id == delivery_id, DeliveryRow.status == PENDING
    if delivered:
        await session.execute(update(DeliveryRow).where(*pending).values(status=SUCCEEDED, next_attempt_at=None))
    else:
        next_at = func.now() + timedelta(seconds=retry_in) if retry_in is not None else None
        await session.execute(update(DeliveryRow).where(*pending).values(next_attempt_at=next_at))


async def finish_delivery(*, session: AsyncSession, delivery_id: str, status: str) -> None:
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.status == PENDING)
        .values(status=status, next_attempt_at=None)
    )
