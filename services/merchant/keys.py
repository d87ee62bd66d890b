"""API keys: "sk_test_" / "sk_live_" plus 32 random bytes (url-safe base64).

Stored as HMAC-SHA256(server secret, key) with a lookup prefix. A slow password hash
(bcrypt, argon2) protects low-entropy secrets against guessing; a 256-bit random key
cannot be guessed, so a keyed hash is as safe, and it costs microseconds instead of
~50 ms on every request at the edge. The server secret also means a stolen table alone
cannot even be used to confirm a key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

MODES = ("test", "live")
LOOKUP_LENGTH = 12
DISPLAY_LENGTH = 4


@dataclass(frozen=True)
class IssuedKey:
    secret: str
    lookup: str
    display_prefix: str
    mode: str


def issue_key(mode: str) -> IssuedKey:
    body = secrets.token_urlsafe(32)
    head = f"sk_{mode}_"
    return IssuedKey(
        secret=head + body,
        lookup=body[:LOOKUP_LENGTH],
        display_prefix=head + body[:DISPLAY_LENGTH],
        mode=mode,
    )


def parse_key(secret: str) -> tuple[str, str] | None:
    """(mode, lookup) of a well-formed key, else None."""
    for mode in MODES:
        head = f"sk_{mode}_"
        if secret.startswith(head) and len(secret) >= len(head) + 40:
            return mode, secret[len(head) : len(head) + LOOKUP_LENGTH]
    return None


def key_hash(secret: str, *, hmac_secret: str) -> str:
    return hmac.new(hmac_secret.encode(), secret.encode(), hashlib.sha256).hexdigest()


def key_matches(secret: str, stored_hash: str, *, hmac_secret: str) -> bool:
    return hmac.compare_digest(key_hash(secret, hmac_secret=hmac_secret), stored_hash)
