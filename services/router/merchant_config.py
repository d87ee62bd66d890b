"""A merchant's routing configuration from the merchant service, cached briefly per merchant."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_internal_service_pb2_grpc

from services.common.errors import relay
from services.common.identity import TRACE_HEADER
from services.common.logging import trace_id_var
from services.router.convert import MerchantRouting, routing_from_proto
from services.router.ttl_cache import TtlCache


class MerchantRoutingSource:
    """`ttl_seconds` bounds how stale a merchant's rules and enabled processors may be;
    0 asks the merchant service every time."""

    def __init__(
        self,
        stub: merchant_internal_service_pb2_grpc.MerchantInternalServiceAsyncStub,
        *,
        ttl_seconds: float,
        call_timeout_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stub = stub
        self.call_timeout = call_timeout_seconds
        self.cache: TtlCache[str, MerchantRouting] = TtlCache(ttl_seconds, max_entries, clock)

    async def get(self, merchant_id: str, *, time_remaining: float | None = None) -> MerchantRouting:
        """`time_remaining`: the caller's deadline, which the merchant call must not outlive."""
        routing = self.cache.get(merchant_id)
        if routing is None:
            routing = await self.load(merchant_id, time_remaining)
            self.cache.put(merchant_id, routing)
        return routing

    async def load(self, merchant_id: str, time_remaining: float | None) -> MerchantRouting:
        timeout = self.call_timeout if time_remaining is None else min(self.call_timeout, time_remaining)
        trace_id = trace_id_var.get()
        try:
            answer = await self.stub.GetRoutingConfig(
                merchant_internal_service_pb2.GetRoutingConfigRequest(merchant_id=merchant_id),
                timeout=timeout,
                metadata=((TRACE_HEADER, trace_id),) if trace_id else None,
            )
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        return routing_from_proto(answer)
