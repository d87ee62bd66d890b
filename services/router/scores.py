"""Success-rate windows in Redis, shared by every router replica.

A window is a list of the last MAX_WINDOW outcomes ("1" success, "0" failure), newest
first, one per mode × merchant × processor × payment-method type × currency, plus the
coarser ones the domain falls back to (success_rate.LEVELS): the merchant's in the
currency (type "*") and every merchant's (merchant "*"). An outcome is added to its three
windows in one script run, once per attempt id; a window left without outcomes for
`ttl_seconds` expires, so routing forgets a quiet processor's old failures.

Reads take the last `window_size` entries of each window in one pipelined round trip.
Every Redis failure surfaces as ScoresUnavailable: the caller routes statically instead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.router.domain import LEVELS, MAX_WINDOW, Level, Scores, Window

ANY = "*"
SUCCESS, FAILURE = b"1", b"0"

# KEYS[1]: the attempt's marker; KEYS[2]: the set of the merchant's windows (for stats);
# KEYS[3..]: the outcome's windows, the merchant's first (ARGV[5] of them). ARGV: outcome,
# max length, marker ttl, window ttl, merchant windows. A failure's time (Redis's clock,
# as reads measure against it) is kept beside each window as <window>:failed. Returns 1
# when added, 0 when recorded before.
_RECORD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  return 0
end
local clock = redis.call('TIME')
local now = string.format('%d.%06d', clock[1], clock[2])
for i = 3, #KEYS do
  redis.call('LPUSH', KEYS[i], ARGV[1])
  redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[2]) - 1)
  redis.call('EXPIRE', KEYS[i], ARGV[4])
  if ARGV[1] == '0' then
    redis.call('SET', KEYS[i] .. ':failed', now, 'EX', ARGV[4])
  end
  if i - 2 <= tonumber(ARGV[5]) then
    redis.call('SADD', KEYS[2], KEYS[i])
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""
# KEYS: windows; ARGV[1]: how many of the newest outcomes make a window. Per window:
# successes, outcomes, the newest run of failures, of successes, and the seconds since its
# newest failure (-1: none), counted here so a decision reads a few numbers per window.
_READ = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local windows = {}
for i, key in ipairs(KEYS) do
  local entries = redis.call('LRANGE', key, 0, tonumber(ARGV[1]) - 1)
  local successes, run = 0, 0
  for _, entry in ipairs(entries) do
    if entry == '1' then successes = successes + 1 end
  end
  for _, entry in ipairs(entries) do
    if entry ~= entries[1] then break end
    run = run + 1
  end
  local failures_in_a_row, successes_in_a_row = 0, 0
  if entries[1] == '0' then failures_in_a_row = run elseif entries[1] == '1' then successes_in_a_row = run end
  local failed = redis.call('GET', key .. ':failed')
  local since = '-1'
  if failed then since = tostring(math.max(0, now - tonumber(failed))) end
  windows[i] = {successes, #entries, failures_in_a_row, successes_in_a_row, since}
end
return windows
"""
# The levels whose windows are the merchant's own (listed by stats).
MERCHANT_LEVELS = (Level.MERCHANT_METHOD_CURRENCY, Level.MERCHANT_CURRENCY)


class ScoresUnavailable(Exception):
    """Redis could not be read or written."""


@dataclass(frozen=True)
class Dimension:
    """Whose payments, of what kind: the finest window an outcome belongs to."""

    mode: str
    merchant_id: str
    payment_method_type: str
    currency: str


@dataclass(frozen=True)
class Stat:
    processor: str
    payment_method_type: str  # ANY: every type
    currency: str
    window: Window


class ScoreStore:
    def __init__(self, redis: Redis, prefix: str, *, ttl_seconds: int, attempt_ttl_seconds: int = 7 * 86_400) -> None:
        self.redis = redis
        self.prefix = f"{prefix}router:"
        self.ttl = ttl_seconds
        self.attempt_ttl = attempt_ttl_seconds
        self.record_script = redis.register_script(_RECORD)
        self.read_script = redis.register_script(_READ)

    def window_key(self, dimension: Dimension, processor: str, level: Level) -> str:
        merchant, method = dimension.merchant_id, dimension.payment_method_type or ANY
        if level is Level.MERCHANT_CURRENCY:
            method = ANY
        elif level is Level.PLATFORM_METHOD_CURRENCY:
            merchant = ANY
        return f"{self.prefix}sr:{dimension.mode}:{merchant}:{processor}:{method}:{dimension.currency}"

    async def read(self, dimension: Dimension, processors: Iterable[str], window_size: int) -> Scores:
        """Each processor's windows in LEVELS order, over the last `window_size` outcomes."""
        names = list(processors)
        keys = [self.window_key(dimension, processor, level) for processor in names for level in LEVELS]
        windows = await self.windows(keys, window_size)
        return {p: windows[n * len(LEVELS) : (n + 1) * len(LEVELS)] for n, p in enumerate(names)}

    async def windows(self, keys: Sequence[str], window_size: int) -> list[Window]:
        """The windows under `keys`, over their last `window_size` outcomes, in one round trip."""
        if not keys:
            return []
        try:
            counted: list[list[Any]] = await self.read_script(keys=list(keys), args=[window_size])
        except RedisError as error:
            raise ScoresUnavailable(str(error)) from error
        return [
            Window(successes, samples, failures, successes_in_a_row, None if float(since) < 0 else float(since))
            for successes, samples, failures, successes_in_a_row, since in counted
        ]

    async def record(self, attempt_id: str, dimension: Dimension, processor: str, succeeded: bool) -> bool:
        """Adds the attempt's outcome to its windows; False if it was added before."""
        keys = [f"{self.prefix}attempt:{attempt_id}", self.merchant_windows(dimension.mode, dimension.merchant_id)]
        keys += [self.window_key(dimension, processor, level) for level in MERCHANT_LEVELS]
        keys += [self.window_key(dimension, processor, level) for level in LEVELS if level not in MERCHANT_LEVELS]
        outcome = SUCCESS if succeeded else FAILURE
        args: list[bytes | int] = [outcome, MAX_WINDOW, self.attempt_ttl, self.ttl, len(MERCHANT_LEVELS)]
        try:
            added = await self.record_script(keys=keys, args=args)
        except RedisError as error:
            raise ScoresUnavailable(str(error)) from error
        return bool(added)

    def merchant_windows(self, mode: str, merchant_id: str) -> str:
        return f"{self.prefix}windows:{mode}:{merchant_id}"

    async def stats(self, mode: str, merchant_id: str, window_size: int) -> list[Stat]:
        """The merchant's windows that hold outcomes (per type and currency, and per
        currency), each over its last `window_size` outcomes."""
        try:
            members = await self.redis.smembers(self.merchant_windows(mode, merchant_id))
        except RedisError as error:
            raise ScoresUnavailable(str(error)) from error
        keys = sorted(key.decode() if isinstance(key, bytes) else key for key in members)
        stats = []
        for key, found in zip(keys, await self.windows(keys, window_size), strict=True):
            processor, method, currency = key.rsplit(":", 3)[1:]
            if found.samples:  # an expired window stays listed until the set itself expires
                stats.append(Stat(processor, method, currency, found))
        return stats
