"""Tables of outbound webhooks (in the webhook service's schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.webhook.models import SCHEMA, Base

PENDING, SUCCEEDED, FAILED = "PENDING", "SUCCEEDED", "FAILED"


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeliveryRow(Base):
    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), ForeignKey(f"{SCHEMA}.events.id"))
    endpoint_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    # 0 for the event's first delivery to the endpoint, then 1, 2, ... per replay.
    replay: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def workflow_id(self) -> str:
        base = f"deliver-{self.event_id}-{self.endpoint_id}"
        return f"{base}-replay-{self.replay}" if self.replay else base


class AttemptRow(Base):
    __tablename__ = "attempts"

    delivery_id: Mapped[str] = mapped_column(String(64), ForeignKey(f"{SCHEMA}.deliveries.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status_code: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(1000))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
