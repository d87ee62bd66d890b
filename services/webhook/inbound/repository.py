"""Processor event persistence (schema "webhook")."""

from __future__ import annotations

from datetime import timedelta

from payloops.processor.v1 import processor_pb2
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.webhook.models import ProcessorEventRow


async def record_event(
    *, session: AsyncSession, processor: str, merchant_id: str, event: processor_pb2.ProcessorEvent, body: bytes
) -> ProcessorEventRow:
    """The event's row, inserted once per (processor, merchant, event id); a repeat returns
    the first delivery's row."""
    await session.execute(
        insert(ProcessorEventRow)
        .values(
            id=new_id("pev"),
            processor=processor,
            merchant_id=merchant_id,
            event_id=event.event_id,
            event_type=event.event_type[:128],
            order_id=event.order_id[:64],
            refund_id=event.refund_id[:64],
            event=event.SerializeToString(),
            body=body,
        )
        .on_conflict_do_nothing(constraint="processor_events_unique")
    )
    row = await session.scalar(
        select(ProcessorEventRow).where(
            ProcessorEventRow.processor == processor,
            ProcessorEventRow.merchant_id == merchant_id,
            ProcessorEventRow.event_id == event.event_id,
        )
    )
    assert row is not None
    return row


async def unapplied(*, session: AsyncSession, older_than: timedelta, limit: int) -> list[ProcessorEventRow]:
    rows = await session.scalars(
        select(ProcessorEventRow)
        .where(ProcessorEventRow.applied_at.is_(None), ProcessorEventRow.received_at < func.now() - older_than)
        .order_by(ProcessorEventRow.received_at)
        .limit(limit)
    )
    return list(rows)


async def mark_applied(*, session: AsyncSession, row_id: str, changed: bool) -> None:
    """Concurrent deliveries of one event may each apply it; the one that changed something
    makes the outcome "applied", the others ("ignored") never overwrite that."""
    outcome = "applied" if changed else func.coalesce(func.nullif(ProcessorEventRow.outcome, ""), "ignored")
    await session.execute(
        update(ProcessorEventRow)
        .where(ProcessorEventRow.id == row_id)
        .values(
            applied_at=func.coalesce(ProcessorEventRow.applied_at, func.now()),
            outcome=outcome,
            apply_attempts=ProcessorEventRow.apply_attempts + 1,
        )
    )


async def mark_failed(*, session: AsyncSession, row_id: str, error: str) -> None:
    await session.execute(
        update(ProcessorEventRow)
        .where(ProcessorEventRow.id == row_id)
        .values(last_error=error[:1000], apply_attempts=ProcessorEventRow.apply_attempts + 1)
    )
