"""The webhook delivery worker: python -m services.webhook.worker

Runs WebhookDeliveryWorkflow and its activities on the delivery task queue (its own, so
slow merchant endpoints never hold up payment work), and serves the gRPC health service
so it is started and watched like every other component."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from temporalio.client import Client
from temporalio.worker import Worker

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.webhook.config import Settings
from services.webhook.outbound.activities import DeliveryActivities
from services.webhook.outbound.workflows import WebhookDeliveryWorkflow


def delivery_worker(client: Client, settings: Settings, activities: DeliveryActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.delivery_task_queue,
        workflows=[WebhookDeliveryWorkflow],
        activities=[activities.attempt_delivery, activities.fail_delivery],
    )


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    channel = settings.mesh.channel(settings.merchant_service_addr, "merchant")
    activities = DeliveryActivities(
        session_factory(engine),
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channel),
        call_timeout=settings.merchant_call_timeout_seconds,
        allow_loopback=settings.webhook_allow_loopback,
    )
    client = await connect(settings)

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        return []

    async def cleanup() -> None:
        await channel.close()
        await engine.dispose()

    async with delivery_worker(client, settings, activities):
        await serve("webhook-worker", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("webhook-worker", Settings, start)
