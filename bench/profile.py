"""Where a Python component's CPU goes, by library: py-spy samples the component while
the bench loads it, only when its Python code holds the GIL (so idle threads and waits do
not count), and each sample is charged to the innermost frame that is not the standard
library, within the callback the event loop is running: the library whose call it is
(asyncio's selector registering psycopg's wait is psycopg's; typing.get_type_hints
called by Temporal's converter is temporalio's). Samples with no such frame are the
event loop's own ("python"). The process's CPU time
that no sample explains ran without the GIL: native threads (Temporal's Rust core,
gRPC's C core) and C code that releases it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import psutil

SITE_PACKAGES = "site-packages/"
# Libraries that ship under another top-level name than the one people know them by.
LIBRARY_NAMES = {"google": "protobuf"}
OURS = {"services", "launcher", "sandboxes", "bench", "payloops"}
STANDARD = set(sys.stdlib_module_names)
RATE_HZ = 100


def py_spy() -> str:
    """The py-spy installed next to this Python (the project's dev dependencies), else PATH's."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def frame_path(frame: str) -> str:
    """The file of a py-spy raw frame, "function (path:line)"; py-spy names a file by its
    path under the sys.path entry it was imported from (sqlalchemy/orm/session.py)."""
    inside = frame[frame.find(" (") + 2 :]
    return inside.rsplit(":", 1)[0]


def library_of(path: str) -> str | None:
    """The library a file belongs to; None for the standard library and the interpreter."""
    if SITE_PACKAGES in path:
        path = path.split(SITE_PACKAGES, 1)[1]
    if path.startswith("/"):
        return None  # outside every import root
    if path.startswith("<"):  # <frozen runpy>, <string>, <sqlalchemy generated _go() wrapper ...>
        code_of = path[1:].split(" ", 1)[0].rstrip(">")
        return None if code_of in ("frozen", "string") or code_of.startswith("_") else code_of
    top = path.split("/", 1)[0].removesuffix(".py")
    if top.startswith("__"):  # __loader__, __doc__: the import machinery
        return None
    if top in OURS:
        return "payloops"
    if top in STANDARD or top.lstrip("_") in STANDARD:
        return None
    return LIBRARY_NAMES.get(top, top.lstrip("_"))


# The event loop running a callback or a task's step: frames outside it (the server's
# main loop) are not the callee's caller, so a sample is never charged past it.
LOOP_DISPATCH = ("asyncio/events.py", "asyncio/base_events.py")


def charge(stack: list[str]) -> str:
    """The library a sample is charged to: the innermost non-standard-library frame's,
    within the callback the event loop is running ("python": the loop's own work)."""
    for frame in reversed(stack):
        path = frame_path(frame)
        if path.endswith(LOOP_DISPATCH):
            break
        library = library_of(path)
        if library is not None:
            return library
    return "python"


def seconds_by_library(raw_lines: Iterable[str]) -> dict[str, float]:
    """Seconds of Python (GIL-holding) time per library, most first, from py-spy's raw
    (collapsed) output: "frame;frame;... count" per line, a sample every 1/RATE_HZ s."""
    counts: Counter[str] = Counter()
    for line in raw_lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            counts[charge(stack.split(";"))] += int(count)
    return {library: n / RATE_HZ for library, n in counts.most_common()}


def python_components(pids: dict[str, int]) -> dict[str, int]:
    """The components that are Python processes (the ones py-spy can read)."""
    found: dict[str, int] = {}
    for name, pid in pids.items():
        try:
            if "python" in Path(psutil.Process(pid).exe()).name:
                found[name] = pid
        except psutil.Error:
            continue
    return found


class Sampler:
    """py-spy attached to each component for a fixed time (it stops by itself), reading it
    without pausing it (--nonblocking), so the load runs as it would unsampled."""

    def __init__(self, pids: dict[str, int], seconds: float) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="payloops-profile-")
        self.runs: dict[str, tuple[subprocess.Popen[str], Path]] = {}
        for name, pid in pids.items():
            output = Path(self.folder.name) / f"{pid}.raw"
            command = [py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
            command += ["--rate", str(RATE_HZ), "--gil", "--nonblocking", "--format", "raw", "--output", str(output)]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.runs[name] = (process, output)

    def collect(self) -> dict[str, dict[str, float]]:
        """Each component's Python seconds per library; a component py-spy could not read
        is missing, and why is raised if none could be read."""
        result: dict[str, dict[str, float]] = {}
        problems: list[str] = []
        try:
            for name, (process, output) in self.runs.items():
                _, stderr = process.communicate(timeout=120)
                if process.returncode == 0 and output.exists():
                    result[name] = seconds_by_library(output.read_text().splitlines())
                else:
                    problems.append(f"{name}: {stderr.strip()[-300:]}")
        finally:
            self.folder.cleanup()
        if self.runs and not result:
            raise RuntimeError("py-spy could not sample any component: " + "; ".join(problems))
        return result
