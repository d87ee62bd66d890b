"""The mesh's call policy: every RPC of ours has an owner, no entry is stale, and the
rules the issue names hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from services.common.call_policy import POLICY, allowed_callers, authorize
from services.common.errors import PermissionDenied, Unauthenticated
from services.common.mesh import IDENTITIES

DESCRIPTOR_SET = Path(__file__).resolve().parents[2] / "gateway" / "payloops.binpb"
STANDARD = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection")


def our_methods() -> dict[str, list[str]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    return {
        f"{file.package}.{service.name}": [method.name for method in service.method]
        for file in files.file
        if file.package.startswith("payloops.")
        for service in file.service
    }


def test_every_rpc_of_ours_has_callers_and_every_entry_names_a_real_rpc() -> None:
    methods = our_methods()
    for service, names in methods.items():
        for name in names:
            callers = allowed_callers(f"/{service}/{name}")
            assert callers and callers <= set(IDENTITIES), f"{service}/{name}"
    for entry in POLICY:
        service, _, method = entry.partition("/")
        if service in STANDARD or service == "envoy.service.auth.v3.Authorization":
            continue
        assert service in methods and (not method or method in methods[service]), f"stale policy entry {entry}"


def test_the_public_api_is_the_gateways_alone() -> None:
    for service in ("payloops.order.v1.OrderService", "payloops.merchant.v1.MerchantService"):
        for name in our_methods()[service]:
            assert allowed_callers(f"/{service}/{name}") == {"gateway"}


@pytest.mark.parametrize(
    ("method", "callers"),
    [
        (
            "/payloops.merchant.v1.MerchantInternalService/GetProcessorCredentials",
            {"processor-stripe", "processor-razorpay"},
        ),
        ("/payloops.order.v1.OrderInternalService/ApplyProcessorEvent", {"webhook"}),
        ("/payloops.order.v1.OrderInternalService/Reconcile", {"operator"}),
        ("/payloops.processor.v1.ProcessorService/ParseWebhook", {"webhook"}),
    ],
)
def test_the_sensitive_methods_have_one_owner(method: str, callers: set[str]) -> None:
    assert allowed_callers(method) == callers


def test_unknown_methods_are_refused_to_everyone() -> None:
    for method in ("/payloops.order.v1.OrderInternalService/DropTables", "/some.Other/Thing", "/", ""):
        assert allowed_callers(method) == frozenset()
        with pytest.raises(PermissionDenied):
            authorize(method, "operator", ())


def test_no_certificate_is_unauthenticated_and_identity_headers_are_the_gateways() -> None:
    route = "/payloops.router.v1.RouterService/Route"
    with pytest.raises(Unauthenticated):
        authorize(route, None, ())
    authorize(route, "order", ["x-request-id"])
    with pytest.raises(PermissionDenied) as refused:
        authorize(route, "order", ["x-payloops-merchant-id"])
    assert refused.value.reason == "MESH_IDENTITY_METADATA_NOT_ALLOWED"
    authorize("/payloops.order.v1.OrderService/GetOrder", "gateway", ["x-payloops-merchant-id", "x-payloops-mode"])
