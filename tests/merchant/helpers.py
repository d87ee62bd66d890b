"""Helpers for the accounts and isolation tests: dashboard accounts through the
gateway, clients with their own loopback source address (each a distinct client
address for the gateway's throttles), AIP-193 answers, and a register of every secret
the tests handled, to look for in the platform's logs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc

from launcher.platform import Platform
from services.merchant.config import Settings
from tests.log_scan import assert_clean_logs

# Every secret a test saw (passwords, API keys, tokens, processor and webhook secrets).
SEEN_SECRETS: set[str] = set()


def remember(*values: str) -> None:
    SEEN_SECRETS.update(value for value in values if value)


def new_email() -> str:
    return f"merchant-{secrets.token_hex(6)}@example.com"


def new_password() -> str:
    password = f"pw-{secrets.token_urlsafe(12)}-7a"
    remember(password)
    return password


def stripe_credentials() -> dict[str, str]:
    credentials = {"secretKey": f"sk_test_{secrets.token_hex(12)}", "webhookSecret": f"whsec_{secrets.token_hex(16)}"}
    remember(*credentials.values())
    return credentials


def razorpay_credentials() -> dict[str, str]:
    credentials = {
        "keyId": f"rzp_test_{secrets.token_hex(7)}",
        "keySecret": secrets.token_hex(12),
        "webhookSecret": secrets.token_hex(16),
    }
    remember(credentials["keySecret"], credentials["webhookSecret"])  # a key id is not a secret
    return credentials


def fresh_address() -> str:
    """A loopback address other than 127.0.0.1 (the gateway sees it as the client's)."""
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


@contextmanager
def client(platform: Platform, *, source: str | None = None, **headers: str) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    with httpx.Client(base_url=platform.gateway_url, headers=headers, timeout=30, transport=transport) as opened:
        yield opened


@dataclass(frozen=True)
class Account:
    merchant_id: str
    email: str
    password: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(anonymous: httpx.Client, *, email: str | None = None, name: str = "Test Merchant") -> Account:
    email, password = email or new_email(), new_password()
    answer = anonymous.post("/api/auth/register", json={"email": email, "password": password, "name": name})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    remember(body["token"])
    return Account(body["merchant"]["id"], email, password, body["token"])


@dataclass(frozen=True)
class Merchant:
    """A registered merchant with sandbox processors and a test API key."""

    account: Account
    api_key: str
    key_id: str


def create_api_key(dashboard: httpx.Client, mode: str = "test") -> tuple[str, str]:
    answer = dashboard.post("/api/api-keys", json={"mode": mode, "name": f"{mode} key"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    remember(body["secret"])
    return body["secret"], body["apiKey"]["id"]


def set_up_merchant(platform: Platform) -> Merchant:
    with client(platform) as anonymous:
        account = register(anonymous)
    with client(platform, **account.bearer) as dashboard:
        for processor, credentials in (("stripe", stripe_credentials()), ("razorpay", razorpay_credentials())):
            answer = dashboard.post("/api/processors", json={"processor": processor, "credentials": credentials})
            assert answer.status_code == 200, answer.text
        secret, key_id = create_api_key(dashboard)
    return Merchant(account, secret, key_id)


@dataclass
class SignedUp:
    """A merchant set up as a new merchant would be, with a client per credential."""

    merchant_id: str
    rest: httpx.Client  # its test-mode API key
    dashboard: httpx.Client  # its dashboard token


@contextmanager
def signed_up(platform: Platform) -> Iterator[SignedUp]:
    made = set_up_merchant(platform)
    with (
        client(platform, **{"X-API-Key": made.api_key}) as rest,
        client(platform, **made.account.bearer) as dashboard,
    ):
        yield SignedUp(made.account.merchant_id, rest, dashboard)


def aip193(answer: httpx.Response, status: int) -> tuple[str, dict[str, Any]]:
    """Assert the AIP-193 shape and status; return the ErrorInfo reason and the body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert set(body) == {"code", "message", "details"} and body["message"], body
    infos = [d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert len(infos) == 1 and infos[0]["domain"] == "payloops.dev", body
    reason: str = infos[0]["reason"]
    return reason, body


def violated_fields(body: dict[str, Any]) -> list[str]:
    requests = [d for d in body["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    return [v["field"] for r in requests for v in r["fieldViolations"]]


@contextmanager
def internal_stub(
    platform: Platform, *, as_identity: str
) -> Iterator[merchant_internal_service_pb2_grpc.MerchantInternalServiceStub]:
    """The merchant service's internal API, called over the mesh as component `as_identity`."""
    with platform.channel("merchant", as_identity=as_identity) as channel:
        yield merchant_internal_service_pb2_grpc.MerchantInternalServiceStub(channel)


@contextmanager
def database(platform: Platform) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(platform.database_libpq_url, autocommit=True) as connection:
        yield connection


def assert_no_secrets_in_logs(platform: Platform) -> None:
    """No secret a test saw, and no card number, in any component's log: the launcher
    writes each process's output (services, workers, web, Envoy's access and error log,
    Temporal, localstripe, the sandboxes, an embedded PostgreSQL or Redis) to
    `<log_dir>/<name>.log`."""
    assert SEEN_SECRETS, "no secret was recorded"
    missing = [name for name in platform.service_addrs if not platform.log_path(name).is_file()]
    assert not missing, f"no log for {missing} in {platform.log_dir}: the scan would miss them"
    assert_clean_logs(platform.log_dir, SEEN_SECRETS)


def merchant_settings(platform: Platform) -> Settings:
    """The merchant service's configuration as the platform runs it."""
    saved = dict(os.environ)
    os.environ.update(platform.service_env("merchant"))
    try:
        return Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
