"""`payloops reconcile`: asks the order service (OrderInternalService.Reconcile) to compare
its books with the processors' and prints the findings; exit 1 on any discrepancy."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

import grpc
from google.protobuf import json_format, timestamp_pb2
from payloops.order.v1 import order_internal_service_pb2 as pb
from payloops.order.v1 import order_internal_service_pb2_grpc

from services.common.mesh import MeshFiles

Result = pb.ReconcileFinding.Result
TIMEOUT_SECONDS = 600


def order_address(args: argparse.Namespace) -> str:
    if args.order_addr:
        return str(args.order_addr)
    endpoints = Path(args.data_dir) / "run" / "endpoints.json"
    try:
        return str(json.loads(endpoints.read_text())["service_addrs"]["order"])
    except (OSError, ValueError, KeyError) as error:
        raise SystemExit(f"payloops: no running platform in {args.data_dir} ({error}); give --order-addr") from None


def operator_identity(args: argparse.Namespace) -> MeshFiles:
    """The operator's mesh certificate: MESH_CA_FILE/MESH_CERT_FILE/MESH_KEY_FILE when set
    (a cluster), else the one `payloops up` issued in the data directory."""
    if os.environ.get("MESH_CERT_FILE"):
        return MeshFiles.from_env(os.environ)
    mesh = Path(args.data_dir) / "mesh"
    return MeshFiles(ca=mesh / "ca.crt", cert=mesh / "operator.crt", key=mesh / "operator.key")


def stamp(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def table(answer: pb.ReconcileResponse) -> str:
    rows = [
        (Result.Name(f.result), f.object_type, f.object_id or "-", f.order_id, f.processor or "-", f.ours, f.theirs)
        for f in answer.findings
    ]
    header = ("RESULT", "OBJECT", "ID", "ORDER", "PROCESSOR", "PAYLOOPS", "PROCESSOR'S")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    counts: dict[str, int] = {}
    for finding in answer.findings:
        counts[Result.Name(finding.result)] = counts.get(Result.Name(finding.result), 0) + 1
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "nothing to compare"
    lines += [
        "",
        f"{answer.orders} orders; {summary}",
        f"net captured - refunded: PayLoops {answer.net_ours}, processors {answer.net_theirs}",
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    until = args.until or datetime.datetime.now(datetime.UTC)
    since = args.since or until - datetime.timedelta(hours=24)
    request = pb.ReconcileRequest(start_time=stamp(since), end_time=stamp(until), merchant_id=args.merchant)
    with operator_identity(args).blocking_channel(order_address(args), "order") as channel:
        stub = order_internal_service_pb2_grpc.OrderInternalServiceStub(channel)
        try:
            answer = stub.Reconcile(request, timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            print(f"payloops: reconcile failed: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    if args.json:
        print(json_format.MessageToJson(answer, always_print_fields_with_no_presence=True))
    else:
        print(table(answer))
    clean = all(f.result == Result.MATCH for f in answer.findings)
    return 0 if clean else 1
