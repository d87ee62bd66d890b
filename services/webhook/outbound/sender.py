"""One HTTP attempt of a webhook: SSRF-checked, pinned to the checked address, short
timeout, redirects never followed. Never raises for what the endpoint does."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from services.common.ssrf import IPAddress, UnsafeDestination, resolve_checked, url_problem


@dataclass(frozen=True)
class SendResult:
    status_code: int
    latency_ms: int
    error: str

    @property
    def delivered(self) -> bool:
        return not self.error and 200 <= self.status_code < 300


class PinnedResolver(AbstractResolver):
    """Resolves the URL's host to the one address already checked, so the connection
    goes where the check said (a DNS answer changing in between cannot redirect it)."""

    def __init__(self, address: IPAddress) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        inet = socket.AF_INET6 if self.address.version == 6 else socket.AF_INET
        return [
            ResolveResult(
                hostname=host, host=str(self.address), port=port, family=inet, proto=0, flags=socket.AI_NUMERICHOST
            )
        ]

    async def close(self) -> None:
        return None


def elapsed_ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


async def send(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool = False
) -> SendResult:
    """POSTs `body` to `url`; 2xx is delivered, anything else (3xx included) is not."""
    problem = url_problem(url, allow_loopback=allow_loopback)
    if problem is not None:
        return SendResult(0, 0, f"refused: the URL {problem}")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    began = time.monotonic()
    try:
        address = await resolve_checked(parts.hostname or "", port, allow_loopback=allow_loopback)
    except UnsafeDestination as refused:
        return SendResult(0, elapsed_ms(began), f"refused: {refused}")
    connector = aiohttp.TCPConnector(resolver=PinnedResolver(address), use_dns_cache=False, force_close=True)
    options: dict[str, Any] = {"allow_redirects": False, "data": body, "headers": headers}
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=timeout), trust_env=False
            ) as http,
            http.post(url, **options) as response,
        ):
            await response.content.read(64 * 1024)  # a little of the answer, never all of it
            status = response.status
    except TimeoutError:
        return SendResult(0, elapsed_ms(began), f"no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as error:
        return SendResult(0, elapsed_ms(began), f"{type(error).__name__}: {error}"[:500])
    if 300 <= status < 400:
        return SendResult(status, elapsed_ms(began), "redirect not followed")
    return SendResult(status, elapsed_ms(began), "")
