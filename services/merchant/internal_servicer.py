"""MerchantInternalService: merchant data for other services (never exposed at the edge)."""

from __future__ import annotations

from payloops.merchant.v1 import merchant_internal_service_pb2 as pb
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FailedPrecondition, FieldViolation, NotFound, require
from services.common.identity import Context
from services.merchant import repository
from services.merchant.catalogue import subscribed
from services.merchant.convert import retry_settings_to_proto, routing_rule_to_proto, webhook_endpoint_to_proto
from services.merchant.credentials import CredentialCipher, CredentialsUnreadable


def required_fields(request: object, *names: str) -> None:
    require([FieldViolation(name, "is required") for name in names if not getattr(request, name)])


def unreadable(what: str, error: CredentialsUnreadable) -> FailedPrecondition:
    # Fail closed: never a payment or a signature with empty or someone else's secret.
    return FailedPrecondition(message=f"stored {what} cannot be decrypted: {error}", reason="CREDENTIALS_UNREADABLE")


class MerchantInternalServicer(merchant_internal_service_pb2_grpc.MerchantInternalServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher) -> None:
        self.sessions = sessions
        self.cipher = cipher

    async def GetProcessorCredentials(
        self, request: pb.GetProcessorCredentialsRequest, context: Context
    ) -> pb.GetProcessorCredentialsResponse:
        required_fields(request, "merchant_id", "processor")
        async with self.sessions() as session:
            row = await repository.get_processor_config(
                session=session, merchant_id=request.merchant_id, processor=request.processor
            )
        if row is None:
            raise NotFound(
                message=f"{request.processor} is not configured for this merchant",
                reason="PROCESSOR_NOT_CONFIGURED",
                resource_type="processor_config",
                resource_name=request.processor,
            )
        try:
            credentials = self.cipher.open(request.merchant_id, repository.sealed_of(row))
        except CredentialsUnreadable as error:
            raise unreadable(f"{request.processor} credentials", error) from None
        return pb.GetProcessorCredentialsResponse(credentials=credentials, enabled=row.enabled)

    async def GetRoutingConfig(
        self, request: pb.GetRoutingConfigRequest, context: Context
    ) -> pb.GetRoutingConfigResponse:
        required_fields(request, "merchant_id")
        async with self.sessions() as session:
            merchant = await repository.get_merchant_or_raise(session=session, merchant_id=request.merchant_id)
            enabled = await repository.enabled_processors(session=session, merchant_id=request.merchant_id)
            rules = await repository.list_routing_rules(session=session, merchant_id=request.merchant_id)
        return pb.GetRoutingConfigResponse(
            enabled_processors=enabled,
            routing_rules=[routing_rule_to_proto(row) for row in rules],
            retry_settings=retry_settings_to_proto(merchant),
        )

    async def GetMerchantProfile(
        self, request: pb.GetMerchantProfileRequest, context: Context
    ) -> pb.GetMerchantProfileResponse:
        required_fields(request, "merchant_id")
        async with self.sessions() as session:
            merchant = await repository.get_merchant_or_raise(session=session, merchant_id=request.merchant_id)
        return pb.GetMerchantProfileResponse(name=merchant.name)

    async def ListWebhookSubscriptions(
        self, request: pb.ListWebhookSubscriptionsRequest, context: Context
    ) -> pb.ListWebhookSubscriptionsResponse:
        required_fields(request, "merchant_id", "event_type")
        async with self.sessions() as session:
            rows = await repository.list_webhook_endpoints(session=session, merchant_id=request.merchant_id)
        endpoints = []
        for row in rows:
            if not subscribed(row.events, request.event_type):
                continue
            try:
                opened = self.cipher.open(
                    row.merchant_id, repository.sealed_of(row), context=repository.sealed_context(row)
                )
            except CredentialsUnreadable as error:
                raise unreadable(f"signing secret of webhook endpoint {row.id}", error) from None
            endpoints.append(webhook_endpoint_to_proto(row, secret=opened["secret"]))
        return pb.ListWebhookSubscriptionsResponse(webhook_endpoints=endpoints)
