"""The sweep: every order, payment step and refund reaches a final state without a client.

A Temporal schedule starts SweepWorkflow every SWEEP_SECONDS; its one activity, here:
- starts the workflow of every PENDING refund and PENDING capture/void (a crash came
  between recording it and starting its workflow; starting is idempotent);
- starts the workflow of a payment attempt left PROCESSING without one;
- asks the processor about orders waiting in REQUIRES_ACTION (a lost webhook) and applies
  its answer like a webhook; past REQUIRES_ACTION_EXPIRY_SECONDS, voids them (cancelled at
  the processor, or left to lapse there; a capture that lands afterwards is refunded);
- asks about charges given up on recently (cancelled in 3-D Secure, abandoned after an
  unknown outcome): a capture no webhook announced is booked and refunded;
- expires OPEN checkout sessions whose expiry timer never started.
Each pass takes bounded batches, oldest first, and holds no transaction across a call."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from payloops.processor.v1 import processor_service_pb2
from payloops.processor.v1.processor_pb2 import PaymentResult, ProcessorEvent
from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import FailedPrecondition
from services.common.temporal import heartbeating, start_once
from services.order import repository, settlement
from services.order.authorizations import AuthorizationStep, StepKind
from services.order.checkout.activities import expire_session, overdue_sessions
from services.order.coordinator import payment_input
from services.order.domain import OrderStatus, TransactionStatus
from services.order.events import apply_event
from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.payments import PROCESSOR_UNAVAILABLE
from services.order.refund_coordinator import RefundCoordinator
from services.order.workflows import SWEEP_ACTIVITY, SWEEP_HEARTBEAT_TIMEOUT, AuthorizationWorkflow, PaymentWorkflow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub as ProcessorStub

log = logging.getLogger("payloops.order.sweep")
BATCH = 100
# Objects that stay as they are (a refund pending for days at its processor) must not hold
# up the others: each pass takes its batch in no particular order.
ANY_ORDER = func.random()
# Failure codes of charges given up on while the processor might still capture them.
GIVEN_UP = ("cancelled", PROCESSOR_UNAVAILABLE)
# Charges are asked about concurrently, so a processor answering slowly (or not at all, for
# PROCESSOR_CALL_TIMEOUT_SECONDS each) holds up a pass by one call, not by one per charge.
ASKS_AT_ONCE = 8
# A charge is asked again after half its age (1 min old: in 30 s; 1 h old: in 30 min), at
# most this long after: a few dozen calls over a charge's watch instead of one per pass.
MAX_RECHECK = timedelta(minutes=15)
NEVER_ASKED = func.coalesce(TransactionRow.recheck_at, text("'-infinity'::timestamptz"))
RECHECK_ORDER = NEVER_ASKED.asc()
T = TypeVar("T")


def due_for_recheck() -> ColumnElement[bool]:
    return NEVER_ASKED <= func.now()


async def schedule_recheck(session: AsyncSession, charge_ids: list[str]) -> None:
    """Sets when each charge about to be asked about is next due (whatever the answer)."""
    if charge_ids:
        age = func.now() - TransactionRow.updated_at
        await session.execute(
            update(TransactionRow)
            .where(TransactionRow.id.in_(charge_ids))
            .values(recheck_at=func.now() + func.least(age / 2, MAX_RECHECK))
        )


async def at_most(limit: int, calls: Sequence[Awaitable[T]]) -> list[T]:
    """The calls' answers, at most `limit` of them running at a time."""
    gate = asyncio.Semaphore(limit)

    async def gated(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(gated(call) for call in calls)))


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    # A PENDING refund or step, or a PROCESSING order, this old is looked after.
    stuck_after: timedelta
    # A REQUIRES_ACTION order this old is asked about at its processor...
    action_check_after: timedelta
    # ...and this old is voided.
    action_expiry: timedelta
    # A charge given up on this recently is watched for a late capture.
    late_capture_watch: timedelta
    step_timeout: float
    task_queue: str


class SweepActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        processors: Mapping[str, ProcessorStub],
        refunds: RefundCoordinator,
        settings: SweepSettings,
        call_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.temporal = temporal
        self.processors = processors
        self.refunds = refunds
        self.settings = settings
        self.call_timeout = call_timeout

    @activity.defn(name=SWEEP_ACTIVITY)
    async def sweep(self) -> dict[str, int]:
        """One pass; how many objects each part looked after."""
        parts = {
            "refunds": self.pending_refunds(),
            "steps": self.pending_steps(),
            "payments": self.stranded_payments(),
            "waiting_for_action": self.orders_waiting_for_action(),
            "late_captures": self.late_captures(),
            "checkout_sessions": self.overdue_checkout_sessions(),
        }
        # Side by side: a processor slow to answer the last two holds up none of the others.
        async with heartbeating(every=SWEEP_HEARTBEAT_TIMEOUT.total_seconds() / 5):
            done = dict(zip(parts, await asyncio.gather(*parts.values()), strict=True))
        if any(done.values()):
            log.info("sweep", extra=done)
        return done

    async def overdue_checkout_sessions(self) -> int:
        """Expires OPEN checkout sessions their timer missed (it never started)."""
        expired = 0
        for session_id in await overdue_sessions(self.sessions, self.settings.stuck_after.total_seconds()):
            with contextlib.suppress(FailedPrecondition):  # a payment on its page: next pass
                expired += await expire_session(self.sessions, session_id)
        return expired

    @staticmethod
    def cutoff(age: timedelta) -> Any:
        return func.now() - age

    async def pending_refunds(self) -> int:
        async with self.sessions() as session:
            rows = list(
                await session.scalars(
                    select(RefundRow)
                    .where(RefundRow.status == "PENDING", RefundRow.created_at < self.cutoff(self.settings.stuck_after))
                    .order_by(RefundRow.updated_at)
                    .limit(BATCH)
                )
            )
        for row in rows:
            await self.refunds.start(row)
        return len(rows)

    async def pending_steps(self) -> int:
        async with self.sessions() as session:
            found = (
                await session.execute(
                    select(TransactionRow, OrderRow)
                    .join(OrderRow, OrderRow.id == TransactionRow.order_id)
                    .where(
                        TransactionRow.type.in_(settlement.STEPS),
                        TransactionRow.status == TransactionStatus.PENDING.value,
                        TransactionRow.created_at < self.cutoff(self.settings.stuck_after),
                    )
                    .order_by(ANY_ORDER)
                    .limit(BATCH)
                )
            ).all()
            steps = [settlement.step_of(order, txn) for txn, order in found]
        for step in steps:
            await self.start_step(step)
        return len(steps)

    async def start_step(self, step: AuthorizationStep) -> None:
        step = dataclasses.replace(step, step_timeout_seconds=self.settings.step_timeout)
        await start_once(
            self.temporal,
            AuthorizationWorkflow.run,
            step,
            workflow_id=step.workflow_id,
            task_queue=self.settings.task_queue,
        )

    async def stranded_payments(self) -> int:
        """PROCESSING orders whose attempt's workflow does not exist (a crash before its start)."""
        async with self.sessions() as session:
            rows = list(
                await session.scalars(
                    select(OrderRow)
                    .where(
                        OrderRow.status == OrderStatus.PROCESSING.value,
                        OrderRow.updated_at < self.cutoff(self.settings.stuck_after),
                    )
                    .order_by(OrderRow.updated_at)
                    .limit(BATCH)
                )
            )
            payments = [
                payment_input(repository.record_of(row, repository.ATTEMPT_FIELDS), self.settings.step_timeout)
                for row in rows
            ]
        started = 0
        for payment in payments:
            try:
                await self.temporal.get_workflow_handle(payment.workflow_id).describe()
                continue
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            started += await start_once(
                self.temporal,
                PaymentWorkflow.run,
                payment,
                workflow_id=payment.workflow_id,
                task_queue=self.settings.task_queue,
            )
        return started

    async def orders_waiting_for_action(self) -> int:
        """Asks the processor about REQUIRES_ACTION orders whose waiting charge is due (a
        webhook may have been lost) and applies its answer; voids those waiting past their
        expiry."""
        expired = OrderRow.updated_at < self.cutoff(self.settings.action_expiry)
        async with self.sessions.begin() as session:
            found = (
                await session.execute(
                    select(OrderRow, TransactionRow, expired)
                    .join(
                        TransactionRow,
                        (TransactionRow.order_id == OrderRow.id) & (TransactionRow.attempt == OrderRow.attempt),
                    )
                    .where(
                        OrderRow.status == OrderStatus.REQUIRES_ACTION.value,
                        OrderRow.updated_at < self.cutoff(self.settings.action_check_after),
                        TransactionRow.status == TransactionStatus.ACTION_REQUIRED.value,
                        TransactionRow.processor_reference != "",
                        due_for_recheck() | expired,
                    )
                    .order_by(RECHECK_ORDER)
                    .limit(BATCH)
                    .with_for_update(of=TransactionRow, skip_locked=True)
                )
            ).all()
            await schedule_recheck(session, [charge.id for _, charge, _ in found])

        async def look(order: OrderRow, charge: TransactionRow, past_expiry: bool) -> None:
            still_waiting = await self.ask(order, charge)
            if still_waiting and past_expiry:
                await self.expire(order.merchant_id, order.id)

        await at_most(ASKS_AT_ONCE, [look(order, charge, past_expiry) for order, charge, past_expiry in found])
        return len(found)

    async def payment_at(self, processor: str, merchant_id: str, reference: str, order_id: str) -> PaymentResult | None:
        """The processor's view of a payment; None if it cannot be asked now (next pass)."""
        stub = self.processors.get(processor)
        if stub is None:
            return None
        request = processor_service_pb2.GetPaymentRequest(
            merchant_id=merchant_id, processor_reference=reference, order_id=order_id
        )
        try:
            answer = await stub.GetPayment(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            log.warning("cannot ask the processor", extra={"order_id": order_id, "error": error.code().name})
            return None
        return answer.result

    async def ask(self, order: OrderRow, charge: TransactionRow) -> bool:
        """Applies the processor's view of the waiting payment; whether it still waits."""
        found = await self.payment_at(charge.processor, order.merchant_id, charge.processor_reference, order.id)
        if found is None:
            return False
        event = ProcessorEvent(event_id=f"sweep-{order.id}", order_id=order.id, payment=found)
        applied = await apply_event(self.sessions, order.merchant_id, charge.processor, event)
        return not applied.applied

    async def late_captures(self) -> int:
        """Charges given up on (cancelled while the customer was in 3-D Secure, or abandoned
        after an unknown outcome) in the last LATE_CAPTURE_WATCH_SECONDS: a capture the
        processor made afterwards without a webhook telling us is found here, booked and
        refunded. Each charge is asked less often as it ages. Returns how many were found
        captured."""
        async with self.sessions.begin() as session:
            rows = (
                await session.execute(
                    select(TransactionRow.id, TransactionRow.processor, TransactionRow.processor_reference)
                    .add_columns(OrderRow.merchant_id, OrderRow.id)
                    .join(OrderRow, OrderRow.id == TransactionRow.order_id)
                    .where(
                        TransactionRow.type.in_(settlement.CHARGES),
                        TransactionRow.status == TransactionStatus.FAILED.value,
                        TransactionRow.failure_code.in_(GIVEN_UP),
                        TransactionRow.processor_reference != "",
                        TransactionRow.updated_at > self.cutoff(self.settings.late_capture_watch),
                        due_for_recheck(),
                    )
                    .order_by(RECHECK_ORDER)
                    .limit(BATCH)
                    .with_for_update(of=TransactionRow, skip_locked=True)
                )
            ).all()
            await schedule_recheck(session, [row[0] for row in rows])

        async def look(processor: str, reference: str, merchant_id: str, order_id: str) -> bool:
            found = await self.payment_at(processor, merchant_id, reference, order_id)
            if found is None or found.status != PaymentResult.CAPTURED:
                return False
            event = ProcessorEvent(event_id=f"sweep-{reference}", order_id=order_id, payment=found)
            applied = await apply_event(self.sessions, merchant_id, processor, event)
            if not applied.refund_id or applied.refund_started:
                return False
            await self.refunds.start_stored(merchant_id, applied.refund_id)
            return True

        found = await at_most(ASKS_AT_ONCE, [look(*row[1:]) for row in rows])
        return sum(found)

    async def expire(self, merchant_id: str, order_id: str) -> None:
        async with self.sessions.begin() as session:
            order = await session.scalar(
                select(OrderRow).where(OrderRow.id == order_id, OrderRow.merchant_id == merchant_id).with_for_update()
            )
            if order is None or order.status != OrderStatus.REQUIRES_ACTION.value:
                return
            step = await settlement.begin_step(session, order, StepKind.VOID, order.amount)
        log.info("voiding an order that waited too long for its customer", extra={"order_id": order_id})
        await self.start_step(step)
