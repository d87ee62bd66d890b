"""In-process news of payment outcomes. The payment worker's bookkeeping says, once the
outcome of an attempt is committed, that it is, with the order as committed when it has
it; a request of the same process waiting for that attempt answers with that order (or
reads it) at once, instead of long-polling Temporal for the workflow's result. Only a
hint: the order row is the truth, and a request whose payment runs in another process
waits for the workflow's result instead."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from services.order.domain import Order


class PaymentOutcomes:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[Order | None]]] = {}

    @contextmanager
    def watch(self, workflow_id: str) -> Iterator[asyncio.Future[Order | None]]:
        """Done when the workflow's outcome is committed (while in the block): the order as
        committed, or None when the bookkeeping could not tell it without reading it."""
        outcome: asyncio.Future[Order | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(workflow_id, []).append(outcome)
        try:
            yield outcome
        finally:
            waiting = self._waiting.get(workflow_id, [])
            if outcome in waiting:
                waiting.remove(outcome)
            if not waiting:
                self._waiting.pop(workflow_id, None)

    def committed(self, workflow_id: str, order: Order | None) -> None:
        for outcome in self._waiting.get(workflow_id, []):
            if not outcome.done():
                outcome.set_result(order)
