"""Temporal client plumbing shared by services and workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from temporalio import activity
from temporalio.client import Client, TLSConfig
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.common.config import TemporalSettings
from services.common.temporal_converter import DATA_CONVERTER

log = logging.getLogger("payloops.temporal")


@contextlib.asynccontextmanager
async def heartbeating(every: float) -> AsyncIterator[None]:
    """Heartbeats the running activity every `every` seconds while the body runs, so a
    worker that dies mid-activity is noticed after the heartbeat timeout, not after the
    activity's whole start-to-close timeout."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """TLS to Temporal when TEMPORAL_TLS_CA_FILE is set, with a client certificate when
    TEMPORAL_TLS_CERT_FILE/KEY_FILE are; plaintext otherwise (the dev server on loopback)."""
    if settings.temporal_tls_ca_file is None:
        return False
    cert, key = settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca_file.read_bytes(),
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
        domain=settings.temporal_tls_server_name or None,
    )


async def connect(settings: TemporalSettings, attempts: int = 30) -> Client:
    """Connect, retrying for a while: Temporal may still be starting."""
    address, namespace, tls = settings.temporal_address, settings.temporal_namespace, tls_config(settings)
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(address, namespace=namespace, tls=tls, data_converter=DATA_CONVERTER)
        except RuntimeError:
            if attempt == attempts:
                raise
            log.warning("temporal not reachable yet", extra={"address": address, "attempt": attempt})
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def start_once(client: Client, run: Any, arg: Any, *, workflow_id: str, task_queue: str) -> bool:
    """Starts the workflow whose ID comes from its business key, once: a running or
    finished workflow of that ID is left alone. Returns whether this call started it."""
    return await start_here(client, run, arg, workflow_id=workflow_id, task_queue=task_queue) is not None


async def start_here(client: Client, run: Any, arg: Any, *, workflow_id: str, task_queue: str) -> bool | None:
    """start_once, telling more: None if the workflow already existed, else whether its
    first task was handed to this process's worker (an eager start).

    Eager: when this process runs a worker of the task queue with a free slot (the order
    service does), the server hands the first workflow task straight back to it instead of
    through matching."""
    try:
        handle = await client.start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            request_eager_start=True,
        )
    except WorkflowAlreadyStartedError:
        return None
    # The SDK marks the handle of an eager start (no public accessor); unknown means no.
    return bool(getattr(handle, "__temporal_eagerly_started", False))
