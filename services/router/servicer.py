"""RouterService: proto <-> domain only."""

from __future__ import annotations

from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc

from services.common.errors import FieldViolation, require
from services.common.identity import Context
from services.common.money import currency_violations
from services.router.convert import candidate_to_proto, routing_input
from services.router.domain import Splitter, hash_point, route
from services.router.merchant_config import MerchantRoutingSource


def validate_route_request(request: router_service_pb2.RouteRequest) -> None:
    violations = [
        FieldViolation(name, "is required") for name in ("merchant_id", "order_id") if not getattr(request, name)
    ]
    violations += currency_violations(request.currency)
    if request.amount < 0:
        violations.append(FieldViolation("amount", "must not be negative"))
    require(violations)


class RouterServicer(router_service_pb2_grpc.RouterServiceServicer):
    def __init__(self, routing: MerchantRoutingSource, splitter: Splitter = hash_point) -> None:
        self.routing = routing
        self.splitter = splitter

    async def Route(
        self, request: router_service_pb2.RouteRequest, context: Context
    ) -> router_service_pb2.RouteResponse:
        validate_route_request(request)
        merchant = await self.routing.get(request.merchant_id, time_remaining=context.time_remaining())
        candidates = route(merchant.program, routing_input(request), enabled=merchant.enabled, splitter=self.splitter)
        return router_service_pb2.RouteResponse(candidates=[candidate_to_proto(c) for c in candidates])
