"""Who is calling: the identity the gateway's authorization step attached as trusted
metadata. Clients can never set these headers themselves (the gateway strips them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from services.common.errors import Unauthenticated

MERCHANT_ID_HEADER = "x-payloops-merchant-id"
MODE_HEADER = "x-payloops-mode"
PRINCIPAL_HEADER = "x-payloops-principal"
PROCESSOR_HEADER = "x-payloops-processor"
TRACE_HEADER = "x-request-id"

Context = grpc.aio.ServicerContext[Any, Any]


@dataclass(frozen=True)
class Caller:
    merchant_id: str
    mode: str


def metadata_value(context: Context, name: str) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == name:
            return value if isinstance(value, str) else value.decode()
    return ""


def caller(context: Context) -> Caller:
    """The authenticated merchant, or UNAUTHENTICATED when the call carries none."""
    merchant_id = metadata_value(context, MERCHANT_ID_HEADER)
    if not merchant_id:
        raise Unauthenticated(message="no authenticated merchant on this call", reason="UNAUTHENTICATED")
    return Caller(merchant_id=merchant_id, mode=metadata_value(context, MODE_HEADER) or "test")


def caller_metadata(who: Caller) -> tuple[tuple[str, str], ...]:
    """Metadata for a service-to-service call made on behalf of a merchant."""
    return ((MERCHANT_ID_HEADER, who.merchant_id), (MODE_HEADER, who.mode))
