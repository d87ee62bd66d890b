"""The transactional outbox of the merchants' webhook events.

An event is written in the same database transaction as the change it reports, so a
committed change always has its event and a rolled-back one never does. The relay
(relay.py) publishes the events to the webhook service afterwards.

`stage(row, event_type, describe)` (repository.move() for orders, settle_refund() for
refunds) writes the event when the transaction commits, describing the row as it is
then (after every field the caller set next to the status, with the database's update
time, which the row's UPDATE returns: models.CHANGE_TRACKED).

Each event carries a per-object sequence number (1, 2, ... in commit order; the
object's row lock, held by every writer, serialises them) so receivers can order
events that arrive out of order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session, object_session

from services.common.ids import new_id
from services.order.models import OutboxEventRow

STAGED = "payloops.outbox.staged"


@dataclass(frozen=True)
class Subject:
    """What an event is about: the object's owner, id, and public JSON."""

    merchant_id: str
    object_id: str
    data: dict[str, Any]


Describe = Callable[[Any], Subject]


def add_event(session: Session, *, merchant_id: str, event_type: str, object_id: str, data: dict[str, Any]) -> str:
    """Adds the event, numbered next in its object's sequence, to the session's
    transaction (one statement); returns its id."""
    event_id = new_id("evt")
    last = select(func.coalesce(func.max(OutboxEventRow.sequence), 0)).where(OutboxEventRow.object_id == object_id)
    session.execute(
        insert(OutboxEventRow).values(
            id=event_id,
            merchant_id=merchant_id,
            type=event_type,
            object_id=object_id,
            sequence=last.scalar_subquery() + 1,
            data={"object": data},
        )
    )
    return event_id


def stage(row: object, event_type: str, describe: Describe) -> None:
    """Records `event_type` about `row` when its session's transaction commits."""
    session = object_session(row)
    if session is None:
        raise RuntimeError("an event needs the row's session: change attached rows only")
    session.info.setdefault(STAGED, []).append((row, event_type, describe))


@event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    staged: list[tuple[object, str, Describe]] = session.info.pop(STAGED, [])
    if not staged:
        return
    session.flush()
    for row, event_type, describe in staged:
        state = inspect(row)
        if state.expired_attributes or state.unloaded:  # a value the database set, not read back
            session.refresh(row)
        subject = describe(row)
        add_event(
            session,
            merchant_id=subject.merchant_id,
            event_type=event_type,
            object_id=subject.object_id,
            data=subject.data,
        )


@event.listens_for(Session, "after_rollback")
def _forget_staged(session: Session) -> None:
    session.info.pop(STAGED, None)
