"""One helper for every program the launcher runs: spawn it with its own process group and a
parent-death signal, send its output to a log file, stop it with a signal, a grace period
and SIGKILL."""

from __future__ import annotations

import contextlib
import datetime
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

_TAIL_BYTES = 64 * 1024

# Sets the parent-death signal, optionally drops to another user, then execs the real
# program (same pid). A shim rather than a preexec_fn: with a preexec_fn (or a user
# switch) subprocess must fork() instead of vfork(), and fork() runs the pthread_atfork
# handlers of libraries in the launcher. grpc's fork support (on by default) restarts its
# event-engine threads in the child, which then abort() on the epoll fd that close_fds
# just closed: children died of SIGABRT at random when a test process used grpc while
# the platform started. The shim costs one interpreter start-up (~20 ms) per child.
_SHIM = """\
import ctypes, os, sys
parent, death_signal, uid, gid = map(int, sys.argv[1:5])
if gid >= 0:
    os.setgroups([])
    os.setgid(gid)
if uid >= 0:
    os.setuid(uid)
ctypes.CDLL(None).prctl(1, death_signal, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != parent:  # the launcher died before prctl
    os._exit(70)
os.execvp(sys.argv[5], sys.argv[5:])
"""
_USE_SHIM = sys.platform.startswith("linux")


def _with_shim(argv: list[str], death_signal: int, user: str | None) -> list[str]:
    uid = gid = -1
    if user is not None and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        uid, gid = entry.pw_uid, entry.pw_gid
    if not _USE_SHIM:
        return argv
    return [sys.executable, "-I", "-S", "-c", _SHIM, str(os.getpid()), str(death_signal), str(uid), str(gid), *argv]


def _resolve(program: str, env: Mapping[str, str] | None) -> str:
    """The program's absolute path (a relative path is taken from the launcher's working
    directory, not the child's); FileNotFoundError here rather than in the shim."""
    if os.sep in program:
        program = os.path.abspath(program)
        if not os.access(program, os.X_OK):
            raise FileNotFoundError(f"no executable at {program}")
        return program
    path = (env if env is not None else os.environ).get("PATH")
    found = shutil.which(program, path=path)
    if found is None:
        raise FileNotFoundError(f"{program} is not on PATH")
    return found


_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _spawn(popen: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Run `popen` on one long-lived thread.

    The kernel sends PR_SET_PDEATHSIG when the *thread* that forked the child exits, not
    the process; a caller on a short-lived thread (asyncio.to_thread, a thread pool) would
    see its children killed when that thread is retired. This thread lives as long as the
    interpreter."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="payloops-spawn")
        executor = _spawner
    return executor.submit(popen).result()


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class ChildProcess:
    """A program started by the launcher.

    - own session and process group (`start_new_session`), so a terminal's Ctrl-C reaches
      only the launcher, and a stop reaches the program's own children too;
    - `PR_SET_PDEATHSIG` (Linux), so a SIGKILLed launcher still takes it down;
    - stdout and stderr appended to `<log_dir>/<name>.log` (stdout to `<name>.out` with
      `capture_stdout`), after a header line naming the run.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        signal_group: bool = True,
        user: str | None = None,
        capture_stdout: bool = False,
        echo: LogEcho | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_dir / f"{name}.log"
        self.stdout_path = log_dir / f"{name}.out" if capture_stdout else None
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_signal = int(stop_signal)
        self.signal_group = signal_group
        self.user = user
        self.echo = echo
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._stop_lock = threading.Lock()

    # -- starting -------------------------------------------------------------------------

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError(f"{self.name} was already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        with contextlib.ExitStack() as files:
            log = files.enter_context(open(self.log_path, "ab"))
            log.write(f"===== {stamp} payloops starts {self.name}: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self._log_offset = log.tell()
            stdout = log
            if self.stdout_path is not None:  # private: a seed prints an API key
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                stdout = files.enter_context(open(os.open(self.stdout_path, flags, 0o600), "wb"))
            program = _resolve(self.argv[0], self.env)
            argv = _with_shim([program, *self.argv[1:]], self.stop_signal, self.user)
            env, cwd = self.env, self.cwd

            def popen() -> subprocess.Popen[bytes]:
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=log,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                    close_fds=True,
                )

            self._proc = _spawn(popen)
        if self.echo is not None:
            self.echo.follow(self.name, self.log_path, self._log_offset)

    # -- state ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def started(self) -> bool:
        return self._proc is not None

    def exit_code(self) -> int | None:
        """The exit code (negative: killed by that signal), or None while running or
        before start. Does not reap the process: until stop() reaps it, its pid still
        names its process group, so a final group-wide SIGKILL cannot hit a stranger."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is not None:
            return proc.returncode
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return proc.poll()
        if info is None or info.si_pid == 0:
            return None
        if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
            return -info.si_status
        return info.si_status

    def running(self) -> bool:
        return self._proc is not None and self.exit_code() is None

    def wait_exit(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the process to exit; its exit code or None."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None or time.monotonic() >= deadline:
                return code
            time.sleep(0.02)

    # -- stopping -------------------------------------------------------------------------

    def send_signal(self, sig: int, *, group: bool | None = None) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.signal_group if group is None else group:
                os.killpg(proc.pid, sig)
            else:
                os.kill(proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop signal, up to `timeout` seconds of grace, then SIGKILL to the whole group.
        Idempotent; returns the exit code (None if never started)."""
        proc = self._proc
        if proc is None:
            return None
        with self._stop_lock:
            if proc.returncode is not None:
                return proc.returncode
            if self.exit_code() is None:
                self.send_signal(self.stop_signal)
                if self.wait_exit(timeout) is None:
                    self.send_signal(signal.SIGKILL, group=True)
                    self.wait_exit(5.0)
            # The leader is gone but not reaped: sweep whatever it left in its group.
            self.send_signal(signal.SIGKILL, group=True)
            try:
                return proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if SIGKILL did not work
                return None

    # -- output ---------------------------------------------------------------------------

    def log_text(self) -> str:
        """Everything this run wrote to its log."""
        return read_from(self.log_path, self._log_offset)

    def tail(self, lines: int = 20) -> str:
        """The last `lines` lines this run wrote to its log."""
        try:
            size = self.log_path.stat().st_size
        except FileNotFoundError:
            return ""
        text = read_from(self.log_path, max(self._log_offset, size - _TAIL_BYTES))
        return "\n".join(text.splitlines()[-lines:])

    def stdout_text(self) -> str:
        """What the program printed on stdout (only with `capture_stdout`)."""
        if self.stdout_path is None:
            raise RuntimeError(f"{self.name} was not started with capture_stdout")
        return read_from(self.stdout_path, 0)


def read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class LogEcho:
    """Copies new lines of followed log files to a console stream, prefixed by name
    (`payloops up --verbose`). The log files stay the source of truth, so a slow console
    never blocks a child."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self._stream = stream
        self._interval = interval
        self._followed: list[_Followed] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, name: str, path: Path, offset: int) -> None:
        with self._lock:
            self._followed.append(_Followed(name, path, offset))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="payloops-log-echo", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._pump(final=True)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._pump(final=False)

    def _pump(self, *, final: bool) -> None:
        with self._lock:
            followed = list(self._followed)
        width = max((len(f.name) for f in followed), default=0)
        stream = self._stream if self._stream is not None else sys.stdout
        for item in followed:
            for line in item.read_lines(final=final):
                stream.write(f"{item.name:>{width}} | {line}\n")
        with contextlib.suppress(ValueError, OSError):
            stream.flush()


class _Followed:
    def __init__(self, name: str, path: Path, offset: int) -> None:
        self.name = name
        self.path = path
        self.offset = offset
        self.partial = b""

    def read_lines(self, *, final: bool) -> list[str]:
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        if final and self.partial:
            lines.append(self.partial)
            self.partial = b""
        return [line.decode("utf-8", "replace") for line in lines]
