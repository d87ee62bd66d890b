"""Tables of the order service (schema "orders")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Identity, Integer, LargeBinary, MetaData, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "orders"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


# The rows whose changes become merchants' events: every UPDATE sets updated_at to the
# database's time and reads it back in its RETURNING, so the event describing the row at
# commit needs no second read (outbox.py).
CHANGE_TRACKED = {"eager_defaults": True}


class OrderRow(Base):
    __tablename__ = "orders"
    __mapper_args__ = CHANGE_TRACKED

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    capture_method: Mapped[str] = mapped_column(String(16))
    amount_captured: Mapped[int] = mapped_column(Integer, default=0)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    customer_email: Mapped[str] = mapped_column(String(254), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSONB, default=dict)
    processor: Mapped[str] = mapped_column(String(32), default="")
    failure_code: Mapped[str] = mapped_column(String(128), default="")
    failure_message: Mapped[str] = mapped_column(String(1000), default="")
    next_action_type: Mapped[str] = mapped_column(String(32), default="")
    next_action_url: Mapped[str] = mapped_column(String(2048), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    payment_method_type: Mapped[str] = mapped_column(String(32), default="")
    payment_method_token: Mapped[str] = mapped_column(String(255), default="")
    return_url: Mapped[str] = mapped_column(String(2048), default="")
    # The Idempotency-Key the order was created with, and the one of its latest payment attempt.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    payment_idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # The routing decision of the current attempt: [{"processor", "reason", "rule_id"}].
    payment_candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="running")
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransactionRow(Base):
    __tablename__ = "transactions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    candidate_index: Mapped[int] = mapped_column(Integer, default=0)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    processor: Mapped[str] = mapped_column(String(32))
    processor_reference: Mapped[str] = mapped_column(String(128), default="")
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    failure_code: Mapped[str] = mapped_column(String(128), default="")
    failure_message: Mapped[str] = mapped_column(String(1000), default="")
    routing_rule_id: Mapped[str] = mapped_column(String(64), default="")
    routing_reason: Mapped[str] = mapped_column(String(500), default="")
    routing_approach: Mapped[str] = mapped_column(String(32), default="")
    routing_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    routing_samples: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    refund_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When the sweep next asks the processor about this charge (waiting for 3-D Secure, or
    # given up on); NULL: not asked yet, due at once.
    recheck_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RefundRow(Base):
    __tablename__ = "refunds"
    __mapper_args__ = CHANGE_TRACKED

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    processor: Mapped[str] = mapped_column(String(32))
    # The payment refunded (the processor reference of the order's charge).
    payment_reference: Mapped[str] = mapped_column(String(128))
    # The processor's refund id, once known.
    processor_reference: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    failure_code: Mapped[str] = mapped_column(String(128), default="")
    failure_message: Mapped[str] = mapped_column(String(1000), default="")
    # The Idempotency-Key of the request that asked for it (none for an automatic refund).
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class OutboxEventRow(Base):
    """An event about one of the merchant's objects, written in the transaction of the
    change it reports and relayed to the webhook service afterwards."""

    __tablename__ = "outbox_events"

    position: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Retries of an event the webhook service refused (relay.py): how many times it was
    # refused, when it is due again (NULL: never tried, due at once), and why.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(1000), default="")


class CheckoutSessionRow(Base):
    """A hosted payment page for an order. At most one OPEN session per order (a partial
    unique index); its expiry is a Temporal timer (checkout/workflow.py)."""

    __tablename__ = "checkout_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2048))
    success_url: Mapped[str] = mapped_column(String(2048))
    cancel_url: Mapped[str] = mapped_column(String(2048))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
