"""Test plumbing for the processor services: subprocesses on free loopback ports, a stand-in
for our own merchant service (fixed sandbox credentials per merchant id), and a small HTTP
fault proxy in front of localstripe (it has no fault injection of its own)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from payloops.merchant.v1 import merchant_internal_service_pb2 as merchant_pb
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc

from services.common.errors import FailedPrecondition, NotFound
from services.common.identity import Context
from services.common.interceptors import ErrorInterceptor
from services.common.mesh import MeshFiles

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"

# Merchant ids the stand-in merchant service refuses, like the real one does.
UNCONFIGURED = "mer_unconfigured"
TAMPERED = "mer_tampered"


class Process:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: Sequence[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                list(argv), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
            )

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_path.read_text()[-4000:]}")

    async def wait_http(self, url: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                self.check_alive()
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=0.5)) as answer:
                        if answer.status < 500:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer at {url}:\n{self.log_path.read_text()[-4000:]}")
                await asyncio.sleep(0.05)

    async def wait_grpc(self, target: str, mesh: MeshFiles, timeout: float = 20) -> None:
        """Until the service at `target` (this process) serves, asked over the mesh."""
        deadline = time.monotonic() + timeout
        async with mesh.channel(target, self.name) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while True:
                self.check_alive()
                try:
                    answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not serve at {target}:\n{self.log_path.read_text()[-4000:]}")
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


# -- the merchant service stand-in


def credentials_for(merchant_id: str, processor: str) -> dict[str, str]:
    """Each merchant id its own sandbox account (a Razorpay key id is an account there)."""
    suffix = merchant_id.removeprefix("mer_")
    if processor == "stripe":
        return {"secretKey": f"sk_test_{suffix}", "webhookSecret": f"whsec_{suffix}"}
    return {"keyId": f"rzp_test_{suffix}", "keySecret": f"secret_{suffix}", "webhookSecret": f"rzpwh_{suffix}"}


class FakeMerchants(merchant_internal_service_pb2_grpc.MerchantInternalServiceServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def GetProcessorCredentials(
        self, request: merchant_pb.GetProcessorCredentialsRequest, context: Context
    ) -> merchant_pb.GetProcessorCredentialsResponse:
        self.calls += 1
        if request.merchant_id == UNCONFIGURED:
            raise NotFound(
                message=f"{request.processor} is not configured for this merchant",
                reason="PROCESSOR_NOT_CONFIGURED",
                resource_type="processor_config",
                resource_name=request.processor,
            )
        if request.merchant_id == TAMPERED:
            raise FailedPrecondition(message="stored credentials cannot be decrypted", reason="CREDENTIALS_UNREADABLE")
        return merchant_pb.GetProcessorCredentialsResponse(
            credentials=credentials_for(request.merchant_id, request.processor), enabled=True
        )


async def start_fake_merchants(mesh: MeshFiles) -> tuple[grpc.aio.Server, str, FakeMerchants]:
    """The stand-in, holding the merchant service's mesh identity `mesh`."""
    servicer = FakeMerchants()  # type: ignore[abstract]  # only the RPC the processors call
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    merchant_internal_service_pb2_grpc.add_MerchantInternalServiceServicer_to_server(servicer, server)
    port = server.add_secure_port(f"{LOOPBACK}:0", mesh.server_credentials())
    await server.start()
    return server, f"{LOOPBACK}:{port}", servicer


# -- a fault-injecting proxy in front of localstripe


@dataclass
class Fault:
    api_key: str  # only requests made with this Stripe key
    method: str
    path_suffix: str
    mode: str  # "http_500": answer 500 without forwarding; "delay_after": forward, then stall
    delay_s: float = 0.0
    count: int = 1


_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.session: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def _take(self, request: web.Request) -> Fault | None:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        for fault in self.faults:
            if fault.api_key == key and fault.method == request.method and request.path.endswith(fault.path_suffix):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        fault = self._take(request)
        if fault is not None and fault.mode == "http_500":
            error = {"error": {"type": "api_error", "message": "injected server error"}}
            return web.json_response(error, status=500)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self.session.request(
            request.method, self.upstream + request.path_qs, data=await request.read(), headers=headers
        ) as answer:
            body = await answer.read()
            status, content_type = answer.status, answer.content_type
        if fault is not None and fault.mode == "delay_after":
            await asyncio.sleep(fault.delay_s)
        return web.Response(body=body, status=status, content_type=content_type)

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, LOOPBACK, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{LOOPBACK}:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()
