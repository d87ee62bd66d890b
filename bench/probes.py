"""What a benchmark run costs the running platform: CPU seconds per process (from /proc,
through psutil), PostgreSQL commits, and the Temporal history of the payments it made."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil
import psycopg
from temporalio.client import Client


def port_of(address: str) -> int:
    """The port of "host:port" or of a URL."""
    if "://" in address:
        port = urlsplit(address).port
        assert port is not None, address
        return port
    return int(address.rsplit(":", 1)[1])


def listening_pids(ports: dict[str, int]) -> dict[str, int]:
    """Component name -> the pid listening on its port (loopback TCP)."""
    owner: dict[int, int] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid and conn.laddr:
            owner.setdefault(conn.laddr.port, conn.pid)
    return {name: owner[port] for name, port in ports.items() if port in owner}


def component_ports(endpoints: dict[str, object]) -> dict[str, int]:
    """Every platform component the endpoints file names, with the port it listens on."""
    ports = {name: port_of(str(addr)) for name, addr in dict(endpoints["service_addrs"]).items()}  # type: ignore[call-overload]
    named = {
        "gateway (envoy)": "gateway_url",
        "temporal": "temporal_address",
        "postgresql": "database_libpq_url",
        "redis": "redis_url",
        "razorpay sandbox": "razorpay_sandbox_url",
        "localstripe": "localstripe_url",
    }
    ports |= {name: port_of(str(endpoints[key])) for name, key in named.items() if endpoints.get(key)}
    return ports


class CpuMeter:
    """CPU seconds (user + system) used by each component, its child processes included
    (PostgreSQL's backends), between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.began: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                root = psutil.Process(pid)
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            total = 0.0
            for process in family:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
            used[name] = total
        return used

    def start(self) -> None:
        self.began = self._now()

    def stop(self) -> dict[str, float]:
        now = self._now()
        return {name: now[name] - self.began.get(name, now[name]) for name in now}


def commits(libpq_url: str) -> int:
    """Transactions committed in the platform's database so far. The statistics reach the
    view up to a second late, so this waits until the count holds still."""
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        last = -1
        for _ in range(10):
            row = conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            assert row is not None
            count = int(row[0])
            if count == last:
                return count
            last = count
            time.sleep(1.2)
        return last


@dataclass(frozen=True)
class HistoryShape:
    workflows: int
    events: float
    workflow_tasks: float
    activity_tasks: float
    local_activities: float


async def history_shape(temporal_address: str, workflow_ids: list[str]) -> HistoryShape:
    """Mean events, workflow tasks, activity tasks and local activities (markers) per
    payment workflow."""
    client = await Client.connect(temporal_address)
    events = tasks = activities = markers = 0
    histories = await asyncio.gather(*(client.get_workflow_handle(w).fetch_history() for w in workflow_ids))
    for history in histories:
        for event in history.events:
            events += 1
            kind = event.WhichOneof("attributes") or ""
            tasks += kind == "workflow_task_completed_event_attributes"
            activities += kind == "activity_task_scheduled_event_attributes"
            markers += kind == "marker_recorded_event_attributes" and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    n = max(len(workflow_ids), 1)
    return HistoryShape(len(workflow_ids), events / n, tasks / n, activities / n, markers / n)
