"""Typed views of API objects: snake_case attributes read from the camelCase JSON, with
the whole JSON object kept in `raw` (fields this SDK version does not know included)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

M = TypeVar("M", bound="Model")

_FRACTION = re.compile(r"\.(\d+)")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def timestamp(value: Any) -> datetime | None:
    """An RFC 3339 string (nanoseconds and "Z" allowed) as an aware datetime."""
    if not value:
        return None
    text = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), str(value))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def json_field(
    *,
    key: str | None = None,
    parse: Callable[[Any], Any] | None = None,
    default: Any = None,
    factory: Callable[[], Any] | None = None,
    secret: bool = False,
) -> Any:
    """A model attribute read from JSON `key` (default: its camelCase name), converted by
    `parse`; its default is `default`, or a new `factory()` for each object; a `secret`
    one is left out of repr."""
    metadata = {"key": key, "parse": parse}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata, repr=not secret)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=type(default), metadata=metadata, repr=not secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


def model_of(model: type[M]) -> Callable[[Any], M]:
    return model.from_json


def list_of(model: type[M]) -> Callable[[Any], list[M]]:
    return lambda items: [model.from_json(item) for item in items or []]


@dataclasses.dataclass(frozen=True)
class Model:
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_json(cls: type[M], data: Any) -> M:
        data = data if isinstance(data, dict) else {}
        values: dict[str, Any] = {}
        for attribute in dataclasses.fields(cls):
            if attribute.name == "raw":
                continue
            key = attribute.metadata.get("key") or camel(attribute.name)
            if key not in data:
                continue
            parse = attribute.metadata.get("parse")
            values[attribute.name] = parse(data[key]) if parse else data[key]
        return cls(**values, raw=data)
