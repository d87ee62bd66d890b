"""A PNG of one pay_bench run: create + pay latency (PayLoops and the floor) and paid
orders per second, against the number of concurrent clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402


def axes(plot: Any, unit: str) -> None:
    plot.set_xscale("log", base=2)
    plot.set_yscale("log")
    plot.set_xlabel("concurrent clients")
    plot.set_ylabel(unit)
    plot.legend()
    plot.grid(True, which="both", alpha=0.3)


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
    axes(latency, "ms")

    throughput.plot(clients, [level["rate"] for level in levels], "o-", label="PayLoops")
    throughput.plot(clients, [level["floor_rate"] for level in levels], "^-", label="sandbox directly")
    axes(throughput, "paid orders / s")

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
