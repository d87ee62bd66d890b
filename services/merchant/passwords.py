"""Passwords: their normal form, the list of common ones, and argon2id hashes (passlib on
argon2-cffi) computed off the event loop.

Each hash takes tens of milliseconds and `memory_kib` of memory, so hashes run in
threads (argon2-cffi releases the GIL), at most `concurrency` at a time."""

from __future__ import annotations

import asyncio
import functools
import secrets
import unicodedata
from importlib import resources

from passlib.hash import argon2


def normalise(password: str) -> str:
    """NFKC (NIST SP 800-63B): what is checked and hashed, so that one password typed
    on two keyboards or pasted from two places is one password."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def _common_passwords() -> frozenset[str]:
    # NCSC's top 100 000 from Have I Been Pwned, lower case, 8+ characters (see the README).
    text = resources.files("services.merchant").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def is_common(password: str) -> bool:
    """Whether a normalised password is on the shipped list, whatever its case."""
    return password.casefold() in _common_passwords()


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
            return await asyncio.to_thread(self.scheme.hash, normalise(password))

    async def verify_and_update(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches `stored` (False for a missing hash, after the same
        work as a wrong password), and when it does but `stored` has weaker parameters or
        holds the password as typed rather than normalised, the hash to store instead."""
        normal = normalise(password)
        # Hashes made before passwords were normalised hold the password as it was typed.
        # Both forms are tried whenever they differ, for unknown emails too, to cost alike.
        candidates = [normal] if normal == password else [normal, password]
        matched = None
        async with self.slots:
            for candidate in candidates:
                if await asyncio.to_thread(self.scheme.verify, candidate, stored or self.decoy):
                    matched = candidate
                    break
        if stored is None or matched is None:
            return False, None
        if matched != normal or self.outdated(stored):
            return True, await self.hash(password)
        return True, None

    def outdated(self, stored: str) -> bool:
        """Whether a stored hash uses weaker parameters than the configured ones."""
        return bool(self.scheme.needs_update(stored))
