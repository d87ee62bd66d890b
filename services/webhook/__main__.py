"""python -m services.webhook"""

from collections.abc import Sequence

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.webhook.v1 import (
    webhook_internal_service_pb2,
    webhook_internal_service_pb2_grpc,
    webhook_service_pb2,
    webhook_service_pb2_grpc,
)

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.webhook.config import Settings
from services.webhook.outbound.deliveries import Deliveries
from services.webhook.outbound.servicer import OutboundWebhooks, WebhookInternalServicer


class WebhookServicer(OutboundWebhooks, webhook_service_pb2_grpc.WebhookServiceServicer):
    """WebhookService: the outbound part (list, replay); ReceiveProcessorWebhook (inbound)
    still answers UNIMPLEMENTED until its receiver joins this class."""


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    merchant_channel = grpc.aio.insecure_channel(settings.merchant_service_addr)
    deliveries = Deliveries(
        sessions,
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(merchant_channel),
        await connect(settings.temporal_address, settings.temporal_namespace),
        settings,
    )

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(
            WebhookServicer(sessions, deliveries),  # type: ignore[abstract]
            server,
        )
        webhook_internal_service_pb2_grpc.add_WebhookInternalServiceServicer_to_server(
            WebhookInternalServicer(deliveries), server
        )
        return [
            webhook_service_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name,
            webhook_internal_service_pb2.DESCRIPTOR.services_by_name["WebhookInternalService"].full_name,
        ]

    async def cleanup() -> None:
        await merchant_channel.close()
        await engine.dispose()

    await serve("webhook", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("webhook", Settings, start)
