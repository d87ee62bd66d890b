"""The checkout desk: the merchant API's sessions (create, get, expire) and what the
hosted page does for the customer (show, pay). The page pays through the normal pay path
(PaymentCoordinator.pay), acting for the session's merchant, under the session's guard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from services.common.identity import Caller
from services.common.temporal import start_once
from services.order import repository as orders
from services.order.checkout import repository
from services.order.checkout.domain import (
    CheckoutStatus,
    NewCheckoutSession,
    check_mode,
    check_no_payment_in_flight,
    check_open,
    validate_new_session,
)
from services.order.checkout.workflow import CheckoutExpiry, CheckoutExpiryWorkflow, expiry_workflow_id
from services.order.coordinator import PaymentCoordinator, PaymentMethod
from services.order.domain import Order
from services.order.models import CheckoutSessionRow

log = logging.getLogger("payloops.order.checkout")


@dataclass(frozen=True)
class CheckoutSettings:
    base_url: str
    min_expires_seconds: int
    expiry_retry_seconds: float
    task_queue: str


@dataclass(frozen=True)
class CheckoutPage:
    session: CheckoutSessionRow
    order: Order
    attempt: int


class CheckoutDesk:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        payments: PaymentCoordinator,
        settings: CheckoutSettings,
    ) -> None:
        self.sessions = sessions
        self.temporal = temporal
        self.payments = payments
        self.settings = settings

    async def create(self, who: Caller, new: NewCheckoutSession) -> CheckoutSessionRow:
        validate_new_session(new, min_expires_seconds=self.settings.min_expires_seconds)
        check_mode(who.mode)
        async with self.sessions.begin() as session:
            order = await orders.order_row_or_raise(session=session, caller=who, order_id=new.order_id, for_update=True)
            PaymentCoordinator.check_payable(order.status)
            now = await session.scalar(select(func.now()))
            assert now is not None
            row = await repository.add_session(
                session=session,
                order=order,
                new=new,
                base_url=self.settings.base_url,
                expires_at=now + timedelta(seconds=new.expires_in_seconds),
            )
        await self.start_timer(row)
        return row

    async def start_timer(self, row: CheckoutSessionRow) -> None:
        """Starts the session's expiry timer (once). If this fails, the sweep expires the
        session when it is overdue."""
        expiry = CheckoutExpiry(row.id, row.expires_at.timestamp(), self.settings.expiry_retry_seconds)
        try:
            await start_once(
                self.temporal,
                CheckoutExpiryWorkflow.run,
                expiry,
                workflow_id=expiry_workflow_id(row.id),
                task_queue=self.settings.task_queue,
            )
        except Exception:
            log.exception("checkout expiry timer not started; the sweep will expire it", extra={"session": row.id})

    async def get(self, who: Caller, session_id: str) -> CheckoutSessionRow:
        async with self.sessions() as session:
            return await repository.session_row_or_raise(session=session, session_id=session_id, caller=who)

    async def expire(self, who: Caller, session_id: str) -> CheckoutSessionRow:
        async with self.sessions.begin() as session:
            row = await repository.session_row_or_raise(session=session, session_id=session_id, caller=who)
            order = await repository.order_of(session=session, row=row, for_update=True)
            await session.refresh(row, with_for_update=True)
            check_open(row.status)
            check_no_payment_in_flight(order.status)
            repository.close(row, CheckoutStatus.EXPIRED)
        async with self.sessions() as session:
            return await repository.session_row_or_raise(session=session, session_id=session_id)

    async def page(self, session_id: str) -> CheckoutPage:
        async with self.sessions() as session:
            row = await repository.session_row_or_raise(session=session, session_id=session_id)
            order = await repository.order_of(session=session, row=row)
            return CheckoutPage(row, orders.to_domain(order), order.attempt)

    async def pay(self, session_id: str, method: PaymentMethod, attempt: int, return_url: str) -> CheckoutPage:
        """Pays the session's order. The key names the page's attempt, so the same page
        submitted twice joins the payment its first submission started."""
        async with self.sessions() as session:
            row = await repository.session_row_or_raise(session=session, session_id=session_id)
        who = Caller(merchant_id=row.merchant_id, mode=row.mode)

        async def while_open(db: psycopg.AsyncConnection[Any], order: Order) -> None:
            status, expires_at = await repository.lock_status(db=db, session_id=session_id)
            check_open(status, expired=expires_at <= datetime.now(UTC))

        await self.payments.pay(who, row.order_id, method, return_url, key=f"{session_id}-{attempt}", guard=while_open)
        return await self.page(session_id)
