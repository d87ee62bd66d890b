"""python -m services.webhook"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.order.v1 import order_internal_service_pb2_grpc
from payloops.processor.v1 import processor_service_pb2_grpc
from payloops.webhook.v1 import (
    webhook_internal_service_pb2,
    webhook_internal_service_pb2_grpc,
    webhook_service_pb2,
    webhook_service_pb2_grpc,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.webhook.config import Settings
from services.webhook.inbound.applier import EventApplier
from services.webhook.inbound.servicer import InboundWebhooks
from services.webhook.outbound.deliveries import Deliveries
from services.webhook.outbound.servicer import OutboundWebhooks, WebhookInternalServicer

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub


class WebhookServicer(InboundWebhooks, OutboundWebhooks, webhook_service_pb2_grpc.WebhookServiceServicer):
    """WebhookService: processor webhooks in, the merchant's event log and replay out."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        processors: Mapping[str, ProcessorServiceAsyncStub],
        applier: EventApplier,
        call_timeout: float,
        deliveries: Deliveries,
    ) -> None:
        InboundWebhooks.__init__(self, sessions, processors, applier, call_timeout)
        OutboundWebhooks.__init__(self, sessions, deliveries)


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    channels = {
        "order": settings.mesh.channel(settings.order_service_addr, "order"),
        "merchant": settings.mesh.channel(settings.merchant_service_addr, "merchant"),
        **settings.mesh.processor_channels(settings.processor_addrs),
    }
    applier = EventApplier(
        sessions,
        order_internal_service_pb2_grpc.OrderInternalServiceStub(channels["order"]),
        call_timeout=settings.webhook_call_timeout_seconds,
        retry_seconds=settings.webhook_apply_retry_seconds,
    )
    processors = {
        name: processor_service_pb2_grpc.ProcessorServiceStub(channels[name]) for name in settings.processor_addrs
    }
    deliveries = Deliveries(
        sessions,
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channels["merchant"]),
        await connect(settings),
        settings,
    )

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        servicer = WebhookServicer(sessions, processors, applier, settings.webhook_call_timeout_seconds, deliveries)
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(
            servicer,
            server,
        )
        webhook_internal_service_pb2_grpc.add_WebhookInternalServiceServicer_to_server(
            WebhookInternalServicer(deliveries), server
        )
        return [
            webhook_service_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name,
            webhook_internal_service_pb2.DESCRIPTOR.services_by_name["WebhookInternalService"].full_name,
        ]

    sweeper = asyncio.create_task(applier.sweep_forever())

    async def cleanup() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await applier.close()
        for channel in channels.values():
            await channel.close()
        await engine.dispose()

    await serve("webhook", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("webhook", Settings, start)
