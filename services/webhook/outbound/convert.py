"""Outbound events and deliveries: proto <-> stored rows, and the JSON body sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from payloops.webhook.v1 import webhook_pb2

from services.common.timestamps import timestamp
from services.webhook.outbound.models import AttemptRow, DeliveryRow, EventRow

Status = webhook_pb2.WebhookDelivery.Status


def plain(value: Any) -> Any:
    """JSON from a google.protobuf.Struct: its numbers are doubles; whole ones were integers."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def struct_json(data: Any) -> dict[str, Any]:
    converted: dict[str, Any] = plain(json_format.MessageToDict(data))
    return converted


def event_body(event: EventRow) -> dict[str, Any]:
    """What the merchant's endpoint receives."""
    return {
        "id": event.id,
        "type": event.type,
        "createdAt": timestamp(event.created_at).ToJsonString(),
        # Deliveries run independently, so they may arrive out of order: the per-object
        # sequence (1, 2, ...) lets the receiver keep the newest state.
        "sequence": event.sequence,
        "data": event.data,
    }


def delivery_to_proto(row: DeliveryRow, attempts: Sequence[AttemptRow] = ()) -> webhook_pb2.WebhookDelivery:
    delivery = webhook_pb2.WebhookDelivery(
        id=row.id,
        event_id=row.event_id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        status=Status.Value(row.status),
        attempts=[
            webhook_pb2.DeliveryAttempt(
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                error=a.error,
                attempt_time=timestamp(a.attempted_at),
            )
            for a in attempts
        ],
        create_time=timestamp(row.created_at),
    )
    if row.next_attempt_at is not None:
        delivery.next_attempt_time.CopyFrom(timestamp(row.next_attempt_at))
    return delivery


def event_to_proto(row: EventRow, deliveries: Sequence[webhook_pb2.WebhookDelivery] = ()) -> webhook_pb2.WebhookEvent:
    event = webhook_pb2.WebhookEvent(
        id=row.id,
        type=row.type,
        create_time=timestamp(row.created_at),
        sequence=row.sequence,
        deliveries=deliveries,
    )
    event.data.update(row.data)
    return event
