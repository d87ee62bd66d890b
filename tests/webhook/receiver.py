"""A merchant's webhook endpoint for tests: a threaded HTTP server on 127.0.0.1 (a free
port) that records every request and answers by path:

    /ok                 200
    /flaky/<n>          500 to the first n requests of each webhook-id, then 200
    /dead               500 until `revive()`, then 200
    /slow-first/<s>     sleeps s seconds on the first request of each webhook-id, then 200
    /redirect           302 to /ok
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    alive: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revive(self) -> None:
        self.alive = True

    def answered(self, path: str, event_id: str | None = None) -> list[Received]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path == path and (event_id is None or r.headers.get("webhook-id") == event_id)
            ]

    def seen(self, event_id: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.headers.get("webhook-id") == event_id)

    def status_for(self, path: str, event_id: str) -> tuple[int, float]:
        """(status, seconds to wait first) for the next request of `event_id` to `path`."""
        earlier = Counter((r.path, r.headers.get("webhook-id")) for r in self.requests)[(path, event_id)]
        if path.startswith("/flaky/"):
            return (500 if earlier < int(path.rsplit("/", 1)[1]) else 200), 0.0
        if path == "/dead":
            return (200 if self.alive else 500), 0.0
        if path.startswith("/slow-first/"):
            return 200, float(path.rsplit("/", 1)[1]) if earlier == 0 else 0.0
        if path == "/redirect":
            return 302, 0.0
        return (200 if path == "/ok" else 404), 0.0


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                status, wait = receiver.status_for(self.path, headers.get("webhook-id", ""))
                receiver.requests.append(Received(self.path, headers, body, status))
            time.sleep(wait)
            self.send_response(status)
            if status == 302:
                self.send_header("location", f"{receiver.base_url}/ok")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
