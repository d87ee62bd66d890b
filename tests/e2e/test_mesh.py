"""The mesh under attack from the same network: a process that can reach every service
port but holds no certificate, a certificate from another CA, or another component's
certificate calling what that component may not call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from payloops.merchant.v1 import merchant_internal_service_pb2 as merchant_internal
from payloops.merchant.v1 import merchant_internal_service_pb2_grpc
from payloops.order.v1 import order_internal_service_pb2 as order_internal
from payloops.order.v1 import order_internal_service_pb2_grpc, order_service_pb2, order_service_pb2_grpc
from payloops.processor.v1 import processor_service_pb2, processor_service_pb2_grpc
from payloops.router.v1 import router_service_pb2, router_service_pb2_grpc
from payloops.webhook.v1 import webhook_internal_service_pb2, webhook_internal_service_pb2_grpc

from launcher.mesh_ca import create_ca, issue
from launcher.platform import Platform
from services.common.identity import MERCHANT_ID_HEADER
from services.common.mesh import MeshFiles

REPO_ROOT = Path(__file__).resolve().parents[2]


def reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, error
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return str(info.reason)


def health(channel: grpc.Channel) -> Any:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)


def refused_at_handshake(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        health(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value


def test_every_port_refuses_a_caller_without_a_client_certificate(platform: Platform) -> None:
    ca = platform.mesh["operator"].ca.read_bytes()
    for name, address in platform.service_addrs.items():
        with grpc.insecure_channel(address) as plaintext:
            refused_at_handshake(plaintext)
        server_only = grpc.ssl_channel_credentials(root_certificates=ca)  # TLS, but no certificate of ours
        options = [("grpc.ssl_target_name_override", name.replace("_", "-"))]
        with grpc.secure_channel(address, server_only, options=options) as anonymous:
            refused_at_handshake(anonymous)


def test_every_port_refuses_a_certificate_from_another_ca(platform: Platform, tmp_path: Path) -> None:
    foreign = issue(create_ca(tmp_path, "an attacker's CA"), "gateway", tmp_path)
    impostor = MeshFiles(ca=platform.mesh["gateway"].ca, cert=foreign.cert, key=foreign.key)
    for name, address in platform.service_addrs.items():
        with impostor.blocking_channel(address, name) as channel:
            refused_at_handshake(channel)


def test_a_server_holding_another_components_certificate_is_not_believed(platform: Platform) -> None:
    # The router's port presents the router's certificate: a caller expecting the
    # merchant service there (say, after a DNS or port hijack) hangs up.
    with platform.mesh["processor-stripe"].blocking_channel(platform.service_addrs["router"], "merchant") as channel:
        refused_at_handshake(channel)


# (service, caller that may not call it, stub, method, request): one per service port
NOT_ALLOWED: list[tuple[str, str, Any, str, Any]] = [
    (
        "merchant",
        "order",
        merchant_internal_service_pb2_grpc.MerchantInternalServiceStub,
        "GetProcessorCredentials",
        merchant_internal.GetProcessorCredentialsRequest(merchant_id="mer_x", processor="stripe"),
    ),
    (
        "order",
        "order-worker",
        order_internal_service_pb2_grpc.OrderInternalServiceStub,
        "ApplyProcessorEvent",
        order_internal.ApplyProcessorEventRequest(),
    ),
    (
        "order",
        "web",
        order_service_pb2_grpc.OrderServiceStub,
        "GetOrder",
        order_service_pb2.GetOrderRequest(id="ord_x"),
    ),
    ("router", "webhook", router_service_pb2_grpc.RouterServiceStub, "Route", router_service_pb2.RouteRequest()),
    (
        "processor_stripe",
        "web",
        processor_service_pb2_grpc.ProcessorServiceStub,
        "Authorize",
        processor_service_pb2.AuthorizeRequest(),
    ),
    (
        "processor_razorpay",
        "order",
        processor_service_pb2_grpc.ProcessorServiceStub,
        "ParseWebhook",
        processor_service_pb2.ParseWebhookRequest(),
    ),
    (
        "webhook",
        "router",
        webhook_internal_service_pb2_grpc.WebhookInternalServiceStub,
        "PublishEvent",
        webhook_internal_service_pb2.PublishEventRequest(),
    ),
]


@pytest.mark.parametrize(
    ("service", "caller", "stub", "method", "request_message"),
    NOT_ALLOWED,
    ids=[f"{service}-{method}-as-{caller}" for service, caller, _, method, _ in NOT_ALLOWED],
)
def test_a_component_calling_what_it_may_not_is_denied_and_logged(
    platform: Platform, service: str, caller: str, stub: Any, method: str, request_message: Any
) -> None:
    with platform.channel(service, as_identity=caller) as channel, pytest.raises(grpc.RpcError) as caught:
        getattr(stub(channel), method)(request_message, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(caught.value) == "MESH_CALL_NOT_ALLOWED"
    assert f'"caller": "{caller}"' in platform.logs(service)


def test_only_the_gateway_may_assert_a_merchant_identity(platform: Platform) -> None:
    # The order service may call Route, but not with merchant identity headers it made up.
    request = router_service_pb2.RouteRequest(merchant_id="mer_x", order_id="ord_x", amount=100, currency="USD")
    with platform.channel("router", as_identity="order") as channel, pytest.raises(grpc.RpcError) as caught:
        router_service_pb2_grpc.RouterServiceStub(channel).Route(
            request, timeout=5, metadata=((MERCHANT_ID_HEADER, "mer_x"), ("x-payloops-mode", "live"))
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(caught.value) == "MESH_IDENTITY_METADATA_NOT_ALLOWED"


def test_workers_serve_only_their_health_and_only_operators_reflect(platform: Platform) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    for worker in ("order_worker", "webhook_worker"):
        with platform.channel(worker, as_identity="webhook") as channel:
            assert health(channel).status == health_pb2.HealthCheckResponse.SERVING
            answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            with pytest.raises(grpc.RpcError) as caught:
                list(answers)
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_kubernetes_probe_asks_its_own_service_over_the_mesh(platform: Platform) -> None:
    probe = [sys.executable, "-m", "services.common.health_probe"]
    for name in ("router", "order_worker"):
        env = {**os.environ, **platform.service_env(name)}
        run = subprocess.run(probe, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stderr
    # Another component's certificate does not name the service it probes: refused.
    env = {
        **os.environ,
        **platform.service_env("router"),
        "PORT": platform.service_addrs["merchant"].rpartition(":")[2],
    }
    run = subprocess.run(probe, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and "UNAVAILABLE" in run.stderr
