"""ChildProcess, ports and URL helpers, without the platform."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from launcher import ports as launcher_ports
from launcher.components import libpq_url, sqlalchemy_url
from launcher.ports import ephemeral_range, free_port, port_in_use
from launcher.process import ChildProcess
from tests.launcher.conftest import PYTHON, Reaper, alive, wait_gone


def _wait_for_log(child: ChildProcess, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = child.log_text()
        if text in log:
            return log
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in the log of {child.name}: {child.log_text()!r}")


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path, reaper: Reaper) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    child = ChildProcess("stubborn", [PYTHON, "-c", code], log_dir=tmp_path)
    child.start()
    assert child.pid is not None
    reaper.watch([child.pid])
    _wait_for_log(child, "ready")
    began = time.monotonic()
    assert child.stop(timeout=0.5) == -signal.SIGKILL
    assert time.monotonic() - began < 3
    assert child.stop() == -signal.SIGKILL  # idempotent


def test_stop_sweeps_the_process_group(tmp_path: Path, reaper: Reaper) -> None:
    grandchild = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    code = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); "
        "print('grandchild', p.pid, flush=True); time.sleep(60)"
    )
    child = ChildProcess("parent", [PYTHON, "-c", code], log_dir=tmp_path)
    child.start()
    assert child.pid is not None
    reaper.watch([child.pid])
    grandchild_pid = int(_wait_for_log(child, "grandchild").split("grandchild")[1].split()[0])
    reaper.watch([grandchild_pid])
    assert child.stop(timeout=5) == -signal.SIGTERM
    assert wait_gone([grandchild_pid], timeout=5) == []


def test_log_tail_exit_code_and_stdout_capture(tmp_path: Path) -> None:
    code = "import sys; [print(f'line {i}', file=sys.stderr) for i in range(30)]; print('{\"ok\": 1}'); sys.exit(5)"
    child = ChildProcess("oneshot", [PYTHON, "-c", code], log_dir=tmp_path, capture_stdout=True)
    child.start()
    assert child.wait_exit(10) == 5
    assert child.tail(3) == "line 27\nline 28\nline 29"
    assert child.stdout_text() == '{"ok": 1}\n'
    assert child.stop() == 5

    again = ChildProcess("oneshot", [PYTHON, "-c", "print('second run')"], log_dir=tmp_path)
    again.start()
    assert again.wait_exit(10) == 0
    assert again.log_text() == "second run\n"  # this run only
    assert "line 29" in (tmp_path / "oneshot.log").read_text()  # the file keeps earlier runs


def test_children_die_with_a_sigkilled_parent_even_when_spawned_off_the_main_thread(
    tmp_path: Path, reaper: Reaper
) -> None:
    # The parent spawns from a short-lived thread: PR_SET_PDEATHSIG follows the thread
    # that forked, so ChildProcess forks from its own long-lived thread instead.
    parent = (
        "import sys, threading, time; from pathlib import Path; from launcher.process import ChildProcess; "
        "child = ChildProcess('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)'], "
        f"log_dir=Path({str(tmp_path)!r})); "
        "t = threading.Thread(target=child.start); t.start(); t.join(); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    process = subprocess.Popen([PYTHON, "-c", parent], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    reaper.watch([process.pid])
    assert process.stdout is not None
    child_pid = int(process.stdout.readline())
    reaper.watch([child_pid])
    time.sleep(0.3)
    assert alive(child_pid)  # the spawning thread has exited, the child lives on
    process.kill()
    process.wait(timeout=10)
    assert wait_gone([child_pid], timeout=5) == []


def test_port_in_use_and_free_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        assert port_in_use("127.0.0.1", busy)
    assert not port_in_use("127.0.0.1", busy)
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20  # never handed out twice


def test_free_ports_are_outside_the_range_bind_to_port_0_uses() -> None:
    """A program binding port 0 later (the Temporal dev server binds five) cannot take a
    port handed out for a service that has not bound it yet."""
    low, _ = ephemeral_range()
    for port in (free_port() for _ in range(50)):
        assert port < low
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free indeed


def test_a_configured_port_is_never_handed_out_although_nothing_binds_it_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """`payloops up --temporal-port P`: P is free until Temporal starts, and no component
    started before it may be given P."""
    monkeypatch.setattr(launcher_ports, "_handed_out", set())
    configured, other = free_port(), free_port()  # two ports free now
    monkeypatch.setattr(launcher_ports, "_handed_out", set())
    launcher_ports.reserve(configured, None)
    picks = iter([configured, other])
    monkeypatch.setattr(random, "randrange", lambda low, high: next(picks))
    assert free_port() == other


@pytest.mark.parametrize(
    ("given", "sqlalchemy", "libpq"),
    [
        ("postgresql://u@h:5/db", "postgresql+psycopg://u@h:5/db", "postgresql://u@h:5/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db", "postgresql://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db", "postgresql://u@h/db"),
        (
            "host=127.0.0.1 port=5432 user=postgres dbname=payloops_test_1",
            "postgresql+psycopg://postgres@127.0.0.1:5432/payloops_test_1",
            "postgresql://postgres@127.0.0.1:5432/payloops_test_1",
        ),
        (
            "host=/run/pg user=u password=p@ss dbname=d",
            "postgresql+psycopg://u:p%40ss@/d?host=%2Frun%2Fpg",
            "postgresql://u:p%40ss@/d?host=%2Frun%2Fpg",
        ),
    ],
)
def test_database_url_forms(given: str, sqlalchemy: str, libpq: str) -> None:
    assert sqlalchemy_url(given) == sqlalchemy
    assert libpq_url(given) == libpq


def test_stop_from_another_thread_while_waiting(tmp_path: Path, reaper: Reaper) -> None:
    child = ChildProcess("sleeper", [PYTHON, "-c", "import time; time.sleep(60)"], log_dir=tmp_path)
    child.start()
    assert child.pid is not None
    reaper.watch([child.pid])
    stopper = threading.Thread(target=child.stop)
    stopper.start()
    assert child.wait_exit(10) == -signal.SIGTERM
    stopper.join(10)
    assert child.stop() == -signal.SIGTERM
