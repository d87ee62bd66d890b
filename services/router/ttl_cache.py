"""Bounded in-process caches whose entries expire: the least recently used goes first."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """`ttl_seconds` 0 keeps nothing."""

    def __init__(
        self, ttl_seconds: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self.entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        self.entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        self.entries[key] = (self.clock() + self.ttl, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


REFRESH_AT = 0.75  # of a value's life: a busy key is read again about every ttl * REFRESH_AT


class RefreshingCache(Generic[K, V]):
    """A value is answered for `ttl_seconds` after its load. In the last quarter of that,
    the first caller also starts one background load to replace it, so a busy key's callers
    never wait for a load (the one that came at expiry would, every time: the key's
    slowest call) and a value is never older than `ttl_seconds`. Expired, or never loaded:
    the caller loads it. `ttl_seconds` 0 keeps nothing. A failed background load is
    dropped: the value expires and the next caller loads it, and sees the error."""

    def __init__(
        self, ttl_seconds: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.loaded: TtlCache[K, tuple[float, V]] = TtlCache(ttl_seconds, max_entries, clock)
        self.ttl = ttl_seconds
        self.clock = clock
        self.loading: dict[K, asyncio.Task[None]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self.loaded.get(key)
        age = self.clock() - entry[0] if entry is not None else self.ttl
        if entry is None or age >= self.ttl:
            return await self.load(key, load)
        value = entry[1]
        if age >= self.ttl * REFRESH_AT and key not in self.loading:
            self.loading[key] = asyncio.create_task(self.reload(key, load))
        return value

    async def load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        loaded_at = self.clock()  # the value's age counts from before the read
        value = await load()
        self.loaded.put(key, (loaded_at, value))
        return value

    async def reload(self, key: K, load: Callable[[], Awaitable[V]]) -> None:
        try:
            await self.load(key, load)
        except Exception:  # noqa: BLE001 - the value expires; the next caller loads and sees it
            pass
        finally:
            del self.loading[key]
