"""python -m services.router"""

from collections.abc import Sequence

import grpc
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.server import run, serve, unimplemented
from services.router.config import Settings


async def start(settings: ServiceSettings) -> None:
    async def register(server: grpc.aio.Server) -> Sequence[str]:
        # The behaviour arrives with its issue; until then every RPC answers UNIMPLEMENTED.
        router_service_pb2_grpc.add_RouterServiceServicer_to_server(
            unimplemented(router_service_pb2_grpc.RouterServiceServicer),
            server,
        )
        return [router_service_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name]

    await serve("router", settings, register)


if __name__ == "__main__":
    run("router", Settings, start)
