"""The refund workflow's activities: the processor calls and the refund's bookkeeping.
Each is idempotent: the processor refunds at most once per refund id, and settling a
refund that is already final changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_pb2, processor_service_pb2
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.errors import reason_of
from services.order import repository
from services.order.activities import REFUSED, ProcessorCalls
from services.order.models import RefundRow
from services.order.payments import PROCESSOR_OUTCOME_UNKNOWN
from services.order.refunds import RefundInput, RefundOutcome, RefundStatus

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    pass

Status = processor_pb2.RefundResult.Status
REFUND_REFUSED = "REFUND_REFUSED"


def classify(error: grpc.aio.AioRpcError) -> ApplicationError:
    """A refused request fails the refund; anything else (unavailable, timeout, unknown) is
    retried, which is safe because the processor refunds at most once per refund id."""
    reason = reason_of(error) or error.code().name
    message = f"{reason}: {error.details()}"
    if error.code() in REFUSED:
        return ApplicationError(message, reason, type=REFUND_REFUSED, non_retryable=True)
    return ApplicationError(message, type=PROCESSOR_OUTCOME_UNKNOWN)


def to_outcome(result: processor_pb2.RefundResult) -> RefundOutcome:
    status = Status.Name(result.status)
    return RefundOutcome(
        status=status if status in RefundStatus.__members__ else RefundStatus.PENDING.value,
        processor_reference=result.processor_reference,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
    )


class RefundActivities(ProcessorCalls):
    unknown_processor = REFUND_REFUSED

    async def stored(self, refund: RefundInput) -> RefundRow | None:
        async with self.sessions() as session:
            return await repository.find_refund(
                session=session, merchant_id=refund.merchant_id, refund_id=refund.refund_id
            )

    async def lookup(self, refund: RefundInput, reference: str) -> RefundOutcome:
        request = processor_service_pb2.GetRefundRequest(merchant_id=refund.merchant_id, processor_reference=reference)
        try:
            answer = await self.stub(refund.processor).GetRefund(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise classify(error) from None
        return to_outcome(answer.result)

    @activity.defn(name="send_refund")
    async def send_refund(self, refund: RefundInput) -> RefundOutcome:
        """Asks the processor to refund. A retry after an unknown outcome first asks GetRefund
        about a refund already recorded; without one, Refund again returns the refund the
        earlier try created (the plug-ins find it by its refund id), never a second one."""
        if activity.info().attempt > 1 and (row := await self.stored(refund)) and row.processor_reference:
            return await self.lookup(refund, row.processor_reference)
        request = processor_service_pb2.RefundRequest(
            context=processor_service_pb2.CallContext(merchant_id=refund.merchant_id, idempotency_key=refund.refund_id),
            processor_reference=refund.payment_reference,
            refund_id=refund.refund_id,
            amount=refund.amount,
            currency=refund.currency,
            reason=refund.reason,
        )
        try:
            answer = await self.stub(refund.processor).Refund(request, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise classify(error) from None
        return to_outcome(answer.result)

    @activity.defn(name="check_refund")
    async def check_refund(self, refund: RefundInput) -> RefundOutcome:
        """The refund's state: ours when a webhook already settled it, else the processor's."""
        row = await self.stored(refund)
        if row is not None and row.status != RefundStatus.PENDING.value:
            return RefundOutcome(row.status, row.processor_reference, row.failure_code, row.failure_message)
        if row is None or not row.processor_reference:
            return await self.send_refund(refund)
        return await self.lookup(refund, row.processor_reference)

    @activity.defn(name="record_refund")
    async def record_refund(self, refund: RefundInput, outcome: RefundOutcome) -> str:
        """Records the outcome; returns the refund's status afterwards."""
        async with self.sessions.begin() as session:
            row, _ = await repository.settle_refund(
                session=session, merchant_id=refund.merchant_id, refund_id=refund.refund_id, outcome=outcome
            )
            return row.status
