"""A merchant's routing configuration from the merchant service, cached briefly per merchant."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_internal_service_pb2_grpc

from services.common.errors import relay
from services.common.identity import TRACE_HEADER
from services.common.logging import trace_id_var
from services.router.convert import MerchantRouting, routing_from_proto


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
        self.ttl = ttl_seconds
        self.call_timeout = call_timeout_seconds
        self.max_entries = max_entries
        self.clock = clock
        self.entries: OrderedDict[str, tuple[float, MerchantRouting]] = OrderedDict()

    async def get(self, merchant_id: str, *, time_remaining: float | None = None) -> MerchantRouting:
        """`time_remaining`: the caller's deadline, which the merchant call must not outlive."""
        entry = self.entries.get(merchant_id)
        if entry is not None and entry[0] > self.clock():
            self.entries.move_to_end(merchant_id)
            return entry[1]
        routing = await self.load(merchant_id, time_remaining)
        if self.ttl > 0:
            self.entries[merchant_id] = (self.clock() + self.ttl, routing)
            self.entries.move_to_end(merchant_id)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
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
