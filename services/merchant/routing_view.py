"""The dashboard's view of routing: what it would decide for a payment (SimulateRouting)
and the success rates it sees (GetRoutingStats), both answered by the router service."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from payloops.merchant.v1 import merchant_service_pb2 as svc
from payloops.router.v1 import router_service_pb2

from services.common.errors import FieldViolation, relay
from services.common.identity import Caller
from services.common.money import currency_violations
from services.merchant.keys import MODES
from services.merchant.validation import check, required

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.router.v1.router_service_pb2_grpc import RouterServiceAsyncStub

Candidate = svc.SimulateRoutingResponse.Candidate


def mode_violations(mode: str) -> list[FieldViolation]:
    return [] if mode in ("", *MODES) else [FieldViolation("mode", f"must be one of: {', '.join(MODES)}")]


class RoutingView:
    def __init__(self, router: RouterServiceAsyncStub, timeout_seconds: float) -> None:
        self.router = router
        self.timeout = timeout_seconds

    async def simulate(self, who: Caller, request: svc.SimulateRoutingRequest) -> svc.SimulateRoutingResponse:
        amount = [] if request.amount > 0 else [FieldViolation("amount", "must be greater than 0")]
        method = required(request.payment_method.type, "payment_method.type")
        check(("INVALID_ARGUMENT", amount + currency_violations(request.currency) + method))
        check(("INVALID_ARGUMENT", mode_violations(request.mode)))
        route = router_service_pb2.RouteRequest(
            merchant_id=who.merchant_id,
            order_id="simulation",
            amount=request.amount,
            currency=request.currency,
            payment_method_type=request.payment_method.type,
            payment_method_token=request.payment_method.token,
            metadata=request.metadata,
            mode=request.mode or who.mode,
            dry_run=True,
        )
        try:
            answer = await self.router.Route(route, timeout=self.timeout)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        candidates = [
            Candidate(
                processor=c.processor,
                reason=c.reason,
                rule_id=c.rule_id,
                score=c.score if c.HasField("score") else None,
                samples=c.samples,
                approach=c.approach,
            )
            for c in answer.candidates
        ]
        return svc.SimulateRoutingResponse(candidates=candidates, approach=candidates[0].approach)

    async def stats(self, who: Caller, request: svc.GetRoutingStatsRequest) -> svc.GetRoutingStatsResponse:
        check(("INVALID_ARGUMENT", mode_violations(request.mode)))
        ask = router_service_pb2.GetStatsRequest(merchant_id=who.merchant_id, mode=request.mode or who.mode)
        try:
            answer = await self.router.GetStats(ask, timeout=self.timeout)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        return svc.GetRoutingStatsResponse(
            stats=[
                svc.GetRoutingStatsResponse.Stat(
                    processor=s.processor,
                    payment_method_type=s.payment_method_type,
                    currency=s.currency,
                    success_rate=s.success_rate,
                    sample_count=s.sample_count,
                    eliminated=s.eliminated,
                    eliminated_until=s.eliminated_until if s.HasField("eliminated_until") else None,
                )
                for s in answer.stats
            ]
        )
