"""The success-rate windows in a real Redis: each outcome in its three windows once per
attempt, windows bounded, reads over the last outcomes, the merchant's stats, and Redis
unreachable reported as such."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from launcher.platform import Platform
from services.router.domain import MAX_WINDOW, Level, Window
from services.router.scores import Dimension, ScoreStore, ScoresUnavailable

pytestmark = pytest.mark.asyncio(loop_scope="session")

CARD_INR = Dimension("test", "mer_a", "card", "INR")


@pytest_asyncio.fixture(loop_scope="session")
async def store(platform: Platform, redis_namespace: tuple[str | None, str]) -> AsyncIterator[ScoreStore]:
    redis = Redis.from_url(platform.redis_url)
    yield ScoreStore(redis, f"{redis_namespace[1]}scores-{secrets.token_hex(4)}:", ttl_seconds=60)
    await redis.aclose()


def counts(windows: Sequence[Window]) -> list[tuple[int, int]]:
    return [(w.successes, w.samples) for w in windows]


async def record(store: ScoreStore, outcomes: str, dimension: Dimension = CARD_INR, processor: str = "stripe") -> None:
    for outcome in outcomes:
        await store.record(secrets.token_hex(8), dimension, processor, outcome == "1")


async def test_an_outcome_lands_in_its_three_windows_once_per_attempt(store: ScoreStore) -> None:
    assert await store.record("att_1", CARD_INR, "stripe", True)
    assert not await store.record("att_1", CARD_INR, "stripe", True)  # a retry of the same attempt
    assert await store.record("att_2", CARD_INR, "stripe", False)
    scores = await store.read(CARD_INR, ["stripe", "razorpay"], window_size=200)
    assert counts(scores["stripe"]) == [(1, 2)] * 3
    assert counts(scores["razorpay"]) == [(0, 0)] * 3


async def test_coarser_windows_gather_other_types_and_other_merchants(store: ScoreStore) -> None:
    await record(store, "11", Dimension("test", "mer_a", "upi", "INR"))
    await record(store, "000", Dimension("test", "mer_b", "card", "INR"))
    await record(store, "1", CARD_INR)
    finest, per_currency, platform_wide = counts((await store.read(CARD_INR, ["stripe"], 200))["stripe"])
    assert finest == (1, 1)
    assert per_currency == (3, 3)  # mer_a's card and upi payments in INR
    assert platform_wide == (1, 4)  # every merchant's card payments in INR
    live = (await store.read(Dimension("live", "mer_a", "card", "INR"), ["stripe"], 200))["stripe"]
    assert counts(live) == [(0, 0)] * 3  # test outcomes never score live payments


async def test_a_read_covers_the_last_outcomes_and_a_window_stays_bounded(store: ScoreStore) -> None:
    await record(store, "0" * 10 + "1" * (MAX_WINDOW - 5))
    [finest, *_] = counts((await store.read(CARD_INR, ["stripe"], window_size=100))["stripe"])
    assert finest == (100, 100)  # the newest hundred are all successes
    [finest, *_] = counts((await store.read(CARD_INR, ["stripe"], window_size=MAX_WINDOW))["stripe"])
    assert finest == (MAX_WINDOW - 5, MAX_WINDOW)  # the five oldest failures fell out


async def test_a_window_knows_its_newest_run_and_when_it_last_failed(store: ScoreStore) -> None:
    [finest, *_] = (await store.read(CARD_INR, ["stripe"], 200))["stripe"]
    assert (finest.failure_streak, finest.success_streak, finest.since_failure) == (0, 0, None)
    await record(store, "1000")  # oldest first: a success, then three failures
    [finest, *_] = (await store.read(CARD_INR, ["stripe"], 200))["stripe"]
    assert (finest.failure_streak, finest.success_streak) == (3, 0)
    assert finest.since_failure is not None and 0 <= finest.since_failure < 5
    await record(store, "11")
    [finest, *_] = (await store.read(CARD_INR, ["stripe"], 200))["stripe"]
    assert (finest.failure_streak, finest.success_streak) == (0, 2)


async def test_stats_list_the_merchants_own_windows(store: ScoreStore) -> None:
    await record(store, "110", CARD_INR, "razorpay")
    await record(store, "1", Dimension("test", "mer_other", "card", "INR"), "stripe")
    stats = {
        (s.processor, s.payment_method_type, s.currency): (s.window.successes, s.window.samples)
        for s in await store.stats("test", "mer_a", 200)
    }
    assert stats == {("razorpay", "card", "INR"): (2, 3), ("razorpay", "*", "INR"): (2, 3)}
    assert await store.stats("live", "mer_a", 200) == []


async def test_windows_expire_when_nothing_new_arrives(store: ScoreStore) -> None:
    await record(store, "1")
    ttls = [await store.redis.ttl(store.window_key(CARD_INR, "stripe", level)) for level in Level]
    assert all(0 < ttl <= 60 for ttl in ttls)


async def test_redis_unreachable_is_reported_not_raised_raw() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    redis = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    down = ScoreStore(redis, "unused:", ttl_seconds=60)
    with pytest.raises(ScoresUnavailable):
        await down.read(CARD_INR, ["stripe"], 200)
    with pytest.raises(ScoresUnavailable):
        await down.record("att", CARD_INR, "stripe", True)
    with pytest.raises(ScoresUnavailable):
        await down.stats("test", "mer_a", 200)
    await redis.aclose()
