"""The capture and void workflow's activities: the processor call, and recording its
outcome. Both idempotent: the processor call carries the step's key and a retry asks the
processor first; recording an outcome twice changes nothing the second time."""

from __future__ import annotations

import grpc
from payloops.processor.v1 import processor_service_pb2
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.order import settlement
from services.order.activities import ProcessorCalls, classify, lock_order, to_result, unresolved
from services.order.authorizations import FINAL, AuthorizationStep, StepKind
from services.order.payments import PROCESSOR_UNAVAILABLE, ChargeResult


class AuthorizationActivities(ProcessorCalls):
    @activity.defn(name="call_authorization_step")
    async def call_step(self, step: AuthorizationStep) -> ChargeResult:
        """Captures or voids at the processor; a final answer (FINAL) or a refusal."""
        if activity.info().attempt > 1:
            known = await self.ask_payment(step.processor, step.merchant_id, step.processor_reference, step.order_id)
            if known.status in FINAL[step.kind]:
                return known
        context = processor_service_pb2.CallContext(merchant_id=step.merchant_id, idempotency_key=step.transaction_key)
        stub = self.stub(step.processor)
        try:
            if step.kind == StepKind.CAPTURE.value:
                capture = processor_service_pb2.CaptureRequest(
                    context=context,
                    processor_reference=step.processor_reference,
                    amount=step.amount,
                    currency=step.currency,
                )
                answer = (await stub.Capture(capture, timeout=self.call_timeout)).result
            else:
                void = processor_service_pb2.VoidRequest(context=context, processor_reference=step.processor_reference)
                answer = (await stub.Void(void, timeout=self.call_timeout)).result
        except grpc.aio.AioRpcError as error:
            failure = classify(error)
            if failure.type == PROCESSOR_UNAVAILABLE:  # no failover for a capture or void: try again
                raise ApplicationError(str(failure.message), type=PROCESSOR_UNAVAILABLE) from None
            raise failure from None
        result = to_result(answer)
        if result.status not in FINAL[step.kind]:
            raise unresolved(result)
        return result

    @activity.defn(name="record_authorization_step")
    async def record_step(self, step: AuthorizationStep, result: ChargeResult | None, refusal: str) -> str:
        async with self.sessions.begin() as session:
            order = await lock_order(session, step)
            return await settlement.settle_step(session, order, step, result, refusal)
