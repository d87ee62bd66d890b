"""Running a sandbox's aiohttp application as a program: on host:port until SIGTERM or
SIGINT, logging to stderr; exit 1 if it cannot listen."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web


async def _serve(app: web.Application, host: str, port: int, name: str, access_log: bool) -> None:
    log = logging.getLogger(f"sandboxes.{name}")
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        shutdown_timeout=1.0,  # don't wait long for requests sleeping in an injected fault
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("%s listening on http://%s:%d", name, host, port)
        await stop.wait()
        log.info("%s stopping", name)
    finally:
        await runner.cleanup()


def run(app: web.Application, *, host: str, port: int, name: str, log_level: str, access_log: bool) -> int:
    logging.basicConfig(stream=sys.stderr, level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(app, host, port, name, access_log))
    except OSError as exc:  # e.g. the port is taken
        logging.getLogger(f"sandboxes.{name}").error("%s cannot start: %s", name, exc)
        return 1
    return 0
