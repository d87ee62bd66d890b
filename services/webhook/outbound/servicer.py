"""Outbound webhooks over gRPC: PublishEvent for the services that own the objects, and
the dashboard's list and replay (a part of WebhookService, composed in __main__ with
the processor-webhook receiver)."""

from __future__ import annotations

from datetime import UTC

from payloops.webhook.v1 import (
    webhook_internal_service_pb2,
    webhook_internal_service_pb2_grpc,
    webhook_pb2,
    webhook_service_pb2,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FieldViolation, require
from services.common.events import WEBHOOK_EVENT_TYPES
from services.common.identity import Context, caller
from services.common.pagination import next_page_token, page_size, position_after
from services.webhook.outbound import repository
from services.webhook.outbound.convert import delivery_to_proto, event_to_proto, struct_json
from services.webhook.outbound.deliveries import Deliveries
from services.webhook.outbound.models import AttemptRow, DeliveryRow, EventRow
from services.webhook.outbound.repository import NewEvent

Status = webhook_pb2.WebhookDelivery.Status


def new_event(request: webhook_internal_service_pb2.PublishEventRequest) -> NewEvent:
    event = request.event
    require(
        [
            *([] if request.merchant_id else [FieldViolation("merchant_id", "is required")]),
            *([] if event.id.startswith("evt_") else [FieldViolation("event.id", "must be an evt_ id")]),
            *([] if event.type in WEBHOOK_EVENT_TYPES else [FieldViolation("event.type", "is not a known event type")]),
            *([] if event.sequence > 0 else [FieldViolation("event.sequence", "must be positive")]),
            *([] if event.HasField("create_time") else [FieldViolation("event.create_time", "is required")]),
            *([] if "object" in event.data.fields else [FieldViolation("event.data.object", "is required")]),
        ],
        reason="EVENT_INVALID",
    )
    return NewEvent(
        id=event.id,
        merchant_id=request.merchant_id,
        type=event.type,
        sequence=event.sequence,
        data=struct_json(event.data),
        created_at=event.create_time.ToDatetime(tzinfo=UTC),
    )


class WebhookInternalServicer(webhook_internal_service_pb2_grpc.WebhookInternalServiceServicer):
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    async def PublishEvent(
        self, request: webhook_internal_service_pb2.PublishEventRequest, context: Context
    ) -> webhook_internal_service_pb2.PublishEventResponse:
        created, started = await self.deliveries.publish(new_event(request))
        return webhook_internal_service_pb2.PublishEventResponse(
            created=created, deliveries=[delivery_to_proto(d) for d in started]
        )


class OutboundWebhooks:
    """ListWebhookEvents and ReplayWebhookEvent of WebhookService."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], deliveries: Deliveries) -> None:
        self.sessions = sessions
        self.deliveries = deliveries

    async def ListWebhookEvents(
        self, request: webhook_service_pb2.ListWebhookEventsRequest, context: Context
    ) -> webhook_service_pb2.ListWebhookEventsResponse:
        who = caller(context)
        limit = page_size(request.page_size)
        after = position_after(request.page_token)
        require(
            [FieldViolation("delivery_status", "is not a delivery status")]
            if request.delivery_status not in Status.values()
            else [],
            reason="DELIVERY_STATUS_INVALID",
        )
        status = Status.Name(request.delivery_status) if request.delivery_status else ""
        async with self.sessions() as session:
            events = await repository.list_events(
                session=session,
                merchant_id=who.merchant_id,
                limit=limit + 1,
                type_=request.type,
                delivery_status=status,
                after=after,
            )
            page, more = events[:limit], len(events) > limit
            deliveries = await repository.deliveries_of(session=session, event_ids=[e.id for e in page])
            attempts = await repository.attempts_of(session=session, delivery_ids=[d.id for d in deliveries])
        token = next_page_token(page, more)
        return webhook_service_pb2.ListWebhookEventsResponse(
            events=[event_with_deliveries(e, deliveries, attempts) for e in page], next_page_token=token
        )

    async def ReplayWebhookEvent(
        self, request: webhook_service_pb2.ReplayWebhookEventRequest, context: Context
    ) -> webhook_service_pb2.ReplayWebhookEventResponse:
        who = caller(context)
        require([] if request.id else [FieldViolation("id", "is required")])
        added = await self.deliveries.replay(who.merchant_id, request.id, request.endpoint_id)
        return webhook_service_pb2.ReplayWebhookEventResponse(deliveries=[delivery_to_proto(d) for d in added])


def event_with_deliveries(
    event: EventRow, deliveries: list[DeliveryRow], attempts: list[AttemptRow]
) -> webhook_pb2.WebhookEvent:
    return event_to_proto(
        event,
        [
            delivery_to_proto(d, [a for a in attempts if a.delivery_id == d.id])
            for d in deliveries
            if d.event_id == event.id
        ],
    )
