"""The test harness: the whole platform, started once per test session.

With DATABASE_URL / REDIS_URL set, the platform uses those servers, in a database and
under a Redis key prefix created for this session only (and removed afterwards);
without them it starts embedded PostgreSQL and Redis in a scratch data directory."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psycopg
import pytest
import redis

from launcher.platform import Platform, PlatformConfig
from tests.merchant.helpers import assert_no_secrets_in_logs, remember

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    server = os.environ.get("DATABASE_URL")
    if not server:
        yield None
        return
    name = f"payloops_test_{secrets.token_hex(4)}"
    admin = psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(admin.info.dsn, dbname=name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def redis_namespace() -> Iterator[tuple[str | None, str]]:
    url = os.environ.get("REDIS_URL")
    prefix = f"payloops-test-{secrets.token_hex(4)}:"
    yield url, prefix
    if url:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, redis_namespace: tuple[str | None, str]
) -> Iterator[Platform]:
    redis_url, prefix = redis_namespace
    config = PlatformConfig(
        data_dir=tmp_path_factory.mktemp("platform"),
        temporal_ui=False,
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=prefix,
        # Every Stripe call goes through the fault proxy (transparent until a fault is queued).
        stripe_fault_proxy=True,
        # The fault matrix kills the order service on purpose some sixteen times within a few
        # minutes, each cell shorter than the minute after which a restart counts as lasting.
        restart_limit=100,
        # Short enough that the sandbox's injected slow answers (8 s) outlast a processor
        # call, so the tests exercise unknown outcomes and their resolution.
        extra_env={
            "PROCESSOR_TIMEOUT_SECONDS": "4",
            "PROCESSOR_CALL_TIMEOUT_SECONDS": "8",
            "PAYMENT_STEP_TIMEOUT_SECONDS": "10",
            # Pending refunds are polled and unapplied processor events retried quickly.
            "REFUND_POLL_SECONDS": "2",
            "WEBHOOK_APPLY_RETRY_SECONDS": "2",
            # Webhook retries within seconds: five attempts in all.
            "WEBHOOK_RETRY_SCHEDULE": "[0.3, 0.6, 0.9, 1.2]",
            "WEBHOOK_ATTEMPT_TIMEOUT_SECONDS": "3",
            "OUTBOX_POLL_SECONDS": "0.2",
            # The sweep settles what no client or webhook does, within seconds here.
            "SWEEP_SECONDS": "1",
            "STUCK_AFTER_SECONDS": "3",
            "REQUIRES_ACTION_CHECK_SECONDS": "2",
            "REQUIRES_ACTION_EXPIRY_SECONDS": "30",
            # Checkout sessions may last 2 s (the contract's least is 1800 s), to see the
            # expiry timer fire.
            "CHECKOUT_MIN_EXPIRES_SECONDS": "2",
            # An eliminated processor is probed again within seconds.
            "ELIMINATION_COOLDOWN_SECONDS": "3",
        },
    )
    running = Platform(config)
    try:
        running.start()
        yield running
    finally:
        running.stop()
    # Last, once every component has stopped and written its last lines: no secret any
    # test saw, and no card number, reached a log line.
    assert_no_secrets_in_logs(running)


def seed_merchant(platform: Platform, key_file: Path) -> dict[str, str]:
    """A fresh merchant with its own API key (the seed command, run again)."""
    env = {**os.environ, **platform.service_env("merchant")}
    done = subprocess.run(
        [sys.executable, "-m", "services.merchant.seed", "--key-file", str(key_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    seeded: dict[str, str] = json.loads(done.stdout)
    remember(seeded["api_key"])
    return seeded


@pytest.fixture(scope="session")
def merchant_a(platform: Platform) -> dict[str, str]:
    assert platform.demo_merchant_id and platform.demo_api_key
    remember(platform.demo_api_key)
    return {"merchant_id": platform.demo_merchant_id, "api_key": platform.demo_api_key}


@pytest.fixture(scope="session")
def merchant_b(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return seed_merchant(platform, tmp_path_factory.mktemp("merchant-b") / "key.json")


@pytest.fixture()
def rest(platform: Platform, merchant_a: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, headers={"X-API-Key": merchant_a["api_key"]}, timeout=30) as c:
        yield c


@pytest.fixture()
def anonymous(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture()
def gateway_channel(platform: Platform) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(platform.gateway_grpc_target) as channel:
        yield channel
