"""The SSRF guard: which addresses and URLs may receive webhooks."""

from __future__ import annotations

import ipaddress

import pytest

from services.common.ssrf import UnsafeDestination, address_problem, parse_address, resolve_checked, url_problem
from services.merchant.validation import url_violations

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.1",
    "198.18.0.1",
    "192.0.2.1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
    "2002:a00:1::",  # 6to4 form of 10.0.0.1
    "::127.0.0.1",
    "100.100.100.200",
    "fd00:ec2::254",
]
ALLOWED_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("literal", REFUSED_ADDRESSES)
def test_internal_addresses_are_refused(literal: str) -> None:
    assert address_problem(ipaddress.ip_address(literal)) is not None


@pytest.mark.parametrize("literal", ALLOWED_ADDRESSES)
def test_public_addresses_are_allowed(literal: str) -> None:
    assert address_problem(ipaddress.ip_address(literal)) is None


def test_the_development_switch_allows_loopback_only() -> None:
    for literal in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"):
        assert address_problem(ipaddress.ip_address(literal), allow_loopback=True) is None
    for literal in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1", "192.168.0.1", "100.64.0.1"):
        assert address_problem(ipaddress.ip_address(literal), allow_loopback=True) is not None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("10.1", "10.0.0.1"),
        ("example.com", None),
    ],
)
def test_legacy_address_forms_are_parsed(host: str, expected: str | None) -> None:
    parsed = parse_address(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/",
        "http://localhost/",
        "http://api.localhost/",
        "http://127.0.0.1:8080/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fe80::1%25eth0]/",
        "http://0.0.0.0/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://100.64.1.1/",
        "http:///no-host",
    ],
)
def test_internal_urls_are_refused(url: str) -> None:
    assert url_problem(url) is not None
    assert url_violations(url) != []


def test_public_urls_are_allowed() -> None:
    assert url_problem("https://example.com/hooks") is None
    assert url_problem("http://93.184.216.34:8443/x") is None
    assert url_violations("https://example.com/hooks") == []


def test_registration_allows_loopback_only_with_the_switch() -> None:
    assert url_violations("http://127.0.0.1:9/hook", allow_loopback=True) == []
    assert url_violations("http://localhost:9/hook", allow_loopback=True) == []
    assert url_violations("http://10.0.0.1/", allow_loopback=True) != []
    assert url_violations("http://169.254.169.254/", allow_loopback=True) != []


async def test_resolution_is_checked_at_send_time() -> None:
    with pytest.raises(UnsafeDestination):
        await resolve_checked("localhost", 80)
    with pytest.raises(UnsafeDestination):
        await resolve_checked("127.0.0.1", 80)
    with pytest.raises(UnsafeDestination):
        await resolve_checked("169.254.169.254", 80, allow_loopback=True)
    assert str(await resolve_checked("localhost", 80, allow_loopback=True)) in ("127.0.0.1", "::1")
    assert str(await resolve_checked("8.8.8.8", 80)) == "8.8.8.8"
