"""What mutual TLS costs one internal gRPC hop, against plaintext, in the same run.

    .venv/bin/python -m bench.mesh_bench [--calls 3000] [--connects 200] [--json out.json]

One grpc.aio server in this process, with the interceptor every PayLoops service runs,
serves the standard health service on a plaintext port and on a mesh port (a development
CA from launcher.mesh_ca; client certificates demanded). It measures three ways of
calling it: plaintext with the interceptor's call policy switched off (every hop before
the mesh), mutual TLS with the policy off, and the mesh (mutual TLS and the policy). For
each: the latency of a unary call on a channel that is already up (what a payment pays
per hop: services keep their channels) and of a new connection (handshake + first call,
paid once per channel). Sequential calls on loopback: per-call figures, not throughput.
Ratios are p50 to plaintext's."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from launcher.mesh_ca import development_mesh
from services.common import interceptors


def cuts(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


async def warm_calls(channel: grpc.aio.Channel, calls: int) -> list[float]:
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest()
    for _ in range(50):
        await stub.Check(request, timeout=5)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await stub.Check(request, timeout=5)
        samples.append(time.perf_counter() - started)
    return samples


async def connect(open_channel: Callable[[], grpc.aio.Channel], connects: int) -> list[float]:
    samples = []
    for _ in range(connects):
        started = time.perf_counter()
        async with open_channel() as channel:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        samples.append(time.perf_counter() - started)
    return samples


@contextlib.contextmanager
def policy(enforced: bool) -> Iterator[None]:
    """Without the call policy, the interceptor is what every service ran before the mesh."""
    saved = interceptors.check_caller
    if not enforced:
        interceptors.check_caller = lambda method, context: None
    try:
        yield
    finally:
        interceptors.check_caller = saved


async def measure(calls: int, connects: int) -> dict[str, dict[str, dict[str, float]]]:
    with tempfile.TemporaryDirectory() as directory:
        mesh = development_mesh(Path(directory))
        credentials = mesh["router"].server_credentials()
        server = grpc.aio.server(interceptors=[interceptors.ErrorInterceptor()])
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        plain_port = server.add_insecure_port("127.0.0.1:0")
        tls_port = server.add_secure_port("127.0.0.1:0", credentials)
        await server.start()
        caller = mesh["order"]
        variants: dict[str, tuple[Callable[[], grpc.aio.Channel], bool]] = {
            "before: plaintext": (lambda: grpc.aio.insecure_channel(f"127.0.0.1:{plain_port}"), False),
            "mutual TLS, no call policy": (lambda: caller.channel(f"127.0.0.1:{tls_port}", "router"), False),
            "the mesh: mutual TLS + call policy": (lambda: caller.channel(f"127.0.0.1:{tls_port}", "router"), True),
        }
        results: dict[str, dict[str, dict[str, float]]] = {}
        try:
            for name, (opener, enforced) in variants.items():
                with policy(enforced):
                    async with opener() as channel:
                        warm = cuts(await warm_calls(channel, calls))
                    results[name] = {
                        "call on a warm channel": warm,
                        "new connection": cuts(await connect(opener, connects)),
                    }
        finally:
            await server.stop(None)
        base = results["before: plaintext"]
        for figures in results.values():
            for kind, cut in figures.items():
                cut["p50_ratio"] = round(cut["p50_ms"] / base[kind]["p50_ms"], 2)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--connects", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = asyncio.run(measure(args.calls, args.connects))
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
