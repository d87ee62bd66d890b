"""PaymentWorkflow: route -> charge the first candidate -> fail over on a retryable
failure -> record -> final order state. RefundWorkflow: refund at the processor that
took the payment -> record -> while PENDING, wait for a webhook's signal or the poll
interval and ask again. Deterministic: all I/O is in activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.order.activities import PaymentActivities
    from services.order.payments import (
        INVALID_REQUEST,
        PROCESSOR_UNAVAILABLE,
        ChargeStep,
        PaymentInput,
        PaymentOutcome,
    )
    from services.order.refund_activities import REFUND_REFUSED, RefundActivities
    from services.order.refunds import RefundInput, RefundOutcome, RefundStatus

T = TypeVar("T")

# An unknown outcome is retried until the processor tells us what happened: a payment
# must never be given up (or failed over) while money may have moved.
PROCESSOR_RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=[PROCESSOR_UNAVAILABLE, INVALID_REQUEST],
)
# A refund has no failover: an unavailable processor is retried like an unknown outcome.
REFUND_RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[REFUND_REFUSED],
)
BOOKKEEPING_RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=10))


async def processor_call(
    timeout: float, activity: Callable[..., Awaitable[T]], *args: Any, retry_policy: RetryPolicy = PROCESSOR_RETRIES
) -> T:
    result: T = await workflow.execute_activity_method(
        activity, args=args, start_to_close_timeout=timedelta(seconds=timeout), retry_policy=retry_policy
    )
    return result


async def bookkeeping(activity: Callable[..., Awaitable[T]], *args: Any) -> T:
    result: T = await workflow.execute_activity_method(
        activity, args=args, start_to_close_timeout=timedelta(seconds=15), retry_policy=BOOKKEEPING_RETRIES
    )
    return result


def failure_type(error: ActivityError) -> str:
    cause = error.cause
    return cause.type or "" if isinstance(cause, ApplicationError) else ""


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentOutcome:
        unavailable: list[str] = []
        for index, candidate in enumerate(payment.candidates):
            step = ChargeStep(payment, index)
            try:
                reference = await processor_call(payment.step_timeout_seconds, PaymentActivities.prepare_charge, step)
                result = await processor_call(
                    payment.step_timeout_seconds, PaymentActivities.confirm_charge, step, reference
                )
            except ActivityError as error:
                code = failure_type(error) or INVALID_REQUEST
                message = str(error.cause or error)
                await bookkeeping(PaymentActivities.record_failed_step, step, code, message)
                if code == PROCESSOR_UNAVAILABLE:
                    unavailable.append(candidate.processor)
                    continue
                status = await bookkeeping(PaymentActivities.fail_payment, payment, code, message)
                return PaymentOutcome(status, candidate.processor, code, unavailable)
            status = await bookkeeping(PaymentActivities.record_charge, step, result)
            return PaymentOutcome(status, candidate.processor, result.failure_code, unavailable)
        message = f"every processor was unavailable ({', '.join(unavailable)})"
        status = await bookkeeping(PaymentActivities.fail_payment, payment, PROCESSOR_UNAVAILABLE, message)
        return PaymentOutcome(status, "", PROCESSOR_UNAVAILABLE, unavailable)


@workflow.defn
class RefundWorkflow:
    def __init__(self) -> None:
        self.nudged = False

    @workflow.signal
    def processor_update(self) -> None:
        """A processor event settled (or changed) the refund: look again now."""
        self.nudged = True

    async def ask(self, refund: RefundInput, activity: Callable[..., Awaitable[RefundOutcome]]) -> RefundOutcome:
        try:
            return await processor_call(refund.step_timeout_seconds, activity, refund, retry_policy=REFUND_RETRIES)
        except ActivityError as error:
            cause = error.cause
            code = str(cause.details[0]) if isinstance(cause, ApplicationError) and cause.details else REFUND_REFUSED
            return RefundOutcome(RefundStatus.FAILED.value, failure_code=code, failure_message=str(cause or error))

    @workflow.run
    async def run(self, refund: RefundInput) -> str:
        outcome = await self.ask(refund, RefundActivities.send_refund)
        status = await bookkeeping(RefundActivities.record_refund, refund, outcome)
        while status == RefundStatus.PENDING.value:
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(refund)
            try:
                await workflow.wait_condition(lambda: self.nudged, timeout=timedelta(seconds=refund.poll_seconds))
            except TimeoutError:
                pass
            self.nudged = False
            outcome = await self.ask(refund, RefundActivities.check_refund)
            status = await bookkeeping(RefundActivities.record_refund, refund, outcome)
        return status
