"""Throttles on login and registration, in Redis (shared by every replica).

- Login attempts count per client address (`login_ip`) and per email; a successful
  one is given back, so only failures use up a budget and successes never slow anyone.
- `lockout_threshold` failed logins for one email lock it for `lockout_seconds`
  (PCI DSS 8.3.4). Emails are counted whether an account exists or not, so the
  answers cannot tell an attacker which emails are registered.
- Registration attempts count per client address and per email.

Counters are fixed windows: INCR, with the expiry set by the first hit. Emails appear
in keys only as a hash. When Redis cannot be reached the guard fails closed (503)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.common.errors import ResourceExhausted, Unavailable

log = logging.getLogger("payloops.merchant.throttle")
T = TypeVar("T")

# INCR, setting the window's expiry on its first hit (and repairing a key left without one).
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
_GIVE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Limit:
    max: int
    window_seconds: int


@dataclass(frozen=True)
class Policy:
    login_ip: Limit
    register_ip: Limit
    register_email: Limit
    lockout_threshold: int
    lockout_seconds: int


def email_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


class Counters:
    """Windowed counters under `prefix`; every Redis failure becomes Unavailable."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._hit: Any = redis.register_script(_HIT)
        self._give_back: Any = redis.register_script(_GIVE_BACK)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """The count after this hit and the seconds left in its window."""
        count, ttl = await self._guarded(lambda: self._hit(keys=[key], args=[window_seconds]))
        return int(count), int(ttl)

    async def read(self, key: str) -> tuple[int, int]:
        """The count and the seconds left (0, 0 when there is none)."""

        async def get() -> tuple[int, int]:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.ttl(key)
                value, ttl = await pipe.execute()
            return int(value or 0), max(int(ttl), 0)

        return await self._guarded(get)

    async def give_back(self, key: str) -> None:
        """Undo one hit (never below zero)."""
        await self._guarded(lambda: self._give_back(keys=[key]))

    async def seconds_left(self, key: str) -> int:
        ttl = await self._guarded(lambda: self.redis.ttl(key))
        return max(int(ttl), 0)

    async def set_for(self, key: str, seconds: int) -> None:
        await self._guarded(lambda: self.redis.set(key, datetime.now(UTC).isoformat(), ex=seconds, nx=True))

    async def delete(self, *keys: str) -> None:
        await self._guarded(lambda: self.redis.delete(*keys))

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except RedisError as error:
            log.error("throttle store unavailable", extra={"error": type(error).__name__})
            raise Unavailable(
                message="sign-in is temporarily unavailable; retry shortly", reason="THROTTLE_UNAVAILABLE"
            ) from None


def rate_limited(retry_after: int) -> ResourceExhausted:
    return ResourceExhausted(
        message=f"too many attempts; retry in {retry_after} seconds",
        reason="RATE_LIMITED",
        retry_after_seconds=max(retry_after, 1),
    )


def account_locked(retry_after: int, threshold: int) -> ResourceExhausted:
    until = (datetime.now(UTC) + timedelta(seconds=retry_after)).replace(microsecond=0)
    return ResourceExhausted(
        message=(
            f"this account is locked after {threshold} failed logins; "
            f"it unlocks at {until.isoformat().replace('+00:00', 'Z')}"
        ),
        reason="ACCOUNT_LOCKED",
        metadata={"unlock_time": until.isoformat().replace("+00:00", "Z")},
        retry_after_seconds=max(retry_after, 1),
    )


class AuthGuard:
    """Attempts are counted before the password is checked, so concurrent requests cannot
    run more than the allowed number of guesses; a successful login gives its slot back."""

    def __init__(self, counters: Counters, policy: Policy) -> None:
        self.counters = counters
        self.policy = policy

    def _keys(self, *, ip: str, email: str) -> tuple[str, str, str]:
        digest = email_digest(email)
        key = self.counters.key
        return key("login", "ip", ip), key("login", "email", digest), key("locked", digest)

    async def before_login(self, *, ip: str, email: str) -> None:
        """Count the attempt; raise ResourceExhausted while the email is locked or the
        address has used up its attempts."""
        ip_key, email_key, lock_key = self._keys(ip=ip, email=email)
        locked_for = await self.counters.seconds_left(lock_key)
        if locked_for > 0:
            raise account_locked(locked_for, self.policy.lockout_threshold)
        attempts, retry_after = await self.counters.hit(ip_key, self.policy.login_ip.window_seconds)
        if attempts > self.policy.login_ip.max:
            raise rate_limited(retry_after)
        attempts, _ = await self.counters.hit(email_key, self.policy.lockout_seconds)
        if attempts > self.policy.lockout_threshold:  # concurrent guesses past the threshold
            raise await self._lock(email_key, lock_key)

    async def login_failed(self, *, ip: str, email: str) -> None:
        """After a wrong password: raise ACCOUNT_LOCKED when this failure locks the email."""
        _, email_key, lock_key = self._keys(ip=ip, email=email)
        failures, _ = await self.counters.read(email_key)
        if failures >= self.policy.lockout_threshold:
            raise await self._lock(email_key, lock_key)

    async def login_succeeded(self, *, ip: str, email: str) -> None:
        ip_key, email_key, _ = self._keys(ip=ip, email=email)
        await self.counters.delete(email_key)
        await self.counters.give_back(ip_key)

    async def _lock(self, email_key: str, lock_key: str) -> ResourceExhausted:
        await self.counters.set_for(lock_key, self.policy.lockout_seconds)
        await self.counters.delete(email_key)
        log.warning("login locked after failed attempts", extra={"lock": lock_key.rpartition(":")[2]})
        return account_locked(await self.counters.seconds_left(lock_key), self.policy.lockout_threshold)

    async def before_register(self, *, ip: str, email: str) -> None:
        """Count a registration attempt; raise ResourceExhausted over either limit."""
        key = self.counters.key
        for counter, limit in (
            (key("register", "ip", ip), self.policy.register_ip),
            (key("register", "email", email_digest(email)), self.policy.register_email),
        ):
            attempts, retry_after = await self.counters.hit(counter, limit.window_seconds)
            if attempts > limit.max:
                raise rate_limited(retry_after)
