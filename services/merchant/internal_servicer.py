"""MerchantInternalService: merchant data for other services (never exposed at the edge)."""

from __future__ import annotations

from payloops.merchant.v1 import merchant_internal_service_pb2 as pb
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FailedPrecondition, FieldViolation, NotFound, require
from services.common.identity import Context
from services.merchant import repository
from services.merchant.credentials import CredentialCipher, CredentialsUnreadable, Sealed


class MerchantInternalServicer(merchant_internal_service_pb2_grpc.MerchantInternalServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher) -> None:
        self.sessions = sessions
        self.cipher = cipher

    async def GetProcessorCredentials(
        self, request: pb.GetProcessorCredentialsRequest, context: Context
    ) -> pb.GetProcessorCredentialsResponse:
        require(
            [FieldViolation(name, "is required") for name in ("merchant_id", "processor") if not getattr(request, name)]
        )
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
            credentials = self.cipher.open(request.merchant_id, Sealed(row.key_id, row.nonce, row.ciphertext))
        except CredentialsUnreadable as error:
            # Fail closed: never a payment with empty or someone else's credentials.
            raise FailedPrecondition(
                message=f"stored {request.processor} credentials cannot be decrypted: {error}",
                reason="CREDENTIALS_UNREADABLE",
            ) from None
        return pb.GetProcessorCredentialsResponse(credentials=credentials, enabled=row.enabled)

    async def GetRoutingConfig(
        self, request: pb.GetRoutingConfigRequest, context: Context
    ) -> pb.GetRoutingConfigResponse:
        require([FieldViolation("merchant_id", "is required")] if not request.merchant_id else [])
        async with self.sessions() as session:
            enabled = await repository.enabled_processors(session=session, merchant_id=request.merchant_id)
        # Stored routing rules arrive with the dashboard API; until then every merchant
        # routes by the default program.
        return pb.GetRoutingConfigResponse(enabled_processors=enabled)
