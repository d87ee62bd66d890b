"""``python -m sandboxes.razorpay --host 127.0.0.1 --port 8790 [--delay-ms 0]``."""

from __future__ import annotations

import argparse
import sys

from ..serving import run
from .app import create_app


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.razorpay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="artificial delay on every /v1 request")
    parser.add_argument("--webhook-attempts", type=int, default=4, help="deliveries tried per webhook")
    parser.add_argument("--webhook-backoff-ms", type=float, default=500.0, help="first retry pause (doubles)")
    parser.add_argument("--webhook-timeout-ms", type=float, default=5000.0, help="per delivery attempt")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--access-log", action="store_true", help="log every request (off: cheaper)")
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error("--delay-ms must be >= 0")
    if args.webhook_attempts < 1:
        parser.error("--webhook-attempts must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    app = create_app(
        args.delay_ms,
        webhook_attempts=args.webhook_attempts,
        webhook_backoff_ms=args.webhook_backoff_ms,
        webhook_timeout_ms=args.webhook_timeout_ms,
    )
    return run(
        app,
        host=args.host,
        port=args.port,
        name="razorpay-sandbox",
        log_level=args.log_level,
        access_log=args.access_log,
    )


if __name__ == "__main__":
    sys.exit(main())
