"""python -m services.web"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.order.v1 import order_internal_service_pb2_grpc
from pydantic import ValidationError

from services.common.logging import configure_logging
from services.web.app import Dashboard, build_app
from services.web.checkout import Checkout
from services.web.config import Settings


async def serve(settings: Settings) -> None:
    orders = settings.mesh.channel(settings.order_service_addr, "order")
    merchants = settings.mesh.channel(settings.merchant_service_addr, "merchant")
    checkout = Checkout(
        order_internal_service_pb2_grpc.OrderInternalServiceStub(orders),
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(merchants),
        return_wait_seconds=settings.return_wait_seconds,
        call_timeout=settings.call_timeout_seconds,
    )
    runner = web.AppRunner(build_app(checkout, Dashboard(settings.dashboard_dir)), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.listen_host, settings.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    await orders.close()
    await merchants.close()


def main() -> None:
    try:
        settings = Settings()  # from the environment
    except ValidationError as error:
        sys.exit(f"web: bad configuration: {error}")
    configure_logging("web", settings.log_level)
    asyncio.run(serve(settings))


main()
