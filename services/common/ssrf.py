"""Where PayLoops may send a merchant's webhooks (server-side request forgery guard).

Used twice: when an endpoint is registered (the URL's scheme and, for an address
literal or a reserved name, the host) and when a webhook is sent (every address the
host resolves to, right before connecting to one of those checked addresses, so a DNS
answer that changes in between cannot swap in an internal one).

Refused: schemes other than http(s), loopback, link-local, private (RFC 1918, fc00::/7),
unspecified, multicast, reserved and shared (CGNAT 100.64/10) addresses, cloud metadata
addresses, and the IPv4-mapped / NAT64 / 6to4 IPv6 forms of those. `allow_loopback`
lets loopback through (and nothing else): local development and tests only."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")
# Hosts that are metadata services or loopback by name, whatever DNS says.
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.internal"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # shared address space (CGNAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(ValueError):
    """The URL or address may not receive webhooks. The message names no address."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries: mapped, NAT64, 6to4 or IPv4-compatible."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d (deprecated IPv4-compatible)
        return ipaddress.IPv4Address(int(address))
    return None


def address_problem(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why webhooks may not go to `address`, or None when they may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "a scoped IPv6 address"
        inner = embedded_ipv4(address)
        if inner is not None:
            return address_problem(inner, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (
            any(address in network for network in EXTRA_BLOCKED if network.version == address.version),
            "an internal address",
        ),
        (not address.is_global, "a non-public address"),
    )
    return next((problem for found, problem in checks if found), None)


def parse_address(host: str) -> IPAddress | None:
    """`host` as an address literal (brackets, zone ids and the legacy IPv4 forms
    such as 2130706433 or 0x7f.1 included), or None for a name."""
    literal = host.strip("[]")
    try:
        return ipaddress.ip_address(literal)
    except ValueError:
        pass
    try:  # what inet_aton accepts, as C resolvers do: 127.1, 0x7f000001, 017700000001
        return ipaddress.IPv4Address(socket.inet_aton(literal))
    except OSError:
        return None


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """What is wrong with `url` as a webhook destination before resolving its host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in SCHEMES:
        return "must be an http or https URL"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "must name a host"
    if host in METADATA_NAMES:
        return "must not point at a cloud metadata service"
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return None if allow_loopback else "must not point at a loopback address"
    address = parse_address(host)
    if address is not None:
        problem = address_problem(address, allow_loopback=allow_loopback)
        if problem is not None:
            return f"must not point at {problem}"
    return None


async def resolve_checked(host: str, port: int, *, allow_loopback: bool = False) -> IPAddress:
    """One checked address of `host` to connect to. Every address the host resolves to
    must be allowed (a name with one internal address is refused outright)."""
    literal = parse_address(host)
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise UnsafeDestination(f"cannot resolve the host: {error.strerror or error}") from None
        found = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    if not found:
        raise UnsafeDestination("the host has no address")
    for address in found:
        problem = address_problem(address, allow_loopback=allow_loopback)
        if problem is not None:
            raise UnsafeDestination(f"the host resolves to {problem}")
    return found[0]
