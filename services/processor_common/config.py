"""Settings every processor service has, on top of the shared ServiceSettings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import ServiceSettings


class ProcessorSettings(ServiceSettings):
    merchant_service_addr: str
    merchant_call_timeout_seconds: float = Field(default=3.0, gt=0)
    # Credentials are cached this long at most (0: ask the merchant service on every call).
    credentials_cache_seconds: float = Field(default=5.0, ge=0, le=30)
    # HTTP to the processor: connecting (nothing was sent if it fails: retryable) and the
    # whole answer (when it expires the processor may have acted: outcome unknown).
    processor_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    processor_timeout_seconds: float = Field(default=15.0, gt=0)
