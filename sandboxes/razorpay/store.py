"""In-memory state: one namespace per API key id, plain dicts, constant time per request.

Concurrency: every money-moving operation in ``ledger`` checks and writes state in a single
synchronous step (no ``await`` between the check and the write), so on the one event loop it
is atomic: two concurrent payments on one order, or refunds on one payment, cannot both pass
their check. The only waits (artificial delay, injected faults) happen before the check. The
refund idempotency keys are claimed *before* that wait, which is what makes a concurrent
request with the same key observable (409).
"""

from __future__ import annotations

import hashlib
import random
import string
import time
from collections.abc import Container
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import bad_request, not_found
from .models import Order, Payment, Refund

_ALNUM = string.ascii_letters + string.digits
ID_LENGTH = 14


def now() -> int:
    return int(time.time())


def random_id(prefix: str, taken: Container[str]) -> str:
    """``<prefix>_`` + 14 random alphanumerics, like Razorpay's ids (retried on a collision)."""
    while True:
        candidate = f"{prefix}_{''.join(random.choices(_ALNUM, k=ID_LENGTH))}"
        if candidate not in taken:
            return candidate


class EventSink(Protocol):
    def __call__(self, account: Account, event: str, entities: dict[str, dict[str, Any]]) -> None: ...


class StatusTally:
    """Counts of entities by status, kept up to date on every transition (O(1) stats)."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.total = 0

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.total += 1

    def move(self, old: str, new: str) -> None:
        if old != new:
            self.counts[old] -= 1
            self.counts[new] = self.counts.get(new, 0) + 1

    def merge(self, other: StatusTally) -> None:
        self.total += other.total
        for status, count in other.counts.items():
            self.counts[status] = self.counts.get(status, 0) + count

    def as_json(self) -> dict[str, int]:
        return {"total": self.total, **{k: v for k, v in sorted(self.counts.items()) if v}}


@dataclass(slots=True)
class IdempotencyEntry:
    fingerprint: str
    refund_id: str | None = None  # None while the first request with this key is in flight


class Account:
    """Everything one ``rzp_test_...`` key id can see."""

    def __init__(self, key_id: str, store: Store) -> None:
        self.key_id = key_id
        # Razorpay's merchant account id as it appears in webhook payloads
        self.account_id = "acc_" + hashlib.sha256(key_id.encode()).hexdigest()[:ID_LENGTH]
        self._store = store
        self.orders: dict[str, Order] = {}
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[str, Refund] = {}
        self.refund_keys: dict[str, IdempotencyEntry] = {}
        self.order_tally = StatusTally()
        self.payment_tally = StatusTally()
        self.refund_tally = StatusTally()
        self.amount_captured = 0
        self.amount_refunded = 0

    # -- lookups (404 for ids of other accounts, exactly like unknown ids)

    def order(self, order_id: str, field: str = "id") -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found(field)
        return order

    def payment(self, payment_id: str) -> Payment:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise not_found()
        return payment

    def refund(self, refund_id: str) -> Refund:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise not_found()
        return refund

    # -- writes

    def new_order_id(self) -> str:
        return random_id("order", self.orders)

    def new_payment_id(self) -> str:
        return random_id("pay", self._store.payment_owner)

    def new_refund_id(self) -> str:
        return random_id("rfnd", self._store.refund_owner)

    def add_order(self, order: Order) -> None:
        self.orders[order.id] = order
        self.order_tally.add(order.status)

    def add_payment(self, payment: Payment) -> None:
        self.payments[payment.id] = payment
        self._store.payment_owner[payment.id] = self
        self.payment_tally.add(payment.status)

    def add_refund(self, refund: Refund) -> None:
        self.refunds[refund.id] = refund
        self._store.refund_owner[refund.id] = self
        self.refund_tally.add(refund.status)

    def set_order_status(self, order: Order, status: str) -> None:
        self.order_tally.move(order.status, status)
        order.status = status

    def set_payment_status(self, payment: Payment, status: str) -> None:
        self.payment_tally.move(payment.status, status)
        payment.status = status

    def set_refund_status(self, refund: Refund, status: str) -> None:
        self.refund_tally.move(refund.status, status)
        refund.status = status

    def emit(self, event: str, entities: dict[str, dict[str, Any]]) -> None:
        sink = self._store.sink
        if sink is not None:
            sink(self, event, entities)

    # -- refund idempotency (X-Refund-Idempotency)

    def claim_refund_key(self, key: str, fingerprint: str) -> Refund | None:
        """Claim ``key`` for a new refund (returns None), or return the refund it already made.

        Same key + different request → 400; same key while the first is in flight → 409.
        """
        entry = self.refund_keys.get(key)
        if entry is None:
            self.refund_keys[key] = IdempotencyEntry(fingerprint)
            return None
        if entry.fingerprint != fingerprint:
            raise bad_request("Different request body sent for the same Idempotency Header")
        if entry.refund_id is None:
            raise bad_request("A request with the same idempotency key is being processed", status=409)
        return self.refunds[entry.refund_id]

    def finish_refund_key(self, key: str, refund_id: str | None) -> None:
        """Record the refund made under ``key``, or release the key if the request failed."""
        if refund_id is None:
            self.refund_keys.pop(key, None)
        else:
            self.refund_keys[key].refund_id = refund_id

    def stats(self) -> dict[str, Any]:
        return {
            "orders": self.order_tally.as_json(),
            "payments": self.payment_tally.as_json(),
            "refunds": self.refund_tally.as_json(),
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
        }


class Store:
    """All accounts, plus global id → account indexes for the key-less ``/_sandbox`` controls."""

    def __init__(self, sink: EventSink | None = None) -> None:
        self.sink = sink
        self.accounts: dict[str, Account] = {}
        self.payment_owner: dict[str, Account] = {}
        self.refund_owner: dict[str, Account] = {}

    def account(self, key_id: str) -> Account:
        account = self.accounts.get(key_id)
        if account is None:
            account = self.accounts[key_id] = Account(key_id, self)
        return account

    def payment_anywhere(self, payment_id: str) -> tuple[Account, Payment]:
        account = self.payment_owner.get(payment_id)
        if account is None:
            raise not_found()
        return account, account.payments[payment_id]

    def refund_anywhere(self, refund_id: str) -> tuple[Account, Refund]:
        account = self.refund_owner.get(refund_id)
        if account is None:
            raise not_found()
        return account, account.refunds[refund_id]

    def stats(self, key_id: str | None) -> dict[str, Any]:
        if key_id is not None:
            account = self.accounts.get(key_id) or Account(key_id, self)
            return {"account": key_id, **account.stats()}
        orders, payments, refunds = StatusTally(), StatusTally(), StatusTally()
        captured = refunded = 0
        for account in self.accounts.values():
            orders.merge(account.order_tally)
            payments.merge(account.payment_tally)
            refunds.merge(account.refund_tally)
            captured += account.amount_captured
            refunded += account.amount_refunded
        return {
            "account": None,
            "accounts": len(self.accounts),
            "orders": orders.as_json(),
            "payments": payments.as_json(),
            "refunds": refunds.as_json(),
            "amount_captured": captured,
            "amount_refunded": refunded,
        }

    def reset(self) -> None:
        self.accounts.clear()
        self.payment_owner.clear()
        self.refund_owner.clear()
