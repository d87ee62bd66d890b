"""Loopback HTTP servers for the SDK's retry tests: a proxy to the gateway that answers
nothing to the first request of a kind (after forwarding it), and a stub that plays a
script of answers. Both bind 127.0.0.1 on a free port and record what they receive."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    dropped: bool = False
    upstream_status: int = 0
    upstream_body: bytes = b""


@dataclass
class Recorder:
    base_url: str = ""
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, method: str, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.method == method and s.path.split("?")[0] == path]


Handle = Callable[[Seen], tuple[int, dict[str, str], bytes] | None]


@contextmanager
def serving(handle: Handle) -> Iterator[Recorder]:
    """An HTTP server calling `handle` for each request: it answers (status, headers, body),
    or None to close the connection without answering."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with recorder.lock:
                recorder.seen.append(seen)
            answer = handle(seen)
            if answer is None:
                seen.dropped = True
                self.close_connection = True
                return
            status, headers, content = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def dropping_proxy(target: str, method: str, path: str) -> Iterator[Recorder]:
    """Forwards everything to `target`; the first `method path` request is forwarded too,
    but its answer is thrown away and the client's connection closed instead."""
    dropped = threading.Event()
    with httpx.Client(base_url=target, timeout=60) as upstream:

        def handle(seen: Seen) -> tuple[int, dict[str, str], bytes] | None:
            headers = {k: v for k, v in seen.headers.items() if k not in HOP_BY_HOP}
            answer = upstream.request(seen.method, seen.path, headers=headers, content=seen.body)
            seen.upstream_status, seen.upstream_body = answer.status_code, answer.content
            if (seen.method, seen.path) == (method, path) and not dropped.is_set():
                dropped.set()
                return None
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            kept.pop("content-encoding", None)
            return answer.status_code, kept, answer.content

        with serving(handle) as recorder:
            yield recorder


def scripted(answers: list[tuple[int, dict[str, str], Any]]) -> Handle:
    """Plays `answers` in turn (the last one again once they run out); bodies are JSON."""
    remaining = list(answers)
    lock = threading.Lock()

    def handle(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        with lock:
            status, headers, body = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return status, {"content-type": "application/json", **headers}, json.dumps(body).encode()

    return handle
