"""What decoding a payment step's Temporal payloads costs: the SDK's default data converter
against the platform's (services/common/temporal_converter.py), in one run, interleaved,
as CPU microseconds per decode and their ratio. A payment decodes a step's input and its
result several times (each local activity's arguments and result, the workflow's input).

    .venv/bin/python -m bench.converter_bench [--decodes 20000]

In-process only; it stops after --decodes per converter."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from services.common.temporal_converter import DATA_CONVERTER
from services.order.payments import Candidate, ChargeResult, ChargeStep, PaymentInput

STEP = ChargeStep(
    payment=PaymentInput(
        order_id="ord_bench",
        merchant_id="mer_bench",
        mode="test",
        attempt=1,
        amount=1999,
        currency="INR",
        capture=True,
        payment_method_type="card",
        payment_method_token="tok_visa",
        candidates=[Candidate(processor="razorpay", reason="rule"), Candidate(processor="stripe", reason="failover")],
    ),
    index=0,
)
RESULT = ChargeResult(status="CAPTURED", processor_reference="pay_bench", amount_captured=1999)
TYPES: list[type] = [ChargeStep, ChargeResult]


async def cpu_us_per_decode(converter: DataConverter, payloads: list[Payload], decodes: int) -> float:
    started = time.process_time()
    for _ in range(decodes):
        await converter.decode(payloads, TYPES)
    return (time.process_time() - started) * 1e6 / decodes


async def compare(decodes: int, rounds: int = 5) -> dict[str, float]:
    payloads = await DataConverter.default.encode([STEP, RESULT])
    converters: dict[str, Any] = {"SDK default": DataConverter.default, "PayLoops": DATA_CONVERTER}
    for converter in converters.values():
        assert await converter.decode(payloads, TYPES) == [STEP, RESULT]
    spent = dict.fromkeys(converters, 0.0)
    for _ in range(rounds):
        for name, converter in converters.items():
            spent[name] += await cpu_us_per_decode(converter, payloads, max(decodes // rounds, 1)) / rounds
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--decodes", type=int, default=20000, help="decodes per converter")
    args = ap.parse_args()
    figures = asyncio.run(compare(args.decodes))
    baseline = figures["SDK default"]
    print("decoding a payment step's input and result (ChargeStep, ChargeResult), CPU per decode:")
    for name, cpu_us in figures.items():
        print(f"  {name:12s} {cpu_us:7.1f} us  {cpu_us / baseline:4.2f}x the SDK default")


if __name__ == "__main__":
    main()
