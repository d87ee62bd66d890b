"""The Platform API with the real infrastructure (embedded PostgreSQL and Redis, Temporal
headless, localstripe, Envoy) and stand-ins for the services."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

import psutil  # type: ignore[import-untyped,unused-ignore]
import psycopg
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.platform import ComponentError, DataDirInUseError, Platform
from launcher.ports import is_listening
from tests.launcher.conftest import PYTHON, STANDIN, Reaper, alive, family, mentioning, standin_config, wait_gone

STRIPE_KEY = "sk_test_launcher"


def _http(method: str, url: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {STRIPE_KEY}")
    with urllib.request.urlopen(request, timeout=5) as answer:
        status: int = answer.status
        return status, answer.read()


def _serving(platform: Platform, name: str) -> bool:
    with platform.channel(name, as_identity="operator") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _listening_addresses(pids: set[int]) -> set[str]:
    addresses = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        addresses |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return addresses


def _assert_all_stopped(tracked: set[int], data_dir: Path) -> None:
    assert wait_gone(tracked, timeout=5) == []
    assert mentioning(str(data_dir)) == []


def test_start_check_stop_and_restart_on_the_same_data(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    reaper.watch(marker=data_dir)

    # -- first run: fresh data dir, Stripe through the fault proxy ---------------------------
    platform = Platform(standin_config(data_dir, stripe_fault_proxy=True))
    try:
        platform.start()
        tracked = family(platform.pids().values())  # includes the PostgreSQL backends
        reaper.watch(tracked)
        print("first start", {name: round(t, 2) for name, t in platform.timings.items()})

        assert platform.database_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert platform.database_libpq_url.startswith("postgresql://postgres@127.0.0.1:")
        with psycopg.connect(platform.database_libpq_url) as conn:
            conn.execute("CREATE TABLE launcher_probe (value int)")
            conn.execute("INSERT INTO launcher_probe VALUES (42)")

        client = redis.Redis.from_url(platform.redis_url)
        assert client.ping()
        client.set("payloops:launcher-probe", "kept")
        client.close()

        host, _, port = platform.temporal_address.rpartition(":")
        assert is_listening(host, int(port))

        proxy_url = platform.stripe_fault_proxy_url
        assert proxy_url is not None and proxy_url != platform.localstripe_url
        status, body = _http("POST", f"{proxy_url}/v1/customers", b"email=ada%40example.com")
        assert status == 200
        customer_id = json.loads(body)["id"]
        status, body = _http("GET", f"{platform.localstripe_url}/v1/customers/{customer_id}")
        assert status == 200 and json.loads(body)["email"] == "ada@example.com"

        for name in platform.service_addrs:
            assert _serving(platform, name), name
        assert set(platform.service_addrs) == {
            "merchant",
            "order",
            "router",
            "processor_stripe",
            "processor_razorpay",
            "webhook",
            "order_worker",
            "webhook_worker",
        }
        assert urllib.request.urlopen(f"{platform.gateway_url}/healthz", timeout=5).status == 200
        assert urllib.request.urlopen(f"{platform.razorpay_sandbox_url}/healthz", timeout=5).status == 200
        assert (platform.demo_merchant_id, platform.demo_api_key) == ("mer_standin", "sk_test_standin")
        assert "migrated" in platform.logs("migrate")

        env = platform.service_env("order")
        assert env["PORT"] == platform.service_addrs["order"].rpartition(":")[2]
        assert env["ORDER_SERVICE_ADDR"] == platform.service_addrs["order"]
        assert env["STRIPE_API_BASE"] == proxy_url
        assert env["RAZORPAY_BASE_URL"] == platform.razorpay_sandbox_url  # the SDK adds /v1 itself
        assert env["TEMPORAL_ADDRESS"] == platform.temporal_address
        assert env["PAYLOOPS_ENV"] == "dev" and env["REDIS_KEY_PREFIX"] == "payloops:"

        # nothing we run listens beyond loopback (localstripe alone would bind `::`)
        assert _listening_addresses(tracked) <= {"127.0.0.1", "::ffff:127.0.0.1"}

        # one platform per data dir
        with pytest.raises(DataDirInUseError):
            Platform(standin_config(data_dir)).start()
        platform.check()
    finally:
        platform.stop()
    print("first stop", {name: round(t, 2) for name, t in platform.stop_timings.items()})
    _assert_all_stopped(tracked, data_dir)
    platform.stop()  # idempotent

    # -- second run: same data dir, nothing lost --------------------------------------------
    restart_lines: list[str] = []
    again = Platform(dataclasses.replace(standin_config(data_dir), on_restart=restart_lines.append))
    try:
        again.start()
        tracked = family(again.pids().values())
        reaper.watch(tracked)
        print("restart", {name: round(t, 2) for name, t in again.timings.items()})

        with psycopg.connect(again.database_libpq_url) as conn:
            assert conn.execute("SELECT value FROM launcher_probe").fetchall() == [(42,)]
        client = redis.Redis.from_url(again.redis_url)
        assert client.get("payloops:launcher-probe") == b"kept"
        client.close()
        status, body = _http("GET", f"{again.localstripe_url}/v1/customers/{customer_id}")
        assert status == 200 and json.loads(body)["email"] == "ada@example.com"
        assert again.stripe_fault_proxy_url is None  # off by default: the services reach localstripe
        assert again.service_env("order")["STRIPE_API_BASE"] == again.localstripe_url

        # a service that dies is restarted, and the platform keeps running
        first_pid = again.pids()["router"]
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while again.restarts.get("router", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        again.wait_ready("router")
        assert again.pids()["router"] != first_pid
        reaper.watch(family([again.pids()["router"]]))
        assert any(line.startswith("router was killed by SIGKILL; restarting it") for line in restart_lines)
        again.check()

        # so is the gateway, which keeps no state
        os.kill(again.pids()["envoy"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while again.restarts.get("envoy", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        again.wait_ready("envoy")
        reaper.watch(family([again.pids()["envoy"]]))
        assert urllib.request.urlopen(f"{again.gateway_url}/healthz", timeout=5).status == 200

        # infrastructure dying is reported
        os.kill(again.pids()["razorpay_sandbox"], signal.SIGKILL)
        deadline = time.monotonic() + 10  # a dying multi-threaded process is reapable a bit later
        with pytest.raises(ComponentError, match="razorpay_sandbox was killed by SIGKILL unexpectedly"):
            while time.monotonic() < deadline:
                again.check()
                time.sleep(0.05)
    finally:
        again.stop()
    _assert_all_stopped(tracked, data_dir)


def test_a_service_that_keeps_dying_has_failed_for_good(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    reaper.watch(marker=data_dir)
    lines: list[str] = []
    config = standin_config(
        data_dir, with_envoy=False, seed=False, restart_delays=(0.05, 0.1), restart_limit=2, on_restart=lines.append
    )
    platform = Platform(config)
    try:
        platform.start()
        for restarts in (1, 2):
            os.kill(platform.pids()["router"], signal.SIGKILL)
            deadline = time.monotonic() + 30
            while platform.restarts.get("router", 0) < restarts and time.monotonic() < deadline:
                time.sleep(0.05)
            platform.wait_ready("router")
            reaper.watch(family([platform.pids()["router"]]))
        platform.check()
        os.kill(platform.pids()["router"], signal.SIGKILL)  # a third time in a row: it has failed for good
        deadline = time.monotonic() + 30
        with pytest.raises(ComponentError, match="router was killed by SIGKILL .2 restarts did not last"):
            while time.monotonic() < deadline:
                platform.check()
                time.sleep(0.05)
        assert lines[-1] == "router was killed by SIGKILL; it failed 2 times in a row: giving up"
    finally:
        platform.stop()


def test_a_child_failing_during_start_up_stops_everything(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    reaper.watch(marker=data_dir)

    def command(name: str) -> list[str]:
        if name == "router":
            return [PYTHON, str(STANDIN), "fail", "--message", "router could not read its config", "--after", "0.5"]
        return [PYTHON, str(STANDIN), "grpc", "--name", name]

    platform = Platform(standin_config(data_dir, service_command=command, with_envoy=False, seed=False))
    with pytest.raises(ComponentError) as failure:
        platform.start()
    assert failure.value.component == "router"
    assert failure.value.reason == "exited with code 3 during start-up"
    assert "router could not read its config" in failure.value.log_tail
    assert failure.value.log_path == data_dir / "logs" / "router.log"
    assert set(platform.stop_timings) >= {"postgres", "redis", "temporal", "localstripe", "merchant"}
    assert mentioning(str(data_dir)) == []
    assert not any(alive(pid) for pid in platform.pids().values())


def test_a_missing_binary_is_a_clear_error(tmp_path: Path, reaper: Reaper) -> None:
    data_dir = tmp_path / "data"
    reaper.watch(marker=data_dir)
    config = standin_config(
        data_dir,
        razorpay_sandbox_command=[str(tmp_path / "no-such-sandbox")],
        migrate=False,
        seed=False,
        with_envoy=False,
    )
    with pytest.raises(ComponentError, match="razorpay_sandbox could not start: FileNotFoundError"):
        Platform(config).start()
    assert mentioning(str(data_dir)) == []


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("the launcher's process handling is Linux-only")
