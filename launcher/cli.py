"""`payloops` command line. `payloops up` runs the whole platform on loopback until Ctrl-C."""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from launcher import reconcile
from launcher.platform import (
    ComponentError,
    DataDirInUseError,
    Platform,
    PlatformConfig,
    PlatformError,
    PortInUseError,
    StartCancelled,
)
from services.merchant import rotate_key

EXIT_FAILURE = 1
EXIT_USAGE = 2

_FLAGS = {"gateway_port": "--port", "temporal_port": "--temporal-port", "temporal_ui_port": "--temporal-ui-port"}


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port")
    return port


def _when(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payloops", description="PayLoops developer tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="run the whole platform on loopback until Ctrl-C",
        description="Start PostgreSQL, Redis, Temporal, the processor sandboxes, the services and the "
        "Envoy gateway on this machine; stop them all on Ctrl-C. DATABASE_URL / REDIS_URL in the "
        "environment point at an existing server instead of the embedded one.",
    )
    up.add_argument("--data-dir", type=Path, default=Path(".payloops"), help="state and logs (default ./.payloops)")
    up.add_argument("--host", default="127.0.0.1", help="address of the gateway and Temporal (default 127.0.0.1)")
    up.add_argument("--port", type=_port, default=8080, help="gateway port, REST and gRPC (default 8080; 0: any)")
    up.add_argument("--temporal-port", type=_port, default=7233, help="Temporal gRPC port (default 7233)")
    up.add_argument("--temporal-ui-port", type=_port, default=8233, help="Temporal Web UI port (default 8233)")
    up.add_argument("--headless", action="store_true", help="no Temporal Web UI")
    up.add_argument("--log-level", default="INFO", help="LOG_LEVEL for the services (default INFO)")
    up.add_argument("-v", "--verbose", action="store_true", help="echo every log to the console")

    dev = up.add_argument_group("development and testing")
    dev.add_argument(
        "--service-command",
        metavar="TEMPLATE",
        help="command for each service, `{name}` replaced by its name (default: python -m services.{name})",
    )
    dev.add_argument(
        "--razorpay-sandbox-command", metavar="COMMAND", help="Razorpay sandbox command (--host/--port appended)"
    )
    dev.add_argument("--no-razorpay-sandbox", action="store_true", help="do not run the Razorpay sandbox")
    dev.add_argument(
        "--stripe-fault-proxy",
        action="store_true",
        help="put a fault-injecting proxy (POST /_sandbox/faults) between the services and localstripe",
    )
    dev.add_argument("--no-migrate", action="store_true", help="skip the database migrations")
    dev.add_argument("--no-seed", action="store_true", help="skip creating the demo merchant")
    dev.add_argument("--no-envoy", action="store_true", help="do not run the gateway")

    books = commands.add_parser(
        "reconcile",
        help="compare PayLoops' orders, charges and refunds with the processors' own records",
        description="Compare every order created in a time window (optionally of one merchant) with the "
        "processors' records: per object MATCH, MISMATCH, MISSING_AT_PROCESSOR, MISSING_AT_PAYLOOPS or "
        "DUPLICATE, then totals. Read-only. Exits 1 on any discrepancy.",
    )
    books.add_argument("--since", type=_when, help="orders created at or after (RFC 3339; default 24 h ago)")
    books.add_argument("--until", type=_when, help="orders created before (RFC 3339; default now)")
    books.add_argument("--merchant", default="", help="only this merchant's orders")
    books.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    books.add_argument(
        "--data-dir", type=Path, default=Path(".payloops"), help="of the running `payloops up` (default ./.payloops)"
    )
    books.add_argument(
        "--order-addr",
        help="the order service's gRPC address (default: from --data-dir, which also holds the "
        "operator's mesh certificate unless MESH_CA_FILE/MESH_CERT_FILE/MESH_KEY_FILE are set)",
    )

    rotate = commands.add_parser(
        "rotate-key",
        help="re-encrypt stored processor credentials and webhook secrets under the active key",
        description=rotate_key.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate_key.add_arguments(rotate)
    return parser


def _check_distinct_ports(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    given = [("--port", args.port), ("--temporal-port", args.temporal_port)]
    if not args.headless:
        given.append(("--temporal-ui-port", args.temporal_ui_port))
    seen: dict[int, str] = {}
    for flag, port in given:
        if port and port in seen:
            parser.error(f"{seen[port]} and {flag} are both {port}")
        seen[port] = flag


def config_from_args(args: argparse.Namespace) -> PlatformConfig:
    template: str | None = args.service_command

    def service_command(name: str) -> list[str]:
        assert template is not None
        return shlex.split(template.replace("{name}", name))

    return PlatformConfig(
        data_dir=args.data_dir,
        host=args.host,
        gateway_port=args.port or None,  # 0: any free port
        temporal_port=args.temporal_port or None,
        temporal_ui=not args.headless,
        temporal_ui_port=args.temporal_ui_port or None,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        log_level=args.log_level,
        verbose=args.verbose,
        service_command=service_command if template else None,
        migrate=not args.no_migrate,
        seed=not args.no_seed,
        with_envoy=not args.no_envoy,
        with_razorpay_sandbox=not args.no_razorpay_sandbox,
        razorpay_sandbox_command=shlex.split(args.razorpay_sandbox_command) if args.razorpay_sandbox_command else None,
        stripe_fault_proxy=args.stripe_fault_proxy,
    )


def banner(platform: Platform) -> str:
    lines = ["", f"PayLoops is up ({platform.timings.get('total', 0.0):.1f} s). Data and logs: {platform.data_dir}", ""]
    rows: list[tuple[str, str]] = []
    if platform.config.with_envoy:
        rows.append(("Gateway REST", platform.gateway_url))
        rows.append(("Gateway gRPC", platform.gateway_grpc_target))
        if platform.config.with_web:
            rows.append(("Dashboard", f"{platform.gateway_url}/dashboard/"))
    if platform.temporal_ui_url is not None:
        rows.append(("Temporal UI", platform.temporal_ui_url))
    rows.append(("Temporal gRPC", platform.temporal_address))
    rows.append(("Mesh certificates", str(platform.data_dir / "mesh")))
    if platform.demo_merchant_id is not None:
        rows.append(("Demo merchant", platform.demo_merchant_id))
    if platform.demo_api_key is not None:
        rows.append(("Demo API key", platform.demo_api_key))
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    if platform.config.with_envoy and platform.demo_api_key is not None:
        lines += [
            "",
            "Try:",
            f"  curl -s -XPOST {platform.gateway_url}/v1/orders -H 'X-API-Key: {platform.demo_api_key}' "
            '-H \'content-type: application/json\' -d \'{"amount":1999,"currency":"USD"}\'',
        ]
    if platform.config.verbose:
        ready = ", ".join(f"{name} {seconds:.1f}" for name, seconds in platform.timings.items() if name != "total")
        lines += ["", f"Seconds to ready (from the start of each stage): {ready}"]
    lines += ["", "Ctrl-C to stop.", ""]
    return "\n".join(lines)


def _error(message: str) -> None:
    print(f"payloops: {message}", file=sys.stderr, flush=True)


def _report(exc: ComponentError) -> None:
    _error(str(exc))
    if exc.log_tail.strip():
        where = f" ({exc.log_path})" if exc.log_path else ""
        print(f"--- last lines of the {exc.component} log{where} ---", file=sys.stderr)
        print(exc.log_tail, file=sys.stderr)
        print("---", file=sys.stderr, flush=True)


def cmd_up(args: argparse.Namespace) -> int:
    platform = Platform(config_from_args(args))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not platform.stop_requested:
            print(f"\npayloops: {signal.Signals(signum).name}, stopping...", file=sys.stderr, flush=True)
        platform.request_stop()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    try:
        platform.start()
    except PortInUseError as exc:
        _error(f"port {exc.port} on {exc.host} is already in use (set {_FLAGS.get(exc.setting, exc.setting)})")
        return EXIT_USAGE
    except StartCancelled:
        _error("stopped")
        return 0
    except ComponentError as exc:
        _report(exc)
        return EXIT_FAILURE
    except (DataDirInUseError, PlatformError) as exc:
        _error(str(exc))
        return EXIT_FAILURE

    print(banner(platform), flush=True)
    try:
        platform.wait()
    except ComponentError as exc:
        _report(exc)
        return EXIT_FAILURE
    finally:
        platform.stop()
    _error("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "up":
        _check_distinct_ports(parser, args)
        return cmd_up(args)
    if args.command == "reconcile":
        return reconcile.main(args)
    if args.command == "rotate-key":
        return rotate_key.main(["--batch-size", str(args.batch_size)])
    raise AssertionError(args.command)  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
