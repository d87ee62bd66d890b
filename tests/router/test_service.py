"""The router service as it runs: `python -m services.router` against a fake merchant
service, asserting answers and the rich error details."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from payloops.merchant.v1 import merchant_internal_service_pb2 as mpb
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc, merchant_pb2
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc

from launcher.mesh_ca import development_mesh, mesh_env
from services.common.mesh import MeshFiles

ROOT = Path(__file__).resolve().parents[2]
CACHE_SECONDS = 0.5

pytestmark = pytest.mark.asyncio(loop_scope="session")


def single(rule_id: str, processor: str, **conditions: Any) -> merchant_pb2.RoutingRule:
    return merchant_pb2.RoutingRule(
        id=rule_id,
        conditions=merchant_pb2.RoutingConditions(**conditions),
        action=merchant_pb2.RoutingAction(single=merchant_pb2.SingleProcessor(processor=processor)),
    )


def split(rule_id: str, **weights: int) -> merchant_pb2.RoutingRule:
    return merchant_pb2.RoutingRule(
        id=rule_id,
        action=merchant_pb2.RoutingAction(
            volume_split=merchant_pb2.VolumeSplit(
                splits=[merchant_pb2.WeightedProcessor(processor=p, weight=w) for p, w in weights.items()]
            )
        ),
    )


BOTH = ["stripe", "razorpay"]
SUCCESS_RATE = merchant_pb2.RoutingRule(
    id="rr_sr",
    action=merchant_pb2.RoutingAction(
        success_rate=merchant_pb2.SuccessRateRouting(processors=["razorpay", "stripe"], exploration_percent=0)
    ),
)
CONFIGS: dict[str, mpb.GetRoutingConfigResponse] = {
    "mer_success_rate": mpb.GetRoutingConfigResponse(enabled_processors=BOTH, routing_rules=[SUCCESS_RATE]),
    "mer_default": mpb.GetRoutingConfigResponse(enabled_processors=BOTH),
    "mer_rules": mpb.GetRoutingConfigResponse(
        enabled_processors=BOTH,
        routing_rules=[single("rr_eur", "razorpay", currency="EUR"), split("rr_split", stripe=50, razorpay=50)],
    ),
    "mer_stripe_only": mpb.GetRoutingConfigResponse(enabled_processors=["stripe"]),
    "mer_bad_rule": mpb.GetRoutingConfigResponse(enabled_processors=BOTH, routing_rules=[single("rr_bad", "adyen")]),
    "mer_cached": mpb.GetRoutingConfigResponse(enabled_processors=BOTH),
    "mer_deadline": mpb.GetRoutingConfigResponse(enabled_processors=BOTH),
}


class FakeMerchant(merchant_internal_service_pb2_grpc.MerchantInternalServiceServicer):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.time_remaining: list[float | None] = []

    async def GetRoutingConfig(
        self, request: mpb.GetRoutingConfigRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> mpb.GetRoutingConfigResponse:
        self.calls.append(request.merchant_id)
        self.time_remaining.append(context.time_remaining())
        if request.merchant_id == "mer_down":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "database down")
        if request.merchant_id not in CONFIGS:
            info = any_pb2.Any()
            info.Pack(error_details_pb2.ErrorInfo(reason="MERCHANT_NOT_FOUND", domain="payloops.dev"))
            status = status_pb2.Status(code=code_pb2.NOT_FOUND, message="no such merchant", details=[info])
            await context.abort_with_status(rpc_status.to_status(status))
        return CONFIGS[request.merchant_id]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, MeshFiles]:
    return development_mesh(tmp_path_factory.mktemp("mesh"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def merchant(mesh: dict[str, MeshFiles]) -> AsyncIterator[tuple[FakeMerchant, str]]:
    fake = FakeMerchant()  # type: ignore[abstract]  # only GetRoutingConfig is needed
    server = grpc.aio.server()
    merchant_internal_service_pb2_grpc.add_MerchantInternalServiceServicer_to_server(fake, server)
    port = server.add_secure_port("127.0.0.1:0", mesh["merchant"].server_credentials())
    await server.start()
    yield fake, f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture(scope="module")
def router(
    merchant: tuple[FakeMerchant, str], mesh: dict[str, MeshFiles], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        PORT=address.rsplit(":", 1)[1],
        LISTEN_HOST="127.0.0.1",
        PAYLOOPS_ENV="test",
        MERCHANT_SERVICE_ADDR=merchant[1],
        MERCHANT_CALL_TIMEOUT_SECONDS="5",
        ROUTING_CACHE_SECONDS=str(CACHE_SECONDS),
        GRACE_PERIOD_SECONDS="0.5",
        # A Redis that is down: nothing listens on this port.
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        **mesh_env(mesh["router"]),
    )
    log = tmp_path_factory.mktemp("router") / "router.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.router"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_until_serving(process, address, log, mesh["operator"])
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(process: subprocess.Popen[bytes], address: str, log: Path, operator: MeshFiles) -> None:
    give_up = time.monotonic() + 15
    with operator.blocking_channel(address, "router") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < give_up:
            assert process.poll() is None, f"router exited: {log.read_text()}"
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                time.sleep(0.1)
    raise AssertionError(f"router did not start: {log.read_text()}")


@pytest_asyncio.fixture(loop_scope="session")
async def stub(
    router: str, mesh: dict[str, MeshFiles]
) -> AsyncIterator[router_service_pb2_grpc.RouterServiceAsyncStub]:
    async with mesh["order"].channel(router, "router") as channel:
        yield router_service_pb2_grpc.RouterServiceStub(channel)


def request(merchant_id: str, currency: str = "USD", order_id: str = "ord_1", **fields: Any) -> Any:
    return router_service_pb2.RouteRequest(
        merchant_id=merchant_id, order_id=order_id, amount=1999, currency=currency, **fields
    )


def answered(response: router_service_pb2.RouteResponse) -> list[tuple[str, str, str]]:
    return [(c.processor, c.reason, c.rule_id) for c in response.candidates]


async def refusal(stub: router_service_pb2_grpc.RouterServiceAsyncStub, routed: Any) -> tuple[Any, ...]:
    """(code, ErrorInfo, BadRequest or None) of a refused Route."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Route(routed, timeout=5)
    status = rpc_status.from_call(caught.value)
    assert status is not None, caught.value
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info)
    has_bad = len(status.details) > 1 and status.details[1].Unpack(bad)
    return caught.value.code(), info, bad if has_bad else None


async def test_default_routing(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    assert answered(await stub.Route(request("mer_default", "INR"), timeout=5)) == [
        ("razorpay", "default: INR -> razorpay", ""),
        ("stripe", "fallback", ""),
    ]
    assert answered(await stub.Route(request("mer_default", "JPY"), timeout=5)) == [
        ("stripe", "default: other currency -> stripe", "")
    ]


async def test_merchant_rules(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    assert answered(await stub.Route(request("mer_rules", "EUR"), timeout=5)) == [
        ("razorpay", "rule rr_eur: single processor", "rr_eur")
    ]
    firsts = set()
    for n in range(40):
        order = request("mer_rules", order_id=f"ord_{n}")
        answers = {tuple(answered(await stub.Route(order, timeout=5))) for _ in range(2)}
        assert len(answers) == 1
        [candidates] = answers
        assert {c[2] for c in candidates} == {"rr_split"}
        firsts.add(candidates[0][0])
    assert firsts == {"stripe", "razorpay"}


async def test_a_native_token_restricts_the_candidates(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    routed = request("mer_default", "INR", payment_method_type="card", payment_method_token="pm_1Xyz")
    assert answered(await stub.Route(routed, timeout=5)) == [("stripe", "fallback", "")]


async def test_a_bad_request_names_every_bad_field(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    code, info, bad = await refusal(stub, router_service_pb2.RouteRequest(amount=-1))
    assert (code, info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert [v.field for v in bad.field_violations] == ["merchant_id", "order_id", "currency", "amount"]
    code, info, bad = await refusal(stub, request("mer_default", "usd"))
    assert [v.field for v in bad.field_violations] == ["currency"]


async def test_no_processor_available(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    code, info, bad = await refusal(stub, request("mer_stripe_only", "INR", payment_method_token="token_abc"))
    assert (code, info.reason, bad) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_PROCESSOR_AVAILABLE", None)
    assert dict(info.metadata) == {"currency": "INR", "payment_method_processor": "razorpay"}


async def test_an_invalid_stored_rule_fails_closed(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    code, info, _ = await refusal(stub, request("mer_bad_rule"))
    assert (code, info.reason, dict(info.metadata)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ROUTING_RULE_INVALID",
        {"rule_id": "rr_bad"},
    )


async def test_merchant_service_errors(stub: router_service_pb2_grpc.RouterServiceAsyncStub) -> None:
    code, info, _ = await refusal(stub, request("mer_down"))
    assert (code, info.reason) == (grpc.StatusCode.UNAVAILABLE, "SERVICE_UNAVAILABLE")
    code, info, _ = await refusal(stub, request("mer_unknown"))
    assert (code, info.reason) == (grpc.StatusCode.NOT_FOUND, "MERCHANT_NOT_FOUND")


async def test_configs_are_cached_briefly(
    stub: router_service_pb2_grpc.RouterServiceAsyncStub, merchant: tuple[FakeMerchant, str]
) -> None:
    fake = merchant[0]
    for _ in range(3):
        await stub.Route(request("mer_cached"), timeout=5)
    assert fake.calls.count("mer_cached") == 1
    await asyncio.sleep(CACHE_SECONDS + 0.1)
    await stub.Route(request("mer_cached"), timeout=5)
    assert fake.calls.count("mer_cached") == 2


async def test_the_callers_deadline_reaches_the_merchant_service(
    stub: router_service_pb2_grpc.RouterServiceAsyncStub, merchant: tuple[FakeMerchant, str]
) -> None:
    fake = merchant[0]
    await stub.Route(request("mer_deadline"), timeout=1.0)
    remaining = fake.time_remaining[fake.calls.index("mer_deadline")]
    # Not MERCHANT_CALL_TIMEOUT_SECONDS (5): the caller's 1 s, give or take the header's rounding.
    assert remaining is not None and 0 < remaining < 1.5


async def test_redis_down_routes_success_rate_rules_statically_and_says_so(
    stub: router_service_pb2_grpc.RouterServiceAsyncStub,
) -> None:
    started = time.monotonic()
    answer = await stub.Route(request("mer_success_rate", "INR"), timeout=5)
    assert time.monotonic() - started < 1
    assert [(c.processor, c.approach, c.HasField("score")) for c in answer.candidates] == [
        ("razorpay", "STATIC_FALLBACK", False),
        ("stripe", "STATIC_FALLBACK", False),
    ]
    assert "success rates unavailable" in answer.candidates[0].reason
    # Static rules never touch Redis.
    assert answered(await stub.Route(request("mer_default", "JPY"), timeout=5)) == [
        ("stripe", "default: other currency -> stripe", "")
    ]


async def test_redis_down_outcomes_and_stats_answer_unavailable(
    stub: router_service_pb2_grpc.RouterServiceAsyncStub, router: str, mesh: dict[str, MeshFiles]
) -> None:
    outcome = router_service_pb2.RecordOutcomeRequest(
        attempt_id="ord_1-a1-stripe", merchant_id="mer_success_rate", processor="stripe", currency="INR", succeeded=True
    )
    stats = router_service_pb2.GetStatsRequest(merchant_id="mer_success_rate")
    async with mesh["merchant"].channel(router, "router") as channel:  # GetStats is the merchant service's
        stats_stub = router_service_pb2_grpc.RouterServiceStub(channel)
        for refused in (stub.RecordOutcome(outcome, timeout=5), stats_stub.GetStats(stats, timeout=5)):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await refused
            status = rpc_status.from_call(caught.value)
            info = error_details_pb2.ErrorInfo()
            assert status is not None and status.details[0].Unpack(info)
            assert (caught.value.code(), info.reason) == (grpc.StatusCode.UNAVAILABLE, "ROUTING_SCORES_UNAVAILABLE")
    # A decline says nothing about the processor: nothing to record, Redis or not.
    declined = router_service_pb2.RecordOutcomeRequest()
    declined.CopyFrom(outcome)
    declined.succeeded, declined.failure_code = False, "card_declined"
    assert not (await stub.RecordOutcome(declined, timeout=5)).recorded
