"""Service bootstrap: a grpc.aio server with the error interceptor, the standard
health service, server reflection, and a graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common.config import ServiceSettings
from services.common.interceptors import ErrorInterceptor
from services.common.logging import configure_logging

log = logging.getLogger("payloops.server")

T = TypeVar("T")

Register = Callable[[grpc.aio.Server], Awaitable[Sequence[str]]]
Cleanup = Callable[[], Awaitable[None]]


async def serve(
    name: str,
    settings: ServiceSettings,
    register: Register,
    cleanup: Cleanup | None = None,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> None:
    """Run until SIGTERM/SIGINT. `register` adds the servicers and returns their full names."""
    server = grpc.aio.server(interceptors=[ErrorInterceptor(), *interceptors])
    service_names = list(await register(server))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    try:
        server.add_secure_port(settings.listen_address, settings.mesh.server_credentials())
    except RuntimeError:
        sys.exit(f"{name}: cannot listen on {settings.listen_address} (port in use?)")
    await server.start()
    for service in ["", *service_names]:
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"address": settings.listen_address, "services": service_names})

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("stopping")
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.grace_period_seconds)
    if cleanup is not None:
        await cleanup()


def run(
    name: str,
    settings_factory: Callable[[], ServiceSettings],
    start: Callable[[ServiceSettings], Coroutine[Any, Any, None]],
) -> None:
    """Entry point of `python -m services.<name>`: settings, logging, then `start`."""
    try:
        settings = settings_factory()
    except ValueError as error:  # pydantic ValidationError and refused secrets
        sys.exit(f"{name}: bad configuration: {error}")
    configure_logging(name, settings.log_level)
    asyncio.run(start(settings))


def unimplemented(servicer_class: Callable[[], T]) -> T:
    """A generated servicer whose RPCs all still answer UNIMPLEMENTED (later work)."""
    return servicer_class()
