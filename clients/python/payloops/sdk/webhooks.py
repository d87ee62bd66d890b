"""Verification of PayLoops webhook deliveries, signed per Standard Webhooks: the
`webhook-signature` header lists "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">"
entries, keyed with the base64-decoded part of the endpoint's "whsec_..." secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import PayLoopsError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(PayLoopsError):
    """The delivery is not authentic: a missing header, a bad signature or a stale timestamp."""


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivered event (`{id, type, createdAt, data}`) once its signature and
    timestamp check out. `payload` must be the raw request body, byte for byte."""
    body = payload.encode() if isinstance(payload, str) else payload
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id, sent_at, signatures = (lowered.get(name, "") for name in _HEADERS)
    if not (message_id and sent_at and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    timestamp = _timestamp(sent_at, time.time() if now is None else now, tolerance)
    expected = _sign(_key(secret), message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in _v1_signatures(signatures)):
        raise WebhookVerificationError("no matching signature")
    try:
        event = json.loads(body)
    except ValueError as error:
        raise WebhookVerificationError("the payload is not JSON") from error
    if not isinstance(event, dict):
        raise WebhookVerificationError("the payload is not a JSON object")
    return event


_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        # Not chained: the decoding error could quote the secret.
        raise WebhookVerificationError("the webhook secret is not a valid whsec_ secret") from None


def _timestamp(value: str, now: float, tolerance: int) -> int:
    try:
        timestamp = int(value)
    except ValueError:
        raise WebhookVerificationError("the webhook-timestamp header is not a number") from None
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("the webhook-timestamp is outside the tolerance")
    return timestamp


def _sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
