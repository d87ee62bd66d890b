"""The merchant's processor credentials, fetched per call from the merchant service
(MerchantInternalService/GetProcessorCredentials) and cached for a few seconds at most, so
a rotated or removed key takes effect quickly. Values are never logged."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Protocol

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_internal_service_pb2_grpc

from services.common.errors import relay
from services.common.identity import TRACE_HEADER
from services.common.logging import trace_id_var
from services.processor_common.model import Credentials


class CredentialsSource(Protocol):
    async def get(self, merchant_id: str, processor: str) -> Credentials: ...


class MerchantCredentials:
    """A CredentialsSource backed by the merchant service. Its refusals (NOT_FOUND
    PROCESSOR_NOT_CONFIGURED, FAILED_PRECONDITION CREDENTIALS_UNREADABLE, ...) reach our
    caller unchanged. A disabled processor's credentials are still served: routing decides
    what new payments go where, while captures and refunds of old ones must keep working."""

    def __init__(
        self,
        stub: merchant_internal_service_pb2_grpc.MerchantInternalServiceAsyncStub,
        *,
        ttl_seconds: float,
        timeout_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stub = stub
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Credentials]] = {}

    async def get(self, merchant_id: str, processor: str) -> Credentials:
        key = (merchant_id, processor)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        request = merchant_internal_service_pb2.GetProcessorCredentialsRequest(
            merchant_id=merchant_id, processor=processor
        )
        metadata = ((TRACE_HEADER, trace),) if (trace := trace_id_var.get()) else ()
        try:
            answer = await self.stub.GetProcessorCredentials(request, timeout=self.timeout_seconds, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        credentials: Credentials = MappingProxyType(dict(answer.credentials))
        if self.ttl_seconds > 0:
            self._remember(key, credentials)
        return credentials

    def _remember(self, key: tuple[str, str], credentials: Credentials) -> None:
        now = self.clock()
        if len(self._cache) >= self.max_entries:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            while len(self._cache) >= self.max_entries:
                del self._cache[next(iter(self._cache))]
        self._cache[key] = (now + self.ttl_seconds, credentials)
