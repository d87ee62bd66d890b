"""Client settings: where the API is, how long to wait, how to retry, and the credentials."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
BASE_URL_ENV = "PAYLOOPS_BASE_URL"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_NETWORK_RETRIES = 2


def resolve_base_url(base_url: str | None) -> str:
    return (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a request is retried, and how long to wait before each retry."""

    max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # A server asking for a longer pause than this is not waited for that long.
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (from 0): exponential backoff with
        jitter, or the server's Retry-After when it gave one."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.initial_delay * 2.0**retry, self.max_delay)
        return ceiling * (0.5 + random.random() / 2)


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    timeout: float
    retry: RetryPolicy
    # The authentication headers; never printed.
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
