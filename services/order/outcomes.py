"""In-process news of payment outcomes. The payment worker's bookkeeping says, once the
outcome of an attempt is committed, that it is; a request of the same process waiting for
that attempt then reads the order at once, instead of long-polling Temporal for the
workflow's result. Only a hint: the order row is the truth, and a request whose payment
runs in another process waits for the workflow's result instead."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class PaymentOutcomes:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Event]] = {}

    @contextmanager
    def watch(self, workflow_id: str) -> Iterator[asyncio.Event]:
        """An event set when the workflow's outcome is committed, while in the block."""
        event = asyncio.Event()
        self._waiting.setdefault(workflow_id, []).append(event)
        try:
            yield event
        finally:
            events = self._waiting.get(workflow_id, [])
            if event in events:
                events.remove(event)
            if not events:
                self._waiting.pop(workflow_id, None)

    def committed(self, workflow_id: str) -> None:
        for event in self._waiting.get(workflow_id, []):
            event.set()
