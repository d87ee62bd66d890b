"""python -m services.order"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import grpc
from payloops.order.v1 import (
    order_internal_service_pb2,
    order_internal_service_pb2_grpc,
    order_service_pb2,
    order_service_pb2_grpc,
)
from payloops.processor.v1 import processor_service_pb2_grpc
from payloops.router.v1 import router_service_pb2_grpc
from payloops.webhook.v1 import webhook_internal_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.order.checkout.desk import CheckoutDesk, CheckoutSettings
from services.order.config import Settings
from services.order.coordinator import PaymentCoordinator
from services.order.feedback import RoutingFeedback
from services.order.idempotency import IdempotencyInterceptor, IdempotencyStore
from services.order.internal_servicer import OrderInternalServicer
from services.order.outcomes import PaymentOutcomes
from services.order.reconcile import Reconciler
from services.order.relay import OutboxRelay
from services.order.servicer import OrderServicer
from services.order.worker import payment_worker, refund_coordinator

SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
INTERNAL_SERVICE = order_internal_service_pb2.DESCRIPTOR.services_by_name["OrderInternalService"].full_name
# The POSTs of the merchant API, which honour the Idempotency-Key header.
IDEMPOTENT_METHODS = frozenset(
    f"/{SERVICE}/{name}"
    for name in ("CreateOrder", "PayOrder", "CaptureOrder", "CancelOrder", "RefundOrder", "CreateCheckoutSession")
)
# Those that only write to this database: each runs inside its key's transaction.
IN_KEY_TRANSACTION = frozenset({f"/{SERVICE}/CreateOrder"})
log = logging.getLogger("payloops.order")


async def purge_idempotency_keys(store: IdempotencyStore) -> None:
    while True:
        try:
            purged = await store.purge_expired()
            if purged:
                log.info("purged expired idempotency keys", extra={"count": purged})
        except Exception:
            log.exception("idempotency key purge failed")
        await asyncio.sleep(3600)


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    store = IdempotencyStore(
        engine,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
        retention=timedelta(hours=settings.idempotency_retention_hours),
        join_seconds=settings.idempotency_join_seconds,
    )

    channels = {
        "router": settings.mesh.channel(settings.router_service_addr, "router"),
        "webhook": settings.mesh.channel(settings.webhook_service_addr, "webhook"),
        **settings.mesh.processor_channels(settings.processor_addrs),
    }
    temporal = await connect(settings)
    outcomes = PaymentOutcomes()
    router = router_service_pb2_grpc.RouterServiceStub(channels["router"])
    feedback = RoutingFeedback(router)
    payments = PaymentCoordinator(
        sessions=sessions,
        temporal=temporal,
        task_queue=settings.temporal_task_queue,
        router=router,
        outcomes=outcomes,
        wait_seconds=settings.pay_wait_seconds,
        call_timeout=settings.processor_call_timeout_seconds,
        step_timeout=settings.payment_step_timeout_seconds,
    )

    refunds = refund_coordinator(sessions, temporal, settings)
    checkout = CheckoutDesk(
        sessions=sessions,
        temporal=temporal,
        payments=payments,
        settings=CheckoutSettings(
            base_url=settings.checkout_base_url,
            min_expires_seconds=settings.checkout_min_expires_seconds,
            expiry_retry_seconds=settings.checkout_expiry_retry_seconds,
            task_queue=settings.temporal_task_queue,
        ),
    )
    processors = {
        name: processor_service_pb2_grpc.ProcessorServiceStub(channels[name]) for name in settings.processor_addrs
    }
    reconciler = Reconciler(sessions, processors, call_timeout=settings.processor_call_timeout_seconds)

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        servicer = OrderServicer(settings, sessions, payments, refunds, checkout)
        order_service_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server)
        order_internal_service_pb2_grpc.add_OrderInternalServiceServicer_to_server(
            OrderInternalServicer(sessions, refunds, reconciler, checkout), server
        )
        return [SERVICE, INTERNAL_SERVICE]

    relay = OutboxRelay(
        engine,
        webhook_internal_service_pb2_grpc.WebhookInternalServiceStub(channels["webhook"]),
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        call_timeout=settings.outbox_publish_timeout_seconds,
    )
    background = [asyncio.create_task(purge_idempotency_keys(store)), asyncio.create_task(relay.run())]

    async def cleanup() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await feedback.drain()
        for channel in channels.values():
            await channel.close()
        await engine.dispose()

    # The payment worker runs here too, so the workflows this service starts begin at once
    # in this process (eager start) and run their steps as local activities.
    async with payment_worker(temporal, settings, sessions, processors, feedback, outcomes):
        await serve(
            "order",
            settings,
            register,
            cleanup=cleanup,
            interceptors=[IdempotencyInterceptor(store, IDEMPOTENT_METHODS, IN_KEY_TRANSACTION)],
        )


if __name__ == "__main__":
    run("order", Settings, start)
