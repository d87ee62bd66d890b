"""python -m services.order"""

from collections.abc import Sequence

import grpc
from payloops.order.v1 import order_service_pb2, order_service_pb2_grpc

from services.common.config import ServiceSettings
from services.common.db import create_engine, session_factory
from services.common.server import run, serve
from services.order.config import Settings
from services.order.servicer import OrderServicer


async def start(settings: ServiceSettings) -> None:
    assert isinstance(settings, Settings)
    engine = create_engine(settings)

    async def register(server: grpc.aio.Server) -> Sequence[str]:
        # Payments, refunds and checkout arrive with their issues; they answer UNIMPLEMENTED until then.
        servicer = OrderServicer(settings, session_factory(engine))  # type: ignore[abstract]
        order_service_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server)
        return [order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name]

    await serve("order", settings, register, cleanup=engine.dispose)


if __name__ == "__main__":
    run("order", Settings, start)
