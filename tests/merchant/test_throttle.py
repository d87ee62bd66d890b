"""Login and registration throttles against a real Redis (the platform's, under this
session's key prefix)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from launcher.platform import Platform
from services.common.errors import ResourceExhausted, Unavailable
from services.merchant.throttle import AuthGuard, Counters, Limit, Policy, email_digest

POLICY = Policy(
    login_ip=Limit(5, 60),
    register_ip=Limit(3, 60),
    register_email=Limit(2, 60),
    lockout_threshold=3,
    lockout_seconds=1800,
)


@pytest.fixture()
async def guard(platform: Platform, redis_namespace: tuple[str | None, str]) -> AsyncIterator[AuthGuard]:
    redis = Redis.from_url(platform.redis_url)
    yield AuthGuard(Counters(redis, f"{redis_namespace[1]}unit-{secrets.token_hex(4)}:"), POLICY)
    await redis.aclose()


async def refusal(call: object) -> ResourceExhausted:
    with pytest.raises(ResourceExhausted) as refused:
        await call  # type: ignore[misc]
    return refused.value


async def fail(guard: AuthGuard, ip: str, email: str) -> None:
    """One wrong password, as Accounts.login does it."""
    await guard.before_login(ip=ip, email=email)
    await guard.login_failed(ip=ip, email=email)


async def succeed(guard: AuthGuard, ip: str, email: str) -> None:
    await guard.before_login(ip=ip, email=email)
    await guard.login_succeeded(ip=ip, email=email)


async def test_failed_logins_lock_the_email_whether_or_not_it_exists(guard: AuthGuard) -> None:
    await fail(guard, "10.0.0.1", "a@x.io")
    await fail(guard, "10.0.0.2", "a@x.io")
    locking = await refusal(fail(guard, "10.0.0.3", "a@x.io"))  # the third locks, from any address
    assert locking.reason == "ACCOUNT_LOCKED"
    locked = await refusal(guard.before_login(ip="10.0.0.9", email="a@x.io"))
    assert locked.reason == "ACCOUNT_LOCKED" and 1790 <= locked.retry_after_seconds <= 1800
    assert "locked after 3 failed logins" in locked.message and locked.metadata["unlock_time"].endswith("Z")
    await guard.before_login(ip="10.0.0.9", email="b@x.io")  # others are not


async def test_a_success_forgives_earlier_failures(guard: AuthGuard) -> None:
    for _ in range(2):
        await fail(guard, "10.0.1.1", "c@x.io")
    await succeed(guard, "10.0.1.1", "c@x.io")
    for _ in range(2):
        await fail(guard, "10.0.1.1", "c@x.io")


async def test_concurrent_guesses_cannot_pass_the_threshold(guard: AuthGuard) -> None:
    for n in range(POLICY.lockout_threshold):  # in flight at once: none has failed yet
        await guard.before_login(ip=f"10.0.5.{n}", email="g@x.io")
    assert (await refusal(guard.before_login(ip="10.0.5.99", email="g@x.io"))).reason == "ACCOUNT_LOCKED"


async def test_failures_from_one_address_throttle_it_alone(guard: AuthGuard) -> None:
    for n in range(POLICY.login_ip.max):
        await fail(guard, "10.0.2.1", f"{n}@x.io")
    throttled = await refusal(guard.before_login(ip="10.0.2.1", email="fresh@x.io"))
    assert throttled.reason == "RATE_LIMITED" and 0 < throttled.retry_after_seconds <= 60
    await guard.before_login(ip="10.0.2.2", email="fresh@x.io")


async def test_successful_logins_use_up_no_budget(guard: AuthGuard) -> None:
    for n in range(POLICY.login_ip.max * 3):
        await succeed(guard, "10.0.6.1", f"ok{n % 2}@x.io")
    await fail(guard, "10.0.6.1", "z@x.io")


async def test_registrations_count_per_address_and_per_email(guard: AuthGuard) -> None:
    await guard.before_register(ip="10.0.3.1", email="d@x.io")
    await guard.before_register(ip="10.0.3.2", email="d@x.io")
    assert (await refusal(guard.before_register(ip="10.0.3.3", email="d@x.io"))).reason == "RATE_LIMITED"
    for n in range(POLICY.register_ip.max):
        await guard.before_register(ip="10.0.3.4", email=f"e{n}@x.io")
    assert (await refusal(guard.before_register(ip="10.0.3.4", email="e9@x.io"))).reason == "RATE_LIMITED"


async def test_keys_hold_no_email_and_an_unreachable_store_fails_closed(guard: AuthGuard) -> None:
    await fail(guard, "10.0.4.1", "secret.person@x.io")
    keys = [key.decode() async for key in guard.counters.redis.scan_iter(match=guard.counters.prefix + "*")]
    assert keys and not any("secret.person" in key for key in keys)
    assert any(email_digest("secret.person@x.io") in key for key in keys)
    down = AuthGuard(Counters(Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), "x:"), POLICY)
    with pytest.raises(Unavailable) as raised:
        await down.before_login(ip="10.0.4.1", email="f@x.io")
    assert raised.value.reason == "THROTTLE_UNAVAILABLE"
    await down.counters.redis.aclose()
