"""Password hashing: argon2id through passlib (argon2-cffi backend), off the event loop.

Each hash takes tens of milliseconds and `memory_kib` of memory, so hashes run in
threads (argon2-cffi releases the GIL), at most `concurrency` at a time."""

from __future__ import annotations

import asyncio
import secrets

from passlib.hash import argon2


class PasswordHasher:
    def __init__(self, *, memory_kib: int, time_cost: int, concurrency: int) -> None:
        self.scheme = argon2.using(  # type: ignore[no-untyped-call]
            type="ID", memory_cost=memory_kib, time_cost=time_cost, parallelism=1
        )
        self.slots = asyncio.Semaphore(concurrency)
        # Verified against when the email is unknown, so that costs what a wrong password does.
        self.decoy = self.scheme.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self.slots:
            return await asyncio.to_thread(self.scheme.hash, password)

    async def verify(self, password: str, stored: str | None) -> bool:
        """False for a wrong password and for a missing hash (after the same work)."""
        async with self.slots:
            matches = await asyncio.to_thread(self.scheme.verify, password, stored or self.decoy)
        return bool(matches) and stored is not None

    def outdated(self, stored: str) -> bool:
        """Whether a stored hash uses weaker parameters than the configured ones."""
        return bool(self.scheme.needs_update(stored))
