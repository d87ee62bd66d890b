"""The payment worker: python -m services.order.worker

Runs PaymentWorkflow, AuthorizationWorkflow (capture, void), RefundWorkflow and their
activities on the Temporal task queue, and serves the gRPC health service so it is started
and watched like every other component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_service_pb2_grpc
from payloops.router.v1 import router_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.worker import Worker

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.common.temporal import connect
from services.order.activities import PaymentActivities
from services.order.authorization_activities import AuthorizationActivities
from services.order.checkout.activities import CheckoutActivities
from services.order.checkout.workflow import CheckoutExpiryWorkflow
from services.order.config import Settings
from services.order.feedback import RoutingFeedback
from services.order.outcomes import PaymentOutcomes
from services.order.refund_activities import RefundActivities
from services.order.refund_coordinator import RefundCoordinator
from services.order.sweep import SweepActivities, SweepSettings
from services.order.workflows import AuthorizationWorkflow, PaymentWorkflow, RefundWorkflow, SweepWorkflow

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub

SWEEP_SCHEDULE = "payloops-sweep"


def payment_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stubs: Mapping[str, ProcessorServiceAsyncStub],
    feedback: RoutingFeedback,
    outcomes: PaymentOutcomes | None = None,
) -> Worker:
    """The worker of the order service's workflows, with their activities. The order
    service runs one too, so a payment it starts is handed to it eagerly (no task queue
    round trip); this process takes over whatever that one cannot, and holds the sweep."""
    timeout = settings.processor_call_timeout_seconds
    activities = PaymentActivities(sessions, stubs, call_timeout=timeout, outcomes=outcomes, feedback=feedback)
    steps = AuthorizationActivities(sessions, stubs, call_timeout=timeout)
    refunds = RefundActivities(sessions, stubs, call_timeout=timeout)
    checkout = CheckoutActivities(sessions)
    sweep = SweepActivities(
        sessions,
        client,
        stubs,
        refund_coordinator(sessions, client, settings),
        SweepSettings(
            stuck_after=timedelta(seconds=settings.stuck_after_seconds),
            action_check_after=timedelta(seconds=settings.requires_action_check_seconds),
            action_expiry=timedelta(seconds=settings.requires_action_expiry_seconds),
            late_capture_watch=timedelta(seconds=settings.late_capture_watch_seconds),
            step_timeout=settings.payment_step_timeout_seconds,
            task_queue=settings.temporal_task_queue,
        ),
        call_timeout=timeout,
    )
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[PaymentWorkflow, AuthorizationWorkflow, RefundWorkflow, SweepWorkflow, CheckoutExpiryWorkflow],
        activities=[
            activities.prepare_charge,
            activities.confirm_charge,
            activities.abandon_charge,
            activities.record_charge,
            activities.record_failed_step,
            activities.fail_payment,
            steps.call_step,
            steps.record_step,
            refunds.send_refund,
            refunds.check_refund,
            refunds.record_refund,
            sweep.sweep,
            checkout.expire,
        ],
    )


def refund_coordinator(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> RefundCoordinator:
    return RefundCoordinator(
        sessions=sessions,
        temporal=client,
        task_queue=settings.temporal_task_queue,
        wait_seconds=settings.pay_wait_seconds,
        poll_seconds=settings.refund_poll_seconds,
        step_timeout=settings.payment_step_timeout_seconds,
    )


async def schedule_sweep(client: Client, settings: Settings) -> None:
    """The schedule that starts a SweepWorkflow every SWEEP_SECONDS (created, or brought up
    to date with this configuration)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(SweepWorkflow.run, id="sweep", task_queue=settings.temporal_task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.sweep_seconds))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(SWEEP_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(SWEEP_SCHEDULE).update(lambda _: ScheduleUpdate(schedule=schedule))


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    channels = settings.mesh.processor_channels(settings.processor_addrs)
    sessions = session_factory(engine)
    stubs = {name: processor_service_pb2_grpc.ProcessorServiceStub(channel) for name, channel in channels.items()}
    channels["router"] = settings.mesh.channel(settings.router_service_addr, "router")
    feedback = RoutingFeedback(router_service_pb2_grpc.RouterServiceStub(channels["router"]))
    client = await connect(settings)

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        return []

    async def cleanup() -> None:
        await feedback.drain()
        for channel in channels.values():
            await channel.close()
        await engine.dispose()

    async with payment_worker(client, settings, sessions, stubs, feedback):
        await schedule_sweep(client, settings)
        await serve("order-worker", settings, register, cleanup=cleanup)


if __name__ == "__main__":
    run("order-worker", Settings, start)
