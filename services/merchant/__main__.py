"""python -m services.merchant"""

from collections.abc import Sequence
from datetime import timedelta

import grpc
from payloops.envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from payloops.merchant.v1 import (
    merchant_internal_service_pb2,
    merchant_internal_service_pb2_grpc,
    merchant_service_pb2,
    merchant_service_pb2_grpc,
)
from payloops.router.v1.router_service_pb2_grpc import RouterServiceStub
from redis.asyncio import Redis

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.merchant.accounts import Accounts
from services.merchant.authenticator import ApiKeyAuthenticator
from services.merchant.authz import EdgeAuthorizer
from services.merchant.config import Settings
from services.merchant.credentials import CredentialCipher
from services.merchant.internal_servicer import MerchantInternalServicer
from services.merchant.passwords import PasswordHasher
from services.merchant.retry_after import RetryAfterInterceptor
from services.merchant.routing_view import RoutingView
from services.merchant.servicer import MerchantServicer
from services.merchant.throttle import AuthGuard, Counters, Limit, Policy
from services.merchant.tokens import DashboardTokens
from services.merchant.usage import KeyUsage


def throttle_policy(settings: Settings) -> Policy:
    return Policy(
        login_ip=Limit(settings.login_ip_max_failures, settings.login_ip_window_seconds),
        register_ip=Limit(settings.register_ip_max_attempts, settings.register_ip_window_seconds),
        register_email=Limit(settings.register_email_max_attempts, settings.register_email_window_seconds),
        lockout_threshold=settings.lockout_threshold,
        lockout_seconds=settings.lockout_seconds,
    )


def dashboard_tokens(settings: Settings) -> DashboardTokens:
    return DashboardTokens(
        secret=settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(seconds=settings.jwt_ttl_seconds),
    )


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    router_channel = settings.mesh.channel(settings.router_service_addr, "router")
    cipher = CredentialCipher(settings.credential_keys, settings.credential_active_key_id)
    api_keys = ApiKeyAuthenticator(
        sessions, hmac_secret=settings.api_key_hmac_secret, cache_seconds=settings.auth_cache_seconds
    )
    usage = KeyUsage(sessions, flush_seconds=settings.key_usage_flush_seconds)
    tokens = dashboard_tokens(settings)
    accounts = Accounts(
        sessions,
        hasher=PasswordHasher(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            concurrency=settings.password_hash_concurrency,
        ),
        tokens=tokens,
        guard=AuthGuard(Counters(redis, f"{settings.redis_key_prefix}merchant:"), throttle_policy(settings)),
        password_min_length=settings.password_min_length,
    )

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(EdgeAuthorizer(api_keys, tokens, usage), server)
        merchant_service_pb2_grpc.add_MerchantServiceServicer_to_server(
            MerchantServicer(
                sessions=sessions,
                accounts=accounts,
                cipher=cipher,
                api_keys=api_keys,
                usage=usage,
                routing=RoutingView(RouterServiceStub(router_channel), settings.router_call_timeout_seconds),
                allow_loopback=settings.webhook_allow_loopback,
            ),
            server,
        )
        merchant_internal_service_pb2_grpc.add_MerchantInternalServiceServicer_to_server(
            MerchantInternalServicer(sessions, cipher), server
        )
        return [
            external_auth_pb2.DESCRIPTOR.services_by_name["Authorization"].full_name,
            merchant_service_pb2.DESCRIPTOR.services_by_name["MerchantService"].full_name,
            merchant_internal_service_pb2.DESCRIPTOR.services_by_name["MerchantInternalService"].full_name,
        ]

    async def cleanup() -> None:
        await usage.stop()
        await redis.aclose()
        await router_channel.close()
        await engine.dispose()

    usage.start()
    await serve("merchant", settings, register, cleanup=cleanup, interceptors=[RetryAfterInterceptor()])


if __name__ == "__main__":
    run("merchant", Settings, start)
