"""The score cache: a value answered as it is for the first three quarters of its life; in
the last quarter answered while one background load replaces it; expired, loaded by the caller. The
clock is injected."""

from __future__ import annotations

import asyncio

import pytest

from services.router.ttl_cache import RefreshingCache


class Source:
    """Loads answer "v1", "v2", …; while `gate` is cleared they wait for it."""

    def __init__(self) -> None:
        self.loads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def load(self) -> str:
        self.loads += 1
        number = self.loads
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("redis is down")
        return f"v{number}"


async def test_a_busy_key_is_read_again_in_the_background_before_it_expires() -> None:
    now = [0.0]
    cache: RefreshingCache[str, str] = RefreshingCache(1.0, clock=lambda: now[0])
    source = Source()
    assert await cache.get("k", source.load) == "v1"
    now[0] = 0.7
    assert await cache.get("k", source.load) == "v1" and not cache.loading  # young: as it is

    now[0] = 0.8  # last quarter of its life: answered at once, one load however many callers
    source.gate.clear()
    assert [await cache.get("k", source.load) for _ in range(3)] == ["v1", "v1", "v1"]
    assert set(cache.loading) == {"k"}
    now[0] = 0.9
    source.gate.set()
    await cache.loading["k"]
    assert source.loads == 2 and not cache.loading
    now[0] = 1.5  # v2 counts from its read at 0.8: still young enough, no caller waited
    assert await cache.get("k", source.load) == "v2"

    now[0] = 5.0  # expired: the caller waits for its own load
    assert await cache.get("k", source.load) == "v3"


async def test_a_failed_background_load_lets_the_value_expire_and_the_next_caller_see_the_error() -> None:
    now = [0.0]
    cache: RefreshingCache[str, str] = RefreshingCache(1.0, clock=lambda: now[0])
    source = Source()
    await cache.get("k", source.load)
    source.fail = True
    now[0] = 0.8
    assert await cache.get("k", source.load) == "v1"
    await cache.loading["k"]
    assert await cache.get("k", source.load) == "v1"  # not expired yet
    now[0] = 1.0
    with pytest.raises(ConnectionError):
        await cache.get("k", source.load)


async def test_ttl_zero_keeps_nothing() -> None:
    cache: RefreshingCache[str, str] = RefreshingCache(0)
    source = Source()
    assert [await cache.get("k", source.load) for _ in range(2)] == ["v1", "v2"]
