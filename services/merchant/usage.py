"""API keys' lastUsedAt without a database write per request: uses are noted in
memory and written in one statement every few seconds (and at shutdown).

Each replica flushes its own uses; the stored value only ever moves forward."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.merchant import repository

log = logging.getLogger("payloops.merchant.usage")


class KeyUsage:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, flush_seconds: float) -> None:
        self.sessions = sessions
        self.flush_seconds = flush_seconds
        self.pending: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def note(self, key_id: str) -> None:
        self.pending[key_id] = datetime.now(UTC)

    def last_used(self, key_id: str, stored: datetime | None) -> datetime | None:
        """The freshest known use: noted here but not flushed yet, or stored."""
        noted = self.pending.get(key_id)
        if noted is None or (stored is not None and stored >= noted):
            return stored
        return noted

    async def flush(self) -> int:
        batch, self.pending = self.pending, {}
        if not batch:
            return 0
        try:
            async with self.sessions.begin() as session:
                await repository.record_api_key_use(session=session, used=batch)
        except Exception:
            # Keep them for the next round (newer uses of the same key win).
            self.pending = {**batch, **self.pending}
            raise
        return len(batch)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("writing API key usage failed")
