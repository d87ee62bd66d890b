"""WebhookDeliveryWorkflow: one event to one endpoint, on a retry schedule of durable
timers. Deterministic, no I/O: every attempt (HTTP, its log, the secret) is an activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

DELIVERED, RETRY, GONE = "DELIVERED", "RETRY", "GONE"


@dataclass
class DeliveryInput:
    delivery_id: str
    # Seconds to wait after each failed attempt: len(schedule) + 1 attempts in all.
    schedule: list[float] = field(default_factory=list)
    # Each wait is spread by +/- this fraction.
    jitter: float = 0.0
    attempt_timeout: float = 10.0


@dataclass
class AttemptInput:
    delivery_id: str
    number: int
    # The wait before the next attempt if this one fails; None on the last attempt.
    retry_in: float | None
    timeout: float


# Infrastructure failures (database, merchant service) are retried by Temporal until
# they pass; what the endpoint answers is an outcome, never an activity error.
INFRASTRUCTURE_RETRIES = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60))


@workflow.defn(name="WebhookDeliveryWorkflow")
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, job: DeliveryInput) -> str:
        attempts = len(job.schedule) + 1
        for number in range(1, attempts + 1):
            retry_in = None
            if number < attempts:
                wait = job.schedule[number - 1]
                retry_in = max(0.0, wait * (1 + job.jitter * (2 * workflow.random().random() - 1)))
            outcome = await workflow.execute_activity(
                "attempt_delivery",
                AttemptInput(job.delivery_id, number, retry_in, job.attempt_timeout),
                result_type=str,
                start_to_close_timeout=timedelta(seconds=job.attempt_timeout + 15),
                retry_policy=INFRASTRUCTURE_RETRIES,
            )
            if outcome == DELIVERED:
                return "SUCCEEDED"
            if outcome == GONE or retry_in is None:
                break
            await workflow.sleep(timedelta(seconds=retry_in))
        await workflow.execute_activity(
            "fail_delivery",
            job.delivery_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=INFRASTRUCTURE_RETRIES,
        )
        return "FAILED"
