"""Applying verified processor events (from the webhook service) to orders and refunds.
Events only ever move an object forward: an order leaves PROCESSING / REQUIRES_ACTION for
its outcome once, a refund leaves PENDING once; a stale, repeated or foreign event is
acknowledged and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from payloops.processor.v1 import processor_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.order import repository, settlement
from services.order.authorizations import StepKind
from services.order.domain import OrderStatus
from services.order.models import OrderRow, TransactionRow
from services.order.payments import CAPTURED, ChargeResult
from services.order.refunds import RefundOutcome

PaymentStatus = processor_pb2.PaymentResult.Status
RefundStatus = processor_pb2.RefundResult.Status

# The outcomes an event may move an order to (PENDING / REQUIRES_ACTION are not outcomes).
PAYMENT_OUTCOMES = {
    PaymentStatus.CAPTURED: (OrderStatus.SUCCEEDED, "SUCCEEDED"),
    PaymentStatus.AUTHORIZED: (OrderStatus.AUTHORIZED, "SUCCEEDED"),
    PaymentStatus.FAILED: (OrderStatus.FAILED, "FAILED"),
}


@dataclass(frozen=True)
class Applied:
    applied: bool
    order_id: str = ""
    refund_id: str = ""
    # False for a refund this event created (an automatic one): its workflow must be started.
    refund_started: bool = True


def event_charge(charges: list[TransactionRow], result: processor_pb2.PaymentResult) -> TransactionRow | None:
    """The charge an event is about, matched strictly: the same processor object (the
    payment, or the object it belongs to), the same amount and currency. An event that
    matches none is recorded by the webhook service and applied to nothing."""
    names = {result.processor_reference, result.parent_reference} - {""}
    return next(
        (
            c
            for c in charges
            if c.processor_reference in names
            and c.amount == result.amount
            and (not result.currency or c.currency == result.currency)
        ),
        None,
    )


async def apply_payment(
    session: AsyncSession, merchant_id: str, processor: str, event: processor_pb2.ProcessorEvent
) -> Applied:
    outcome = PAYMENT_OUTCOMES.get(event.payment.status)
    if outcome is None or not event.order_id:
        return Applied(False, event.order_id)
    order = await repository.order_row_of_merchant(session=session, merchant_id=merchant_id, order_id=event.order_id)
    if order is None:
        return Applied(False, event.order_id)
    result = event.payment
    charges = await repository.charges_at(session=session, order=order, processor=processor)
    if order.status in settlement.OPEN:
        charges = [c for c in charges if c.attempt == order.attempt]
    charge = event_charge(charges, result)
    if charge is None:
        return Applied(False, order.id)
    status = PaymentStatus.Name(result.status)
    if settlement.is_late_capture(order, charge, status):
        refund = await settlement.record_late_capture(session, order, charge, result.amount_captured)
        return Applied(refund is not None, order.id, refund.id if refund else "", refund_started=False)
    if order.status == OrderStatus.AUTHORIZED.value and status == CAPTURED:
        return Applied(await capture_reported(session, order, processor, result), order.id)
    if order.status not in settlement.OPEN or charge.attempt != order.attempt:
        return Applied(False, order.id)
    target, charge_status = outcome
    repository.record_payment(
        order,
        target,
        processor=processor,
        amount_captured=result.amount_captured,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        next_action_url="",
    )
    repository.advance_transaction(
        charge, charge_status, failure_code=result.failure_code, failure_message=result.failure_message
    )
    charge.processor_reference = charge.processor_reference or result.processor_reference
    return Applied(True, order.id)


async def capture_reported(
    session: AsyncSession, order: OrderRow, processor: str, result: processor_pb2.PaymentResult
) -> bool:
    """An authorized order the processor reports captured: the capture in progress settles
    (or, captured outside PayLoops, the order records it)."""
    step = await settlement.running_step(session, order, StepKind.CAPTURE)
    captured = ChargeResult(status=CAPTURED, amount_captured=result.amount_captured)
    if step is not None:
        await settlement.settle_step(session, order, step, captured)
    else:
        repository.move(order, OrderStatus.SUCCEEDED)
        order.amount_captured = result.amount_captured or order.amount
    return order.status == OrderStatus.SUCCEEDED.value


async def apply_refund(
    session: AsyncSession, merchant_id: str, processor: str, event: processor_pb2.ProcessorEvent
) -> Applied:
    result = event.refund
    refund = await repository.find_refund(
        session=session,
        merchant_id=merchant_id,
        refund_id=event.refund_id,
        processor=processor,
        reference=result.processor_reference,
    )
    if refund is None or refund.processor != processor:
        return Applied(False, event.order_id)
    if refund.processor_reference and result.processor_reference != refund.processor_reference:
        return Applied(False, refund.order_id, refund.id)
    outcome = RefundOutcome(
        status=RefundStatus.Name(result.status),
        processor_reference=result.processor_reference,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
    )
    _, changed = await repository.settle_refund(
        session=session, merchant_id=merchant_id, refund_id=refund.id, outcome=outcome
    )
    return Applied(changed, refund.order_id, refund.id)


async def apply_event(
    sessions: async_sessionmaker[AsyncSession], merchant_id: str, processor: str, event: processor_pb2.ProcessorEvent
) -> Applied:
    subject = event.WhichOneof("subject")
    async with sessions.begin() as session:
        if subject == "payment":
            return await apply_payment(session, merchant_id, processor, event)
        if subject == "refund":
            return await apply_refund(session, merchant_id, processor, event)
    return Applied(False, event.order_id)
