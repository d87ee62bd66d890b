"""PostgreSQL text cannot hold NUL characters, so a request carrying one in any string
field is refused as bad input before it reaches a service (bytes fields, such as a
processor webhook's raw body, may hold anything)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from google.protobuf.message import Message

from services.common.errors import FieldViolation, InvalidArgument


def nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """The paths of the strings in `value` (a message, and what it holds) that contain NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, Message):
        for field, item in value.ListFields():
            yield from nul_paths(item, f"{path}.{field.name}" if path else field.name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from nul_paths(key, f"{path} key")
            yield from nul_paths(item, f"{path}[{key!r}]")
    elif not isinstance(value, bytes) and hasattr(value, "__iter__"):
        for index, item in enumerate(value):
            yield from nul_paths(item, f"{path}[{index}]")


def refuse_nul_characters(request: Message) -> None:
    violations = [FieldViolation(path, "must not contain NUL characters") for path in nul_paths(request)]
    if violations:
        raise InvalidArgument(
            message="text fields must not contain NUL characters",
            reason="REQUEST_INVALID_CHARACTERS",
            violations=violations,
        )
