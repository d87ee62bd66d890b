"""Pay, capture and cancel: the order service's side of a payment. Paying starts (or
joins) the PaymentWorkflow of the order's current attempt and waits for it a while;
capture and void record their step under the order's row lock, then start (or join) its
AuthorizationWorkflow, which calls the processor outside any lock, and wait a while."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import psycopg
from payloops.router.v1 import router_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError

from services.common.db import driver_statements, driver_transaction, engine_of
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, relay, require
from services.common.identity import Caller
from services.common.temporal import start_here, start_once
from services.order import repository, settlement
from services.order.authorizations import AuthorizationStep, StepKind
from services.order.domain import CaptureMethod, Order, OrderStatus
from services.order.idempotency import request_key, request_resumed
from services.order.outcomes import PaymentOutcomes
from services.order.payments import Candidate, PaymentInput
from services.order.workflows import AuthorizationWorkflow, PaymentWorkflow, StepOutcome

if TYPE_CHECKING:  # the async stub types exist in the type stubs only
    from payloops.router.v1.router_service_pb2_grpc import RouterServiceAsyncStub

log = logging.getLogger("payloops.order.payments")
# Checks that may refuse a new payment attempt, in its transaction, under the order's row lock.
Guard = Callable[[psycopg.AsyncConnection[Any], Order], Awaitable[None]]
PAYABLE = {OrderStatus.CREATED.value, OrderStatus.FAILED.value}


@dataclass(frozen=True)
class PaymentMethod:
    type: str
    token: str


def validate_payment_method(method: PaymentMethod | None) -> PaymentMethod:
    if method is None:
        raise InvalidArgument(
            message="paymentMethod is required",
            reason="PAYMENT_METHOD_INVALID",
            violations=[FieldViolation("payment_method", "is required")],
        )
    problems = [
        FieldViolation(f"payment_method.{name}", "is required")
        for name in ("type", "token")
        if not getattr(method, name)
    ]
    problems += [FieldViolation("payment_method.token", "is too long")] if len(method.token) > 255 else []
    require(problems, reason="PAYMENT_METHOD_INVALID")
    return method


class PaymentCoordinator:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        task_queue: str,
        router: RouterServiceAsyncStub,
        outcomes: PaymentOutcomes,
        wait_seconds: float,
        call_timeout: float,
        step_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.engine = engine_of(sessions)  # for the statements that run on psycopg
        self.temporal = temporal
        self.task_queue = task_queue
        self.router = router
        self.outcomes = outcomes
        self.wait_seconds = wait_seconds
        self.call_timeout = call_timeout
        self.step_timeout = step_timeout

    async def pay(
        self,
        who: Caller,
        order_id: str,
        method: PaymentMethod,
        return_url: str,
        *,
        key: str | None = None,
        guard: Guard | None = None,
    ) -> Order:
        """Routes and starts the order's next attempt in one transaction, under the order's
        row lock (a concurrent pay waits, then joins it), then waits for it a while. `key`
        binds the attempt (the request's Idempotency-Key by default); `guard` may refuse a
        new attempt, in that transaction, after the order is locked."""
        key = request_key() if key is None else key
        async with driver_transaction(self.engine) as db:
            locked = await repository.lock_payment(db=db, caller=who, order_id=order_id)
            joined = bool(key) and locked["payment_idempotency_key"] == key  # a retry after a crash
            if not joined and locked["status"] != OrderStatus.PROCESSING.value:
                self.check_payable(locked["status"])
                order = repository.order_of(locked)
                if guard is not None:
                    await guard(db, order)
                candidates = await self.route(who, order, method)
                locked = await repository.start_attempt(
                    db=db, locked=locked, details=attempt_details(method, return_url, key, candidates)
                )
            if locked["status"] != OrderStatus.PROCESSING.value:  # the attempt this key started has ended
                return repository.order_of(locked)
            payment = payment_input(locked, self.step_timeout)
        return await self.await_payment(who, order_id, payment)

    @staticmethod
    def check_payable(status: str) -> None:
        if status not in PAYABLE:
            raise FailedPrecondition(
                message=f"an order in status {status} cannot be paid",
                reason="ORDER_NOT_PAYABLE",
                metadata={"status": status},
            )

    async def route(self, who: Caller, order: Order, method: PaymentMethod) -> list[Candidate]:
        request = router_service_pb2.RouteRequest(
            merchant_id=who.merchant_id,
            order_id=order.id,
            amount=order.amount,
            currency=order.currency,
            payment_method_type=method.type,
            payment_method_token=method.token,
            metadata=order.metadata,
            mode=who.mode,
        )
        try:
            answer = await self.router.Route(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        return [
            Candidate(
                c.processor,
                c.reason,
                c.rule_id,
                c.approach,
                c.score if c.HasField("score") else None,
                c.samples,
                list(c.retry_on),
                list(c.step_up_on),
            )
            for c in answer.candidates
        ]

    async def await_payment(self, who: Caller, order_id: str, payment: PaymentInput) -> Order:
        """The order once its payment settles, or as it is after the wait. Joins the
        attempt's workflow, or starts it: this request started the attempt, or a crash came
        between the order's move to PROCESSING and the start (the sweep would start it too)."""
        settled: Order | None = None
        try:
            settled = await asyncio.wait_for(self.settled(payment), timeout=self.wait_seconds)
        except TimeoutError:
            pass
        except WorkflowFailureError:
            log.exception("payment workflow failed", extra={"order_id": order_id, "attempt": payment.attempt})
        return settled or await self.reload(who, order_id)

    async def settled(self, payment: PaymentInput) -> Order | None:
        """Returns once the attempt's outcome is committed, with the order as committed when
        known. A workflow started eagerly runs in this process, whose worker says when (and
        what); any other is waited for through Temporal."""
        with self.outcomes.watch(payment.workflow_id) as outcome:
            eager = await start_here(
                self.temporal, PaymentWorkflow.run, payment, workflow_id=payment.workflow_id, task_queue=self.task_queue
            )
            if eager:
                return await outcome
        await self.temporal.get_workflow_handle(payment.workflow_id).result()
        return None

    async def capture(self, who: Caller, order_id: str, amount: int | None) -> Order:
        async with self.sessions.begin() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id, for_update=True)
            if request_resumed() and row.status == OrderStatus.SUCCEEDED.value:
                return repository.to_domain(row)  # the interrupted first request captured it
            if row.status != OrderStatus.AUTHORIZED.value:
                raise FailedPrecondition(
                    message=f"an order in status {row.status} cannot be captured", reason="ORDER_NOT_CAPTURABLE"
                )
            amount = row.amount if amount is None else amount
            if not 0 < amount <= row.amount:
                raise InvalidArgument(
                    message=f"amount must be between 1 and the authorized {row.amount}",
                    reason="AMOUNT_INVALID",
                    violations=[FieldViolation("amount", f"must be between 1 and {row.amount}")],
                )
            step = await settlement.begin_step(session, row, StepKind.CAPTURE, amount)
        outcome = await self.run_step(step)
        if outcome is not None and outcome.refusal:
            raise FailedPrecondition(
                message=f"the processor refused the capture ({outcome.refusal})",
                reason="CAPTURE_FAILED",
                metadata={"failure_code": outcome.refusal},
            )
        return await self.reload(who, order_id)

    async def cancel(self, who: Caller, order_id: str) -> Order:
        """An unpaid order is cancelled at once. One whose payment can still complete (an
        authorization, or a payment waiting for 3-D Secure) is voided at the processor
        first; if the processor reports it captured meanwhile, the payment stands and the
        cancel is refused (refund it instead)."""
        async with self.sessions.begin() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id, for_update=True)
            if request_resumed() and row.status == OrderStatus.CANCELLED.value:
                return repository.to_domain(row)  # the interrupted first request cancelled it
            if row.status in settlement.ACTIONABLE[StepKind.VOID.value]:
                step = await settlement.begin_step(session, row, StepKind.VOID, row.amount)
            else:
                repository.move(row, OrderStatus.CANCELLED, reason="ORDER_NOT_CANCELLABLE")
                step = None
        if step is not None:
            outcome = await self.run_step(step)
            if outcome is not None and outcome.refusal:
                raise FailedPrecondition(
                    message=f"the processor refused the void ({outcome.refusal})", reason="VOID_FAILED"
                )
            if outcome is not None and outcome.order_status != OrderStatus.CANCELLED.value:
                raise FailedPrecondition(
                    message=f"the payment completed before it could be cancelled (the order is {outcome.order_status})",
                    reason="ORDER_NOT_CANCELLABLE",
                    metadata={"status": outcome.order_status},
                )
        return await self.reload(who, order_id)

    async def run_step(self, step: AuthorizationStep) -> StepOutcome | None:
        """Starts (or joins) a capture's or void's workflow and waits for it a while; None
        if it is still running (it finishes on its own)."""
        step = dataclasses.replace(step, step_timeout_seconds=self.step_timeout)
        await start_once(
            self.temporal, AuthorizationWorkflow.run, step, workflow_id=step.workflow_id, task_queue=self.task_queue
        )
        handle = self.temporal.get_workflow_handle(step.workflow_id, result_type=StepOutcome)
        try:
            return await asyncio.wait_for(handle.result(), timeout=self.wait_seconds)
        except TimeoutError:
            return None

    async def reload(self, who: Caller, order_id: str) -> Order:
        async with driver_statements(self.engine) as db:
            return await repository.get_order(db=db, caller=who, order_id=order_id)


def attempt_details(method: PaymentMethod, return_url: str, key: str, candidates: list[Candidate]) -> dict[str, Any]:
    """What an order records of its next payment attempt (repository.ATTEMPT_FIELDS)."""
    return {
        "payment_method_type": method.type,
        "payment_method_token": method.token,
        "return_url": return_url,
        "payment_idempotency_key": key or None,
        "payment_candidates": [dataclasses.asdict(c) for c in candidates],
    }


def payment_input(record: Mapping[str, Any], step_timeout: float) -> PaymentInput:
    """The workflow input of the order's current attempt, from what the order recorded (a
    record of repository.ORDER_FIELDS and ATTEMPT_FIELDS)."""
    return PaymentInput(
        order_id=record["id"],
        merchant_id=record["merchant_id"],
        mode=record["mode"],
        attempt=record["attempt"],
        amount=record["amount"],
        currency=record["currency"],
        capture=record["capture_method"] == CaptureMethod.AUTOMATIC.value,
        payment_method_type=record["payment_method_type"],
        payment_method_token=record["payment_method_token"],
        candidates=[Candidate(**c) for c in record["payment_candidates"]],
        return_url=record["return_url"],
        customer_email=record["customer_email"],
        description=record["description"],
        step_timeout_seconds=step_timeout,
    )
