"""Each payment attempt's outcome, sent to the router for success-rate routing.

Sent in the background once the outcome is committed: a payment never waits for the
router or fails because of it, and a lost outcome only makes a window one sample shorter.
The router adds an attempt's outcome once, whatever retries send it again, and decides
whether it says anything about the processor (a decline does not)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import grpc
from payloops.router.v1 import router_service_pb2

from services.order.payments import ChargeStep

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.router.v1.router_service_pb2_grpc import RouterServiceAsyncStub

log = logging.getLogger("payloops.order.feedback")
# Beyond this many outcomes in flight (the router is slow or down), new ones are dropped.
MAX_IN_FLIGHT = 1000


class RoutingFeedback:
    def __init__(self, router: RouterServiceAsyncStub | None, timeout_seconds: float = 2.0) -> None:
        self.router = router
        self.timeout = timeout_seconds
        self.in_flight: set[asyncio.Task[None]] = set()

    def send(self, step: ChargeStep, *, succeeded: bool, failure_code: str = "") -> None:
        if self.router is None or len(self.in_flight) >= MAX_IN_FLIGHT:
            return
        payment = step.payment
        request = router_service_pb2.RecordOutcomeRequest(
            attempt_id=step.idempotency_key,
            merchant_id=payment.merchant_id,
            mode=payment.mode,
            processor=step.candidate.processor,
            payment_method_type=payment.payment_method_type,
            currency=payment.currency,
            succeeded=succeeded,
            failure_code=failure_code,
        )
        task = asyncio.get_running_loop().create_task(self.record(request))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def record(self, request: router_service_pb2.RecordOutcomeRequest) -> None:
        assert self.router is not None
        try:
            await self.router.RecordOutcome(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "routing feedback not recorded",
                extra={"attempt_id": request.attempt_id, "error": error.code().name},
            )

    async def drain(self) -> None:
        """Waits for the outcomes in flight (at shutdown)."""
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=self.timeout)
