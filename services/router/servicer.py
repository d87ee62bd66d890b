"""RouterService: proto <-> domain, and the success-rate windows it reads and writes."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc

from services.common.errors import FieldViolation, Unavailable, require
from services.common.identity import Context
from services.common.money import currency_violations
from services.common.timestamps import optional_timestamp as timestamp
from services.router.convert import candidate_to_proto, routing_input
from services.router.domain import (
    NO_SCORES,
    Algorithm,
    Health,
    RoutingInput,
    Scores,
    Splitter,
    State,
    SuccessRate,
    apply_retry_settings,
    deciding_action,
    hash_point,
    health_state,
    route,
    success_rate_actions,
    window_outcome,
)
from services.router.merchant_config import MerchantRoutingSource
from services.router.scores import ANY, Dimension, ScoreStore, ScoresUnavailable, Stat
from services.router.ttl_cache import RefreshingCache

log = logging.getLogger("payloops.router")
MODES = ("test", "live")


def required(request: object, *names: str) -> list[FieldViolation]:
    return [FieldViolation(name, "is required") for name in names if not getattr(request, name)]


def mode_violations(mode: str) -> list[FieldViolation]:
    return [] if mode in ("", *MODES) else [FieldViolation("mode", "must be test or live")]


def validate_route_request(request: router_service_pb2.RouteRequest) -> None:
    violations = required(request, "merchant_id", "order_id") + currency_violations(request.currency)
    if request.amount < 0:
        violations.append(FieldViolation("amount", "must not be negative"))
    require(violations + mode_violations(request.mode))


def scores_unavailable(error: Exception | None = None) -> Unavailable:
    return Unavailable(
        message=f"success rates are unavailable ({error or 'no Redis configured'})", reason="ROUTING_SCORES_UNAVAILABLE"
    )


class RouterServicer(router_service_pb2_grpc.RouterServiceServicer):
    def __init__(
        self,
        routing: MerchantRoutingSource,
        scores: ScoreStore | None,
        splitter: Splitter = hash_point,
        rng: random.Random | None = None,
        health: Health | None = None,
        score_cache_seconds: float = 0.0,
    ) -> None:
        self.routing = routing
        self.scores = scores
        self.health = health or Health()
        # Scores are statistics: a decision may use a read up to SCORE_CACHE_SECONDS old, so
        # a busy merchant's payments share one Redis round trip (read again in the
        # background before it expires, so none of them waits for it).
        self.recent_scores: RefreshingCache[tuple[Dimension, tuple[str, ...], int], Scores] = RefreshingCache(
            score_cache_seconds
        )
        self.splitter = splitter
        self.rng = rng or random.Random()

    async def Route(
        self, request: router_service_pb2.RouteRequest, context: Context
    ) -> router_service_pb2.RouteResponse:
        validate_route_request(request)
        merchant = await self.routing.get(request.merchant_id, time_remaining=context.time_remaining())
        payment = routing_input(request)
        scores = await self.scores_for(merchant.program, payment, request.mode or "test", request.merchant_id)
        candidates = route(
            merchant.program,
            payment,
            enabled=merchant.enabled,
            splitter=self.splitter,
            scores=scores,
            rng=self.rng,
            explore=not request.dry_run,
            health=self.health,
        )
        candidates = apply_retry_settings(candidates, merchant.retry)
        return router_service_pb2.RouteResponse(candidates=[candidate_to_proto(c) for c in candidates])

    async def scores_for(self, program: Algorithm, payment: RoutingInput, mode: str, merchant_id: str) -> Scores | None:
        """What the deciding rule needs: nothing for a static rule; the windows of a
        success-rate rule's processors; None when they cannot be read (routed statically)."""
        action = deciding_action(program, payment)
        if not isinstance(action, SuccessRate):
            return NO_SCORES
        if self.scores is None:
            return None
        dimension = Dimension(mode, merchant_id, payment.payment_method_type, payment.currency)
        store = self.scores
        key = (dimension, action.processors, action.window_size)
        try:
            return await self.recent_scores.get(
                key, lambda: store.read(dimension, action.processors, action.window_size)
            )
        except ScoresUnavailable as error:
            log.warning("success rates unavailable, routing statically", extra={"error": str(error)})
            return None

    async def RecordOutcome(
        self, request: router_service_pb2.RecordOutcomeRequest, context: Context
    ) -> router_service_pb2.RecordOutcomeResponse:
        violations = required(request, "attempt_id", "merchant_id", "processor")
        require(violations + currency_violations(request.currency) + mode_violations(request.mode))
        outcome = window_outcome(request.succeeded, request.failure_code)
        if outcome is None:
            return router_service_pb2.RecordOutcomeResponse(recorded=False)
        if self.scores is None:
            raise scores_unavailable()
        dimension = Dimension(
            request.mode or "test", request.merchant_id, request.payment_method_type, request.currency
        )
        try:
            recorded = await self.scores.record(request.attempt_id, dimension, request.processor, outcome)
        except ScoresUnavailable as error:
            raise scores_unavailable(error) from None
        return router_service_pb2.RecordOutcomeResponse(recorded=recorded)

    async def GetStats(
        self, request: router_service_pb2.GetStatsRequest, context: Context
    ) -> router_service_pb2.GetStatsResponse:
        require(required(request, "merchant_id") + mode_violations(request.mode))
        if self.scores is None:
            raise scores_unavailable()
        merchant = await self.routing.get(request.merchant_id, time_remaining=context.time_remaining())
        # As the merchant's first success-rate rule sees them (the defaults without one).
        action = next(iter(success_rate_actions(merchant.program)), SuccessRate(()))
        try:
            stats = await self.scores.stats(request.mode or "test", request.merchant_id, action.window_size)
        except ScoresUnavailable as error:
            raise scores_unavailable(error) from None
        return router_service_pb2.GetStatsResponse(stats=[self.stat_to_proto(stat, action) for stat in stats])

    def stat_to_proto(self, stat: Stat, action: SuccessRate) -> router_service_pb2.ProcessorStat:
        state, left = health_state(stat.window, self.health, action.min_samples)
        eliminated = state is State.ELIMINATED
        until = datetime.now(UTC) + timedelta(seconds=left) if eliminated else None
        return router_service_pb2.ProcessorStat(
            processor=stat.processor,
            payment_method_type="" if stat.payment_method_type == ANY else stat.payment_method_type,
            currency=stat.currency,
            success_rate=round(stat.window.rate, 4),
            sample_count=stat.window.samples,
            eliminated=eliminated,
            eliminated_until=timestamp(until),
        )
