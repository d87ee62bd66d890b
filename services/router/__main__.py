"""python -m services.router"""

from collections.abc import Sequence

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc
from redis.asyncio import Redis

from services.common.config import ServiceSettings
from services.common.server import run, serve
from services.router.config import Settings
from services.router.merchant_config import MerchantRoutingSource
from services.router.scores import ScoreStore
from services.router.servicer import RouterServicer

SERVICE = router_service_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    channel = settings.mesh.channel(settings.merchant_service_addr, "merchant")
    routing = MerchantRoutingSource(
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channel),
        ttl_seconds=settings.routing_cache_seconds,
        call_timeout_seconds=settings.merchant_call_timeout_seconds,
    )

    redis = (
        Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_seconds,
            socket_connect_timeout=settings.redis_timeout_seconds,
        )
        if settings.redis_url
        else None
    )
    scores = ScoreStore(redis, settings.redis_key_prefix, ttl_seconds=settings.score_ttl_seconds) if redis else None

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        router_service_pb2_grpc.add_RouterServiceServicer_to_server(
            RouterServicer(routing, scores, health=settings.health, score_cache_seconds=settings.score_cache_seconds),
            server,
        )
        return [SERVICE]

    async def cleanup() -> None:
        await channel.close()
        if redis is not None:
            await redis.aclose()

    await serve("router", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("router", Settings, start)
