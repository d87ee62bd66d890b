"""Helpers for the launcher's tests: stand-in configs, and a reaper that kills whatever a
test left running, even when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from launcher.platform import PlatformConfig

STANDIN = Path(__file__).with_name("standin.py")
PYTHON = sys.executable

# Stand-in migration: fails unless it got the SQLAlchemy URL of a reachable database.
MIGRATE_CHECK = (
    "import os, psycopg; url = os.environ['DATABASE_URL']; "
    "assert url.startswith('postgresql+psycopg://'), url; "
    "psycopg.connect(url.replace('+psycopg', '')).close(); print('migrated')"
)

TEST_ENVOY = """\
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}
static_resources:
  listeners:
  - name: gateway
    address: {{socket_address: {{address: {listen_host}, port_value: {listen_port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: gateway
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{path: /healthz}}
                direct_response: {{status: 200, body: {{inline_string: ok}}}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
"""


def render_test_envoy(*, listen_host: str, listen_port: int, admin_port: int, **_: Any) -> str:
    """Stand-in for gateway.render.render_envoy_config: only GET /healthz."""
    return TEST_ENVOY.format(listen_host=listen_host, listen_port=listen_port, admin_port=admin_port)


def standin_service(name: str) -> list[str]:
    return [PYTHON, str(STANDIN), "grpc", "--name", name]


def standin_config(data_dir: Path, **overrides: Any) -> PlatformConfig:
    """Real PostgreSQL, Redis, Temporal (headless), localstripe and Envoy; stand-ins for
    the services, the Razorpay sandbox, the migrations and the seed."""
    settings: dict[str, Any] = {
        "data_dir": data_dir,
        "temporal_ui": False,
        "service_command": standin_service,
        "migrate_command": [PYTHON, "-c", MIGRATE_CHECK],
        "seed_command": [PYTHON, str(STANDIN), "seed"],
        "razorpay_sandbox_command": [PYTHON, str(STANDIN), "http"],
        "envoy_renderer": render_test_envoy,
        "stop_timeout": 5.0,
    }
    settings.update(overrides)
    return PlatformConfig(**settings)


def standin_cli_args(data_dir: Path) -> list[str]:
    """`payloops up` arguments running the same stand-ins (no Envoy, migrations or seed)."""
    return [
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--temporal-port",
        "0",
        "--headless",
        "--no-envoy",
        "--no-migrate",
        "--no-seed",
        "--service-command",
        f"{PYTHON} {STANDIN} grpc --name {{name}}",
        "--razorpay-sandbox-command",
        f"{PYTHON} {STANDIN} http",
    ]


# -- finding processes --------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return bool(status != psutil.STATUS_ZOMBIE)


def family(pids: Iterable[int]) -> set[int]:
    """The pids and all their descendants (right now)."""
    found: set[int] = set()
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            found.add(pid)
            found.update(child.pid for child in process.children(recursive=True))
    return found


def mentioning(text: str) -> list[str]:
    """Live processes whose command line or environment mentions `text` (a data dir)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(process.info["cmdline"] or [])
        try:
            environ = " ".join(process.environ().values())
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            environ = ""
        if text in cmdline or text in environ:
            found.append(f"{process.pid} {cmdline}")
    return found


def wait_gone(pids: Iterable[int], timeout: float = 15.0) -> list[int]:
    """Wait until none of `pids` is alive; the ones still alive after `timeout`."""
    deadline = time.monotonic() + timeout
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if alive(pid)]
    return left


class Reaper:
    """Tracks what a test starts; at teardown SIGKILLs anything still alive."""

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self.markers: set[str] = set()

    def watch(self, pids: Iterable[int] = (), marker: str | Path | None = None) -> None:
        self.pids |= family(pids)
        if marker is not None:
            self.markers.add(str(marker))

    def reap(self) -> None:
        for marker in self.markers:
            for line in mentioning(marker):
                self.pids.add(int(line.split()[0]))
        for pid in family(self.pids):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture()
def reaper() -> Iterator[Reaper]:
    reaper = Reaper()
    try:
        yield reaper
    finally:
        reaper.reap()
