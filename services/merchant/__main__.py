"""python -m services.merchant"""

from collections.abc import Sequence

import grpc
from payloops.envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from payloops.merchant.v1 import (
    merchant_internal_service_pb2,
    merchant_internal_service_pb2_grpc,
    merchant_service_pb2,
    merchant_service_pb2_grpc,
)

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve, unimplemented
from services.merchant.authenticator import ApiKeyAuthenticator
from services.merchant.authz import EdgeAuthorizer
from services.merchant.config import Settings
from services.merchant.credentials import CredentialCipher
from services.merchant.internal_servicer import MerchantInternalServicer


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    cipher = CredentialCipher(settings.credential_keys, settings.credential_active_key_id)
    api_keys = ApiKeyAuthenticator(
        sessions, hmac_secret=settings.api_key_hmac_secret, cache_seconds=settings.auth_cache_seconds
    )

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(EdgeAuthorizer(api_keys), server)
        # Accounts, keys, processors, rules and endpoints arrive with the accounts work;
        # until then these answer UNIMPLEMENTED.
        merchant_service_pb2_grpc.add_MerchantServiceServicer_to_server(
            unimplemented(merchant_service_pb2_grpc.MerchantServiceServicer),
            server,
        )
        # ListWebhookSubscriptions arrives with webhook endpoints; UNIMPLEMENTED until then.
        internal = MerchantInternalServicer(sessions, cipher)  # type: ignore[abstract]
        merchant_internal_service_pb2_grpc.add_MerchantInternalServiceServicer_to_server(internal, server)
        return [
            external_auth_pb2.DESCRIPTOR.services_by_name["Authorization"].full_name,
            merchant_service_pb2.DESCRIPTOR.services_by_name["MerchantService"].full_name,
            merchant_internal_service_pb2.DESCRIPTOR.services_by_name["MerchantInternalService"].full_name,
        ]

    await serve("merchant", settings, register, cleanup=engine.dispose)


if __name__ == "__main__":
    run("merchant", Settings, start)
