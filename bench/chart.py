"""A PNG of one pay_bench run: create + pay latency (PayLoops and the floor) and paid
orders per second, against the number of concurrent clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402


def draw(result: dict[str, Any], path: Path) -> None:
    levels = result["levels"]
    clients = [level["clients"] for level in levels]
    ours = [level["added"]["p50"] + level["floor_total"]["p50"] for level in levels]
    ours_p99 = [level["added"]["p99"] + level["floor_total"]["p99"] for level in levels]
    floor = [level["floor_total"]["p50"] for level in levels]
    added = [level["added"]["p50"] for level in levels]

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.2))
    title = f"create + pay, {result['currency']}, processor delay {result['delay_ms']} ms"
    figure.suptitle(title)
    latency.plot(clients, ours, "o-", label="PayLoops p50")
    latency.plot(clients, ours_p99, "o--", label="PayLoops p99")
    latency.plot(clients, added, "s-", label="added by PayLoops, p50")
    latency.plot(clients, floor, "^-", label="sandbox directly, p50")
    latency.set_xscale("log", base=2)
    latency.set_yscale("log")
    latency.set_xlabel("concurrent clients")
    latency.set_ylabel("ms")
    latency.legend()
    latency.grid(True, which="both", alpha=0.3)

    throughput.plot(clients, [level["rate"] for level in levels], "o-", label="PayLoops")
    throughput.plot(clients, [level["floor_rate"] for level in levels], "^-", label="sandbox directly")
    throughput.set_xscale("log", base=2)
    throughput.set_yscale("log")
    throughput.set_xlabel("concurrent clients")
    throughput.set_ylabel("paid orders / s")
    throughput.legend()
    throughput.grid(True, which="both", alpha=0.3)

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
