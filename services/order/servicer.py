"""OrderService: proto <-> domain only."""

from __future__ import annotations

import asyncio
from datetime import UTC

from payloops.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import driver_statements, engine_of
from services.common.errors import FieldViolation, InvalidArgument
from services.common.identity import Context, caller
from services.common.pagination import next_page_token, page_size, position_after
from services.common.timestamps import timestamp
from services.order import analytics, repository
from services.order.checkout.desk import CheckoutDesk
from services.order.checkout.domain import MAX_EXPIRES_SECONDS, NewCheckoutSession
from services.order.checkout.repository import session_to_proto
from services.order.config import Settings
from services.order.convert import order_to_proto, refund_to_proto
from services.order.coordinator import PaymentCoordinator, PaymentMethod, validate_payment_method
from services.order.domain import CaptureMethod, NewOrder, OrderStatus, validate_new_order
from services.order.idempotency import request_key, request_transaction
from services.order.models import TransactionRow
from services.order.refund_coordinator import RefundCoordinator

pb = order_pb2.Order


def required_id(value: str, field: str = "id") -> str:
    if not value:
        raise InvalidArgument(
            message=f"{field} is required",
            reason="INVALID_ARGUMENT",
            violations=[FieldViolation(field, "is required")],
        )
    return value


def transaction_to_proto(row: TransactionRow) -> order_pb2.Transaction:
    return order_pb2.Transaction(
        id=row.id,
        order_id=row.order_id,
        type=order_pb2.Transaction.Type.Value(row.type),
        status=order_pb2.Transaction.Status.Value(row.status),
        processor=row.processor,
        processor_reference=row.processor_reference,
        amount=row.amount,
        currency=row.currency,
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        routing_decision=order_pb2.RoutingDecision(
            rule_id=row.routing_rule_id,
            reason=row.routing_reason,
            candidate_index=row.candidate_index,
            approach=row.routing_approach,
            score=row.routing_score,
            samples=row.routing_samples,
        ),
        refund_id=row.refund_id,
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


class OrderServicer(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        payments: PaymentCoordinator,
        refunds: RefundCoordinator,
        checkout: CheckoutDesk,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.engine = engine_of(sessions)  # for the statements that run on psycopg
        self.payments = payments
        self.refunds = refunds
        self.checkout = checkout
        # One analytics summary at a time per process: it takes three pooled connections,
        # and the payments need the rest of the pool.
        self.summaries = asyncio.Semaphore(1)

    async def CreateOrder(self, request: order_service_pb2.CreateOrderRequest, context: Context) -> order_pb2.Order:
        who = caller(context)
        new = NewOrder(
            amount=request.amount,
            currency=request.currency,
            capture_method=(
                CaptureMethod.MANUAL if request.capture_method == pb.CaptureMethod.MANUAL else CaptureMethod.AUTOMATIC
            ),
            customer_email=request.customer_email,
            description=request.description,
            metadata=dict(request.metadata),
        )
        validate_new_order(new, max_amount=self.settings.max_amount)
        async with request_transaction(self.engine) as db:
            order = await repository.create_order(db=db, caller=who, order=new, idempotency_key=request_key())
        return order_to_proto(order)

    async def GetOrder(self, request: order_service_pb2.GetOrderRequest, context: Context) -> order_pb2.Order:
        who = caller(context)
        async with driver_statements(self.engine) as db:
            order = await repository.get_order(db=db, caller=who, order_id=required_id(request.id))
        return order_to_proto(order)

    async def ListOrders(
        self, request: order_service_pb2.ListOrdersRequest, context: Context
    ) -> order_service_pb2.ListOrdersResponse:
        who = caller(context)
        limit = page_size(request.page_size)
        after = position_after(request.page_token)
        status = OrderStatus(pb.Status.Name(request.status)) if request.status else None
        async with driver_statements(self.engine) as db:
            orders = await repository.list_orders(db=db, caller=who, limit=limit + 1, status=status, after=after)
        page, more = orders[:limit], len(orders) > limit
        next_token = next_page_token(page, more)
        return order_service_pb2.ListOrdersResponse(
            orders=[order_to_proto(o) for o in page], next_page_token=next_token
        )

    async def PayOrder(self, request: order_service_pb2.PayOrderRequest, context: Context) -> order_pb2.Order:
        who = caller(context)
        order_id = required_id(request.id)
        method = request.payment_method if request.HasField("payment_method") else None
        valid = validate_payment_method(method and PaymentMethod(method.type, method.token))
        return order_to_proto(await self.payments.pay(who, order_id, valid, request.return_url))

    async def CaptureOrder(self, request: order_service_pb2.CaptureOrderRequest, context: Context) -> order_pb2.Order:
        who = caller(context)
        amount = request.amount if request.HasField("amount") else None
        return order_to_proto(await self.payments.capture(who, required_id(request.id), amount))

    async def CancelOrder(self, request: order_service_pb2.CancelOrderRequest, context: Context) -> order_pb2.Order:
        return order_to_proto(await self.payments.cancel(caller(context), required_id(request.id)))

    async def ListTransactions(
        self, request: order_service_pb2.ListTransactionsRequest, context: Context
    ) -> order_service_pb2.ListTransactionsResponse:
        who = caller(context)
        async with self.sessions() as session:
            rows = await repository.list_transactions(
                session=session, caller=who, order_id=required_id(request.order_id, "order_id")
            )
        return order_service_pb2.ListTransactionsResponse(transactions=[transaction_to_proto(r) for r in rows])

    async def RefundOrder(self, request: order_service_pb2.RefundOrderRequest, context: Context) -> order_pb2.Refund:
        who = caller(context)
        amount = request.amount if request.HasField("amount") else None
        refund = await self.refunds.refund(who, required_id(request.id), amount, request.reason)
        return refund_to_proto(refund)

    async def GetRefund(self, request: order_service_pb2.GetRefundRequest, context: Context) -> order_pb2.Refund:
        return refund_to_proto(await self.refunds.get(caller(context), required_id(request.id)))

    async def CreateCheckoutSession(
        self, request: order_service_pb2.CreateCheckoutSessionRequest, context: Context
    ) -> order_pb2.CheckoutSession:
        new = NewCheckoutSession(
            order_id=request.order_id,
            success_url=request.success_url,
            cancel_url=request.cancel_url,
            expires_in_seconds=(
                request.expires_in_seconds if request.HasField("expires_in_seconds") else MAX_EXPIRES_SECONDS
            ),
        )
        return session_to_proto(await self.checkout.create(caller(context), new))

    async def GetCheckoutSession(
        self, request: order_service_pb2.GetCheckoutSessionRequest, context: Context
    ) -> order_pb2.CheckoutSession:
        return session_to_proto(await self.checkout.get(caller(context), required_id(request.id)))

    async def ExpireCheckoutSession(
        self, request: order_service_pb2.ExpireCheckoutSessionRequest, context: Context
    ) -> order_pb2.CheckoutSession:
        return session_to_proto(await self.checkout.expire(caller(context), required_id(request.id)))

    async def GetAnalyticsSummary(
        self, request: order_service_pb2.GetAnalyticsSummaryRequest, context: Context
    ) -> order_pb2.AnalyticsSummary:
        scope = analytics.scope_of(
            caller(context),
            start=request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None,
            end=request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time") else None,
            mode=request.mode,
        )
        async with self.summaries:
            return await analytics.summary(sessions=self.sessions, scope=scope)
