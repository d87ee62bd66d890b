"""The public Order and Refund resources as the API shows them (proto, and the
proto3 JSON mapping the gateway answers with)."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from payloops.order.v1 import order_pb2

from services.common.timestamps import timestamp
from services.order.domain import Order
from services.order.models import RefundRow

pb = order_pb2.Order


def order_to_proto(order: Order) -> order_pb2.Order:
    return order_pb2.Order(
        id=order.id,
        merchant_id=order.merchant_id,
        amount=order.amount,
        currency=order.currency,
        status=pb.Status.Value(order.status.value),
        capture_method=pb.CaptureMethod.Value(order.capture_method.value),
        amount_captured=order.amount_captured,
        amount_refunded=order.amount_refunded,
        customer_email=order.customer_email,
        description=order.description,
        metadata=order.metadata,
        processor=order.processor,
        failure_code=order.failure_code,
        failure_message=order.failure_message,
        next_action=(
            order_pb2.NextAction(type=order.next_action_type, redirect_url=order.next_action_url)
            if order.next_action_type
            else None
        ),
        create_time=timestamp(order.created_at),
        update_time=timestamp(order.updated_at),
    )


def order_json(order: Order) -> dict[str, Any]:
    """The JSON GET /v1/orders/{id} answers (the gateway prints fields with default values too)."""
    return json_format.MessageToDict(order_to_proto(order), always_print_fields_with_no_presence=True)


def refund_to_proto(row: RefundRow) -> order_pb2.Refund:
    return order_pb2.Refund(
        id=row.id,
        order_id=row.order_id,
        amount=row.amount,
        currency=row.currency,
        status=order_pb2.Refund.Status.Value(row.status),
        processor=row.processor,
        reason=row.reason,
        create_time=timestamp(row.created_at),
    )


def refund_json(row: RefundRow) -> dict[str, Any]:
    """The JSON GET /v1/refunds/{id} answers."""
    return json_format.MessageToDict(refund_to_proto(row), always_print_fields_with_no_presence=True)
