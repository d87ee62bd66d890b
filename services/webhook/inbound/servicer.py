"""WebhookService: inbound processor webhooks. Verify (the processor service's
ParseWebhook), record durably, acknowledge, then apply in the background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_service_pb2
from payloops.webhook.v1 import webhook_service_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FieldViolation, InvalidArgument, relay, require
from services.common.identity import PROCESSOR_HEADER, Context, metadata_value
from services.webhook.inbound import repository
from services.webhook.inbound.applier import EventApplier

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub

# Our own metadata (and gRPC's) is not the processor's: it never reaches the verifier.
PRIVATE_PREFIXES = ("x-payloops-", "grpc-", ":")


def processor_headers(context: Context) -> dict[str, str]:
    return {
        key: value
        for key, value in context.invocation_metadata() or ()
        if isinstance(value, str) and not key.startswith(PRIVATE_PREFIXES)
    }


class InboundWebhooks:
    """ReceiveProcessorWebhook of WebhookService."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        processors: Mapping[str, ProcessorServiceAsyncStub],
        applier: EventApplier,
        call_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.processors = processors
        self.applier = applier
        self.call_timeout = call_timeout

    async def ReceiveProcessorWebhook(
        self, request: webhook_service_pb2.ReceiveProcessorWebhookRequest, context: Context
    ) -> webhook_service_pb2.ReceiveProcessorWebhookResponse:
        processor = metadata_value(context, PROCESSOR_HEADER)
        if processor not in self.processors:
            raise InvalidArgument(message=f"unknown processor {processor!r}", reason="PROCESSOR_UNKNOWN")
        require([FieldViolation("merchant_id", "is required")] if not request.merchant_id else [])
        body = request.raw.data
        parse = processor_service_pb2.ParseWebhookRequest(
            merchant_id=request.merchant_id, body=body, headers=processor_headers(context)
        )
        try:
            parsed = await self.processors[processor].ParseWebhook(parse, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        async with self.sessions.begin() as session:
            row = await repository.record_event(
                session=session,
                processor=processor,
                merchant_id=request.merchant_id,
                event=parsed.event,
                body=body,
                sweep_after=self.applier.sweep_after,
            )
        if row.applied_at is None:
            self.applier.apply_soon(row)
        return webhook_service_pb2.ReceiveProcessorWebhookResponse(received=True)
