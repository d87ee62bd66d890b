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
    try:
        await client.start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
