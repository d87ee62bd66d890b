"""The payment worker: python -m services.order.worker

Runs PaymentWorkflow, RefundWorkflow and their activities on the Temporal task queue, and serves the
gRPC health service so it is started and watched like every other component."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from payloops.processor.v1 import processor_service_pb2_grpc
from temporalio.client import Client
from temporalio.worker import Worker

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.order.activities import PaymentActivities
from services.order.config import Settings
from services.order.refund_activities import RefundActivities
from services.order.workflows import PaymentWorkflow, RefundWorkflow


def payment_worker(
    client: Client, settings: Settings, activities: PaymentActivities, refunds: RefundActivities
) -> Worker:
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[PaymentWorkflow, RefundWorkflow],
        activities=[
            activities.prepare_charge,
            activities.confirm_charge,
            activities.record_charge,
            activities.record_failed_step,
            activities.fail_payment,
            refunds.send_refund,
            refunds.check_refund,
            refunds.record_refund,
        ],
    )


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    channels = {name: grpc.aio.insecure_channel(addr) for name, addr in settings.processor_addrs.items()}
    sessions = session_factory(engine)
    stubs = {name: processor_service_pb2_grpc.ProcessorServiceStub(channel) for name, channel in channels.items()}
    activities = PaymentActivities(sessions, stubs, call_timeout=settings.processor_call_timeout_seconds)
    refunds = RefundActivities(sessions, stubs, call_timeout=settings.processor_call_timeout_seconds)
    client = await connect(settings.temporal_address, settings.temporal_namespace)

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        return []

    async def cleanup() -> None:
        for channel in channels.values():
            await channel.close()
        await engine.dispose()

    async with payment_worker(client, settings, activities, refunds):
        await serve("order-worker", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("order-worker", Settings, start)
