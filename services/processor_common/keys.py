"""Identifiers PayLoops writes at the processors: metadata names and idempotency keys
derived from the caller's per-step key."""

from __future__ import annotations

import hashlib
import re

ORDER_ID = "payloops_order_id"
REFUND_ID = "payloops_refund_id"
TEST_TOKEN = "payloops_test_token"


def step_key(idempotency_key: str, step: str) -> str:
    """One key per processor call of a step: `<key>-create`, `<key>-confirm`, ..."""
    return f"{idempotency_key}-{step}"


def bounded_key(key: str, *, max_length: int, allowed: str = r"[A-Za-z0-9_-]", min_length: int = 1) -> str:
    """`key` itself when a processor's rules allow it, else a digest of it (same key, same
    answer): Razorpay's 40-character receipt, its X-Refund-Idempotency alphabet, ..."""
    if min_length <= len(key) <= max_length and re.fullmatch(f"{allowed}+", key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:max_length]
