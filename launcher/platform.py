"""The whole PayLoops stack on loopback: start in dependency order, stop in reverse.

    with Platform(PlatformConfig(data_dir=tmp_path / "data", temporal_ui=False)) as platform:
        ... platform.gateway_url, platform.database_url, platform.demo_api_key ...

Start order (components of one stage start together and are awaited together; stop goes
stage by stage in reverse, each stage in parallel):

    1. infrastructure: temporal, localstripe (and its fault proxy), razorpay sandbox, redis, postgres
    2. migrations (`python -m services.common.migrate`, must exit 0)
    3. services (`python -m services.<name>`, ready on grpc.health.v1 SERVING)
    4. envoy (ready on GET /healthz)
    5. seed (`python -m services.merchant.seed`, prints the demo merchant as JSON)
"""

from __future__ import annotations

import dataclasses
import fcntl
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from launcher.components import (
    Component,
    EmbeddedPostgres,
    EmbeddedRedis,
    Envoy,
    EnvoyRenderer,
    ExternalPostgres,
    ExternalRedis,
    GrpcService,
    HttpProcess,
    LocalStripe,
    OneShot,
    ProcessComponent,
    TemporalDevServer,
    WebService,
    libpq_url,
    sqlalchemy_url,
)
from launcher.mesh_ca import development_mesh, mesh_env
from launcher.ports import LOOPBACK, connect_host, free_port, hostport, port_in_use, reserve
from launcher.process import LogEcho
from services.common.mesh import MeshFiles, identity_of

SERVICE_NAMES: tuple[str, ...] = (
    "merchant",
    "order",
    "router",
    "processor_stripe",
    "processor_razorpay",
    "webhook",
    "order_worker",
    "webhook_worker",
)
# Components whose module is not services.<name>.
SERVICE_MODULES = {"order_worker": "services.order.worker", "webhook_worker": "services.webhook.worker"}


def service_module(name: str) -> str:
    return SERVICE_MODULES.get(name, f"services.{name}")


REPO_ROOT = Path(__file__).resolve().parent.parent

_log = logging.getLogger("launcher")


# -- errors -------------------------------------------------------------------------------


class PlatformError(Exception):
    """The platform could not start (everything it started has been stopped)."""


class PortInUseError(PlatformError):
    def __init__(self, host: str, port: int, setting: str) -> None:
        super().__init__(f"port {port} on {host} is already in use (set {setting})")
        self.host = host
        self.port = port
        self.setting = setting  # the PlatformConfig field naming this port


class DataDirInUseError(PlatformError):
    pass


class StartCancelled(PlatformError):
    """request_stop() was called while start() was still running."""


class ComponentError(PlatformError):
    """A component failed: exited, or did not become ready in time."""

    def __init__(self, component: str, reason: str, log_tail: str = "", log_path: Path | None = None) -> None:
        super().__init__(f"{component} {reason}")
        self.component = component
        self.reason = reason
        self.log_tail = log_tail
        self.log_path = log_path


# -- configuration ------------------------------------------------------------------------


@dataclass
class PlatformConfig:
    data_dir: Path
    host: str = LOOPBACK
    """Where the user-facing ports listen: the gateway, Temporal's frontend and UI."""
    gateway_port: int | None = None
    """None: a free port."""
    temporal_port: int | None = None
    temporal_ui: bool = True
    temporal_ui_port: int | None = None
    database_url: str | None = None
    """None: embedded PostgreSQL in <data_dir>/postgres."""
    redis_url: str | None = None
    """None: embedded Redis in <data_dir>/redis."""
    redis_key_prefix: str = "payloops:"
    temporal_task_queue: str = "payloops"
    log_level: str = "INFO"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    """Added to (and overriding) the environment of every Python child."""
    verbose: bool = False
    """Echo every child's log to stdout, prefixed by its name."""
    service_names: tuple[str, ...] = SERVICE_NAMES
    service_command: Callable[[str], list[str]] | None = None
    """name -> argv; default `python -m services.<name>`."""
    migrate: bool = True
    migrate_command: Sequence[str] | None = None
    seed: bool = True
    seed_command: Sequence[str] | None = None
    """Default `python -m services.merchant.seed --key-file <data_dir>/demo-api-key`."""
    with_envoy: bool = True
    envoy_renderer: EnvoyRenderer | None = None
    """Default gateway.render.render_envoy_config (imported only when needed)."""
    with_web: bool = True
    """The web service: hosted checkout pages and the dashboard, behind the gateway."""
    with_razorpay_sandbox: bool = True
    razorpay_sandbox_command: Sequence[str] | None = None
    """argv prefix, `--host H --port P` is appended; default `python -m sandboxes.razorpay`."""
    stripe_fault_proxy: bool = False
    """Put sandboxes.faultproxy between the services and localstripe (STRIPE_API_BASE points
    at it), so tests can inject Stripe faults; dev and test only."""
    stop_timeout: float = 10.0
    supervise: bool = True
    """Restart a service or worker that exits, with backoff, as Kubernetes would."""
    on_restart: Callable[[str], None] | None = None
    """Told one line per restart; default: printed to stderr."""
    restart_delays: tuple[float, float] = (0.5, 30.0)
    """The first and the longest wait before a restart (doubling in between)."""
    restart_limit: int = 8
    """Restarts in a row, none lasting a minute, after which a component failed for good."""


@dataclass(frozen=True)
class Endpoints:
    gateway_url: str | None
    gateway_grpc_target: str | None
    service_addrs: dict[str, str]
    database_url: str
    database_libpq_url: str
    redis_url: str
    temporal_address: str
    temporal_ui_url: str | None
    localstripe_url: str
    """localstripe itself, also when the services reach it through the fault proxy."""
    stripe_fault_proxy_url: str | None
    razorpay_sandbox_url: str | None


class _DataDirLock:
    """An flock on <data_dir>/run/payloops.lock held while the platform runs: one platform
    per data dir (two PostgreSQL servers on one PGDATA would corrupt it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirInUseError(
                f"data dir {self.path.parent.parent} is in use by another payloops (pid {owner})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# -- the platform -------------------------------------------------------------------------


class Platform:
    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir.expanduser().resolve()
        self.log_dir = self.data_dir / "logs"
        self.run_dir = self.data_dir / "run"
        self.timings: dict[str, float] = {}
        """Seconds from the start of its stage to ready, per component, plus "total"."""
        self.stop_timings: dict[str, float] = {}
        self.env: dict[str, str] = {}
        """The environment given to every service (without PORT)."""
        self.mesh: dict[str, MeshFiles] = {}
        """Mesh identity -> its certificate files (<data dir>/mesh)."""
        self.demo_merchant_id: str | None = None
        self.demo_api_key: str | None = None
        self._endpoints: Endpoints | None = None
        self._components: dict[str, Component] = {}
        self._plan: list[list[Component]] = []
        self._started: list[list[Component]] = []
        self._stop_requested = threading.Event()
        self._stop_lock = threading.RLock()
        self._lock = _DataDirLock(self.run_dir / "payloops.lock")
        self._echo = LogEcho() if config.verbose else None
        self._begun = False
        self._supervisor: Supervisor | None = None
        # Held while a component is being restarted, by the supervisor or by restart().
        self._restarting = threading.Lock()
        self.restarts: dict[str, int] = {}
        """How often the supervisor restarted each component."""

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start everything and wait until it is ready. On failure (or request_stop()),
        stop what was started, then raise a PlatformError."""
        if self._begun:
            raise RuntimeError("a Platform starts once; create a new one")
        self._begun = True
        began = time.monotonic()
        self.check_ports()
        try:
            self._lock.acquire()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._build()
            for stage in self._plan:
                self._run_stage(stage)
            self._read_seed()
            self._write_endpoints()
            if self.config.supervise:
                self._supervisor = Supervisor(self)
                self._supervisor.start()
            self.timings["total"] = time.monotonic() - began
        except BaseException as exc:
            self.stop()
            if isinstance(exc, Exception) and not isinstance(exc, PlatformError):
                raise PlatformError(f"start-up failed: {type(exc).__name__}: {exc}") from exc
            raise

    def _write_endpoints(self) -> None:
        """Where everything listens, for tools such as the benchmark (no secrets)."""
        path = self.data_dir / "run" / "endpoints.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dataclasses.asdict(self.endpoints), indent=2))

    def stop(self) -> None:
        """Stop everything started, stage by stage in reverse (each stage in parallel):
        stop signal, up to `stop_timeout` seconds, then SIGKILL. Idempotent."""
        self._stop_requested.set()  # a start() running on another thread gives up at its next check
        if self._supervisor is not None:
            self._supervisor.stop()
        with self._stop_lock:
            started, self._started = self._started, []
            for stage in reversed(started):
                self._stop_stage(stage)
            if self._echo is not None:
                self._echo.stop()
            self._lock.release()

    def request_stop(self) -> None:
        """Thread- and signal-handler-safe: makes start() give up (StartCancelled) and
        wait() return. The caller then calls stop()."""
        self._stop_requested.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def check(self) -> None:
        """Raise ComponentError if a long-lived child that is not restarted has exited
        (infrastructure: PostgreSQL, Redis, Temporal, the sandboxes, Envoy)."""
        for stage in self._started:
            for component in stage:
                supervised = self._supervisor is not None and component.restartable
                reason = component.failure() if component.long_lived and not supervised else None
                if supervised and self._supervisor is not None:
                    reason = self._supervisor.given_up.get(component.name)
                if reason is not None:
                    raise ComponentError(
                        component.name, f"{reason} unexpectedly", component.tail(20), self._log_path(component)
                    )

    def wait(self, poll_interval: float = 0.5) -> None:
        """Block until request_stop() (returns) or until a child dies (ComponentError)."""
        while not self._stop_requested.is_set():
            self.check()
            deadline = time.monotonic() + poll_interval
            while time.monotonic() < deadline and not self._stop_requested.is_set():
                time.sleep(0.05)

    def check_ports(self) -> None:
        """The user-facing ports must be free (raises PortInUseError); run before anything starts."""
        config = self.config
        wanted: list[tuple[int | None, str]] = [(config.temporal_port, "temporal_port")]
        if config.with_envoy:
            wanted.insert(0, (config.gateway_port, "gateway_port"))
        if config.temporal_ui:
            wanted.append((config.temporal_ui_port, "temporal_ui_port"))
        seen: dict[int, str] = {}
        for port, setting in wanted:
            if port is None:
                continue
            if port in seen:
                raise PlatformError(f"port {port} is given for both {seen[port]} and {setting}")
            seen[port] = setting
            if port_in_use(config.host, port):
                raise PortInUseError(config.host, port, setting)

    # -- what is running ----------------------------------------------------------------

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise RuntimeError("the platform has not been started")
        return self._endpoints

    @property
    def gateway_url(self) -> str:
        return _required(self.endpoints.gateway_url, "gateway (with_envoy=False)")

    @property
    def gateway_grpc_target(self) -> str:
        return _required(self.endpoints.gateway_grpc_target, "gateway (with_envoy=False)")

    @property
    def service_addrs(self) -> dict[str, str]:
        return dict(self.endpoints.service_addrs)

    @property
    def database_url(self) -> str:
        """SQLAlchemy form: postgresql+psycopg://..."""
        return self.endpoints.database_url

    @property
    def database_libpq_url(self) -> str:
        """Plain libpq form: postgresql://... (psql, psycopg.connect)."""
        return self.endpoints.database_libpq_url

    @property
    def redis_url(self) -> str:
        return self.endpoints.redis_url

    @property
    def temporal_address(self) -> str:
        return self.endpoints.temporal_address

    @property
    def temporal_ui_url(self) -> str | None:
        return self.endpoints.temporal_ui_url

    @property
    def localstripe_url(self) -> str:
        return self.endpoints.localstripe_url

    @property
    def stripe_fault_proxy_url(self) -> str | None:
        return self.endpoints.stripe_fault_proxy_url

    @property
    def razorpay_sandbox_url(self) -> str | None:
        return self.endpoints.razorpay_sandbox_url

    def pids(self) -> dict[str, int]:
        """Process ids of the long-running children (not migrate/seed), by component name."""
        return {
            component.name: component.pid
            for stage in self._started
            for component in stage
            if component.long_lived and component.pid is not None
        }

    def restart(self, name: str, *, crash: bool = False, env: Mapping[str, str] | None = None) -> None:
        """Stop one long-running component (with SIGKILL when `crash`, as a crash would)
        and start it again on the same port, with `env`'s variables changed from then on;
        returns once it is ready."""
        component = self._components[name]
        if not isinstance(component, ProcessComponent) or component.process is None:
            raise PlatformError(f"{name} is not a running process")
        with self._restarting:
            if crash:
                component.process.send_signal(signal.SIGKILL)
                component.process.wait_exit(timeout=10)
            component.stop()
            if env:
                component.env = {**(component.env if component.env is not None else os.environ), **env}
            self._start_again(component)

    def kill(self, name: str) -> None:
        """SIGKILL one long-running component, as a crash would; the supervisor restarts
        a service or worker (wait_ready waits for that)."""
        component = self._components[name]
        if not isinstance(component, ProcessComponent) or component.process is None:
            raise PlatformError(f"{name} is not a running process")
        component.process.send_signal(signal.SIGKILL)
        component.process.wait_exit(timeout=10)

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        """Until component `name` runs and answers its readiness check."""
        component = self._components[name]
        deadline = time.monotonic() + timeout
        while not (component.failure() is None and component.probe()):
            if time.monotonic() > deadline:
                raise self._fail(component, f"not ready again after {timeout:.0f} s")
            time.sleep(0.05)
        with self._restarting:  # a restart in progress is finished (and counted)
            pass

    def _start_again(self, component: Component) -> None:
        """Start a stopped component of a stage already running; returns once it is ready."""
        began = time.monotonic()
        component.start()
        while not self._ready(component, _DONE, began):
            self._raise_if_cancelled()
            time.sleep(0.05)

    def channel(self, service: str, *, as_identity: str) -> grpc.Channel:
        """A blocking channel to `service` over the mesh, as component `as_identity`."""
        return self.mesh[as_identity].blocking_channel(self.service_addrs[service], peer=service)

    def service_env(self, name: str) -> dict[str, str]:
        """The environment service `name` runs with (without os.environ)."""
        mesh = mesh_env(self.mesh[identity_of(name)])
        return {**self.env, **mesh, "PORT": self.service_addrs[name].rpartition(":")[2]}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def logs(self, name: str) -> str:
        """What component `name` logged during this run (the whole file if it did not run)."""
        component = self._components.get(name)
        if component is not None:
            return component.log_text()
        path = self.log_path(name)
        if not path.exists():
            raise KeyError(f"no log for {name!r} in {self.log_dir}")
        return path.read_text(errors="replace")

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        config = self.config
        host = config.host
        public = connect_host(host)
        common: dict[str, Any] = {"log_dir": self.log_dir, "echo": self._echo, "stop_timeout": config.stop_timeout}
        python: dict[str, Any] = {**common, "cwd": REPO_ROOT}
        reserve(config.temporal_port, config.temporal_ui_port, config.gateway_port)

        temporal = TemporalDevServer(
            host=host,
            port=config.temporal_port or free_port(host),
            ui_port=(config.temporal_ui_port or free_port(host)) if config.temporal_ui else None,
            db_file=self.data_dir / "temporal.db",
            **common,
        )
        postgres: Component
        if config.database_url:
            postgres = ExternalPostgres(config.database_url)
            database_url = config.database_url
        else:
            embedded_pg = EmbeddedPostgres(pgdata=self.data_dir / "postgres", port=free_port(), **common)
            postgres, database_url = embedded_pg, embedded_pg.url()
        redis: Component
        if config.redis_url:
            redis, redis_url = ExternalRedis(config.redis_url), config.redis_url
        else:
            embedded_redis = EmbeddedRedis(directory=self.data_dir / "redis", port=free_port(), **common)
            redis, redis_url = embedded_redis, embedded_redis.url
        localstripe = LocalStripe(port=free_port(), state_file=self.data_dir / "localstripe.pickle", **python)
        proxy_port = free_port() if config.stripe_fault_proxy else None
        sandbox_port = free_port() if config.with_razorpay_sandbox else None
        service_ports = {name: free_port() for name in config.service_names}
        web_port = free_port()
        gateway_port = (config.gateway_port or free_port(host)) if config.with_envoy else None
        self._endpoints = Endpoints(
            gateway_url=None if gateway_port is None else f"http://{hostport(public, gateway_port)}",
            gateway_grpc_target=None if gateway_port is None else hostport(public, gateway_port),
            service_addrs={name: hostport(LOOPBACK, port) for name, port in service_ports.items()},
            database_url=sqlalchemy_url(database_url),
            database_libpq_url=libpq_url(database_url),
            redis_url=redis_url,
            temporal_address=temporal.address,
            temporal_ui_url=temporal.ui_url,
            localstripe_url=localstripe.url,
            stripe_fault_proxy_url=None if proxy_port is None else f"http://{hostport(LOOPBACK, proxy_port)}",
            razorpay_sandbox_url=None if sandbox_port is None else f"http://{hostport(LOOPBACK, sandbox_port)}",
        )
        self.env = self._service_env()
        self.mesh = development_mesh(self.data_dir / "mesh")
        operator = self.mesh["operator"]

        sandbox: list[Component] = []
        if proxy_port is not None:
            # Ready without localstripe: it only reaches it when a request comes.
            argv = [sys.executable, "-m", "sandboxes.faultproxy", "--host", LOOPBACK, "--port", str(proxy_port)]
            argv += ["--upstream", localstripe.url]
            env = self._child_env(port=proxy_port)
            sandbox.append(HttpProcess("stripe_fault_proxy", argv=argv, port=proxy_port, env=env, **python))
        if sandbox_port is not None:
            prefix = config.razorpay_sandbox_command or [sys.executable, "-m", "sandboxes.razorpay"]
            argv = [*prefix, "--host", LOOPBACK, "--port", str(sandbox_port)]
            env = self._child_env(port=sandbox_port)
            sandbox.append(HttpProcess("razorpay_sandbox", argv=argv, port=sandbox_port, env=env, **python))

        infrastructure: list[Component] = [temporal, localstripe, *sandbox, redis, postgres]
        self._plan = [infrastructure]
        if config.migrate:
            argv = list(config.migrate_command or [sys.executable, "-m", "services.common.migrate"])
            self._plan.append([OneShot("migrate", argv, env=self._child_env("operator"), **python)])
        service_command = config.service_command or (lambda name: [sys.executable, "-m", service_module(name)])
        services: list[Component] = [
            GrpcService(
                name,
                argv=service_command(name),
                port=port,
                probe_as=operator,
                env=self._child_env(name, port=port),
                **python,
            )
            for name, port in service_ports.items()
        ]
        if config.with_web:
            argv = [sys.executable, "-m", "services.web"]
            env = self._child_env("web", port=web_port)
            services.append(WebService("web", argv=argv, port=web_port, env=env, **python))
        if services:
            self._plan.append(services)
        if gateway_port is not None:
            self._plan.append([self._envoy(host, gateway_port, service_ports, web_port, common)])
        if config.seed:
            argv = list(
                config.seed_command
                or [sys.executable, "-m", "services.merchant.seed", "--key-file", str(self.data_dir / "demo-api-key")]
            )
            self._plan.append([OneShot("seed", argv, capture_stdout=True, env=self._child_env("operator"), **python)])
        self._components = {component.name: component for stage in self._plan for component in stage}

    def _envoy(
        self, host: str, port: int, service_ports: dict[str, int], web_port: int, common: dict[str, Any]
    ) -> Envoy:
        renderer = self.config.envoy_renderer
        descriptor_set = REPO_ROOT / "gateway" / "payloops.binpb"
        if renderer is None:
            # imported late: written separately, and tests may bring their own renderer
            render = importlib.import_module("gateway.render")
            renderer = render.render_envoy_config
            descriptor_set = Path(str(render.__file__)).parent / "payloops.binpb"
            if not descriptor_set.exists():
                raise PlatformError(f"the gateway descriptor set {descriptor_set} is missing (build the protos)")
        missing = [name for name in ("merchant", "order", "webhook") if name not in service_ports]
        if missing:
            raise PlatformError(f"the gateway needs the {', '.join(missing)} service(s)")
        render_args = {
            "descriptor_set": str(descriptor_set),
            "merchant_port": service_ports["merchant"],
            "order_port": service_ports["order"],
            "webhook_port": service_ports["webhook"],
            "web_port": web_port,
            "mesh_ca_file": str(self.mesh["gateway"].ca),
            "mesh_cert_file": str(self.mesh["gateway"].cert),
            "mesh_key_file": str(self.mesh["gateway"].key),
        }
        return Envoy(
            renderer=renderer,
            render_args=render_args,
            config_path=self.run_dir / "envoy.yaml",
            host=host,
            port=port,
            admin_port=free_port(),
            **common,
        )

    def _service_env(self) -> dict[str, str]:
        config, endpoints = self.config, self.endpoints
        env = {
            "PAYLOOPS_ENV": "dev",
            "LISTEN_HOST": LOOPBACK,
            "DATABASE_URL": endpoints.database_url,
            "REDIS_URL": endpoints.redis_url,
            "REDIS_KEY_PREFIX": config.redis_key_prefix,
            "TEMPORAL_ADDRESS": endpoints.temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "TEMPORAL_TASK_QUEUE": config.temporal_task_queue,
            **{f"{name.upper()}_SERVICE_ADDR": addr for name, addr in endpoints.service_addrs.items()},
            "STRIPE_API_BASE": endpoints.stripe_fault_proxy_url or endpoints.localstripe_url,
            "PAYLOOPS_DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": config.log_level,
            # Local merchant endpoints (a developer's or a test's server) are on loopback.
            "WEBHOOK_ALLOW_LOOPBACK": "true",
        }
        if endpoints.gateway_url is not None:
            env["CHECKOUT_BASE_URL"] = endpoints.gateway_url  # hosted checkout pages are the gateway's
        if endpoints.razorpay_sandbox_url is not None:
            # razorpay 2.0.1: Client(base_url=...) is the host root; resources add /v1/...
            env["RAZORPAY_BASE_URL"] = endpoints.razorpay_sandbox_url
        env.update(config.extra_env)
        return env

    def _child_env(self, component: str | None = None, *, port: int | None = None) -> dict[str, str]:
        """os.environ + the service environment (+ the component's mesh identity, + PORT):
        what every Python child gets."""
        paths = [str(REPO_ROOT), str(REPO_ROOT / "clients" / "python")]
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1", **self.env}
        if component is not None:
            env.update(mesh_env(self.mesh[identity_of(component)]))
        if port is not None:
            env["PORT"] = str(port)
        return env

    # -- running stages -----------------------------------------------------------------

    def _log_path(self, component: Component) -> Path | None:
        path = self.log_path(component.name)
        return path if path.exists() else None

    def _fail(self, component: Component, reason: str) -> ComponentError:
        return ComponentError(component.name, reason, component.tail(20), self._log_path(component))

    def _run_stage(self, stage: list[Component]) -> None:
        """Start every component of the stage at once (start() may block, e.g. initdb) and
        poll them all until each is ready; raise on the first failure."""
        self._raise_if_cancelled()
        self._started.append(stage)
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(stage), thread_name_prefix="payloops-start") as pool:
            starting = {component.name: pool.submit(component.start) for component in stage}
            pending = list(stage)
            while pending:
                self._raise_if_cancelled()
                for component in list(pending):
                    if self._ready(component, starting[component.name], began):
                        pending.remove(component)
                if pending:
                    time.sleep(0.05)

    def _ready(self, component: Component, starting: Future[None], began: float) -> bool:
        elapsed = time.monotonic() - began
        if starting.done():
            error = starting.exception()
            if isinstance(error, PlatformError):
                raise error
            if error is not None:
                raise self._fail(component, f"could not start: {type(error).__name__}: {error}") from error
            reason = component.failure()
            if reason is not None:
                raise self._fail(component, f"{reason} during start-up")
            if component.probe():
                try:
                    component.on_ready()
                except Exception as exc:
                    raise self._fail(component, f"failed after start: {type(exc).__name__}: {exc}") from exc
                self.timings[component.name] = time.monotonic() - began
                return True
        if elapsed > component.ready_timeout:
            detail = f" (last check: {component.last_error})" if component.last_error else ""
            raise self._fail(component, f"not ready after {component.ready_timeout:.0f} s{detail}")
        return False

    def _raise_if_cancelled(self) -> None:
        if self._stop_requested.is_set():
            raise StartCancelled("stop requested during start-up")

    def _stop_stage(self, stage: list[Component]) -> None:
        def stop(component: Component) -> None:
            began = time.monotonic()
            try:
                component.stop()
            except Exception:
                _log.exception("stopping %s failed", component.name)
            self.stop_timings[component.name] = time.monotonic() - began

        if len(stage) == 1:
            stop(stage[0])
            return
        with ThreadPoolExecutor(max_workers=len(stage), thread_name_prefix="payloops-stop") as pool:
            list(pool.map(stop, stage))

    def _read_seed(self) -> None:
        seed = self._components.get("seed")
        if not isinstance(seed, OneShot):
            return
        lines = [line for line in seed.stdout_text().splitlines() if line.strip()]
        seed.discard_stdout()  # it holds the API key; keep secrets out of the logs directory
        try:
            record = json.loads(lines[-1])
            self.demo_merchant_id = str(record["merchant_id"])
            self.demo_api_key = str(record["api_key"])
        except (IndexError, ValueError, KeyError, TypeError) as exc:
            raise self._fail(seed, f'did not print {{"merchant_id": ..., "api_key": ...}} on stdout ({exc})') from exc


_DONE: Future[None] = Future()
_DONE.set_result(None)


class Supervisor:
    """Restarts services and workers that exit, with exponential backoff (reset once a
    component has stayed up a while), and says so; the platform keeps serving meanwhile."""

    POLL_SECONDS = 0.2
    HEALTHY_AFTER = 60.0

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="payloops-supervisor", daemon=True)
        self._failures: dict[str, int] = {}
        self._since: dict[str, float] = {}
        self.given_up: dict[str, str] = {}
        """Components that kept failing, with their last reason: Platform.check() raises."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _say(self, line: str) -> None:
        report = self.platform.config.on_restart
        if report is not None:
            report(line)
        else:
            print(f"payloops: {line}", file=sys.stderr, flush=True)

    def _run(self) -> None:
        while not self._stopping.wait(self.POLL_SECONDS):
            for component in [c for stage in self.platform._started for c in stage if c.restartable]:
                if self._stopping.is_set():
                    return
                reason = component.failure()
                if component.name in self.given_up:
                    continue
                if reason is None:
                    if time.monotonic() - self._since.get(component.name, 0.0) > self.HEALTHY_AFTER:
                        self._failures.pop(component.name, None)
                    continue
                self._restart(component, reason)

    def _restart(self, component: Component, reason: str) -> None:
        failures = self._failures.get(component.name, 0) + 1
        self._failures[component.name] = failures
        limit, (first, longest) = self.platform.config.restart_limit, self.platform.config.restart_delays
        if failures > limit:
            self.given_up[component.name] = f"{reason} ({limit} restarts did not last)"
            self._say(f"{component.name} {reason}; it failed {limit} times in a row: giving up")
            return
        delay = min(first * 2 ** (failures - 1), longest)
        self._say(f"{component.name} {reason}; restarting it in {delay:.1f} s (restart {failures})")
        if self._stopping.wait(delay):
            return
        with self.platform._restarting:
            if component.failure() is None:  # restarted meanwhile (Platform.restart)
                return
            component.stop()
            try:
                self.platform._start_again(component)
            except PlatformError as error:
                self._say(f"{component.name} did not come back: {error}")
                return
            self._since[component.name] = time.monotonic()
            self.platform.restarts[component.name] = self.platform.restarts.get(component.name, 0) + 1
        self._say(f"{component.name} is running again")


def _required(value: str | None, what: str) -> str:
    if value is None:
        raise RuntimeError(f"the platform runs no {what}")
    return value
