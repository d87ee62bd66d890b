"""`python -m launcher up` as a user runs it: port checks, SIGTERM, a SIGKILLed launcher."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from launcher.cli import build_parser, config_from_args
from launcher.platform import REPO_ROOT
from tests.launcher.conftest import PYTHON, Reaper, family, mentioning, standin_cli_args, wait_gone


@pytest.fixture()
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _launcher(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "launcher", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("flag", ["--port", "--temporal-port", "--temporal-ui-port"])
def test_a_busy_user_port_is_one_line_and_exit_2(tmp_path: Path, busy_port: int, flag: str) -> None:
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [PYTHON, "-m", "launcher", "up", "--data-dir", str(data_dir), flag, str(busy_port)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == f"payloops: port {busy_port} on 127.0.0.1 is already in use (set {flag})\n"
    assert done.stdout == ""
    assert not data_dir.exists()  # checked before anything started


def _cmdline(pid: int) -> str:
    """A process's command line; empty once it has exited (the killed router, a finished postgres backend)."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        return ""


def test_stripe_fault_proxy_flag() -> None:
    parser = build_parser()
    assert config_from_args(parser.parse_args(["up", "--stripe-fault-proxy"])).stripe_fault_proxy
    assert not config_from_args(parser.parse_args(["up"])).stripe_fault_proxy


class _Running:
    """A `payloops up` subprocess with stand-ins, read until its banner."""

    def __init__(self, data_dir: Path, reaper: Reaper) -> None:
        self.process = _launcher(*standin_cli_args(data_dir))
        reaper.watch([self.process.pid], marker=data_dir)
        self.stdout: list[str] = []
        self._banner = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._banner.wait(60):
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            pytest.fail(f"no banner; stdout: {''.join(self.stdout)!r}; stderr: {err!r}")
        self.children = family([self.process.pid]) - {self.process.pid}
        reaper.watch(self.children)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            if "Ctrl-C to stop" in line:
                self._banner.set()


def test_sigterm_stops_every_child(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    running = _Running(data_dir, reaper)
    assert len(running.children) >= 10  # 5 infrastructure (+ postgres backends), 6 services
    assert "Temporal gRPC" in "".join(running.stdout)

    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=30) == 0
    assert running.process.stderr is not None
    stderr = running.process.stderr.read()
    assert "Traceback" not in stderr
    assert stderr.strip().endswith("payloops: stopped")
    assert wait_gone(running.children, timeout=5) == []
    assert mentioning(str(data_dir)) == []


def test_a_sigkilled_launcher_still_takes_its_children_down(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    running = _Running(data_dir, reaper)

    running.process.kill()
    running.process.wait(timeout=10)
    began = time.monotonic()
    assert wait_gone(running.children, timeout=20) == []
    print(f"children gone {time.monotonic() - began:.2f} s after the launcher was SIGKILLed")
    assert mentioning(str(data_dir)) == []


def test_a_service_that_dies_is_restarted_and_infrastructure_dying_stops_everything(
    tmp_path: Path, reaper: Reaper
) -> None:
    data_dir = tmp_path / "data"
    running = _Running(data_dir, reaper)
    assert running.process.stderr is not None
    stderr: list[str] = []
    restarted = threading.Event()

    def read_stderr() -> None:
        assert running.process.stderr is not None
        for line in running.process.stderr:
            stderr.append(line)
            if line.startswith("payloops: router is running again"):
                restarted.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    router = next(pid for pid in running.children if "--name router" in _cmdline(pid))
    os.kill(router, signal.SIGKILL)
    assert restarted.wait(30), "".join(stderr)
    assert stderr[0].startswith("payloops: router was killed by SIGKILL; restarting it in 0.5 s (restart 1)")
    assert running.process.poll() is None  # still serving
    reaper.watch(family([running.process.pid]) - {running.process.pid})

    endpoints = json.loads((data_dir / "run" / "endpoints.json").read_text())
    sandbox_port = endpoints["razorpay_sandbox_url"].rpartition(":")[2]
    sandbox = next(pid for pid in running.children if f"--port {sandbox_port}" in _cmdline(pid))
    os.kill(sandbox, signal.SIGKILL)
    assert running.process.wait(timeout=30) == 1
    reader.join(timeout=10)  # to the end of its stderr
    text = "".join(stderr)
    assert "payloops: razorpay_sandbox was killed by SIGKILL unexpectedly" in text
    assert "Traceback" not in text
    assert wait_gone(family([running.process.pid]) | running.children, timeout=5) == []
    assert mentioning(str(data_dir)) == []
