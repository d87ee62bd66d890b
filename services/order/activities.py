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

from services.common.errors import reason_of
from services.common.identity import Caller
from services.order import repository
from services.order.domain import OrderStatus
from services.order.models import OrderRow, TransactionRow
from services.order.payments import (
    AUTHORIZED,
    CAPTURED,
    FAILED,
    PENDING,
    PROCESSOR_OUTCOME_UNKNOWN,
    PROCESSOR_UNAVAILABLE,
    REQUIRES_ACTION,
    SETTLED,
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
    REQUIRES_ACTION: OrderStatus.REQUIRES_ACTION,
}
TRANSACTION_STATUS_FOR = {
    CAPTURED: "SUCCEEDED",
    AUTHORIZED: "SUCCEEDED",
    FAILED: "FAILED",
    REQUIRES_ACTION: "ACTION_REQUIRED",
    PENDING: "PENDING",
}


# The processor service refused the request itself: retrying it cannot help.
REFUSED = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)


def classify(error: grpc.aio.AioRpcError) -> ApplicationError:
    """Processor-call failures as the workflow acts on them."""
    reason = reason_of(error)
    message = error.details() or reason or error.code().name
    if error.code() == grpc.StatusCode.UNAVAILABLE:
        # Refused before anything reached the processor: safe to fail over.
        return ApplicationError(message, type=PROCESSOR_UNAVAILABLE, non_retryable=True)
    if error.code() in REFUSED:
        return ApplicationError(message, type=reason or error.code().name, non_retryable=True)
    # Timeouts and anything unexpected: the processor may have acted. Retried, and
    # every retry asks the processor what happened first.
    return ApplicationError(message, type=PROCESSOR_OUTCOME_UNKNOWN)


def to_result(result: processor_pb2.PaymentResult) -> ChargeResult:
    return ChargeResult(
        status=Status.Name(result.status),
        processor_reference=result.processor_reference,
        amount_captured=result.amount_captured,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        next_action_url=result.next_action_url,
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
        self.processors = processors
        self.call_timeout = call_timeout

    def stub(self, processor: str) -> ProcessorStub:
        if processor not in self.processors:
            raise ApplicationError(
                f"no processor service for {processor!r}", type=self.unknown_processor, non_retryable=True
            )
        return self.processors[processor]


class PaymentActivities(ProcessorCalls):
    def transaction_values(self, step: ChargeStep) -> dict[str, object]:
        payment, candidate = step.payment, step.candidate
        reason = candidate.reason
        if step.index:
            earlier = ", ".join(c.processor for c in payment.candidates[: step.index])
            reason = f"{reason}; failover after {earlier}: {PROCESSOR_UNAVAILABLE}"
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
            "idempotency_key": step.idempotency_key,
        }

    def context(self, step: ChargeStep, suffix: str) -> processor_service_pb2.CallContext:
        return processor_service_pb2.CallContext(
            merchant_id=step.payment.merchant_id, idempotency_key=f"{step.idempotency_key}-{suffix}"
        )

    @activity.defn(name="prepare_charge")
    async def prepare_charge(self, step: ChargeStep) -> str:
        """The processor's payment object for this step, created once and recorded."""
        async with self.sessions.begin() as session:
            txn = await repository.get_or_create_transaction(session=session, values=self.transaction_values(step))
            if txn.processor_reference:
                return txn.processor_reference
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
        )
        try:
            answer = await self.stub(step.candidate.processor).PreparePayment(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise classify(error) from None
        async with self.sessions.begin() as session:
            txn = await repository.get_or_create_transaction(session=session, values=self.transaction_values(step))
            if not txn.processor_reference:
                txn.processor_reference = answer.processor_reference
            return txn.processor_reference

    async def payment_status(self, step: ChargeStep, reference: str) -> ChargeResult:
        request = processor_service_pb2.GetPaymentRequest(
            merchant_id=step.payment.merchant_id, processor_reference=reference, order_id=step.payment.order_id
        )
        answer = await self.stub(step.candidate.processor).GetPayment(request, timeout=self.call_timeout)
        return to_result(answer.result)

    @activity.defn(name="confirm_charge")
    async def confirm_charge(self, step: ChargeStep, reference: str) -> ChargeResult:
        """Moves the money once. A retry (the outcome was unknown) asks first."""
        if activity.info().attempt > 1:
            try:
                known = await self.payment_status(step, reference)
            except grpc.aio.AioRpcError as error:
                raise classify(error) from None
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
        )
        try:
            answer = await self.stub(step.candidate.processor).Authorize(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            failure = classify(error)
            if failure.type == PROCESSOR_UNAVAILABLE:
                moved = await self.money_moved(step, reference)
                if moved is not None:
                    return moved
            raise failure from None
        return to_result(answer.result)

    async def money_moved(self, step: ChargeStep, reference: str) -> ChargeResult | None:
        """Before failing over: did the refusing processor charge after all?"""
        try:
            known = await self.payment_status(step, reference)
        except grpc.aio.AioRpcError:
            return None
        return known if known.status in (CAPTURED, AUTHORIZED, REQUIRES_ACTION) else None

    @activity.defn(name="record_charge")
    async def record_charge(self, step: ChargeStep, result: ChargeResult) -> str:
        """Records the outcome on the transaction and moves the order; returns its status."""
        async with self.sessions.begin() as session:
            order = await self.lock_order(session, step.payment)
            txn = await repository.get_or_create_transaction(session=session, values=self.transaction_values(step))
            txn.status = TRANSACTION_STATUS_FOR.get(result.status, "FAILED")
            txn.processor_reference = result.processor_reference or txn.processor_reference
            txn.failure_code, txn.failure_message = result.failure_code, result.failure_message[:1000]
            target = ORDER_STATUS_FOR.get(result.status)
            if target is not None and self.current(order, step.payment) and order.status != target.value:
                repository.record_payment(
                    order,
                    target,
                    processor=step.candidate.processor,
                    amount_captured=result.amount_captured,
                    failure_code=result.failure_code,
                    failure_message=result.failure_message,
                    next_action_url=result.next_action_url,
                )
            return order.status

    @activity.defn(name="record_failed_step")
    async def record_failed_step(self, step: ChargeStep, code: str, message: str) -> None:
        async with self.sessions.begin() as session:
            txn: TransactionRow = await repository.get_or_create_transaction(
                session=session, values=self.transaction_values(step)
            )
            txn.status, txn.failure_code, txn.failure_message = "FAILED", code, message[:1000]

    @activity.defn(name="fail_payment")
    async def fail_payment(self, payment: PaymentInput, code: str, message: str) -> str:
        async with self.sessions.begin() as session:
            order = await self.lock_order(session, payment)
            if self.current(order, payment) and order.status == OrderStatus.PROCESSING.value:
                repository.move(order, OrderStatus.FAILED)
                order.failure_code, order.failure_message = code, message[:1000]
            return order.status

    @staticmethod
    async def lock_order(session: AsyncSession, payment: PaymentInput) -> OrderRow:
        caller = Caller(merchant_id=payment.merchant_id, mode=payment.mode)
        return await repository.order_row_or_raise(
            session=session, caller=caller, order_id=payment.order_id, for_update=True
        )

    @staticmethod
    def current(order: OrderRow, payment: PaymentInput) -> bool:
        """Only the order's latest attempt may move it (a late, stale attempt may not)."""
        return order.attempt == payment.attempt and order.status in (
            OrderStatus.PROCESSING.value,
            OrderStatus.REQUIRES_ACTION.value,
        )
