"""The README's first command, as a new user runs it: `payloops up` with the embedded
PostgreSQL and Redis, an order through the gateway, Ctrl-C, and nothing left behind;
started again on the same data directory, nothing is lost."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from launcher.ports import free_port
from tests.log_scan import assert_clean_logs

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def payloops_up(data_dir: Path) -> Iterator[tuple[str, str]]:
    """Runs `payloops up`; yields (gateway URL, demo API key) once it printed its banner,
    whose dashboard URL it checks; stops it with SIGINT."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    ports = [str(free_port()) for _ in range(3)]
    command = [sys.executable, "-m", "launcher", "up", "--data-dir", str(data_dir), "--port", ports[0]]
    command += ["--temporal-port", ports[1], "--temporal-ui-port", ports[2]]
    up = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = ""
        assert up.stdout is not None
        deadline = time.monotonic() + 120
        while "Ctrl-C to stop" not in banner:
            line = up.stdout.readline()
            assert line, f"payloops up exited early:\n{banner}"
            banner += line
            assert time.monotonic() < deadline, banner
        gateway = re.search(r"Gateway REST\s+(\S+)", banner)
        key = re.search(r"Demo API key\s+(\S+)", banner)
        dashboard = re.search(r"Dashboard\s+(\S+)", banner)
        assert gateway and key and dashboard, banner
        # The set-up's build, served through the gateway: the app's page, then its assets.
        page = httpx.get(dashboard.group(1))
        assert page.status_code == 200 and "/dashboard/_app/" in page.text, page.text[:500]
        yield gateway.group(1), key.group(1)
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def leftovers(data_dir: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture()
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: that tree is private (0700) to the test user, and the
    # embedded PostgreSQL runs as its own system user when the tests run as root.
    directory = Path(tempfile.mkdtemp(prefix="payloops-front-door-"))
    yield directory / "data"
    shutil.rmtree(directory, ignore_errors=True)


def test_payloops_up_serves_orders_stops_cleanly_and_keeps_data(data_dir: Path) -> None:
    with payloops_up(data_dir) as (gateway, key):
        created = httpx.post(
            f"{gateway}/v1/orders", headers={"X-API-Key": key}, json={"amount": 1999, "currency": "USD"}
        )
        assert created.status_code == 200 and created.json()["status"] == "CREATED"
        order_id = created.json()["id"]
        assert httpx.get(f"{gateway}/healthz").json()["status"] == "SERVING"
    assert leftovers(data_dir) == []

    with payloops_up(data_dir) as (gateway, same_key):
        assert same_key == key
        again = httpx.get(f"{gateway}/v1/orders/{order_id}", headers={"X-API-Key": key})
        assert again.status_code == 200 and again.json()["amount"] == 1999
    assert leftovers(data_dir) == []
    # A platform of its own, so logs of its own (embedded PostgreSQL and Redis too).
    assert_clean_logs(data_dir / "logs", {key})


def test_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "launcher", "up", "--data-dir", str(tmp_path), "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"payloops: port {port} on 127.0.0.1 is already in use (set --port)"]
    assert "Traceback" not in done.stdout + done.stderr
