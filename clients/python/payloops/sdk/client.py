"""The merchant API clients: `PayLoops` (blocking) and `AsyncPayLoops` (asyncio)."""

from __future__ import annotations

from types import TracebackType

from ._binding import AsyncResource, SyncResource, async_call, async_list, sync_call, sync_list
from ._http.config import (
    DEFAULT_MAX_NETWORK_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    ClientConfig,
    RetryPolicy,
    resolve_base_url,
)
from ._http.transport import AsyncTransport, SyncTransport
from ._secrets import mask
from .operations import merchant_api as api


class Orders(SyncResource):
    create = sync_call(api.create_order)
    retrieve = sync_call(api.retrieve_order)
    list = sync_list(api.list_orders)
    pay = sync_call(api.pay_order)
    capture = sync_call(api.capture_order)
    cancel = sync_call(api.cancel_order)
    refund = sync_call(api.refund_order)
    transactions = sync_call(api.list_transactions)


class Refunds(SyncResource):
    retrieve = sync_call(api.retrieve_refund)


class CheckoutSessions(SyncResource):
    create = sync_call(api.create_checkout_session)
    retrieve = sync_call(api.retrieve_checkout_session)
    expire = sync_call(api.expire_checkout_session)


class Checkout:
    def __init__(self, transport: SyncTransport) -> None:
        self.sessions = CheckoutSessions(transport)


class AsyncOrders(AsyncResource):
    create = async_call(api.create_order)
    retrieve = async_call(api.retrieve_order)
    list = async_list(api.list_orders)
    pay = async_call(api.pay_order)
    capture = async_call(api.capture_order)
    cancel = async_call(api.cancel_order)
    refund = async_call(api.refund_order)
    transactions = async_call(api.list_transactions)


class AsyncRefunds(AsyncResource):
    retrieve = async_call(api.retrieve_refund)


class AsyncCheckoutSessions(AsyncResource):
    create = async_call(api.create_checkout_session)
    retrieve = async_call(api.retrieve_checkout_session)
    expire = async_call(api.expire_checkout_session)


class AsyncCheckout:
    def __init__(self, transport: AsyncTransport) -> None:
        self.sessions = AsyncCheckoutSessions(transport)


def merchant_config(
    api_key: str, base_url: str | None, timeout: float, max_network_retries: int, retry: RetryPolicy | None
) -> ClientConfig:
    if not api_key:
        raise ValueError("an API key is required (sk_test_... or sk_live_...)")
    return ClientConfig(
        base_url=resolve_base_url(base_url),
        timeout=timeout,
        retry=retry or RetryPolicy(max_network_retries=max_network_retries),
        credentials={"x-api-key": api_key},
    )


class PayLoops:
    """The merchant API with an API key. Use as a context manager, or call close()."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._api_key_hint = mask(api_key)
        self._transport = SyncTransport(merchant_config(api_key, base_url, timeout, max_network_retries, retry))
        self.orders = Orders(self._transport)
        self.refunds = Refunds(self._transport)
        self.checkout = Checkout(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> PayLoops:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PayLoops(api_key={self._api_key_hint!r}, base_url={self.base_url!r})"


class AsyncPayLoops:
    """The merchant API with an API key, for asyncio. Use as an async context manager, or await aclose()."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._api_key_hint = mask(api_key)
        self._transport = AsyncTransport(merchant_config(api_key, base_url, timeout, max_network_retries, retry))
        self.orders = AsyncOrders(self._transport)
        self.refunds = AsyncRefunds(self._transport)
        self.checkout = AsyncCheckout(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncPayLoops:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncPayLoops(api_key={self._api_key_hint!r}, base_url={self.base_url!r})"
