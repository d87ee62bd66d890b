"""python -m services.webhook"""

from collections.abc import Sequence

import grpc
from payloops.webhook.v1 import webhook_service_pb2, webhook_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.server import run, serve, unimplemented
from services.webhook.config import Settings


async def start(settings: ServiceSettings) -> None:
    async def register(server: grpc.aio.Server) -> Sequence[str]:
        # The behaviour arrives with its issue; until then every RPC answers UNIMPLEMENTED.
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(
            unimplemented(webhook_service_pb2_grpc.WebhookServiceServicer),
            server,
        )
        return [webhook_service_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name]

    await serve("webhook", settings, register)


if __name__ == "__main__":
    run("webhook", Settings, start)
