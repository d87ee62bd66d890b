"""``python -m sandboxes.razorpay --host 127.0.0.1 --port 8790 [--delay-ms 0]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from aiohttp import web

from .app import create_app

log = logging.getLogger("sandboxes.razorpay")


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


async def _serve(args: argparse.Namespace) -> None:
    app = create_app(
        args.delay_ms,
        webhook_attempts=args.webhook_attempts,
        webhook_backoff_ms=args.webhook_backoff_ms,
        webhook_timeout_ms=args.webhook_timeout_ms,
    )
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if args.access_log else None,
        shutdown_timeout=1.0,  # don't wait long for requests sleeping in an injected fault
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        log.info("razorpay sandbox listening on http://%s:%d (delay %.0f ms)", args.host, args.port, args.delay_ms)
        await stop.wait()
        log.info("razorpay sandbox stopping")
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(_serve(args))
    except OSError as exc:  # e.g. the port is taken
        log.error("razorpay sandbox cannot start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
