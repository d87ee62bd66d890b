"""Binds the operations (functions returning a Call or a PageCall) to resource classes,
as blocking methods on the sync clients and coroutines on the async ones: each
operation's signature is written once, in `operations`."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ._http.call import Call, Page, PageCall
from ._http.transport import AsyncTransport, SyncTransport

P = ParamSpec("P")
T = TypeVar("T")


class SyncResource:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class AsyncResource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport


class Pages(Generic[T]):
    """Every item of a list, fetching the next page as the iteration reaches it."""

    def __init__(self, transport: SyncTransport, listing: PageCall[T]) -> None:
        self._transport = transport
        self._listing = listing

    def pages(self) -> Iterator[Page[T]]:
        token = ""
        while True:
            page = self._transport.request(self._listing.page(token))
            yield page
            if not page.next_page_token:
                return
            token = page.next_page_token

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPages(Generic[T]):
    """Every item of a list (`async for`), fetching the next page as the iteration reaches it."""

    def __init__(self, transport: AsyncTransport, listing: PageCall[T]) -> None:
        self._transport = transport
        self._listing = listing

    async def pages(self) -> AsyncIterator[Page[T]]:
        token = ""
        while True:
            page = await self._transport.request(self._listing.page(token))
            yield page
            if not page.next_page_token:
                return
            token = page.next_page_token

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item


class _Bound(Generic[P, T]):
    def __init__(self, operation: Callable[P, Any]) -> None:
        self.operation = operation

    def bind(self, resource: Any) -> Callable[P, T]:
        raise NotImplementedError

    @overload
    def __get__(self, resource: None, owner: type[Any]) -> _Bound[P, T]: ...

    @overload
    def __get__(self, resource: object, owner: type[Any]) -> Callable[P, T]: ...

    def __get__(self, resource: object | None, owner: type[Any]) -> _Bound[P, T] | Callable[P, T]:
        if resource is None:
            return self
        return functools.wraps(self.operation)(self.bind(resource))


class sync_call(_Bound[P, T]):
    def __init__(self, operation: Callable[P, Call[T]]) -> None:
        super().__init__(operation)

    def bind(self, resource: SyncResource) -> Callable[P, T]:
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            call: Call[T] = self.operation(*args, **kwargs)
            return resource._transport.request(call)

        return run


class async_call(_Bound[P, Awaitable[T]]):
    def __init__(self, operation: Callable[P, Call[T]]) -> None:
        super().__init__(operation)

    def bind(self, resource: AsyncResource) -> Callable[P, Awaitable[T]]:
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            call: Call[T] = self.operation(*args, **kwargs)
            return await resource._transport.request(call)

        return run


class sync_list(_Bound[P, Pages[T]]):
    def __init__(self, operation: Callable[P, PageCall[T]]) -> None:
        super().__init__(operation)

    def bind(self, resource: SyncResource) -> Callable[P, Pages[T]]:
        def run(*args: P.args, **kwargs: P.kwargs) -> Pages[T]:
            return Pages(resource._transport, self.operation(*args, **kwargs))

        return run


class async_list(_Bound[P, AsyncPages[T]]):
    def __init__(self, operation: Callable[P, PageCall[T]]) -> None:
        super().__init__(operation)

    def bind(self, resource: AsyncResource) -> Callable[P, AsyncPages[T]]:
        def run(*args: P.args, **kwargs: P.kwargs) -> AsyncPages[T]:
            return AsyncPages(resource._transport, self.operation(*args, **kwargs))

        return run
