"""Outbound webhooks, signed like Razorpay's.

Register a target per account with ``POST /_sandbox/webhooks``
``{"account": "rzp_test_...", "url": "http://...", "secret": "...", "events": [...]?}``.
Each event is POSTed as Razorpay's payload::

    {"entity": "event", "account_id": "acc_...", "event": "payment.captured",
     "contains": ["payment"], "payload": {"payment": {"entity": {...}}}, "created_at": 1700000000}

with ``X-Razorpay-Signature`` = hex HMAC-SHA256 of the exact raw body keyed with the target's
secret (what ``razorpay.Utility().verify_webhook_signature(body, signature, secret)`` checks)
and ``X-Razorpay-Event-Id`` (unique per event, the same on every retry). Deliveries run in
background tasks with a short timeout and never delay the API answer; a failure (network
error or non-2xx) is logged and retried with exponential backoff a few times.

Events: payment.authorized, payment.captured, payment.failed, order.paid, refund.created,
refund.processed, refund.failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import string
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .store import Account, now

log = logging.getLogger(__name__)

_ALNUM = string.ascii_letters + string.digits


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    secret: str
    events: frozenset[str] | None  # None: every event

    def wants(self, event: str) -> bool:
        return self.events is None or event in self.events

    def to_json(self) -> dict[str, Any]:
        # never echo the secret
        return {"url": self.url, "events": sorted(self.events) if self.events is not None else None}


@dataclass(slots=True)
class Delivery:
    url: str
    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "attempts": self.attempts,
            "delivered": self.delivered,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


@dataclass(slots=True)
class EventRecord:
    id: str
    account: str
    event: str
    created_at: int
    body: bytes
    deliveries: list[Delivery] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "event": self.event,
            "created_at": self.created_at,
            "body": json.loads(self.body),
            "deliveries": [d.to_json() for d in self.deliveries],
        }


class WebhookHub:
    """Webhook targets, the log of emitted events (bounded per account) and their delivery."""

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        max_events_per_account: int = 10_000,
    ) -> None:
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_events = max_events_per_account
        self._targets: dict[str, dict[str, Target]] = {}
        self._events: dict[str, deque[EventRecord]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    # -- registration

    def register(self, account: str, url: str, secret: str, events: frozenset[str] | None) -> Target:
        target = Target(url, secret, events)
        self._targets.setdefault(account, {})[url] = target
        return target

    def unregister(self, account: str, url: str | None = None) -> int:
        targets = self._targets.get(account, {})
        if url is None:
            self._targets.pop(account, None)
            return len(targets)
        return 1 if targets.pop(url, None) is not None else 0

    def targets(self, account: str) -> list[Target]:
        return list(self._targets.get(account, {}).values())

    # -- events

    def publish(self, account: Account, event: str, entities: dict[str, dict[str, Any]]) -> None:
        """Record an event and start its deliveries (an ``EventSink`` for the store)."""
        created_at = now()
        payload = {
            "entity": "event",
            "account_id": account.account_id,
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": created_at,
        }
        record = EventRecord(
            id="".join(random.choices(_ALNUM, k=14)),
            account=account.key_id,
            event=event,
            created_at=created_at,
            body=json.dumps(payload, separators=(",", ":")).encode(),
        )
        log_ = self._events.get(account.key_id)
        if log_ is None:
            log_ = self._events[account.key_id] = deque(maxlen=self._max_events)
        log_.append(record)
        for target in self._targets.get(account.key_id, {}).values():
            if target.wants(event):
                delivery = Delivery(target.url)
                record.deliveries.append(delivery)
                task = asyncio.get_running_loop().create_task(self._deliver(record, target, delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def events(self, account: str | None, event: str | None = None) -> list[EventRecord]:
        logs = [self._events.get(account, deque())] if account is not None else list(self._events.values())
        records = [r for log_ in logs for r in log_ if event is None or r.event == event]
        records.sort(key=lambda r: r.created_at)
        return records

    def reset(self) -> None:
        self._targets.clear()
        self._events.clear()

    # -- delivery

    async def start(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _deliver(self, record: EventRecord, target: Target, delivery: Delivery) -> None:
        await self.start()
        assert self._http is not None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Razorpay-Webhook/v1",
            "X-Razorpay-Signature": sign(record.body, target.secret),
            "X-Razorpay-Event-Id": record.id,
        }
        pause = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            delivery.attempts = attempt
            try:
                async with self._http.post(target.url, data=record.body, headers=headers) as response:
                    delivery.last_status = response.status
                    if 200 <= response.status < 300:
                        delivery.delivered = True
                        delivery.last_error = None
                        return
                    delivery.last_error = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                delivery.last_error = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                log.warning(
                    "webhook %s %s to %s failed (%s), retry %d in %.1fs",
                    record.event,
                    record.id,
                    target.url,
                    delivery.last_error,
                    attempt,
                    pause,
                )
                await asyncio.sleep(pause)
                pause *= 2
        log.warning(
            "webhook %s %s to %s failed after %d attempts: %s",
            record.event,
            record.id,
            target.url,
            self.attempts,
            delivery.last_error,
        )
