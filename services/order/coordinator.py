"""Pay, capture and cancel: the order service's side of a payment. Paying starts (or
joins) the PaymentWorkflow of the order's current attempt and waits for it a while;
capture and void call the processor directly, under the order's row lock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_pb2, processor_service_pb2
from payloops.router.v1 import router_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, relay, require
from services.common.identity import Caller
from services.common.temporal import start_once
from services.order import repository
from services.order.domain import CaptureMethod, Order, OrderStatus
from services.order.models import OrderRow
from services.order.payments import Candidate, PaymentInput, payment_workflow_id
from services.order.workflows import PaymentWorkflow

if TYPE_CHECKING:  # the async stub types exist in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub
    from payloops.router.v1.router_service_pb2_grpc import RouterServiceAsyncStub

log = logging.getLogger("payloops.order.payments")
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
        processors: Mapping[str, ProcessorServiceAsyncStub],
        wait_seconds: float,
        call_timeout: float,
        step_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.temporal = temporal
        self.task_queue = task_queue
        self.router = router
        self.processors = processors
        self.wait_seconds = wait_seconds
        self.call_timeout = call_timeout
        self.step_timeout = step_timeout

    async def pay(self, who: Caller, order_id: str, method: PaymentMethod, return_url: str) -> Order:
        async with self.sessions() as session:
            order = await repository.get_order_or_raise(session=session, caller=who, order_id=order_id)
        if order.status is OrderStatus.PROCESSING:
            return await self.await_payment(who, order_id)
        self.check_payable(order.status.value)
        candidates = await self.route(who, order, method)
        async with self.sessions.begin() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id, for_update=True)
            if row.status == OrderStatus.PROCESSING.value:  # a concurrent pay won the race
                payment = None
            else:
                self.check_payable(row.status)
                repository.move(row, OrderStatus.PROCESSING)
                row.attempt += 1
                row.payment_method_type, row.payment_method_token, row.return_url = (
                    method.type,
                    method.token,
                    return_url,
                )
                row.failure_code = row.failure_message = row.next_action_type = row.next_action_url = ""
                payment = payment_input(row, candidates, self.step_timeout)
        if payment is not None:
            await self.start(payment)
        return await self.await_payment(who, order_id)

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
        )
        try:
            answer = await self.router.Route(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        return [Candidate(c.processor, c.reason, c.rule_id) for c in answer.candidates]

    async def start(self, payment: PaymentInput) -> None:
        """Idempotent: a running or finished workflow of this attempt is left alone."""
        await start_once(
            self.temporal, PaymentWorkflow.run, payment, workflow_id=payment.workflow_id, task_queue=self.task_queue
        )

    async def await_payment(self, who: Caller, order_id: str) -> Order:
        """The order once its payment settles, or as it is after the wait."""
        async with self.sessions() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id)
            attempt, status = row.attempt, row.status
            recovery = payment_input(row, [], self.step_timeout) if status == OrderStatus.PROCESSING.value else None
        if recovery is not None:
            handle = self.temporal.get_workflow_handle(payment_workflow_id(order_id, attempt))
            try:
                await asyncio.wait_for(handle.result(), timeout=self.wait_seconds)
            except TimeoutError:
                pass
            except WorkflowFailureError:
                log.exception("payment workflow failed", extra={"order_id": order_id, "attempt": attempt})
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                # The order moved to PROCESSING but its workflow never started (a crash
                # in between): start it now, routed afresh.
                await self.resume(who, recovery)
        async with self.sessions() as session:
            return await repository.get_order_or_raise(session=session, caller=who, order_id=order_id)

    async def resume(self, who: Caller, stranded: PaymentInput) -> None:
        async with self.sessions() as session:
            order = await repository.get_order_or_raise(session=session, caller=who, order_id=stranded.order_id)
        candidates = await self.route(
            who, order, PaymentMethod(stranded.payment_method_type, stranded.payment_method_token)
        )
        payment = PaymentInput(**{**stranded.__dict__, "candidates": candidates})
        await self.start(payment)
        handle = self.temporal.get_workflow_handle(payment.workflow_id)
        try:
            await asyncio.wait_for(handle.result(), timeout=self.wait_seconds)
        except (TimeoutError, WorkflowFailureError):
            pass

    async def capture(self, who: Caller, order_id: str, amount: int | None) -> Order:
        async with self.sessions.begin() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id, for_update=True)
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
            result = await self.processor_step(session, row, "CAPTURE", amount)
            if result.status != processor_pb2.PaymentResult.CAPTURED:
                raise FailedPrecondition(
                    message=f"the processor refused the capture: {result.failure_message or result.failure_code}",
                    reason="CAPTURE_FAILED",
                    metadata={"failure_code": result.failure_code},
                )
            repository.move(row, OrderStatus.SUCCEEDED)
            row.amount_captured = result.amount_captured or amount
        return await self.reload(who, order_id)

    async def cancel(self, who: Caller, order_id: str) -> Order:
        async with self.sessions.begin() as session:
            row = await repository.order_row_or_raise(session=session, caller=who, order_id=order_id, for_update=True)
            if row.status == OrderStatus.AUTHORIZED.value:
                result = await self.processor_step(session, row, "VOID", row.amount)
                if result.status != processor_pb2.PaymentResult.VOIDED:
                    raise FailedPrecondition(
                        message=f"the processor refused the void: {result.failure_message or result.failure_code}",
                        reason="VOID_FAILED",
                    )
            repository.move(row, OrderStatus.CANCELLED, reason="ORDER_NOT_CANCELLABLE")
        return await self.reload(who, order_id)

    async def processor_step(
        self, session: AsyncSession, row: OrderRow, kind: str, amount: int
    ) -> processor_pb2.PaymentResult:
        """Capture or void the order's authorization, recorded as a transaction."""
        authorization = await repository.find_transaction(
            session=session, order_id=row.id, attempt=row.attempt, type_="AUTHORIZE", status="SUCCEEDED"
        )
        if authorization is None:
            raise FailedPrecondition(message="the order has no authorization to act on", reason="ORDER_NOT_AUTHORIZED")
        key = f"{row.id}-a{row.attempt}-{kind.lower()}"
        txn = await repository.get_or_create_transaction(
            session=session,
            values={
                "order_id": row.id,
                "merchant_id": row.merchant_id,
                "attempt": row.attempt,
                "type": kind,
                "status": "PENDING",
                "processor": authorization.processor,
                "processor_reference": authorization.processor_reference,
                "amount": amount,
                "currency": row.currency,
                "idempotency_key": key,
            },
        )
        context = processor_service_pb2.CallContext(merchant_id=row.merchant_id, idempotency_key=key)
        stub = self.processors[authorization.processor]
        try:
            if kind == "CAPTURE":
                request = processor_service_pb2.CaptureRequest(
                    context=context, processor_reference=txn.processor_reference, amount=amount, currency=row.currency
                )
                result = (await stub.Capture(request, timeout=self.call_timeout)).result
            else:
                void = processor_service_pb2.VoidRequest(context=context, processor_reference=txn.processor_reference)
                result = (await stub.Void(void, timeout=self.call_timeout)).result
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        succeeded = result.status in (processor_pb2.PaymentResult.CAPTURED, processor_pb2.PaymentResult.VOIDED)
        txn.status = "SUCCEEDED" if succeeded else "FAILED"
        txn.failure_code, txn.failure_message = result.failure_code, result.failure_message[:1000]
        return result

    async def reload(self, who: Caller, order_id: str) -> Order:
        async with self.sessions() as session:
            return await repository.get_order_or_raise(session=session, caller=who, order_id=order_id)


def payment_input(row: OrderRow, candidates: list[Candidate], step_timeout: float) -> PaymentInput:
    return PaymentInput(
        order_id=row.id,
        merchant_id=row.merchant_id,
        mode=row.mode,
        attempt=row.attempt,
        amount=row.amount,
        currency=row.currency,
        capture=row.capture_method == CaptureMethod.AUTOMATIC.value,
        payment_method_type=row.payment_method_type,
        payment_method_token=row.payment_method_token,
        candidates=candidates,
        return_url=row.return_url,
        customer_email=row.customer_email,
        description=row.description,
        step_timeout_seconds=step_timeout,
    )
