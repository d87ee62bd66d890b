"""What an SDK method asks of the API, independent of how it is sent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

JSONObject = dict[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation: the HTTP request to make and how to read its answer."""

    method: str
    path: str
    parse: Callable[[JSONObject], T]
    body: Mapping[str, Any] | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    authenticated: bool = True


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


@dataclass(frozen=True)
class PageCall(Generic[T]):
    """A paginated list operation: the first page's call, and where the items are in each answer."""

    path: str
    query: Mapping[str, str]
    items_key: str
    parse_item: Callable[[JSONObject], T]

    def page(self, token: str) -> Call[Page[T]]:
        query = {**self.query, "pageToken": token} if token else dict(self.query)
        return Call("GET", self.path, self._parse_page, query=query)

    def _parse_page(self, answer: JSONObject) -> Page[T]:
        items = [self.parse_item(item) for item in answer.get(self.items_key) or []]
        return Page(items=items, next_page_token=str(answer.get("nextPageToken") or ""))


def compact(**values: Any) -> JSONObject:
    """A JSON body or query without the arguments the caller left out (None)."""
    return {name: value for name, value in values.items() if value is not None}


def query_of(**values: Any) -> dict[str, str]:
    return {name: str(value) for name, value in compact(**values).items()}
