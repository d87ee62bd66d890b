"""Page sizes and opaque page tokens for list methods (AIP-158)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.common.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(
            message="pageSize must not be negative",
            reason="PAGE_SIZE_INVALID",
            violations=[FieldViolation("page_size", "must not be negative")],
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    """The cursor of a token from encode_token; None for the first page."""
    if not token:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        cursor = None
    if not isinstance(cursor, dict):
        raise invalid_page_token()
    return cursor


def invalid_page_token() -> InvalidArgument:
    return InvalidArgument(
        message="pageToken is not a token this API returned",
        reason="PAGE_TOKEN_INVALID",
        violations=[FieldViolation("page_token", "unknown token")],
    )


class Listed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


# Lists ordered newest first page by (created_at, id): the token holds the last item's.


def position_after(token: str) -> tuple[datetime, str] | None:
    """The (created_at, id) the page of `token` starts after; None for the first page."""
    cursor = decode_token(token)
    if cursor is None:
        return None
    try:
        return datetime.fromisoformat(cursor["t"]), str(cursor["id"])
    except (KeyError, TypeError, ValueError):
        raise invalid_page_token() from None


def next_page_token(page: Sequence[Listed], more: bool) -> str:
    """The token of the page after `page`; empty at the end."""
    return encode_token({"t": page[-1].created_at.isoformat(), "id": page[-1].id}) if more else ""
