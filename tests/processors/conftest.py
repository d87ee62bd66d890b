"""Once per session: localstripe and the Razorpay sandbox (the real ones, as subprocesses),
the merchant-service stand-in, and both processor services as subprocesses on free ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from payloops.processor.v1 import processor_service_pb2_grpc

from launcher.mesh_ca import development_mesh, mesh_env
from launcher.ports import free_port
from services.common.mesh import MeshFiles
from tests.processors.harness import LOOPBACK, FakeMerchants, FaultProxy, Process, python_module, start_fake_merchants
from tests.processors.sides import RazorpaySide, Side, StripeSide

# Short enough to keep the timeout tests quick, long enough for a loaded 2-core machine.
PROCESSOR_TIMEOUT_SECONDS = 2.0


@dataclass
class Processors:
    sides: dict[str, Side]
    merchants: FakeMerchants
    proxy: FaultProxy


def _service_env(port: int, merchant_addr: str, mesh: MeshFiles, **extra: str) -> dict[str, str]:
    return {
        **mesh_env(mesh),
        "PORT": str(port),
        "LISTEN_HOST": LOOPBACK,
        "PAYLOOPS_ENV": "test",
        "DATABASE_URL": "postgresql://unused",  # required by ServiceSettings, unused here
        "REDIS_URL": "redis://unused",
        "MERCHANT_SERVICE_ADDR": merchant_addr,
        "PROCESSOR_TIMEOUT_SECONDS": str(PROCESSOR_TIMEOUT_SECONDS),
        "PROCESSOR_CONNECT_TIMEOUT_SECONDS": "1",
        "GRACE_PERIOD_SECONDS": "0.5",
        "LOG_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture(scope="session")
async def processors(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Processors]:
    log_dir = tmp_path_factory.mktemp("processors")
    mesh = development_mesh(log_dir / "mesh")
    merchant_server, merchant_addr, merchants = await start_fake_merchants(mesh["merchant"])
    ports = {name: free_port() for name in ("localstripe", "razorpay_sandbox", "stripe", "razorpay")}
    localstripe_url = f"http://{LOOPBACK}:{ports['localstripe']}"
    sandbox_url = f"http://{LOOPBACK}:{ports['razorpay_sandbox']}"
    proxy = FaultProxy(localstripe_url)
    processes: list[Process] = []
    channels: list[grpc.aio.Channel] = []
    try:
        await proxy.start()
        localstripe = Process(
            "localstripe",
            python_module("launcher.localstripe_server", "--host", LOOPBACK, "--port", str(ports["localstripe"])),
            log_dir,
        )
        processes.append(localstripe)
        sandbox = Process(
            "razorpay_sandbox",
            python_module("sandboxes.razorpay", "--host", LOOPBACK, "--port", str(ports["razorpay_sandbox"])),
            log_dir,
        )
        processes.append(sandbox)
        stripe_env = _service_env(ports["stripe"], merchant_addr, mesh["processor-stripe"], STRIPE_API_BASE=proxy.url)
        stripe_service = Process("processor_stripe", python_module("services.processor_stripe"), log_dir, stripe_env)
        processes.append(stripe_service)
        razorpay_env = _service_env(
            ports["razorpay"], merchant_addr, mesh["processor-razorpay"], RAZORPAY_BASE_URL=sandbox_url
        )
        razorpay_service = Process(
            "processor_razorpay", python_module("services.processor_razorpay"), log_dir, razorpay_env
        )
        processes.append(razorpay_service)
        targets = {name: f"{LOOPBACK}:{ports[name]}" for name in ("stripe", "razorpay")}
        await asyncio.gather(
            localstripe.wait_http(localstripe_url + "/v1/payment_intents"),
            sandbox.wait_http(sandbox_url + "/healthz"),
            stripe_service.wait_grpc(targets["stripe"], mesh["operator"]),
            razorpay_service.wait_grpc(targets["razorpay"], mesh["operator"]),
        )
        stubs: dict[str, Any] = {}
        webhook_stubs: dict[str, Any] = {}
        for name, target in targets.items():
            for caller, found in (("order", stubs), ("webhook", webhook_stubs)):
                channel = mesh[caller].channel(target, f"processor_{name}")
                channels.append(channel)
                found[name] = processor_service_pb2_grpc.ProcessorServiceStub(channel)
        sides: dict[str, Side] = {
            "stripe": StripeSide(stubs["stripe"], localstripe_url, proxy),
            "razorpay": RazorpaySide(stubs["razorpay"], sandbox_url),
        }
        for name, side in sides.items():
            side.webhook_stub = webhook_stubs[name]
        yield Processors(sides=sides, merchants=merchants, proxy=proxy)
    finally:
        for channel in channels:
            await channel.close()
        for process in reversed(processes):
            process.stop()
        await proxy.stop()
        await merchant_server.stop(None)


@pytest.fixture(params=["stripe", "razorpay"])
def side(request: pytest.FixtureRequest, processors: Processors) -> Side:
    return processors.sides[request.param]
