"""Stand-ins for programs the launcher runs, so its tests need none of the real services.

python tests/launcher/standin.py grpc --name merchant   # grpc.health.v1 SERVING on $LISTEN_HOST:$PORT
python tests/launcher/standin.py http --host H --port P  # GET /healthz -> 200
python tests/launcher/standin.py fail --message boom     # prints, then exits 3
python tests/launcher/standin.py seed                    # prints the seed's JSON line
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures
from typing import Any


def serve_grpc(name: str) -> int:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    for variable in ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "MERCHANT_SERVICE_ADDR", "PAYLOOPS_DATA_DIR"):
        if not os.environ.get(variable):
            print(f"{name}: {variable} is not set", file=sys.stderr)
            return 4
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    address = f"{os.environ['LISTEN_HOST']}:{os.environ['PORT']}"
    mesh = [open(os.environ[f"MESH_{kind}_FILE"], "rb").read() for kind in ("CA", "CERT", "KEY")]
    credentials = grpc.ssl_server_credentials([(mesh[2], mesh[1])], root_certificates=mesh[0], require_client_auth=True)
    server.add_secure_port(address, credentials)
    server.start()
    print(f"{name}: serving on {address}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=1).wait()
    print(f"{name}: stopped", flush=True)
    return 0


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        status = 200 if self.path == "/healthz" else 404
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_http(host: str, port: int) -> int:
    server = http.server.ThreadingHTTPServer((host, port), _Health)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    grpc_mode = sub.add_parser("grpc")
    grpc_mode.add_argument("--name", required=True)
    http_mode = sub.add_parser("http")
    http_mode.add_argument("--host", required=True)
    http_mode.add_argument("--port", type=int, required=True)
    fail = sub.add_parser("fail")
    fail.add_argument("--message", default="boom")
    fail.add_argument("--after", type=float, default=0.0)
    sub.add_parser("seed")
    args = parser.parse_args()

    if args.mode == "grpc":
        return serve_grpc(args.name)
    if args.mode == "http":
        return serve_http(args.host, args.port)
    if args.mode == "fail":
        time.sleep(args.after)
        print(args.message, file=sys.stderr, flush=True)
        return 3
    print("seeding (a log line on stderr)", file=sys.stderr)
    print(json.dumps({"merchant_id": "mer_standin", "api_key": "sk_test_standin"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
