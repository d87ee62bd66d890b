"""python -m services.webhook"""

import asyncio
import contextlib
from collections.abc import Sequence

import grpc
from payloops.order.v1 import order_internal_service_pb2_grpc
from payloops.processor.v1 import processor_service_pb2_grpc
from payloops.webhook.v1 import webhook_service_pb2, webhook_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.webhook.applier import EventApplier
from services.webhook.config import Settings
from services.webhook.servicer import WebhookServicer

SERVICE = webhook_service_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    channels = {
        "order": grpc.aio.insecure_channel(settings.order_service_addr),
        **{name: grpc.aio.insecure_channel(addr) for name, addr in settings.processor_addrs.items()},
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

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        # Outbound webhook events (list, replay) arrive with their issue; UNIMPLEMENTED until then.
        servicer = WebhookServicer(  # type: ignore[abstract]
            sessions, processors, applier, settings.webhook_call_timeout_seconds
        )
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(servicer, server)
        return [SERVICE]

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
