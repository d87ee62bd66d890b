"""The dashboard API clients (/api/*, a dashboard token): `Dashboard` and `AsyncDashboard`."""

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
from .models import DashboardSession
from .operations import dashboard_api as api


class Auth(SyncResource):
    register = sync_call(api.register)
    login = sync_call(api.login)


class MerchantAccount(SyncResource):
    retrieve = sync_call(api.retrieve_merchant)
    update = sync_call(api.update_merchant)


class ApiKeys(SyncResource):
    list = sync_call(api.list_api_keys)
    create = sync_call(api.create_api_key)
    revoke = sync_call(api.revoke_api_key)


class Processors(SyncResource):
    list = sync_call(api.list_processors)
    upsert = sync_call(api.upsert_processor)


class RoutingRules(SyncResource):
    list = sync_call(api.list_routing_rules)
    create = sync_call(api.create_routing_rule)
    delete = sync_call(api.delete_routing_rule)


class Routing(SyncResource):
    simulate = sync_call(api.simulate_routing)
    stats = sync_call(api.routing_stats)


class WebhookEndpoints(SyncResource):
    list = sync_call(api.list_webhook_endpoints)
    create = sync_call(api.create_webhook_endpoint)
    delete = sync_call(api.delete_webhook_endpoint)


class WebhookEvents(SyncResource):
    list = sync_list(api.list_webhook_events)
    replay = sync_call(api.replay_webhook_event)


class DashboardOrders(SyncResource):
    list = sync_list(api.list_dashboard_orders)


class Analytics(SyncResource):
    summary = sync_call(api.analytics_summary)


class AsyncAuth(AsyncResource):
    register = async_call(api.register)
    login = async_call(api.login)


class AsyncMerchantAccount(AsyncResource):
    retrieve = async_call(api.retrieve_merchant)
    update = async_call(api.update_merchant)


class AsyncApiKeys(AsyncResource):
    list = async_call(api.list_api_keys)
    create = async_call(api.create_api_key)
    revoke = async_call(api.revoke_api_key)


class AsyncProcessors(AsyncResource):
    list = async_call(api.list_processors)
    upsert = async_call(api.upsert_processor)


class AsyncRoutingRules(AsyncResource):
    list = async_call(api.list_routing_rules)
    create = async_call(api.create_routing_rule)
    delete = async_call(api.delete_routing_rule)


class AsyncRouting(AsyncResource):
    simulate = async_call(api.simulate_routing)
    stats = async_call(api.routing_stats)


class AsyncWebhookEndpoints(AsyncResource):
    list = async_call(api.list_webhook_endpoints)
    create = async_call(api.create_webhook_endpoint)
    delete = async_call(api.delete_webhook_endpoint)


class AsyncWebhookEvents(AsyncResource):
    list = async_list(api.list_webhook_events)
    replay = async_call(api.replay_webhook_event)


class AsyncDashboardOrders(AsyncResource):
    list = async_list(api.list_dashboard_orders)


class AsyncAnalytics(AsyncResource):
    summary = async_call(api.analytics_summary)


def dashboard_config(
    token: str | None, base_url: str | None, timeout: float, max_network_retries: int, retry: RetryPolicy | None
) -> ClientConfig:
    return ClientConfig(
        base_url=resolve_base_url(base_url),
        timeout=timeout,
        retry=retry or RetryPolicy(max_network_retries=max_network_retries),
        credentials={"authorization": f"Bearer {token}"} if token else {},
    )


class Dashboard:
    """The dashboard API with a dashboard token. Without a token only `auth` works;
    `Dashboard.register(...)` and `Dashboard.login(...)` return a logged-in client."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.session: DashboardSession | None = None
        self._transport = SyncTransport(dashboard_config(token, base_url, timeout, max_network_retries, retry))
        self.auth = Auth(self._transport)
        self.merchant = MerchantAccount(self._transport)
        self.api_keys = ApiKeys(self._transport)
        self.processors = Processors(self._transport)
        self.routing_rules = RoutingRules(self._transport)
        self.routing = Routing(self._transport)
        self.webhook_endpoints = WebhookEndpoints(self._transport)
        self.webhook_events = WebhookEvents(self._transport)
        self.orders = DashboardOrders(self._transport)
        self.analytics = Analytics(self._transport)

    @classmethod
    def register(cls, *, email: str, password: str, name: str, base_url: str | None = None) -> Dashboard:
        with cls(base_url=base_url) as anonymous:
            session = anonymous.auth.register(email=email, password=password, name=name)
        return cls._logged_in(session, base_url)

    @classmethod
    def login(cls, *, email: str, password: str, base_url: str | None = None) -> Dashboard:
        with cls(base_url=base_url) as anonymous:
            session = anonymous.auth.login(email=email, password=password)
        return cls._logged_in(session, base_url)

    @classmethod
    def _logged_in(cls, session: DashboardSession, base_url: str | None) -> Dashboard:
        client = cls(session.token, base_url=base_url)
        client.session = session
        return client

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dashboard(token='****', base_url={self.base_url!r})"


class AsyncDashboard:
    """The dashboard API for asyncio; `await AsyncDashboard.login(...)` returns a logged-in client."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.session: DashboardSession | None = None
        self._transport = AsyncTransport(dashboard_config(token, base_url, timeout, max_network_retries, retry))
        self.auth = AsyncAuth(self._transport)
        self.merchant = AsyncMerchantAccount(self._transport)
        self.api_keys = AsyncApiKeys(self._transport)
        self.processors = AsyncProcessors(self._transport)
        self.routing_rules = AsyncRoutingRules(self._transport)
        self.routing = AsyncRouting(self._transport)
        self.webhook_endpoints = AsyncWebhookEndpoints(self._transport)
        self.webhook_events = AsyncWebhookEvents(self._transport)
        self.orders = AsyncDashboardOrders(self._transport)
        self.analytics = AsyncAnalytics(self._transport)

    @classmethod
    async def register(cls, *, email: str, password: str, name: str, base_url: str | None = None) -> AsyncDashboard:
        async with cls(base_url=base_url) as anonymous:
            session = await anonymous.auth.register(email=email, password=password, name=name)
        return cls._logged_in(session, base_url)

    @classmethod
    async def login(cls, *, email: str, password: str, base_url: str | None = None) -> AsyncDashboard:
        async with cls(base_url=base_url) as anonymous:
            session = await anonymous.auth.login(email=email, password=password)
        return cls._logged_in(session, base_url)

    @classmethod
    def _logged_in(cls, session: DashboardSession, base_url: str | None) -> AsyncDashboard:
        client = cls(session.token, base_url=base_url)
        client.session = session
        return client

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncDashboard:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncDashboard(token='****', base_url={self.base_url!r})"
