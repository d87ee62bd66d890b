"""Processor event persistence (schema "webhook")."""

from __future__ import annotations

from datetime import timedelta

from payloops.processor.v1 import processor_pb2
from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.webhook.models import ProcessorEventRow


async def record_event(
    *,
    session: AsyncSession,
    processor: str,
    merchant_id: str,
    event: processor_pb2.ProcessorEvent,
    body: bytes,
    sweep_after: timedelta,
) -> ProcessorEventRow:
    """The event's row, inserted once per (processor, merchant, event id); a repeat returns
    the first delivery's row. The sweep leaves a new row alone for `sweep_after`: it is
    being applied right away."""
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
            next_attempt_at=func.now() + sweep_after,
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


def due_rows(limit: int) -> Select[ProcessorEventRow]:
    """The unapplied rows due for an attempt, the longest due first (a range of the index
    processor_events_due)."""
    return (
        select(ProcessorEventRow)
        .where(ProcessorEventRow.applied_at.is_(None), ProcessorEventRow.next_attempt_at <= func.now())
        .order_by(ProcessorEventRow.next_attempt_at)
        .limit(limit)
    )


async def unapplied(*, session: AsyncSession, limit: int) -> list[ProcessorEventRow]:
    """The rows the sweep retries (due_rows). A row that keeps failing waits longer each
    time (mark_failed), so it never holds up the others."""
    return list(await session.scalars(due_rows(limit)))


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


async def mark_failed(*, session: AsyncSession, row_id: str, error: str, retry_in: timedelta) -> None:
    """Records the failed attempt; the sweep tries again `retry_in` from now."""
    await session.execute(
        update(ProcessorEventRow)
        .where(ProcessorEventRow.id == row_id)
        .values(
            last_error=error[:1000],
            apply_attempts=ProcessorEventRow.apply_attempts + 1,
            next_attempt_at=func.now() + retry_in,
        )
    )
