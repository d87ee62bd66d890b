"""The entry point every processor service shares: `python -m services.processor_<id>` is
`main("processor_<id>", Settings, Plugin)`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.processor.v1 import processor_service_pb2, processor_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.server import run, serve
from services.processor_common.config import ProcessorSettings
from services.processor_common.credentials import MerchantCredentials
from services.processor_common.plugin import ProcessorPlugin
from services.processor_common.servicer import ProcessorServicer

S = TypeVar("S", bound=ProcessorSettings)

SERVICE_NAME = processor_service_pb2.DESCRIPTOR.services_by_name["ProcessorService"].full_name


def main(name: str, settings_class: type[S], plugin_factory: Callable[[S], ProcessorPlugin]) -> None:
    async def start(settings: ServiceSettings) -> None:
        assert isinstance(settings, settings_class)
        plugin = plugin_factory(settings)
        channel = settings.mesh.channel(settings.merchant_service_addr, "merchant")
        credentials = MerchantCredentials(
            merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channel),
            ttl_seconds=settings.credentials_cache_seconds,
            timeout_seconds=settings.merchant_call_timeout_seconds,
        )

        async def register(server: grpc.aio.Server) -> Sequence[str]:
            servicer = ProcessorServicer(plugin, credentials)
            processor_service_pb2_grpc.add_ProcessorServiceServicer_to_server(servicer, server)
            return [SERVICE_NAME]

        async def cleanup() -> None:
            await plugin.close()
            await channel.close()

        await serve(name, settings, register, cleanup=cleanup)

    run(name, settings_class, start)
