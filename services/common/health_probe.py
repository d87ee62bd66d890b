"""Liveness/readiness probe over the mesh: `python -m services.common.health_probe`.

Asks this process's own gRPC server (127.0.0.1:$PORT) for grpc.health.v1 SERVING, with
this component's own certificate (MESH_* variables), checking that the server presents
the same identity. Exit 0 when serving, 1 otherwise: a Kubernetes exec probe."""

from __future__ import annotations

import os
import sys

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.mesh import MeshFiles


def main() -> int:
    files = MeshFiles.from_env(os.environ)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    identity = str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    target = f"127.0.0.1:{os.environ['PORT']}"
    try:
        with files.blocking_channel(target, identity) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    except grpc.RpcError as error:
        print(f"{identity} at {target}: {error.code().name}", file=sys.stderr)
        return 1
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
