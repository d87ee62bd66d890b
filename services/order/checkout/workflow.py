"""CheckoutExpiryWorkflow: a durable timer per checkout session. It sleeps until the
session's expiry, then expires it unless it already closed; while a payment made on its
page is under way the expiry is retried until that payment ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

EXPIRE_ACTIVITY = "expire_checkout_session"
PAYMENT_IN_FLIGHT = "CHECKOUT_SESSION_PAYMENT_IN_FLIGHT"


def expiry_workflow_id(session_id: str) -> str:
    return f"checkout-expiry-{session_id}"


@dataclass(frozen=True)
class CheckoutExpiry:
    session_id: str
    # POSIX seconds (a datetime does not cross the workflow sandbox's converter).
    expires_at: float
    retry_seconds: float


@workflow.defn
class CheckoutExpiryWorkflow:
    @workflow.run
    async def run(self, expiry: CheckoutExpiry) -> str:
        """What the timer did: "expired" the session, or found it "closed already"."""
        remaining = expiry.expires_at - workflow.now().timestamp()
        if remaining > 0:
            await workflow.sleep(remaining)
        status: str = await workflow.execute_activity(
            EXPIRE_ACTIVITY,
            expiry.session_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(seconds=expiry.retry_seconds),
            ),
        )
        return status
