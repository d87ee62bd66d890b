"""Verifies API keys for the edge, with a short cache so a hot key costs no database
round trip. Revoking a key purges it from this process's cache (`forget`), so it is
refused from the next request on; another replica's cache holds it `cache_seconds` at
most. Checking costs one HMAC, never a slow hash (keys.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.merchant import repository
from services.merchant.keys import key_matches, parse_key


@dataclass(frozen=True)
class Principal:
    merchant_id: str
    mode: str
    key_id: str


@dataclass(frozen=True)
class _Entry:
    principal: Principal | None
    key_hash: str
    expires: float


class ApiKeyAuthenticator:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, hmac_secret: str, cache_seconds: float) -> None:
        self.sessions = sessions
        self.hmac_secret = hmac_secret
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _Entry] = {}

    async def authenticate(self, secret: str) -> Principal | None:
        """The key's owner, or None for a malformed, unknown, wrong or revoked key."""
        parsed = parse_key(secret)
        if parsed is None:
            return None
        mode, lookup = parsed
        entry = self._cache.get(lookup)
        if entry is None or entry.expires < time.monotonic():
            entry = await self._load(lookup)
        if entry.principal is None or entry.principal.mode != mode:
            return None
        return entry.principal if key_matches(secret, entry.key_hash, hmac_secret=self.hmac_secret) else None

    def forget(self, lookup: str) -> None:
        self._cache.pop(lookup, None)

    async def _load(self, lookup: str) -> _Entry:
        async with self.sessions() as session:
            row = await repository.find_api_key(session=session, lookup=lookup)
        expires = time.monotonic() + self.cache_seconds
        if row is None or row.revoked_at is not None:
            entry = _Entry(None, "", expires)
        else:
            entry = _Entry(Principal(row.merchant_id, row.mode, row.id), row.key_hash, expires)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[lookup] = entry
        return entry
