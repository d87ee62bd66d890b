"""The merchant's own site, for the hosted checkout's redirects: a local server answering
every page with its path, and the card form filled in as a customer would."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page


class ShopPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<!doctype html><title>Shop</title><h1>Shop page {self.path}</h1>".encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_shop() -> Iterator[str]:
    """The shop's base URL on a free loopback port, while it lasts."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pay_with(page: Page, number: str) -> None:
    """Fills the hosted checkout's card form and presses its pay button."""
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
