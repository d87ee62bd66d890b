"""Temporal client connection shared by services and workers."""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client

log = logging.getLogger("payloops.temporal")


async def connect(address: str, namespace: str, attempts: int = 30) -> Client:
    """Connect, retrying for a while: Temporal may still be starting."""
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(address, namespace=namespace)
        except RuntimeError:
            if attempt == attempts:
                raise
            log.warning("temporal not reachable yet", extra={"address": address, "attempt": attempt})
            await asyncio.sleep(1)
    raise AssertionError("unreachable")
