"""Create-and-pay through the gateway against the processor sandbox called directly (the
floor), in one run, at each number of concurrent clients.

    .venv/bin/payloops up &
    .venv/bin/python -m bench.pay_bench [--clients 1,8,32] [--seconds 15] [--currency INR|USD]
        [--delay-ms 50] [--without-keys] [--profile 8] [--chart bench/pay_bench.png]
        [--json out.json] [--data-dir .payloops]

It finds the platform (gateway, sandboxes, every component's port, the demo API key) in
the running platform's data directory. For each client count it reports the floor and
PayLoops: paid orders/s, errors, create and pay latency, the latency PayLoops adds to a
create + pay (its percentiles minus the floor's), CPU milliseconds per payment of each
process (from /proc), PostgreSQL commits (write transactions: durable commits) per payment
and the Temporal history of a sample of the payments (events, workflow tasks, activity
tasks, local activities). Then the p50 difference between the same call as REST and as
gRPC, both through Envoy (REST from a lean keep-alive HTTP/1.1 client, so that the client
libraries' own costs do not weigh in; httpx's figure beside it), and a PNG chart of
latency and throughput against clients.
Every POST carries a new Idempotency-Key, as the SDKs send them (--without-keys: none).
--delay-ms makes the sandbox hold every payment call that long (its `delay` fault), for
the floor and PayLoops alike. --profile N adds a run at N clients that splits each Python
component's CPU per payment by library (py-spy; see bench/profile.py).

Loopback only; every load loop stops after --seconds."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import razorpay
import stripe
from payloops.order.v1 import order_service_pb2, order_service_pb2_grpc

from bench import probes, profile

AMOUNT = 50_000


@dataclass
class Sample:
    create: list[float] = field(default_factory=list)
    pay: list[float] = field(default_factory=list)
    paid: int = 0
    failed: int = 0
    order_ids: list[str] = field(default_factory=list)

    def merge(self, other: Sample) -> None:
        self.create += other.create
        self.pay += other.pay
        self.paid += other.paid
        self.failed += other.failed
        self.order_ids += other.order_ids

    @property
    def total(self) -> list[float]:
        return [c + p for c, p in zip(self.create, self.pay, strict=True)]


def cuts(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    if len(values) < 2:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    q = statistics.quantiles(values, n=100)
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}


def run_clients(clients: int, seconds: float, one: Callable[[Sample], None]) -> tuple[Sample, float]:
    samples = [Sample() for _ in range(clients)]
    deadline = time.monotonic() + seconds

    def loop(sample: Sample) -> None:
        while time.monotonic() < deadline:
            try:
                one(sample)
            except Exception:
                sample.failed += 1

    threads = [threading.Thread(target=loop, args=(s,)) for s in samples]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Sample()
    for s in samples:
        total.merge(s)
    return total, time.monotonic() - began


def timed(into: list[float], call: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    result = call()
    into.append(time.perf_counter() - began)
    return result


def through_gateway(gateway: str, api_key: str, currency: str, keys: bool = True) -> Callable[[Sample], None]:
    """Create and pay one order; with `keys`, each POST carries a new Idempotency-Key, as the
    SDKs send them."""
    local = threading.local()
    body = {"paymentMethod": {"type": "card", "token": "pm_card_visa"}}

    def post(client: httpx.Client, path: str, payload: dict[str, Any]) -> httpx.Response:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if keys else {}
        return client.post(path, json=payload, headers=headers)

    def one(sample: Sample) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=gateway, headers={"X-API-Key": api_key}, timeout=60)
        order = timed(sample.create, lambda: post(client, "/v1/orders", {"amount": AMOUNT, "currency": currency}))
        order_id = order.json()["id"]
        answer = timed(sample.pay, lambda: post(client, f"/v1/orders/{order_id}/pay", body))
        sample.order_ids.append(order_id)
        if answer.status_code == 200 and answer.json()["status"] == "SUCCEEDED":
            sample.paid += 1
        else:
            sample.failed += 1

    return one


def stripe_directly(api_base: str) -> Callable[[Sample], None]:
    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": api_base}, max_network_retries=0)

    def one(sample: Sample) -> None:
        params = {"amount": AMOUNT, "currency": "usd", "payment_method": "pm_card_visa"}
        intent = timed(sample.create, lambda: client.payment_intents.create(params=params))  # type: ignore[arg-type]
        confirmed = timed(sample.pay, lambda: client.payment_intents.confirm(intent.id))
        if confirmed.status == "succeeded":
            sample.paid += 1
        else:
            sample.failed += 1

    return one


def razorpay_directly(base_url: str) -> Callable[[Sample], None]:
    client = razorpay.Client(auth=("rzp_test_bench", "bench-secret"), base_url=base_url)

    def one(sample: Sample) -> None:
        receipt = uuid.uuid4().hex[:20]
        order = timed(
            sample.create,
            lambda: client.order.create({"amount": AMOUNT, "currency": "INR", "receipt": receipt}, timeout=30),
        )
        payment = {"order_id": order["id"], "amount": AMOUNT, "currency": "INR", "token": "token_success"}
        payment |= {"email": "bench@example.com", "contact": "9999999999", "customer_id": "cust_bench"}
        answer = timed(sample.pay, lambda: client.payment.createRecurring(payment | {"recurring": "1"}, timeout=30))
        if answer.get("razorpay_payment_id"):
            sample.paid += 1
        else:
            sample.failed += 1

    return one


@contextmanager
def processor_delay(sandbox_url: str, currency: str, delay_ms: int) -> Iterator[None]:
    """Every payment call at the sandbox held delay_ms (the sandbox's own delay fault)."""
    if not delay_ms:
        yield
        return
    path = "/payments/create" if currency == "INR" else "/confirm"
    faults = f"{sandbox_url}/_sandbox/faults"
    rule = {"mode": "delay", "delay_ms": delay_ms, "method": "POST", "path_contains": path, "count": -1}
    httpx.post(faults, json=rule, timeout=10).raise_for_status()
    try:
        yield
    finally:
        httpx.delete(faults, timeout=10)


class LeanHttp:
    """A keep-alive HTTP/1.1 GET on a plain socket, reading exactly the response's
    Content-Length: a client whose own cost is near nothing next to grpcio's C core, so that
    REST against gRPC compares the gateway's two paths, not two client libraries (httpx
    spends more than a millisecond of Python on a request here)."""

    def __init__(self, gateway: str, headers: dict[str, str]) -> None:
        address = urlsplit(gateway)
        self.host = address.netloc
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.socket = socket.create_connection((address.hostname, address.port or 80), timeout=30)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = self.socket.makefile("rb")

    def get(self, path: str) -> bytes:
        self.socket.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}\r\n".encode())
        status, length = self.stream.readline(), None
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if not status.startswith(b"HTTP/1.1 200") or length is None:
            raise RuntimeError(f"unexpected answer: {status!r} (content-length {length})")
        return self.stream.read(length)

    def close(self) -> None:
        self.stream.close()
        self.socket.close()


def rest_vs_grpc(gateway: str, grpc_target: str, api_key: str, currency: str, calls: int = 400) -> dict[str, float]:
    """p50 of GetOrder as REST and as gRPC, both through Envoy, one client each, the calls
    alternating so that whatever else the machine does weighs on both alike. REST is timed
    with a lean client (LeanHttp) and, for reference, with httpx."""
    times: dict[str, list[float]] = {"rest": [], "httpx": [], "grpc": []}
    with (
        httpx.Client(base_url=gateway, headers={"X-API-Key": api_key}, timeout=30) as rest,
        grpc.insecure_channel(grpc_target) as channel,
    ):
        order_id = rest.post("/v1/orders", json={"amount": AMOUNT, "currency": currency}).json()["id"]
        lean = LeanHttp(gateway, {"X-API-Key": api_key})
        stub = order_service_pb2_grpc.OrderServiceStub(channel)
        request = order_service_pb2.GetOrderRequest(id=order_id)
        metadata = (("x-api-key", api_key),)
        calls_by_client: dict[str, Callable[[], Any]] = {
            "rest": lambda: lean.get(f"/v1/orders/{order_id}"),
            "httpx": lambda: rest.get(f"/v1/orders/{order_id}").raise_for_status(),
            "grpc": lambda: stub.GetOrder(request, metadata=metadata, timeout=30),
        }
        try:
            for _ in range(calls):
                for name, call in calls_by_client.items():
                    timed(times[name], call)
        finally:
            lean.close()
    p50 = {name: statistics.median(samples) * 1000 for name, samples in times.items()}
    return {
        "rest_p50_ms": p50["rest"],
        "grpc_p50_ms": p50["grpc"],
        "delta_p50_ms": p50["rest"] - p50["grpc"],
        "rest_httpx_p50_ms": p50["httpx"],
    }


@dataclass
class Level:
    clients: int
    floor_rate: float
    floor_errors: int
    floor_total: dict[str, float]
    rate: float
    errors: int
    create: dict[str, float]
    pay: dict[str, float]
    added: dict[str, float]
    cpu_ms_per_payment: dict[str, float]
    commits_per_payment: float
    history: dict[str, float]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        run_dir = args.data_dir / "run"
        self.endpoints: dict[str, Any] = json.loads((run_dir / "endpoints.json").read_text())
        self.api_key = args.api_key or json.loads((args.data_dir / "demo-api-key").read_text())["api_key"]
        self.gateway = args.gateway or self.endpoints["gateway_url"]
        self.pids = probes.listening_pids(probes.component_ports(self.endpoints))
        self.sandbox = self.endpoints["razorpay_sandbox_url" if args.currency == "INR" else "localstripe_url"]

    def floor(self) -> Callable[[Sample], None]:
        if self.args.currency == "INR":
            return razorpay_directly(self.sandbox)
        return stripe_directly(self.sandbox)

    def ours(self) -> Callable[[Sample], None]:
        return through_gateway(self.gateway, self.api_key, self.args.currency, keys=not self.args.without_keys)

    def level(self, clients: int) -> Level:
        seconds = self.args.seconds
        base, base_elapsed = run_clients(clients, seconds, self.floor())
        cpu = probes.CpuMeter(self.pids)
        commits_before = probes.write_transactions(self.endpoints["database_libpq_url"])
        cpu.start()
        ours, elapsed = run_clients(clients, seconds, self.ours())
        used = cpu.stop()
        commits = probes.write_transactions(self.endpoints["database_libpq_url"]) - commits_before - 1
        paid = max(ours.paid, 1)
        sample = [f"pay-{order_id}-1" for order_id in ours.order_ids[-20:]]
        shape = asyncio.run(probes.history_shape(self.endpoints["temporal_address"], sample))
        ours_total, floor_total = cuts(ours.total), cuts(base.total)
        return Level(
            clients=clients,
            floor_rate=base.paid / base_elapsed,
            floor_errors=base.failed,
            floor_total=floor_total,
            rate=ours.paid / elapsed,
            errors=ours.failed,
            create=cuts(ours.create),
            pay=cuts(ours.pay),
            added={k: ours_total[k] - floor_total[k] for k in ours_total},
            cpu_ms_per_payment={name: used[name] * 1000 / paid for name in sorted(used, key=lambda n: -used[n])},
            commits_per_payment=commits / paid,
            history={k: v for k, v in asdict(shape).items() if k != "workflows"},
        )

    def profile(self, clients: int) -> dict[str, Any]:
        """A load pass with every Python component sampled: its CPU per payment, split by
        the library the time went to (bench/profile.py)."""
        pids = profile.python_components(self.pids)
        cpu = probes.CpuMeter(pids)
        cpu.start()
        sampler = profile.Sampler(pids, self.args.seconds)
        ours, _ = run_clients(clients, self.args.seconds, self.ours())
        used = cpu.stop()
        by_library = sampler.collect()
        paid = max(ours.paid, 1)
        components: dict[str, Any] = {}
        for name in sorted(by_library, key=lambda n: -used.get(n, 0.0)):
            python = {lib: seconds * 1000 / paid for lib, seconds in by_library[name].items()}
            cpu_ms = used.get(name, 0.0) * 1000 / paid
            native = max(cpu_ms - sum(python.values()), 0.0)
            components[name] = {"cpu_ms_per_payment": cpu_ms, "by_library_ms": python | {"(no GIL)": native}}
        return {"clients": clients, "payments": ours.paid, "components": components}

    def run(self) -> dict[str, Any]:
        args = self.args
        keys = "no Idempotency-Key" if args.without_keys else "an Idempotency-Key on every POST"
        print(f"{args.currency}, {args.seconds:.0f} s per run, processor delay {args.delay_ms} ms, {keys}")
        levels: list[Level] = []
        with processor_delay(self.sandbox, args.currency, args.delay_ms):
            for clients in args.clients:
                level = self.level(clients)
                report(level)
                levels.append(level)
        grpc_target = self.endpoints["gateway_grpc_target"]
        edge = rest_vs_grpc(self.gateway, grpc_target, self.api_key, args.currency)
        print(
            f"REST vs gRPC through Envoy (GetOrder, 1 client): REST p50 {edge['rest_p50_ms']:.2f} ms, "
            f"gRPC p50 {edge['grpc_p50_ms']:.2f} ms, delta {edge['delta_p50_ms']:+.2f} ms "
            f"(REST with httpx as the client: p50 {edge['rest_httpx_p50_ms']:.2f} ms)"
        )
        result = {
            "currency": args.currency,
            "seconds": args.seconds,
            "delay_ms": args.delay_ms,
            "idempotency_keys": not args.without_keys,
            "levels": [asdict(level) for level in levels],
            "rest_vs_grpc": edge,
        }
        if args.profile:
            with processor_delay(self.sandbox, args.currency, args.delay_ms):
                result["profile"] = self.profile(args.profile)
            report_profile(result["profile"])
        if args.chart:
            from bench.chart import draw

            draw(result, args.chart)
            print(f"chart: {args.chart}")
        return result


def report(level: Level) -> None:
    ms = "p50 {p50:7.1f}  p95 {p95:7.1f}  p99 {p99:7.1f} ms"
    print(f"\n== {level.clients} client(s)")
    print(f"  floor (sandbox directly)  {level.floor_rate:7.1f} paid/s  errors {level.floor_errors}")
    print(f"    create + pay            {ms.format(**level.floor_total)}")
    print(f"  PayLoops via gateway      {level.rate:7.1f} paid/s  errors {level.errors}")
    print(f"    create                  {ms.format(**level.create)}")
    print(f"    pay                     {ms.format(**level.pay)}")
    print(f"    added to create + pay   {ms.format(**level.added)}")
    ratio = level.rate / level.floor_rate if level.floor_rate else float("nan")
    print(f"  throughput / floor        {ratio:.3f}")
    cpu = ", ".join(f"{name} {value:.1f}" for name, value in level.cpu_ms_per_payment.items() if value >= 0.05)
    print(f"  CPU ms per payment        {sum(level.cpu_ms_per_payment.values()):.1f} in all: {cpu}")
    shape = level.history
    print(
        f"  durable work per payment  {level.commits_per_payment:.1f} PostgreSQL commits; Temporal history "
        f"{shape['events']:.1f} events, {shape['workflow_tasks']:.1f} workflow tasks, "
        f"{shape['activity_tasks']:.1f} activity tasks, {shape['local_activities']:.1f} local activities"
    )


def report_profile(profiled: dict[str, Any]) -> None:
    print(f"\nWhere the CPU goes ({profiled['clients']} clients, {profiled['payments']} payments), ms per payment:")
    for name, figures in profiled["components"].items():
        top = sorted(figures["by_library_ms"].items(), key=lambda item: -item[1])[:8]
        split = ", ".join(f"{lib} {ms:.1f}" for lib, ms in top if ms >= 0.1)
        print(f"  {name:20s} {figures['cpu_ms_per_payment']:6.1f}: {split}")


def client_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive client counts")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(".payloops"), help="the running platform's data directory")
    ap.add_argument("--api-key", help="default: the demo merchant's key from the data directory")
    ap.add_argument("--gateway", help="default: the platform's gateway URL")
    ap.add_argument("--currency", choices=["INR", "USD"], default="INR", help="INR: Razorpay sandbox; USD: Stripe")
    ap.add_argument("--clients", type=client_counts, default=client_counts("1,8,32"))
    ap.add_argument("--seconds", type=float, default=15, help="length of each load run")
    ap.add_argument("--delay-ms", type=int, default=0, help="hold every payment call at the sandbox this long")
    ap.add_argument(
        "--without-keys", action="store_true", help="send no Idempotency-Key (the SDKs send one with every POST)"
    )
    ap.add_argument("--chart", type=Path, help="write a PNG chart of latency and throughput against clients")
    ap.add_argument("--json", type=Path, help="write every figure as JSON")
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="CLIENTS",
        help="then one more run at CLIENTS clients with every Python component sampled by py-spy: "
        "its CPU per payment split by library (needs ptrace rights, e.g. root)",
    )
    args = ap.parse_args()
    result = Bench(args).run()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
