"""What the dashboard API accepts for processors and webhook endpoints. Pure: no I/O."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from services.common.errors import FieldViolation
from services.common.events import WEBHOOK_EVENT_TYPES


@dataclass(frozen=True)
class CredentialSpec:
    name: str
    # Accepted beginnings ("sk_test_"...); empty: any non-empty value.
    prefixes: tuple[str, ...] = ()


# Adding a processor adds one entry here (and one in the router's domain/processors.py).
PROCESSOR_CREDENTIALS: dict[str, tuple[CredentialSpec, ...]] = {
    "stripe": (
        CredentialSpec("secretKey", ("sk_test_", "sk_live_", "rk_test_", "rk_live_")),
        CredentialSpec("webhookSecret", ("whsec_",)),
    ),
    "razorpay": (
        CredentialSpec("keyId", ("rzp_test_", "rzp_live_")),
        CredentialSpec("keySecret"),
        CredentialSpec("webhookSecret"),
    ),
}
CREDENTIAL_MAX_LENGTH = 512

WEBHOOK_SECRET_PREFIX = "whsec_"


def processor_violations(processor: str, credentials: dict[str, str]) -> list[FieldViolation]:
    """The processor must be known and its credentials complete, without extras.
    Descriptions never repeat a value."""
    if not processor:
        return [FieldViolation("processor", "is required")]
    specs = PROCESSOR_CREDENTIALS.get(processor)
    if specs is None:
        return [FieldViolation("processor", f"must be one of: {', '.join(PROCESSOR_CREDENTIALS)}")]
    known = {spec.name for spec in specs}
    found = [
        FieldViolation(f"credentials.{name}", f"is not a {processor} credential; expected {', '.join(sorted(known))}")
        for name in sorted(credentials)
        if name not in known
    ]
    for spec in specs:
        at = f"credentials.{spec.name}"
        value = credentials.get(spec.name, "")
        if not value.strip():
            found.append(FieldViolation(at, f"is required for {processor}"))
        elif len(value) > CREDENTIAL_MAX_LENGTH or value != value.strip():
            found.append(FieldViolation(at, f"must be at most {CREDENTIAL_MAX_LENGTH} characters, without spaces"))
        elif spec.prefixes and not value.startswith(spec.prefixes):
            found.append(FieldViolation(at, f"must start with one of: {', '.join(spec.prefixes)}"))
    return found


def events_violations(events: list[str], field: str = "events") -> list[FieldViolation]:
    found = [
        FieldViolation(f"{field}[{n}]", f"unknown event type; one of: {', '.join(WEBHOOK_EVENT_TYPES)}")
        for n, event in enumerate(events)
        if event not in WEBHOOK_EVENT_TYPES
    ]
    found += [
        FieldViolation(f"{field}[{n}]", "is listed more than once")
        for n, event in enumerate(events)
        if events.index(event) < n
    ]
    return found


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" + base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def subscribed(events: list[str], event_type: str) -> bool:
    return not events or event_type in events
