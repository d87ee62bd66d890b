"""Loopback ports: pick a free one, tell whether one is taken, wait until one answers."""

from __future__ import annotations

import errno
import random
import socket
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
# free_port picks from the PRIVATE_PORTS_SPAN ports below the ephemeral range (not below this).
PRIVATE_PORTS_FROM = 1024
PRIVATE_PORTS_SPAN = 12000

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands to bind(port 0) callers (Linux's ip_local_port_range)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = LOOPBACK) -> int:
    """A port that is free on `host` now, below the kernel's ephemeral range.

    Below it, because programs started later take random ports from that range (the
    Temporal dev server binds five: HTTP, metrics and its internal services) and one of
    them could take a port handed out here before its owner binds it. The port is released
    before it is returned, so another program could still take it; within this process the
    same port is never handed out twice."""
    low = max(PRIVATE_PORTS_FROM, ephemeral_range()[0] - PRIVATE_PORTS_SPAN)
    high = max(low + 1, ephemeral_range()[0])
    for _ in range(200):
        port = random.randrange(low, high)
        with _handed_out_lock:
            if port in _handed_out:
                continue
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        with _handed_out_lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError(f"could not find a free port on {host}")


def reserve(*ports: int | None) -> None:
    """Ports given by configuration: free_port never hands them out here, although they
    are still free until their component binds them."""
    with _handed_out_lock:
        _handed_out.update(port for port in ports if port)


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
