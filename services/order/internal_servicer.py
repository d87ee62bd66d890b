"""OrderInternalService: proto <-> events.apply_event and reconcile.Reconciler only."""

from __future__ import annotations

from datetime import UTC

from payloops.order.v1 import order_internal_service_pb2 as pb
from payloops.order.v1 import order_internal_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FieldViolation, require
from services.common.identity import Context
from services.order.checkout.desk import CheckoutDesk
from services.order.checkout.repository import session_to_proto
from services.order.convert import order_to_proto
from services.order.coordinator import PaymentMethod, validate_payment_method
from services.order.events import apply_event
from services.order.reconcile import Reconciler
from services.order.refund_coordinator import RefundCoordinator
from services.order.servicer import required_id


class OrderInternalServicer(order_internal_service_pb2_grpc.OrderInternalServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        refunds: RefundCoordinator,
        reconciler: Reconciler,
        checkout: CheckoutDesk,
    ) -> None:
        self.sessions = sessions
        self.refunds = refunds
        self.reconciler = reconciler
        self.checkout = checkout

    async def GetCheckoutPage(self, request: pb.GetCheckoutPageRequest, context: Context) -> pb.GetCheckoutPageResponse:
        page = await self.checkout.page(required_id(request.session_id, "session_id"))
        return pb.GetCheckoutPageResponse(
            session=session_to_proto(page.session), order=order_to_proto(page.order), attempt=page.attempt
        )

    async def PayCheckoutSession(
        self, request: pb.PayCheckoutSessionRequest, context: Context
    ) -> pb.PayCheckoutSessionResponse:
        session_id = required_id(request.session_id, "session_id")
        method = request.payment_method if request.HasField("payment_method") else None
        valid = validate_payment_method(method and PaymentMethod(method.type, method.token))
        page = await self.checkout.pay(session_id, valid, request.attempt, request.return_url)
        return pb.PayCheckoutSessionResponse(session=session_to_proto(page.session), order=order_to_proto(page.order))

    async def ApplyProcessorEvent(
        self, request: pb.ApplyProcessorEventRequest, context: Context
    ) -> pb.ApplyProcessorEventResponse:
        require(
            [
                FieldViolation(name, "is required")
                for name, present in (
                    ("merchant_id", bool(request.merchant_id)),
                    ("processor", bool(request.processor)),
                    ("event.event_id", bool(request.event.event_id)),
                )
                if not present
            ]
        )
        done = await apply_event(self.sessions, request.merchant_id, request.processor, request.event)
        if done.applied and done.refund_id and not done.refund_started:
            await self.refunds.start_stored(request.merchant_id, done.refund_id)
        elif done.applied and done.refund_id:
            await self.refunds.nudge(done.refund_id)
        return pb.ApplyProcessorEventResponse(applied=done.applied, order_id=done.order_id, refund_id=done.refund_id)

    async def Reconcile(self, request: pb.ReconcileRequest, context: Context) -> pb.ReconcileResponse:
        require(
            [FieldViolation(name, "is required") for name in ("start_time", "end_time") if not request.HasField(name)]
        )
        start, end = request.start_time.ToDatetime(tzinfo=UTC), request.end_time.ToDatetime(tzinfo=UTC)
        require([FieldViolation("end_time", "must be after start_time")] if end <= start else [])
        report = await self.reconciler.run(start, end, request.merchant_id)
        return pb.ReconcileResponse(
            findings=[
                pb.ReconcileFinding(
                    object_type=f.object_type,
                    object_id=f.object_id,
                    merchant_id=f.merchant_id,
                    order_id=f.order_id,
                    processor=f.processor,
                    processor_reference=f.processor_reference,
                    result=pb.ReconcileFinding.Result.Value(f.result),
                    ours=f.ours,
                    theirs=f.theirs,
                )
                for f in report.findings
            ],
            orders=report.orders,
            net_ours=report.net_ours,
            net_theirs=report.net_theirs,
        )
