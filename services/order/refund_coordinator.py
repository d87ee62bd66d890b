"""Refunds, the order service's side: reserve the amount under the order's row lock, start
(or join) the refund's workflow and wait for its outcome a while."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError

from services.common.identity import Caller
from services.common.temporal import start_once
from services.order import repository
from services.order.idempotency import request_key
from services.order.models import RefundRow
from services.order.refunds import RefundInput, RefundStatus, refund_workflow_id, validate_request
from services.order.workflows import RefundWorkflow

log = logging.getLogger("payloops.order.refunds")


class RefundCoordinator:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        task_queue: str,
        wait_seconds: float,
        poll_seconds: float,
        step_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.temporal = temporal
        self.task_queue = task_queue
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.step_timeout = step_timeout

    async def refund(self, who: Caller, order_id: str, amount: int | None, reason: str) -> RefundRow:
        validate_request(amount, reason)
        async with self.sessions.begin() as session:
            row = await repository.reserve_refund(
                session=session,
                caller=who,
                order_id=order_id,
                amount=amount,
                reason=reason,
                idempotency_key=request_key(),
            )
        await self.start(row)
        return await self.await_outcome(who, row.id)

    async def get(self, who: Caller, refund_id: str) -> RefundRow:
        async with self.sessions() as session:
            row = await repository.refund_row_or_raise(session=session, caller=who, refund_id=refund_id)
        if row.status == RefundStatus.PENDING.value:
            # Covers a crash between the reservation's commit and the workflow's start.
            await self.start(row)
        return row

    def workflow_input(self, row: RefundRow) -> RefundInput:
        return RefundInput(
            refund_id=row.id,
            order_id=row.order_id,
            merchant_id=row.merchant_id,
            mode=row.mode,
            processor=row.processor,
            payment_reference=row.payment_reference,
            amount=row.amount,
            currency=row.currency,
            reason=row.reason,
            poll_seconds=self.poll_seconds,
            step_timeout_seconds=self.step_timeout,
        )

    async def start(self, row: RefundRow) -> None:
        """Idempotent: a running or finished workflow of this refund is left alone."""
        refund = self.workflow_input(row)
        await start_once(
            self.temporal, RefundWorkflow.run, refund, workflow_id=refund.workflow_id, task_queue=self.task_queue
        )

    async def await_outcome(self, who: Caller, refund_id: str) -> RefundRow:
        handle = self.temporal.get_workflow_handle(refund_workflow_id(refund_id))
        try:
            await asyncio.wait_for(handle.result(), timeout=self.wait_seconds)
        except TimeoutError:
            pass
        except (WorkflowFailureError, RPCError):
            log.exception("refund workflow failed", extra={"refund_id": refund_id})
        async with self.sessions() as session:
            return await repository.refund_row_or_raise(session=session, caller=who, refund_id=refund_id)

    async def start_stored(self, merchant_id: str, refund_id: str) -> None:
        """Starts the workflow of a refund recorded without one (an automatic refund)."""
        async with self.sessions() as session:
            row = await repository.find_refund(session=session, merchant_id=merchant_id, refund_id=refund_id)
        if row is not None and row.status == RefundStatus.PENDING.value:
            await self.start(row)

    async def nudge(self, refund_id: str) -> None:
        """Wakes a refund's workflow after a processor event; best effort (it also polls)."""
        try:
            await self.temporal.get_workflow_handle(refund_workflow_id(refund_id)).signal(
                RefundWorkflow.processor_update
            )
        except RPCError as error:
            log.info("refund workflow not signalled", extra={"refund_id": refund_id, "error": str(error)})
