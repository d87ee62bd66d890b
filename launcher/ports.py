"""Loopback ports: pick a free one, tell whether one is taken, wait until one answers."""

from __future__ import annotations

import errno
import socket
import threading
import time

LOOPBACK = "127.0.0.1"

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = LOOPBACK) -> int:
    """An ephemeral port that is free on `host` now.

    The port is released before it is returned, so another program could still take it;
    within this process the same port is never handed out twice."""
    for _ in range(100):
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        with _handed_out_lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError(f"could not find a free port on {host}")


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (or the address cannot be bound).

    SO_REUSEADDR keeps a port whose last connections sit in TIME_WAIT from counting as
    taken, which is what a server binding the port right after us will see too."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_listening(host: str, port: int, timeout: float) -> bool:
    """Poll until host:port accepts connections or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening(host, port):
            return True
        time.sleep(0.05)
    return False


def connect_host(bind_host: str) -> str:
    """The address a local client uses to reach a server bound to `bind_host`."""
    if bind_host in ("", "0.0.0.0"):
        return LOOPBACK
    if bind_host == "::":
        return "::1"
    return bind_host


def hostport(host: str, port: int) -> str:
    """`host:port`, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
