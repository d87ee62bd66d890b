"""What a benchmark run costs the running platform: CPU seconds per process (from /proc,
through psutil), PostgreSQL write transactions, and the Temporal history of the payments
it made."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil
import psycopg
from temporalio.client import Client

DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "http": 80}


def port_of(address: str) -> int:
    """The port of "host:port" or of a URL (its scheme's default port if it names none)."""
    if "://" in address:
        url = urlsplit(address)
        return url.port or DEFAULT_PORTS[url.scheme]
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
    (PostgreSQL's backends), between start() and stop(). A process that exits meanwhile
    takes its seconds with it (a backend closed by a pool), so each counts from the first
    time it is seen."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.began: dict[int, float] = {}

    def _per_process(self) -> dict[str, dict[int, float]]:
        seen: dict[str, dict[int, float]] = {}
        for name, pid in self.pids.items():
            try:
                root = psutil.Process(pid)
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            used = seen.setdefault(name, {})
            for process in family:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                used[process.pid] = times.user + times.system
        return seen

    def start(self) -> None:
        self.began = {pid: used for family in self._per_process().values() for pid, used in family.items()}

    def stop(self) -> dict[str, float]:
        return {
            name: sum(used - self.began.get(pid, 0.0) for pid, used in family.items())
            for name, family in self._per_process().items()
        }


def write_transactions(libpq_url: str) -> int:
    """The server's transaction id counter: it moves once per transaction that wrote
    (a durable commit; read-only transactions take no id), and once for this call."""
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        return int(row[0])


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
            markers += (
                kind == "marker_recorded_event_attributes"
                and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
            )
    n = max(len(workflow_ids), 1)
    return HistoryShape(len(workflow_ids), events / n, tasks / n, activities / n, markers / n)
