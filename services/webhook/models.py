"""Tables of the webhook service (schema "webhook")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, MetaData, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "webhook"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class ProcessorEventRow(Base):
    """A verified processor webhook, recorded before it is acknowledged; applied_at is set
    once the order service has applied it (a NULL is retried until it is, by the sweep,
    from next_attempt_at on)."""

    __tablename__ = "processor_events"
    __table_args__ = (UniqueConstraint("processor", "merchant_id", "event_id", name="processor_events_unique"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processor: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str] = mapped_column(String(64), default="")
    refund_id: Mapped[str] = mapped_column(String(64), default="")
    # The parsed payloops.processor.v1.ProcessorEvent, and the raw body as received.
    event: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    apply_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What the order service did with it: "applied" or "ignored" (stale, repeat, unknown).
    outcome: Mapped[str] = mapped_column(String(16), default="")
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the sweep may try it (again): a while after it is received (the apply right
    # after recording goes first), then later after each failure (backoff).
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
