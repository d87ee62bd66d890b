"""Applying verified processor events (from the webhook service) to orders and refunds.
Events only ever move an object forward: an order leaves PROCESSING / REQUIRES_ACTION for
its outcome once, a refund leaves PENDING once; a stale, repeated or foreign event is
acknowledged and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from payloops.processor.v1 import processor_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.order import repository
from services.order.domain import OrderStatus
from services.order.refunds import RefundOutcome

PaymentStatus = processor_pb2.PaymentResult.Status
RefundStatus = processor_pb2.RefundResult.Status

# The outcomes an event may move an order to (PENDING / REQUIRES_ACTION are not outcomes).
PAYMENT_OUTCOMES = {
    PaymentStatus.CAPTURED: (OrderStatus.SUCCEEDED, "SUCCEEDED"),
    PaymentStatus.AUTHORIZED: (OrderStatus.AUTHORIZED, "SUCCEEDED"),
    PaymentStatus.FAILED: (OrderStatus.FAILED, "FAILED"),
}
OPEN_ORDER = frozenset({OrderStatus.PROCESSING.value, OrderStatus.REQUIRES_ACTION.value})


@dataclass(frozen=True)
class Applied:
    applied: bool
    order_id: str = ""
    refund_id: str = ""


def same_object(recorded: str, reported: str) -> bool:
    """Whether an event's reference names the payment we recorded. A processor may report a
    different kind of object than the one recorded (Razorpay: payment `pay_…` for order
    `order_…`); then the attempt and processor are what tie them."""
    if not recorded or recorded.split("_", 1)[0] != reported.split("_", 1)[0]:
        return True
    return recorded == reported


async def apply_payment(
    session: AsyncSession, merchant_id: str, processor: str, event: processor_pb2.ProcessorEvent
) -> Applied:
    outcome = PAYMENT_OUTCOMES.get(event.payment.status)
    if outcome is None or not event.order_id:
        return Applied(False, event.order_id)
    order = await repository.order_row_of_merchant(session=session, merchant_id=merchant_id, order_id=event.order_id)
    if order is None or order.status not in OPEN_ORDER:
        return Applied(False, event.order_id)
    charge = await repository.current_charge(session=session, order=order, processor=processor)
    result = event.payment
    if charge is None or not same_object(charge.processor_reference, result.processor_reference):
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
    charge.status = charge_status
    charge.processor_reference = charge.processor_reference or result.processor_reference
    charge.failure_code, charge.failure_message = result.failure_code, result.failure_message[:1000]
    return Applied(True, order.id)


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
