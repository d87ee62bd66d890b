"""The payment workflow's activities: every call to a processor and every write of the
payment's bookkeeping. Each is idempotent, keyed by the step's idempotency key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_pb2, processor_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.db import driver_statements, driver_transaction, engine_of
from services.common.errors import reason_of
from services.common.identity import Caller
from services.order import repository, settlement
from services.order.authorizations import AuthorizationStep
from services.order.domain import TRANSITIONS, OrderStatus
from services.order.feedback import RoutingFeedback
from services.order.models import OrderRow, TransactionRow
from services.order.outcomes import PaymentOutcomes
from services.order.payments import (
    AUTHORIZED,
    CAPTURED,
    FAILED,
    FAILOVER,
    NO_PAYMENT,
    PENDING,
    PROCESSOR_OUTCOME_UNKNOWN,
    PROCESSOR_UNAVAILABLE,
    REQUIRES_ACTION,
    SETTLED,
    VOIDED,
    ChargeResult,
    ChargeStep,
    PaymentInput,
)

Status = processor_pb2.PaymentResult.Status

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub as ProcessorStub

ORDER_STATUS_FOR = {
    CAPTURED: OrderStatus.SUCCEEDED,
    AUTHORIZED: OrderStatus.AUTHORIZED,
    FAILED: OrderStatus.FAILED,
    VOIDED: OrderStatus.FAILED,
    REQUIRES_ACTION: OrderStatus.REQUIRES_ACTION,
}
# Whether the processor charged: the outcome a charge adds to routing's success rates.
CHARGE_SUCCEEDED = {CAPTURED: True, AUTHORIZED: True, FAILED: False}
TRANSACTION_STATUS_FOR = {
    CAPTURED: "SUCCEEDED",
    AUTHORIZED: "SUCCEEDED",
    FAILED: "FAILED",
    VOIDED: "FAILED",
    REQUIRES_ACTION: "ACTION_REQUIRED",
    PENDING: "PENDING",
}


# The processor service refused the request itself: retrying it cannot help.
REFUSED = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)
# At most this many prepared references wait for their confirm (a step failed over after its
# prepare never confirms it): the oldest is forgotten, so its confirm would resume-check.
PREPARED_HERE_LIMIT = 10_000
# The statuses after which money has moved, or may still move without us (the customer's
# 3-D Secure step): a payment in one of them is never failed over.
MONEY_MAY_MOVE = frozenset({CAPTURED, AUTHORIZED, REQUIRES_ACTION})


def classify(error: grpc.aio.AioRpcError) -> ApplicationError:
    """Processor-call failures in the one outcome taxonomy the workflow acts on:

    - PROCESSOR_UNAVAILABLE: certainly not processed. Only when the processor service says
      so explicitly (its ErrorInfo reason: it could not connect, or the processor refused
      with a rate limit); the payment may fail over.
    - a refusal (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND): final.
    - PROCESSOR_OUTCOME_UNKNOWN: everything else, including a bare UNAVAILABLE (the
      processor service died or dropped the call mid-way) and timeouts. The processor may
      have acted: the retry asks it first."""
    reason = reason_of(error)
    message = error.details() or reason or error.code().name
    if error.code() == grpc.StatusCode.UNAVAILABLE and reason == PROCESSOR_UNAVAILABLE:
        return ApplicationError(message, type=PROCESSOR_UNAVAILABLE, non_retryable=True)
    if error.code() in REFUSED:
        return ApplicationError(message, type=reason or error.code().name, non_retryable=True)
    return ApplicationError(message, type=PROCESSOR_OUTCOME_UNKNOWN)


def unresolved(result: ChargeResult) -> ApplicationError:
    return ApplicationError(
        f"the processor reports the payment {result.status}; asking again", type=PROCESSOR_OUTCOME_UNKNOWN
    )


def to_result(result: processor_pb2.PaymentResult) -> ChargeResult:
    return ChargeResult(
        status=Status.Name(result.status),
        processor_reference=result.processor_reference,
        amount_captured=result.amount_captured,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        next_action_url=result.next_action_url,
    )


async def lock_order(session: AsyncSession, subject: PaymentInput | AuthorizationStep) -> OrderRow:
    caller = Caller(merchant_id=subject.merchant_id, mode=subject.mode)
    return await repository.order_row_or_raise(
        session=session, caller=caller, order_id=subject.order_id, for_update=True
    )


class ProcessorCalls:
    """What every activity class calling processor services has."""

    # The failure type when no service runs the processor a step names.
    unknown_processor = "PROCESSOR_UNKNOWN"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        processors: Mapping[str, ProcessorStub],
        call_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.engine = engine_of(sessions)  # for the statements that run on psycopg
        self.processors = processors
        self.call_timeout = call_timeout

    async def ask_payment(self, processor: str, merchant_id: str, reference: str, order_id: str) -> ChargeResult:
        """The processor's view of a payment; any failure to ask is an unknown outcome."""
        request = processor_service_pb2.GetPaymentRequest(
            merchant_id=merchant_id, processor_reference=reference, order_id=order_id
        )
        try:
            answer = await self.stub(processor).GetPayment(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise ApplicationError(
                f"cannot ask {processor} about the payment: {error.details() or error.code().name}",
                type=PROCESSOR_OUTCOME_UNKNOWN,
            ) from None
        return to_result(answer.result)

    def stub(self, processor: str) -> ProcessorStub:
        if processor not in self.processors:
            raise ApplicationError(
                f"no processor service for {processor!r}", type=self.unknown_processor, non_retryable=True
            )
        return self.processors[processor]


class PaymentActivities(ProcessorCalls):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        processors: Mapping[str, ProcessorStub],
        call_timeout: float,
        outcomes: PaymentOutcomes | None = None,
        feedback: RoutingFeedback | None = None,
    ) -> None:
        super().__init__(sessions, processors, call_timeout)
        self.outcomes = outcomes or PaymentOutcomes()
        self.feedback = feedback or RoutingFeedback(None)
        # step key -> the reference this process's prepare created and recorded, until its
        # confirm: only then may that confirm skip the processor's resume check.
        self.prepared_here: dict[str, str] = {}

    def transaction_values(self, step: ChargeStep) -> dict[str, object]:
        payment, candidate = step.payment, step.candidate
        reason, approach = candidate.reason, candidate.approach
        if step.index:
            earlier = ", ".join(c.processor for c in payment.candidates[: step.index])
            reason = f"{reason}; failover after {earlier}"  # their transactions say why
            approach = FAILOVER
        if step.authenticate:
            reason = f"{reason}; again with 3-D Secure (step-up)"
        return {
            "order_id": payment.order_id,
            "merchant_id": payment.merchant_id,
            "attempt": payment.attempt,
            "candidate_index": step.index,
            "type": "CHARGE" if payment.capture else "AUTHORIZE",
            "status": "PENDING",
            "processor": candidate.processor,
            "amount": payment.amount,
            "currency": payment.currency,
            "routing_rule_id": candidate.rule_id,
            "routing_reason": reason,
            "routing_approach": approach,
            "routing_score": candidate.score,
            "routing_samples": candidate.samples,
            "idempotency_key": step.idempotency_key,
        }

    def context(self, step: ChargeStep, suffix: str) -> processor_service_pb2.CallContext:
        return processor_service_pb2.CallContext(
            merchant_id=step.payment.merchant_id, idempotency_key=f"{step.idempotency_key}-{suffix}"
        )

    @activity.defn(name="prepare_charge")
    async def prepare_charge(self, step: ChargeStep, first_task: bool = False) -> str:
        """The processor's payment object for this step, created once and recorded (with the
        step's transaction) before anything can charge it. It moves no money, so a prepare
        that cannot be done is failed over whatever went wrong. A run after the workflow's
        first task (a crash came first) looks for the recorded reference before creating
        one; in the first task there is none to find, and should an earlier run of the
        workflow have recorded one after all, recording answers that one."""
        self.prepared_here.pop(step.idempotency_key, None)
        if not first_task:
            async with driver_statements(self.engine) as db:
                recorded = await repository.transaction_reference(db=db, idempotency_key=step.idempotency_key)
            if recorded:
                return recorded
        payment = step.payment
        request = processor_service_pb2.PreparePaymentRequest(
            context=self.context(step, "prepare"),
            order_id=payment.order_id,
            amount=payment.amount,
            currency=payment.currency,
            payment_method_type=payment.payment_method_type,
            payment_method_token=payment.payment_method_token,
            capture=payment.capture,
            customer_email=payment.customer_email,
            description=payment.description,
            authenticate=step.authenticate,
        )
        try:
            answer = await self.stub(step.candidate.processor).PreparePayment(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise classify(error) from None
        async with driver_transaction(self.engine) as db:
            recorded, here = await repository.record_reference(
                db=db, values=self.transaction_values(step), reference=answer.processor_reference
            )
        if here:  # else another run of this step recorded its own first
            self.remember_prepared(step.idempotency_key, recorded)
        return recorded

    def remember_prepared(self, key: str, reference: str) -> None:
        if len(self.prepared_here) >= PREPARED_HERE_LIMIT:  # steps that never reached confirm
            self.prepared_here.pop(next(iter(self.prepared_here)))
        self.prepared_here[key] = reference

    async def payment_status(self, step: ChargeStep, reference: str) -> ChargeResult:
        payment = step.payment
        return await self.ask_payment(step.candidate.processor, payment.merchant_id, reference, payment.order_id)

    @activity.defn(name="confirm_charge")
    async def confirm_charge(self, step: ChargeStep, reference: str, first_task: bool = False) -> ChargeResult:
        """Moves the money once. A retry (the outcome was unknown) asks the processor first
        and confirms again (same idempotency key, same payment object) only if nothing
        happened (the plug-in confirms only a payment nobody confirmed). A payment the
        processor still reports in flight is an unknown outcome: it is asked again.

        The plug-in's own look for an earlier confirmation is skipped only when none can
        exist: this is the first try, in the workflow's first task (so no earlier run of
        this step, crashed or stalled, can be running it: its retry would be a later task),
        and this process's prepare created the reference in that task."""
        prepared_here = self.prepared_here.pop(step.idempotency_key, None) == reference
        if activity.info().attempt > 1:
            known = await self.payment_status(step, reference)
            if known.status in SETTLED:
                return known
        payment = step.payment
        request = processor_service_pb2.AuthorizeRequest(
            context=self.context(step, "confirm"),
            order_id=payment.order_id,
            amount=payment.amount,
            currency=payment.currency,
            payment_method_type=payment.payment_method_type,
            payment_method_token=payment.payment_method_token,
            capture=payment.capture,
            return_url=payment.return_url,
            customer_email=payment.customer_email,
            description=payment.description,
            existing_reference=reference,
            authenticate=step.authenticate,
            newly_prepared=first_task and prepared_here and activity.info().attempt == 1,
        )
        try:
            answer = await self.stub(step.candidate.processor).Authorize(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise classify(error) from None
        result = to_result(answer.result)
        if result.status not in SETTLED:
            raise unresolved(result)
        return result

    @activity.defn(name="abandon_charge")
    async def abandon_charge(self, step: ChargeStep, reference: str) -> ChargeResult:
        """The outcome stayed unknown: settle it before any other processor is tried. Either
        the processor says money moved (that result), or the payment is cancelled there so
        that it never can (VOIDED). Retried until one of the two is known."""
        known = await self.payment_status(step, reference)
        if known.status in SETTLED or known.status == NO_PAYMENT:
            return known
        void = processor_service_pb2.VoidRequest(context=self.context(step, "abandon"), processor_reference=reference)
        try:
            answer = await self.stub(step.candidate.processor).Void(void, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            failure = classify(error)
            raise ApplicationError(str(failure.message), type=PROCESSOR_OUTCOME_UNKNOWN) from None
        result = to_result(answer.result)
        if result.status not in SETTLED:
            raise unresolved(result)
        return result

    @activity.defn(name="record_charge")
    async def record_charge(self, step: ChargeStep, result: ChargeResult) -> str:
        """Records the outcome on the transaction and moves the order; returns its status."""
        order = await self._record_charge(step, result)
        if result.status in CHARGE_SUCCEEDED:  # a 3-D Secure outcome is the customer's doing
            self.feedback.send(step, succeeded=CHARGE_SUCCEEDED[result.status], failure_code=result.failure_code)
        self.outcomes.committed(step.payment.workflow_id, repository.committed_order(order))
        return order.status

    async def _record_charge(self, step: ChargeStep, result: ChargeResult) -> OrderRow:
        async with self.sessions.begin() as session:
            order = await lock_order(session, step.payment)
            txn = await repository.get_or_create_transaction(session=session, values=self.transaction_values(step))
            if settlement.is_late_capture(order, txn, result.status):
                # Refunded by an automatic refund, whose workflow the sweep starts.
                txn.processor_reference = result.processor_reference or txn.processor_reference
                await settlement.record_late_capture(session, order, txn, result.amount_captured)
                return order
            repository.advance_transaction(
                txn,
                TRANSACTION_STATUS_FOR.get(result.status, "FAILED"),
                failure_code=result.failure_code,
                failure_message=result.failure_message,
            )
            txn.processor_reference = result.processor_reference or txn.processor_reference
            target = ORDER_STATUS_FOR.get(result.status)
            if target is not None and self.moves(order, step.payment, target):
                repository.record_payment(
                    order,
                    target,
                    processor=step.candidate.processor,
                    amount_captured=result.amount_captured,
                    failure_code=result.failure_code,
                    failure_message=result.failure_message,
                    next_action_url=result.next_action_url,
                )
            return order

    @activity.defn(name="record_failed_step")
    async def record_failed_step(self, step: ChargeStep, code: str, message: str) -> None:
        async with self.sessions.begin() as session:
            txn: TransactionRow = await repository.get_or_create_transaction(
                session=session, values=self.transaction_values(step)
            )
            repository.advance_transaction(txn, "FAILED", failure_code=code, failure_message=message)
        self.feedback.send(step, succeeded=False, failure_code=code)

    @activity.defn(name="fail_payment")
    async def fail_payment(self, payment: PaymentInput, code: str, message: str) -> str:
        async with self.sessions.begin() as session:
            order = await lock_order(session, payment)
            if self.current(order, payment) and order.status == OrderStatus.PROCESSING.value:
                repository.move(order, OrderStatus.FAILED)
                order.failure_code, order.failure_message = code, message[:1000]
        self.outcomes.committed(payment.workflow_id, repository.committed_order(order))
        return order.status

    @staticmethod
    def moves(order: OrderRow, payment: PaymentInput, target: OrderStatus) -> bool:
        """Whether the latest attempt's result moves the order: by the state machine, so a
        capture also completes an order a processor event marked AUTHORIZED first (the
        authorization announced before the capturing call answered)."""
        return (
            order.attempt == payment.attempt
            and order.status != target.value
            and target in TRANSITIONS[OrderStatus(order.status)]
        )

    @staticmethod
    def current(order: OrderRow, payment: PaymentInput) -> bool:
        """Only the order's latest attempt may move it (a late, stale attempt may not)."""
        return order.attempt == payment.attempt and order.status in (
            OrderStatus.PROCESSING.value,
            OrderStatus.REQUIRES_ACTION.value,
        )
