"""PaymentWorkflow: route -> charge the first candidate -> fail over on a retryable
failure -> record -> final order state. RefundWorkflow: refund at the processor that
took the payment -> record -> while PENDING, wait for a webhook's signal or the poll
interval and ask again. Deterministic: all I/O is in activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import TimeoutError as StepTimeout

with workflow.unsafe.imports_passed_through():
    from services.order.activities import MONEY_MAY_MOVE, PaymentActivities
    from services.order.authorization_activities import AuthorizationActivities
    from services.order.authorizations import AuthorizationStep
    from services.order.payments import (
        FAILED,
        INVALID_REQUEST,
        PROCESSOR_OUTCOME_UNKNOWN,
        PROCESSOR_UNAVAILABLE,
        ChargeResult,
        ChargeStep,
        PaymentInput,
        PaymentOutcome,
    )
    from services.order.refund_activities import REFUND_REFUSED, RefundActivities
    from services.order.refunds import RefundInput, RefundOutcome, RefundStatus

T = TypeVar("T")


def first_task() -> bool:
    """Whether the workflow runs its first task: its history is then the start, scheduled
    and started events. A task retried after a crash or a timeout comes later, so no other
    run of this workflow's steps can be in flight (a local activity's own retries count
    separately, in its attempt number)."""
    return workflow.info().get_current_history_length() <= 3


# A prepare moves no money: after a few tries it is failed over, whatever went wrong.
PREPARE_RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_attempts=3,
    non_retryable_error_types=[PROCESSOR_UNAVAILABLE, INVALID_REQUEST],
)
# A confirm whose outcome is unknown is retried a few times, each retry asking the
# processor first; if it is still unknown the payment is abandoned at that processor
# (ABANDON_RETRIES) before anything else happens.
CONFIRM_RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
    non_retryable_error_types=[PROCESSOR_UNAVAILABLE, INVALID_REQUEST],
)
# Until the processor has said what happened, nothing else may: never given up.
ABANDON_RETRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[INVALID_REQUEST],
)
# A refund has no failover: an unavailable processor is retried like an unknown outcome.
REFUND_RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[REFUND_REFUSED],
)
BOOKKEEPING_RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=10))


# Versioning patch: payments started before it ran their steps as regular activities and
# replay that way; payments started since run them as local activities (see README).
LOCAL_STEPS = "payment-steps-local"
# Versioning patch: payments started since may move on to the next candidate after a
# failure code in the candidate's retry_on.
RETRY_RULES = "payment-retry-rules"
# Versioning patch: payments started since may be tried again at the same candidate with
# 3-D Secure after a failure code in the candidate's step_up_on.
STEP_UP = "payment-step-up"


async def run_step(
    activity: Callable[..., Awaitable[T]], args: tuple[Any, ...], timeout: float, retry: RetryPolicy, local: bool
) -> T:
    """One activity, in the worker running the workflow task (local: no task round trips;
    its result is recorded with the workflow task) or through the task queue."""
    result: T
    if local:
        result = await workflow.execute_local_activity_method(
            activity, args=args, start_to_close_timeout=timedelta(seconds=timeout), retry_policy=retry
        )
    else:
        result = await workflow.execute_activity_method(
            activity, args=args, start_to_close_timeout=timedelta(seconds=timeout), retry_policy=retry
        )
    return result


async def processor_call(
    timeout: float, retry_policy: RetryPolicy, activity: Callable[..., Awaitable[T]], *args: Any, local: bool = False
) -> T:
    return await run_step(activity, args, timeout, retry_policy, local)


async def bookkeeping(activity: Callable[..., Awaitable[T]], *args: Any, local: bool = False) -> T:
    return await run_step(activity, args, 15, BOOKKEEPING_RETRIES, local)


# How a failed step reaches the workflow: an activity's failure is an ActivityError with the
# cause inside; a local activity's is the cause itself (its ApplicationError or timeout).
STEP_FAILED = (ActivityError, ApplicationError, StepTimeout)


def failure_type(error: FailureError) -> str:
    cause = error.cause if isinstance(error, ActivityError) else error
    return cause.type or "" if isinstance(cause, ApplicationError) else ""


# Not sandboxed: the sandbox re-imports the workflow's modules for every run, which was a
# sixth of the order service's CPU per payment. Determinism rests on this module using
# only workflow APIs, and on the replay tests.
@workflow.defn(sandboxed=False)
class PaymentWorkflow:
    """Each candidate in turn: prepare, then confirm. A decline or a refusal is final unless
    the retry rules say otherwise. The next candidate is tried only when this one certainly
    charged nothing: it said it was unavailable, its prepare failed, an unknown outcome was
    settled by abandoning the payment there (cancelled, or reported as never made), or it
    declined with a code the rules retry. A decline asking for authentication is tried
    once more at the same candidate with 3-D Secure (a step-up)."""

    def __init__(self) -> None:
        self.local = False

    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentOutcome:
        self.local = workflow.patched(LOCAL_STEPS)
        unavailable: list[str] = []
        for index in range(len(payment.candidates)):
            outcome = await self.charge_at(ChargeStep(payment, index), unavailable)
            if outcome is not None:
                return outcome
        message = f"every processor was unavailable ({', '.join(unavailable)})"
        status = await bookkeeping(
            PaymentActivities.fail_payment, payment, PROCESSOR_UNAVAILABLE, message, local=self.local
        )
        return PaymentOutcome(status, "", PROCESSOR_UNAVAILABLE, unavailable)

    async def charge_at(self, step: ChargeStep, unavailable: list[str]) -> PaymentOutcome | None:
        """The payment's outcome at this candidate, or None to move on to the next one
        (this one charged nothing; `unavailable` collects the processors that were)."""
        payment, processor = step.payment, step.candidate.processor
        try:
            reference = await processor_call(
                payment.step_timeout_seconds,
                PREPARE_RETRIES,
                PaymentActivities.prepare_charge,
                step,
                first_task(),
                local=self.local,
            )
            result = await self.confirm(step, reference)
        except STEP_FAILED as error:
            code = failure_type(error) or INVALID_REQUEST
            message = str(error.cause or error)
            if code == PROCESSOR_OUTCOME_UNKNOWN:  # only a prepare gets here: nothing was charged
                code = PROCESSOR_UNAVAILABLE
            await bookkeeping(PaymentActivities.record_failed_step, step, code, message, local=self.local)
            if code == PROCESSOR_UNAVAILABLE:
                unavailable.append(processor)
                return None
            status = await bookkeeping(PaymentActivities.fail_payment, payment, code, message, local=self.local)
            return PaymentOutcome(status, processor, code, unavailable)
        if result is None:  # abandoned: certainly not charged
            message = f"{processor} did not answer; the payment was cancelled there"
            await bookkeeping(
                PaymentActivities.record_failed_step, step, PROCESSOR_UNAVAILABLE, message, local=self.local
            )
            unavailable.append(processor)
            return None
        stepping_up = self.steps_up(step, result)
        if stepping_up or self.retried_elsewhere(step, result):
            await bookkeeping(
                PaymentActivities.record_failed_step,
                step,
                result.failure_code,
                result.failure_message,
                local=self.local,
            )
            return await self.charge_at(replace(step, authenticate=True), unavailable) if stepping_up else None
        status = await bookkeeping(PaymentActivities.record_charge, step, result, local=self.local)
        return PaymentOutcome(status, processor, result.failure_code, unavailable)

    @staticmethod
    def steps_up(step: ChargeStep, result: ChargeResult) -> bool:
        """A decline asking for authentication that the retry rules answer with 3-D Secure
        at the same processor, once (it charged nothing). Only payments started since
        STEP_UP do."""
        return (
            result.status == FAILED
            and not step.authenticate
            and result.failure_code in step.candidate.step_up_on
            and workflow.patched(STEP_UP)
        )

    @staticmethod
    def retried_elsewhere(step: ChargeStep, result: ChargeResult) -> bool:
        """A definite failure the merchant's retry rules send to the next candidate (it
        charged nothing). Payments started before retry rules never do (RETRY_RULES)."""
        return (
            result.status == FAILED
            and result.failure_code in step.candidate.retry_on
            and step.index + 1 < len(step.payment.candidates)
            and workflow.patched(RETRY_RULES)
        )

    async def confirm(self, step: ChargeStep, reference: str) -> ChargeResult | None:
        """The confirmed payment's result, or None when its outcome stayed unknown and the
        payment was abandoned at the processor with nothing charged."""
        timeout = step.payment.step_timeout_seconds
        try:
            return await processor_call(
                timeout,
                CONFIRM_RETRIES,
                PaymentActivities.confirm_charge,
                step,
                reference,
                first_task(),
                local=self.local,
            )
        except STEP_FAILED as error:
            if failure_type(error) != PROCESSOR_OUTCOME_UNKNOWN:
                raise
        settled = await processor_call(
            timeout, ABANDON_RETRIES, PaymentActivities.abandon_charge, step, reference, local=self.local
        )
        return settled if settled.status in MONEY_MAY_MOVE else None


@dataclass(frozen=True)
class StepOutcome:
    order_status: str
    refusal: str = ""


@workflow.defn
class AuthorizationWorkflow:
    """Capture or void at the processor, then record it. Only the processor's refusal ends
    it without its word on the payment; an unknown outcome is asked about until known."""

    @workflow.run
    async def run(self, step: AuthorizationStep) -> StepOutcome:
        result: ChargeResult | None = None
        refusal = ""
        try:
            result = await processor_call(
                step.step_timeout_seconds, ABANDON_RETRIES, AuthorizationActivities.call_step, step
            )
        except ActivityError as error:
            refusal = failure_type(error) or INVALID_REQUEST
        status = await bookkeeping(AuthorizationActivities.record_step, step, result, refusal)
        return StepOutcome(status, refusal)


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
            return await processor_call(refund.step_timeout_seconds, REFUND_RETRIES, activity, refund)
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


SWEEP_ACTIVITY = "sweep"  # services.order.sweep.SweepActivities.sweep (which imports this module)
# A pass heartbeats; one whose worker died is given up on after this, not after its whole
# timeout, because the schedule skips every pass while one is still open.
SWEEP_HEARTBEAT_TIMEOUT = timedelta(seconds=15)


@workflow.defn
class SweepWorkflow:
    """One pass of the sweep (started by the payloops-sweep schedule)."""

    @workflow.run
    async def run(self) -> dict[str, int]:
        done: dict[str, int] = await workflow.execute_activity(
            SWEEP_ACTIVITY,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=SWEEP_HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return done
