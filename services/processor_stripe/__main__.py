"""python -m services.processor_stripe"""

from collections.abc import Sequence

import grpc
from payloops.processor.v1 import processor_service_pb2, processor_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.server import run, serve, unimplemented
from services.processor_stripe.config import Settings


async def start(settings: ServiceSettings) -> None:
    async def register(server: grpc.aio.Server) -> Sequence[str]:
        # The behaviour arrives with its issue; until then every RPC answers UNIMPLEMENTED.
        processor_service_pb2_grpc.add_ProcessorServiceServicer_to_server(
            unimplemented(processor_service_pb2_grpc.ProcessorServiceServicer),
            server,
        )
        return [processor_service_pb2.DESCRIPTOR.services_by_name["ProcessorService"].full_name]

    await serve("processor_stripe", settings, register)


if __name__ == "__main__":
    run("processor_stripe", Settings, start)
