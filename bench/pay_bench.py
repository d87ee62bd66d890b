"""Create-and-pay throughput through the gateway, against the processor sandbox called
directly (the floor), measured in the same run.

    .venv/bin/payloops up &                       # note the demo API key it prints
    .venv/bin/python bench/pay_bench.py --api-key sk_test_... [--currency USD|INR]
        [--gateway http://127.0.0.1:8080] [--seconds 20] [--clients 8]

The sandbox addresses are read from the running platform's data directory
(--data-dir, default ./.payloops). Loopback only; every loop stops after --seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import razorpay
import stripe


@dataclass
class Sample:
    create: list[float] = field(default_factory=list)
    pay: list[float] = field(default_factory=list)
    paid: int = 0
    failed: int = 0


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {cuts[49] * 1000:7.1f} ms  p95 {cuts[94] * 1000:7.1f} ms  p99 {cuts[98] * 1000:7.1f} ms"


def run_clients(clients: int, seconds: float, one: Callable[[Sample], None]) -> tuple[Sample, float]:
    samples = [Sample() for _ in range(clients)]
    deadline = time.monotonic() + seconds

    def loop(sample: Sample) -> None:
        while time.monotonic() < deadline:
            one(sample)

    threads = [threading.Thread(target=loop, args=(s,)) for s in samples]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    total = Sample()
    for s in samples:
        total.create += s.create
        total.pay += s.pay
        total.paid += s.paid
        total.failed += s.failed
    return total, elapsed


def timed(sample_list: list[float], call: Callable[[], object]) -> object:
    began = time.perf_counter()
    result = call()
    sample_list.append(time.perf_counter() - began)
    return result


def through_gateway(gateway: str, api_key: str, currency: str) -> Callable[[Sample], None]:
    local = threading.local()
    token = "pm_card_visa"

    def one(sample: Sample) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=gateway, headers={"X-API-Key": api_key}, timeout=60)
        order = timed(sample.create, lambda: client.post("/v1/orders", json={"amount": 50_000, "currency": currency}))
        assert isinstance(order, httpx.Response)
        order_id = order.json()["id"]
        body = {"paymentMethod": {"type": "card", "token": token}}
        answer = timed(sample.pay, lambda: client.post(f"/v1/orders/{order_id}/pay", json=body))
        assert isinstance(answer, httpx.Response)
        if answer.status_code == 200 and answer.json()["status"] == "SUCCEEDED":
            sample.paid += 1
        else:
            sample.failed += 1

    return one


def stripe_directly(api_base: str) -> Callable[[Sample], None]:
    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": api_base}, max_network_retries=0)

    def one(sample: Sample) -> None:
        intent = timed(
            sample.create,
            lambda: client.payment_intents.create(
                params={"amount": 50_000, "currency": "usd", "payment_method": "pm_card_visa"}
            ),
        )
        confirmed = timed(sample.pay, lambda: client.payment_intents.confirm(intent.id))  # type: ignore[attr-defined]
        if confirmed.status == "succeeded":  # type: ignore[attr-defined]
            sample.paid += 1
        else:
            sample.failed += 1

    return one


def razorpay_directly(base_url: str) -> Callable[[Sample], None]:
    client = razorpay.Client(auth=("rzp_test_bench", "bench-secret"), base_url=base_url)

    def one(sample: Sample) -> None:
        order = timed(
            sample.create,
            lambda: client.order.create(
                {"amount": 50_000, "currency": "INR", "receipt": uuid.uuid4().hex[:20]}, timeout=30
            ),
        )
        payment = {"order_id": order["id"], "amount": 50_000, "currency": "INR", "token": "token_success"}  # type: ignore[index]
        payment |= {
            "email": "bench@example.com",
            "contact": "9999999999",
            "customer_id": "cust_bench",
            "recurring": "1",
        }
        timed(sample.pay, lambda: client.payment.createRecurring(payment, timeout=30))
        sample.paid += 1

    return one


def report(name: str, sample: Sample, elapsed: float) -> float:
    rate = sample.paid / elapsed
    print(f"{name:<28} {rate:8.1f} paid orders/s  ({sample.paid} paid, {sample.failed} failed, {elapsed:.1f} s)")
    print(f"{'':<28} create  {percentiles(sample.create)}")
    print(f"{'':<28} pay     {percentiles(sample.pay)}")
    return rate


def sandbox_urls(data_dir: Path) -> dict[str, str]:
    endpoints = json.loads((data_dir / "run" / "endpoints.json").read_text())
    return {"stripe": endpoints["localstripe_url"], "razorpay": endpoints["razorpay_sandbox_url"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", default="http://127.0.0.1:8080")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--currency", choices=["USD", "INR"], default="USD")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--data-dir", type=Path, default=Path(".payloops"))
    args = ap.parse_args()
    urls = sandbox_urls(args.data_dir)
    floor_name, floor = (
        ("stripe sandbox directly", stripe_directly(urls["stripe"]))
        if args.currency == "USD"
        else ("razorpay sandbox directly", razorpay_directly(urls["razorpay"]))
    )
    print(f"{args.clients} clients, {args.seconds:.0f} s each, {args.currency}")
    base = report(floor_name, *run_clients(args.clients, args.seconds, floor))
    ours = report(
        "PayLoops via gateway",
        *run_clients(args.clients, args.seconds, through_gateway(args.gateway, args.api_key, args.currency)),
    )
    print(f"PayLoops / floor throughput ratio: {ours / base:.2f}" if base else "floor made no payments")


if __name__ == "__main__":
    main()
