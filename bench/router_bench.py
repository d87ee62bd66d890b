"""Routing decisions: the pure evaluator per decision, then the router service over gRPC at
a fixed rate with success-rate scores read from Redis (reused for SCORE_CACHE_SECONDS, and
read for every decision by a second router), against a no-op RPC (the router's own health
check) on the same channel, at the same rate, in the same run.

    .venv/bin/python -m bench.router_bench [--redis-url redis://127.0.0.1:6379/0]
        [--rate 500] [--seconds 10] [--decisions 20000] [--json out.json]

The router runs as `python -m services.router`, configured by a small in-process merchant
service that answers GetRoutingConfig (a merchant with four static rules and a
success-rate rule over both processors); its windows are filled with outcomes first.
Requests are sent open-loop (each at its scheduled time, whatever the answers before it)
so a slow answer is not hidden by the requests it holds up; latency counts from the
scheduled time. The kinds of call take turns in five rounds of --seconds / 5 each.
Loopback only; every loop stops after --seconds (or --decisions)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from payloops.merchant.v1 import merchant_internal_service_pb2 as mpb
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc, merchant_pb2
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc
from redis.asyncio import Redis

from launcher.mesh_ca import development_mesh, mesh_env
from services.common.mesh import MeshFiles
from services.router.convert import routing_from_proto
from services.router.domain import Window, deciding_action, route
from services.router.domain.program import RoutingInput
from services.router.scores import Dimension, ScoreStore

ROOT = Path(__file__).resolve().parent.parent
MERCHANT = "mer_bench"
PROCESSORS = ["razorpay", "stripe"]
ROUNDS = 5


def rule(
    rule_id: str, priority: int, action: merchant_pb2.RoutingAction, **conditions: Any
) -> merchant_pb2.RoutingRule:
    return merchant_pb2.RoutingRule(
        id=rule_id, priority=priority, conditions=merchant_pb2.RoutingConditions(**conditions), action=action
    )


def single(processor: str) -> merchant_pb2.RoutingAction:
    return merchant_pb2.RoutingAction(single=merchant_pb2.SingleProcessor(processor=processor))


CONFIG = mpb.GetRoutingConfigResponse(
    enabled_processors=PROCESSORS,
    routing_rules=[
        rule("rr_eur", 1, single("stripe"), currency="EUR"),
        rule("rr_big", 2, single("stripe"), currency="USD", amount_gte=1_000_000),
        rule("rr_gold", 3, single("razorpay"), metadata={"tier": "gold"}),
        rule("rr_upi", 4, single("razorpay"), payment_method_type="upi"),
        rule(
            "rr_sr",
            5,
            merchant_pb2.RoutingAction(success_rate=merchant_pb2.SuccessRateRouting(processors=PROCESSORS)),
            currency="INR",
        ),
    ],
)
SUCCESS_RATE_PAYMENT = RoutingInput(5_000, "INR", payment_method_type="card", metadata={"tier": "x"}, split_key="ord_1")
STATIC_PAYMENT = RoutingInput(5_000, "JPY", payment_method_type="card", metadata={"tier": "x"}, split_key="ord_1")


def route_request(payment: RoutingInput) -> router_service_pb2.RouteRequest:
    return router_service_pb2.RouteRequest(
        merchant_id=MERCHANT,
        order_id=payment.split_key,
        amount=payment.amount,
        currency=payment.currency,
        payment_method_type=payment.payment_method_type,
        metadata=dict(payment.metadata),
        mode="test",
    )


def cuts(values: list[float]) -> dict[str, float]:
    """p50/p99 in milliseconds of values in seconds."""
    q = statistics.quantiles(values, n=100)
    return {"p50": q[49] * 1000, "p99": q[98] * 1000}


def evaluator(decisions: int) -> dict[str, dict[str, float]]:
    """The pure evaluator, per decision: a static rule, and the success-rate rule with scores."""
    program = routing_from_proto(CONFIG).program
    scores = {p: [Window(180, 200), Window(900, 1000), Window(9000, 10000)] for p in PROCESSORS}
    rng = random.Random(1)
    figures = {}
    for name, payment in (("static rule", STATIC_PAYMENT), ("success-rate rule", SUCCESS_RATE_PAYMENT)):
        took = []
        for _ in range(decisions):
            started = time.perf_counter()
            deciding_action(program, payment)
            route(program, payment, enabled=PROCESSORS, scores=scores, rng=rng)
            took.append(time.perf_counter() - started)
        figures[name] = cuts(took)
    return figures


class FakeMerchant(merchant_internal_service_pb2_grpc.MerchantInternalServiceServicer):
    async def GetRoutingConfig(self, request: Any, context: Any) -> mpb.GetRoutingConfigResponse:
        return CONFIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def router_service(
    redis_url: str, prefix: str, mesh: dict[str, MeshFiles], **settings: str
) -> AsyncIterator[str]:
    merchant = grpc.aio.server()
    merchant_internal_service_pb2_grpc.add_MerchantInternalServiceServicer_to_server(FakeMerchant(), merchant)  # type: ignore[abstract]
    merchant_port = merchant.add_secure_port("127.0.0.1:0", mesh["merchant"].server_credentials())
    await merchant.start()
    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PORT=address.rsplit(":", 1)[1],
        LISTEN_HOST="127.0.0.1",
        PAYLOOPS_ENV="test",
        LOG_LEVEL="WARNING",
        MERCHANT_SERVICE_ADDR=f"127.0.0.1:{merchant_port}",
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=prefix,
        **mesh_env(mesh["router"]),
        **settings,
    )
    process = subprocess.Popen([sys.executable, "-m", "services.router"], cwd=ROOT, env=env)
    try:
        async with mesh["operator"].channel(address, "router") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            give_up = time.monotonic() + 30
            while True:
                try:
                    await health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                    break
                except grpc.aio.AioRpcError:
                    if time.monotonic() > give_up or process.poll() is not None:
                        raise RuntimeError("the router did not start") from None
                    await asyncio.sleep(0.1)
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        await merchant.stop(None)


async def fill_windows(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    store = ScoreStore(redis, prefix, ttl_seconds=600)
    dimension = Dimension("test", MERCHANT, "card", "INR")
    for n in range(400):
        await store.record(f"fill-{n}", dimension, PROCESSORS[n % 2], n % 10 != 0)
    await redis.aclose()


async def at_rate(rate: float, seconds: float, call: Callable[[], Awaitable[Any]]) -> tuple[list[float], int]:
    """Latencies from each call's scheduled start, and the errors."""
    latencies: list[float] = []
    errors = 0
    interval = 1 / rate
    start = time.perf_counter()
    tasks = []

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            await call()
        except grpc.aio.AioRpcError:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)

    n = 0
    while (scheduled := start + n * interval) < start + seconds:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
        n += 1
    await asyncio.gather(*tasks)
    return latencies, errors


async def service(redis_url: str, rate: float, seconds: float) -> dict[str, dict[str, float]]:
    prefix = f"payloops-router-bench-{secrets.token_hex(4)}:"
    await fill_windows(redis_url, prefix)
    mesh_dir = tempfile.TemporaryDirectory()
    mesh = development_mesh(Path(mesh_dir.name))
    try:
        async with (
            router_service(redis_url, prefix, mesh) as address,
            router_service(redis_url, prefix, mesh, SCORE_CACHE_SECONDS="0") as uncached_address,
            mesh["order"].channel(address, "router") as channel,
            mesh["order"].channel(uncached_address, "router") as uncached_channel,
        ):
            router = router_service_pb2_grpc.RouterServiceStub(channel)
            uncached = router_service_pb2_grpc.RouterServiceStub(uncached_channel)
            health = health_pb2_grpc.HealthStub(channel)
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "no-op RPC (health check)": lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5),
                "Route, static rule": lambda: router.Route(route_request(STATIC_PAYMENT), timeout=5),
                "Route, success-rate rule": lambda: router.Route(route_request(SUCCESS_RATE_PAYMENT), timeout=5),
                "Route, success-rate rule, Redis every decision": lambda: uncached.Route(
                    route_request(SUCCESS_RATE_PAYMENT), timeout=5
                ),
            }
            answer = await calls["Route, success-rate rule"]()
            assert answer.candidates[0].approach in ("SUCCESS_RATE", "EXPLORATION"), answer
            for call in calls.values():  # warm-up: connections, caches, code paths
                await at_rate(rate, 1, call)
            # Interleaved rounds, so a noisy second of the machine falls on every kind alike.
            latencies: dict[str, list[float]] = {name: [] for name in calls}
            errors = dict.fromkeys(calls, 0)
            for _ in range(ROUNDS):
                for name, call in calls.items():
                    some, failed = await at_rate(rate, seconds / ROUNDS, call)
                    latencies[name] += some
                    errors[name] += failed
            return {
                name: {**cuts(latencies[name]), "errors": errors[name], "calls": len(latencies[name])} for name in calls
            }
    finally:
        mesh_dir.cleanup()
        redis = Redis.from_url(redis_url)
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


def report(pure: dict[str, dict[str, float]], rpc: dict[str, dict[str, float]], rate: float) -> None:
    print("the evaluator (pure, in process), per decision:")
    for name, cut in pure.items():
        print(f"  {name:48s} p50 {cut['p50'] * 1000:7.1f} µs  p99 {cut['p99'] * 1000:7.1f} µs")
    baseline = rpc["no-op RPC (health check)"]
    print(f"the router service over gRPC at {rate:g} calls/s (open loop, latency from the scheduled start):")
    for name, cut in rpc.items():
        ratio = f"  p99 {cut['p99'] / baseline['p99']:4.2f}x no-op, +{cut['p99'] - baseline['p99']:.2f} ms"
        print(
            f"  {name:48s} p50 {cut['p50']:6.2f} ms  p99 {cut['p99']:6.2f} ms  errors {cut['errors']:.0f}"
            f"{ratio if cut is not baseline else ''}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--rate", type=float, default=500, help="calls per second to the router")
    ap.add_argument("--seconds", type=float, default=10, help="per kind of call")
    ap.add_argument("--decisions", type=int, default=20_000, help="evaluator decisions per rule")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    pure = evaluator(args.decisions)
    rpc = asyncio.run(service(args.redis_url, args.rate, args.seconds))
    report(pure, rpc, args.rate)
    if args.json:
        args.json.write_text(json.dumps({"evaluator": pure, "rpc": rpc, "rate": args.rate}, indent=2))


if __name__ == "__main__":
    main()
