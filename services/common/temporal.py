"""Temporal client plumbing shared by services and workers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

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
