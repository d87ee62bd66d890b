"""``python -m sandboxes.faultproxy --host 127.0.0.1 --port 8421 --upstream http://127.0.0.1:8420``."""

from __future__ import annotations

import argparse
import sys

from ..serving import run
from .app import create_app


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.faultproxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8421)
    parser.add_argument("--upstream", required=True, help="the server to forward to, e.g. http://127.0.0.1:8420")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--access-log", action="store_true", help="log every request (off: cheaper)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    app = create_app(args.upstream)
    return run(
        app,
        host=args.host,
        port=args.port,
        name="stripe-fault-proxy",
        log_level=args.log_level,
        access_log=args.access_log,
    )


if __name__ == "__main__":
    sys.exit(main())
