"""The Kubernetes manifests in deploy/ agree with the code they deploy.

No cluster and no network: the manifests are parsed and checked against what the
launcher starts (launcher.platform.SERVICE_NAMES / service_module, and the web service)
and against each service's Settings class, so a new required setting, a renamed
variable, a new component or a peer address pointing nowhere fails here instead of at
rollout. The image (deploy/Dockerfile) is read, not built.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import inspect
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

import launcher.platform
from launcher.platform import SERVICE_MODULES, SERVICE_NAMES, PlatformConfig, service_module

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
JOBS = DEPLOY / "jobs"
README = DEPLOY / "README.md"
DOCKERFILE = DEPLOY / "Dockerfile"
IMAGE = "payloops"
MIGRATE_MODULE = "services.common.migrate"
# The web service: started by the launcher as the HTTP component "web" (PlatformConfig.with_web),
# not one of SERVICE_NAMES (test_the_launcher_starts_the_web_service guards these two).
WEB = "web"
WEB_MODULE = "services.web"
# Every Python server component the launcher starts -> its module.
COMPONENT_MODULES: dict[str, str] = {**{name: service_module(name) for name in SERVICE_NAMES}, WEB: WEB_MODULE}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

Manifest = dict[str, Any]


# -- loading --------------------------------------------------------------------------------


def _load(path: Path) -> list[Manifest]:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path.name}: a document is not a mapping"
        assert doc.get("apiVersion") and doc.get("kind"), f"{path.name}: apiVersion and kind are required"
        assert doc.get("metadata", {}).get("name"), f"{path.name}: a {doc['kind']} has no metadata.name"
    return docs


def _manifest_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def _all_manifests() -> list[Manifest]:
    return [doc for path in _manifest_files() for doc in _load(path)]


MANIFESTS = _all_manifests()
JOB_MANIFESTS = [doc for path in sorted(JOBS.glob("*.yaml")) for doc in _load(path)]


def _of_kind(kind: str, docs: list[Manifest] = MANIFESTS) -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    for doc in docs:
        if doc["kind"] == kind:
            name = doc["metadata"]["name"]
            assert name not in found, f"two {kind}s named {name}"
            found[name] = doc
    return found


DEPLOYMENTS = _of_kind("Deployment")
SERVICES = _of_kind("Service")
CONFIGMAPS = _of_kind("ConfigMap")
JOBS_APPLIED = _of_kind("Job")
JOBS_ON_DEMAND = _of_kind("Job", JOB_MANIFESTS)
WORKLOADS = [*DEPLOYMENTS.values(), *JOBS_APPLIED.values(), *JOBS_ON_DEMAND.values()]


def _documented_secrets() -> dict[str, set[str]]:
    """Secret name -> keys, from the `kubectl create secret generic` commands of the README."""
    text = README.read_text()
    secrets: dict[str, set[str]] = {}
    for chunk in text.split("kubectl create secret generic ")[1:]:
        command = chunk.split("\n\n")[0].split("```")[0]
        name = command.split()[0].strip("\"'")
        keys = set(re.findall(r"--from-(?:literal|file)=([A-Za-z0-9_.]+)=", command))
        assert keys, f"README: the command creating secret {name} gives no key"
        secrets.setdefault(name, set()).update(keys)
    return secrets


SECRETS = _documented_secrets()


# -- pod templates --------------------------------------------------------------------------


def _pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def _container(workload: Manifest) -> dict[str, Any]:
    containers = _pod_spec(workload)["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: expected one container"
    container: dict[str, Any] = containers[0]
    return container


def _argv(workload: Manifest) -> list[str]:
    container = _container(workload)
    return [str(arg) for arg in [*container.get("command", []), *container.get("args", [])]]


def _module(workload: Manifest) -> str | None:
    argv = _argv(workload)
    if len(argv) >= 3 and PurePosixPath(argv[0]).name.startswith("python") and argv[1] == "-m":
        return argv[2]
    return None


@dataclass(frozen=True)
class EnvVar:
    value: str | None  # None: from a Secret (its value is not in the repository)
    source: str


def _env(workload: Manifest) -> dict[str, EnvVar]:
    """Every variable the container gets, resolved: literal, ConfigMap key or Secret key.
    References to a ConfigMap or Secret key that does not exist fail."""
    name = workload["metadata"]["name"]
    container = _container(workload)
    env: dict[str, EnvVar] = {}

    def put(key: str, var: EnvVar) -> None:
        assert key not in env, f"{name}: {key} is given twice ({env[key].source}, {var.source})"
        env[key] = var

    for source in container.get("envFrom", []):
        assert "prefix" not in source, f"{name}: envFrom with a prefix is not supported by these checks"
        if "configMapRef" in source:
            configmap = _configmap(source["configMapRef"]["name"], name)
            for key, value in configmap.get("data", {}).items():
                put(key, EnvVar(str(value), f"ConfigMap {configmap['metadata']['name']}"))
        else:
            secret = source["secretRef"]["name"]
            assert secret in SECRETS, f"{name}: Secret {secret} is not created in deploy/README.md"
            for key in SECRETS[secret]:
                put(key, EnvVar(None, f"Secret {secret}"))
    for item in container.get("env", []):
        key = item["name"]
        if "value" in item:
            put(key, EnvVar(str(item["value"]), "value"))
            continue
        ref = item["valueFrom"]
        if "configMapKeyRef" in ref:
            cm_name, cm_key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            data = _configmap(cm_name, name).get("data", {})
            assert cm_key in data, f"{name}: {key} refers to key {cm_key} missing from ConfigMap {cm_name}"
            put(key, EnvVar(str(data[cm_key]), f"ConfigMap {cm_name}"))
        elif "secretKeyRef" in ref:
            secret, secret_key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
            assert secret in SECRETS, f"{name}: {key} refers to Secret {secret}, not created in deploy/README.md"
            assert secret_key in SECRETS[secret], (
                f"{name}: {key} refers to key {secret_key} of Secret {secret}, not created in deploy/README.md"
            )
            put(key, EnvVar(None, f"Secret {secret}"))
        else:
            pytest.fail(f"{name}: {key} comes from an unsupported source {sorted(ref)}")
    return env


def _configmap(configmap: str, user: str) -> Manifest:
    assert configmap in CONFIGMAPS, f"{user}: ConfigMap {configmap} is not in deploy/kubernetes"
    return CONFIGMAPS[configmap]


# -- settings ---------------------------------------------------------------------------------


def _settings_class(module: str) -> type[BaseSettings]:
    """services.<name> -> services.<name>.config.Settings; a worker module uses its package's."""
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"no module {module}"
    package = module if spec.submodule_search_locations is not None else module.rpartition(".")[0]
    settings = importlib.import_module(f"{package}.config").Settings
    assert isinstance(settings, type) and issubclass(settings, BaseSettings)
    return settings


def _env_names(settings: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """(every variable the class reads, the required ones), upper case."""
    known: set[str] = set()
    required: set[str] = set()
    for field_name, info in settings.model_fields.items():
        names = {field_name.upper()}
        if isinstance(info.alias, str):
            names.add(info.alias.upper())
        if isinstance(info.validation_alias, str):
            names.add(info.validation_alias.upper())
        known |= names
        if info.is_required():
            required.add(field_name.upper())
    return known, required


# Stand-ins for the Secret values, valid for production settings (not "dev-" defaults).
_SECRET_STANDINS = {
    "DATABASE_URL": "postgresql+psycopg://payloops:password@postgres:5432/payloops",
    "REDIS_URL": "redis://redis:6379/0",
    "API_KEY_HMAC_SECRET": "x" * 48,
    "JWT_SECRET": "y" * 48,
    "CREDENTIAL_KEYS": json.dumps({"k1": base64.b64encode(bytes(range(32))).decode()}),
    "CREDENTIAL_ACTIVE_KEY_ID": "k1",
}


def _build_settings(
    settings: type[BaseSettings], env: dict[str, EnvVar], monkeypatch: pytest.MonkeyPatch, **init: Any
) -> BaseSettings:
    """Construct the Settings class from exactly this environment (nothing from the machine's)."""
    known, _ = _env_names(settings)
    for key in known:
        monkeypatch.delenv(key, raising=False)
    for key, var in env.items():
        value = var.value if var.value is not None else _SECRET_STANDINS.get(key)
        assert value is not None, f"no stand-in value for secret {key}: add one to _SECRET_STANDINS"
        monkeypatch.setenv(key, value)
    return settings(_env_file=None, **init)


# -- the launcher's components --------------------------------------------------------------


def _deployment_running(module: str) -> Manifest:
    found = [d for d in DEPLOYMENTS.values() if _module(d) == module]
    assert len(found) == 1, f"expected one Deployment running python -m {module}, found {len(found)}"
    return found[0]


def _component_deployments() -> Iterator[tuple[str, Manifest]]:
    for name, module in COMPONENT_MODULES.items():
        yield name, _deployment_running(module)


def test_manifests_parse_and_name_no_unknown_kinds() -> None:
    assert _manifest_files(), "no manifests in deploy/kubernetes"
    kinds = {doc["kind"] for doc in [*MANIFESTS, *JOB_MANIFESTS]}
    assert kinds <= {"Deployment", "Service", "ConfigMap", "Job", "NetworkPolicy", "Certificate", "Issuer"}, kinds


def test_the_launcher_components_are_known() -> None:
    # Guards the test itself: the names and modules it checks are the launcher's.
    assert {"merchant", "order", "order_worker", "webhook_worker"} <= set(SERVICE_NAMES)
    assert set(SERVICE_MODULES) <= set(SERVICE_NAMES)


def test_the_launcher_starts_the_web_service() -> None:
    # Guards WEB / WEB_MODULE: the launcher starts `python -m services.web` as component
    # "web" when PlatformConfig.with_web is set.
    assert "with_web" in {f.name for f in fields(PlatformConfig)}
    source = inspect.getsource(launcher.platform)
    assert re.search(rf'"-m",\s*"{re.escape(WEB_MODULE)}"', source), f"the launcher no longer runs {WEB_MODULE}"
    assert WEB not in SERVICE_NAMES
    assert importlib.util.find_spec(WEB_MODULE) is not None


@pytest.mark.parametrize("name", COMPONENT_MODULES)
def test_every_component_has_a_deployment_running_its_module(name: str) -> None:
    deployment = _deployment_running(COMPONENT_MODULES[name])
    assert _container(deployment)["image"].split(":")[0] == IMAGE


def test_no_deployment_runs_a_module_the_launcher_does_not_start() -> None:
    modules = set(COMPONENT_MODULES.values())
    for name, deployment in DEPLOYMENTS.items():
        module = _module(deployment)
        if module is None:
            assert name == "gateway", f"{name}: runs {_argv(deployment)}, not python -m <component>"
        else:
            assert module in modules, f"{name}: python -m {module} is not a component the launcher starts"


@pytest.mark.parametrize("name", COMPONENT_MODULES)
def test_settings_are_provided_and_known(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = COMPONENT_MODULES[name]
    deployment = _deployment_running(module)
    settings = _settings_class(module)
    known, required = _env_names(settings)
    env = _env(deployment)
    missing = required - env.keys()
    assert not missing, f"{deployment['metadata']['name']}: required settings not provided: {sorted(missing)}"
    unknown = env.keys() - known
    assert not unknown, f"{deployment['metadata']['name']}: not settings of {settings.__module__}: {sorted(unknown)}"
    # The values given (literals, ConfigMap) are valid, in production mode.
    built = _build_settings(settings, env, monkeypatch)
    assert getattr(built, "payloops_env", None) == "prod"
    assert getattr(built, "webhook_allow_loopback", False) is False


def _served_port(deployment: Manifest) -> int:
    """The port the component listens on (PORT), reachable from outside the pod."""
    label = deployment["metadata"]["name"]
    env = _env(deployment)
    assert env["LISTEN_HOST"].value not in LOOPBACK_HOSTS, f"{label}: LISTEN_HOST on loopback: probes cannot reach it"
    port_value = env["PORT"].value
    assert port_value is not None
    port = int(port_value)
    container = _container(deployment)
    assert port in [p["containerPort"] for p in container.get("ports", [])], f"{label}: PORT is not a containerPort"
    return port


HEALTH_PROBE_MODULE = "services.common.health_probe"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_grpc_probes_run_the_mesh_health_probe(name: str) -> None:
    """The servers accept mesh clients only, so the kubelet's grpc: probe cannot reach them:
    the probe is a command asking 127.0.0.1:$PORT with the pod's own certificate (MESH_*,
    checked in test_mesh.py)."""
    deployment = _deployment_running(service_module(name))
    label = deployment["metadata"]["name"]
    port = _served_port(deployment)
    assert _env(deployment)["PORT"].value == str(port)
    assert importlib.util.find_spec(HEALTH_PROBE_MODULE) is not None
    container = _container(deployment)
    assert {"readinessProbe", "livenessProbe"} <= container.keys(), f"{label}: no readiness or liveness probe"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if probe not in container:
            continue
        exec_ = container[probe].get("exec")
        assert exec_ is not None, f"{label}: {probe} is not an exec probe ({sorted(container[probe])})"
        assert exec_["command"] == ["python", "-m", HEALTH_PROBE_MODULE], f"{label}: {probe} runs {exec_['command']}"
        # A Python start with grpc imported takes longer than the default 1 s under a CPU limit.
        assert container[probe].get("timeoutSeconds", 1) >= 3, f"{label}: {probe} timeoutSeconds too short"


def test_web_http_probes_on_the_served_port() -> None:
    deployment = _deployment_running(WEB_MODULE)
    label = deployment["metadata"]["name"]
    port = _served_port(deployment)
    container = _container(deployment)
    for probe in ("readinessProbe", "livenessProbe"):
        assert probe in container, f"{label}: no {probe}"
        http = container[probe].get("httpGet")
        assert http is not None, f"{label}: {probe} is not an HTTP probe (the web service serves HTTP/1.1, not gRPC)"
        assert http.get("path") == "/healthz", f"{label}: {probe} checks {http.get('path')}, not /healthz"
        assert http.get("port") in (port, _port_name(container, port)), f"{label}: {probe} is not on port {port}"
        assert http.get("scheme", "HTTP") == "HTTP", f"{label}: {probe} uses {http.get('scheme')}"
    # Its Service: port 8080, named http, on the served port.
    service_name = deployment["metadata"]["name"]
    assert _service_target(service_name, 8080, label) is deployment
    (service_port,) = [p for p in SERVICES[service_name]["spec"]["ports"] if p["port"] == 8080]
    assert service_port["name"] == "http"
    assert service_port.get("targetPort", 8080) in (port, _port_name(container, port))


def _port_name(container: dict[str, Any], port: int) -> str | None:
    names = [p.get("name") for p in container.get("ports", []) if p["containerPort"] == port]
    return names[0] if names else None


def _service_target(service_name: str, port: int, user: str) -> Manifest:
    """The Deployment behind Service `service_name` on `port` (which must reach a containerPort)."""
    assert service_name in SERVICES, f"{user}: no Service named {service_name}"
    service = SERVICES[service_name]
    ports = [p for p in service["spec"]["ports"] if p["port"] == port]
    assert ports, f"{user}: Service {service_name} has no port {port}"
    selector = service["spec"]["selector"]
    selected = [
        d
        for d in DEPLOYMENTS.values()
        if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())
    ]
    assert len(selected) == 1, f"Service {service_name} selects {len(selected)} Deployments"
    target = ports[0].get("targetPort", port)
    container_ports = _container(selected[0]).get("ports", [])
    assert any(target in (p["containerPort"], p.get("name")) for p in container_ports), (
        f"Service {service_name}: targetPort {target} is not a port of {selected[0]['metadata']['name']}"
    )
    return selected[0]


def _split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    assert host and port.isdigit(), f"{addr!r} is not host:port"
    return host.split(".")[0], int(port)


def _peer_addrs() -> Iterator[tuple[str, str, str]]:
    """(user, variable, address) of every *_SERVICE_ADDR given to a workload or in a ConfigMap."""
    for workload in WORKLOADS:
        for key, var in _env(workload).items():
            if key.endswith("_SERVICE_ADDR"):
                assert var.value is not None, f"{workload['metadata']['name']}: {key} should not be a secret"
                yield workload["metadata"]["name"], key, var.value
    for configmap in CONFIGMAPS.values():
        for key, value in configmap.get("data", {}).items():
            if key.endswith("_SERVICE_ADDR"):
                yield f"ConfigMap {configmap['metadata']['name']}", key, str(value)


def test_peer_addresses_point_at_the_right_service() -> None:
    seen = list(_peer_addrs())
    assert seen, "no *_SERVICE_ADDR anywhere"
    for user, key, addr in seen:
        component = key.removesuffix("_SERVICE_ADDR").lower()
        assert component in SERVICE_NAMES, f"{user}: {key} names no component of the launcher"
        host, port = _split_addr(addr)
        target = _service_target(host, port, f"{user} {key}={addr}")
        assert _module(target) == service_module(component), (
            f"{user}: {key}={addr} reaches {target['metadata']['name']}, not python -m {service_module(component)}"
        )


# -- the gateway ------------------------------------------------------------------------------


def _render_gateway() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_render_gateway", DEPLOY / "render_gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gateway_config_is_freshly_rendered() -> None:
    render = _render_gateway()
    committed = (KUBERNETES / "gateway-envoy-config.yaml").read_text()
    assert committed == render.configmap(), (
        "deploy/kubernetes/gateway-envoy-config.yaml is stale: "
        "python deploy/render_gateway.py > deploy/kubernetes/gateway-envoy-config.yaml"
    )


def test_gateway_upstreams_are_services() -> None:
    render = _render_gateway()
    configmap = CONFIGMAPS[render.CONFIGMAP_NAME]
    envoy = yaml.safe_load(configmap["data"][render.CONFIG_KEY])
    clusters = {c["name"]: c for c in envoy["static_resources"]["clusters"]}
    assert {"merchant", "order", "webhook", WEB} <= set(render.UPSTREAMS)
    for name in render.UPSTREAMS:
        cluster = clusters[name]
        assert cluster["type"] in {"STRICT_DNS", "LOGICAL_DNS"}, f"cluster {name}: {cluster['type']}"
        # gRPC upstreams over h2c, the web service over HTTP/1.1: as its Service says.
        http2 = "http2_protocol_options" in yaml.safe_dump(cluster)
        for locality in cluster["load_assignment"]["endpoints"]:
            for lb_endpoint in locality["lb_endpoints"]:
                socket = lb_endpoint["endpoint"]["address"]["socket_address"]
                assert socket["address"] not in LOOPBACK_HOSTS, f"cluster {name} on loopback"
                service_name, port = socket["address"].split(".")[0], socket["port_value"]
                target = _service_target(service_name, port, f"cluster {name}")
                assert _module(target) == COMPONENT_MODULES[name], (
                    f"cluster {name} reaches {target['metadata']['name']}, not python -m {COMPONENT_MODULES[name]}"
                )
                (service_port,) = [p for p in SERVICES[service_name]["spec"]["ports"] if p["port"] == port]
                expected = "grpc" if http2 else "http"
                assert service_port.get("appProtocol") == expected, (
                    f"cluster {name}: Service {service_name} port {port} should have appProtocol {expected}"
                )


def test_gateway_web_upstream_is_the_web_service() -> None:
    render = _render_gateway()
    assert render.UPSTREAMS[WEB] == (WEB, 8080)
    envoy = yaml.safe_load(CONFIGMAPS[render.CONFIGMAP_NAME]["data"][render.CONFIG_KEY])
    (cluster,) = [c for c in envoy["static_resources"]["clusters"] if c["name"] == WEB]
    assert "http2_protocol_options" not in yaml.safe_dump(cluster), "the web service speaks HTTP/1.1 only"
    (lb_endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    socket = lb_endpoint["endpoint"]["address"]["socket_address"]
    assert _service_target(socket["address"], socket["port_value"], "cluster web") is _deployment_running(WEB_MODULE)


def test_gateway_deployment_mounts_config_and_descriptors() -> None:
    render = _render_gateway()
    gateway = DEPLOYMENTS["gateway"]
    container = _container(gateway)
    argv = _argv(gateway)
    assert PurePosixPath(argv[0]).name == "envoy"
    config_path = PurePosixPath(argv[argv.index("-c") + 1])
    envoy = yaml.safe_load(CONFIGMAPS[render.CONFIGMAP_NAME]["data"][render.CONFIG_KEY])
    descriptor = PurePosixPath(render.DESCRIPTOR_SET)
    assert str(descriptor) in yaml.safe_dump(envoy)

    volumes = {v["name"]: v for v in _pod_spec(gateway)["volumes"]}
    mounts = {PurePosixPath(m["mountPath"]): volumes[m["name"]] for m in container["volumeMounts"]}
    assert mounts[config_path.parent]["configMap"]["name"] == render.CONFIGMAP_NAME
    assert config_path.name == render.CONFIG_KEY
    descriptors = mounts[descriptor.parent]["configMap"]["name"]
    assert descriptors not in CONFIGMAPS, "the descriptor ConfigMap is created from the file (README), not committed"
    readme = README.read_text()
    assert re.search(
        rf"kubectl create configmap {descriptors}\s*\\?\s*--from-file={descriptor.name}=gateway/payloops\.binpb",
        readme,
    ), f"deploy/README.md does not show how to create ConfigMap {descriptors}"

    listen = envoy["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"]
    assert listen in [p["containerPort"] for p in container["ports"]]
    for probe in ("readinessProbe", "livenessProbe"):
        http = container[probe]["httpGet"]
        assert (http["path"], http["port"]) == ("/healthz", listen)
    assert _service_target("gateway", 80, "gateway") is gateway


# -- jobs ---------------------------------------------------------------------------------------


def test_migrate_job_runs_the_launchers_migrations() -> None:
    assert set(JOBS_APPLIED) == {"migrate"}, "deploy/kubernetes holds exactly one Job, the migrations"
    job = JOBS_APPLIED["migrate"]
    assert _module(job) == MIGRATE_MODULE
    assert importlib.util.find_spec(MIGRATE_MODULE) is not None
    assert set(_env(job)) == {"DATABASE_URL"}


def test_rotate_key_job_has_the_merchant_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    job = JOBS_ON_DEMAND["rotate-key"]
    assert _argv(job)[:2] == ["payloops", "rotate-key"]
    settings = _settings_class("services.merchant")
    known, required = _env_names(settings)
    env = _env(job)
    assert not (required - {"PORT"}) - env.keys(), "rotate-key lacks merchant settings"
    assert not env.keys() - known
    # It reads the merchant service's secrets from the same Secret keys.
    merchant = _env(_deployment_running("services.merchant"))
    for key, var in env.items():
        if var.value is None:
            assert merchant[key].source == var.source, f"{key}: {var.source}, the merchant service: {merchant[key]}"
    _build_settings(settings, env, monkeypatch, port=1)


# -- the whole folder -----------------------------------------------------------------------


def test_kustomization_lists_every_manifest_but_the_job() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    expected = {p.name for p in _manifest_files()} - {"migrate.yaml"}
    assert set(kustomization["resources"]) == expected
    assert [image["name"] for image in kustomization["images"]] == [IMAGE]


@pytest.mark.parametrize("name", COMPONENT_MODULES)
def test_kustomization_applies_every_component(name: str) -> None:
    resources = set(yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"])
    deployment = _deployment_running(COMPONENT_MODULES[name])
    files = [path.name for path in _manifest_files() if deployment in _load(path)]
    assert len(files) == 1 and files[0] in resources, f"{files} not in kustomization.yaml"


def test_order_checkout_base_url_is_the_public_origin() -> None:
    """The hosted checkout pages' URLs are built from it: the gateway's public origin, set
    by the operator (the README says so), never the development default on loopback."""
    settings = _settings_class(service_module("order"))
    assert "CHECKOUT_BASE_URL" in _env_names(settings)[0]
    env = _env(_deployment_running(service_module("order")))
    assert "CHECKOUT_BASE_URL" in env, "order: CHECKOUT_BASE_URL not provided (the default is a loopback URL)"
    var = env["CHECKOUT_BASE_URL"]
    assert var.value is not None and var.source == "ConfigMap payloops-config", var.source
    url = urlsplit(var.value)
    assert url.scheme == "https", f"CHECKOUT_BASE_URL={var.value}: customers enter card details there, use https"
    assert url.hostname and url.hostname not in LOOPBACK_HOSTS, f"CHECKOUT_BASE_URL={var.value}"
    assert url.path in ("", "/") and not url.query and not url.fragment, (
        f"CHECKOUT_BASE_URL={var.value}: an origin only (the gateway serves /checkout/ at its root)"
    )
    readme = README.read_text()
    assert "CHECKOUT_BASE_URL" in readme and var.value in readme, "deploy/README.md: how to set CHECKOUT_BASE_URL"


def test_production_switches() -> None:
    config = CONFIGMAPS["payloops-config"]["data"]
    assert config["PAYLOOPS_ENV"] == "prod"
    for workload in WORKLOADS:
        env = _env(workload)
        label = workload["metadata"]["name"]
        if "PAYLOOPS_ENV" in env:
            assert env["PAYLOOPS_ENV"].value == "prod", f"{label}: PAYLOOPS_ENV must be prod"
        if "WEBHOOK_ALLOW_LOOPBACK" in env:
            assert str(env["WEBHOOK_ALLOW_LOOPBACK"].value).lower() == "false", f"{label}: WEBHOOK_ALLOW_LOOPBACK"
        for key, var in env.items():
            if key in _SECRET_STANDINS and key != "CREDENTIAL_ACTIVE_KEY_ID":
                assert var.value is None, f"{label}: {key} must come from a Secret, not {var.source}"


def test_pods_are_hardened_and_sized() -> None:
    for workload in WORKLOADS:
        label = workload["metadata"]["name"]
        pod = _pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, label
        assert pod["securityContext"]["runAsUser"] != 0, label
        container = _container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, label
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][kind].keys(), f"{label}: resources.{kind}"


def test_dockerfile_runs_unprivileged_without_secrets() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    instructions = re.findall(r"^([A-Z]+)\s", text, re.MULTILINE)
    assert "ARG" not in instructions, "build arguments end up in the image history"
    for secret in _SECRET_STANDINS:
        assert secret not in text, f"the Dockerfile mentions {secret}"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    assert "**/.env" in ignore


# -- the image ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def _dockerfile_stages() -> list[list[Instruction]]:
    """deploy/Dockerfile's build stages, each a list of instructions (FROM first)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[Instruction]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        assert stages, f"Dockerfile: {line!r} before any FROM"
        stages[-1].append(instruction)
    return stages


def _stage_name(stage: list[Instruction]) -> str | None:
    words = stage[0].args.split()
    return words[2] if len(words) == 3 and words[1].upper() == "AS" else None


def _image_env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                key, sep, value = pair.partition("=")
                assert sep, f"Dockerfile: ENV {instruction.args!r}: use the KEY=value form"
                env[key] = value
    return env


def _dockerignored(path: str) -> bool:
    """Whether deploy/Dockerfile.dockerignore keeps `path` (relative to the repository root)
    out of the build context: the last matching pattern wins, a pattern matching a parent
    directory matches the path."""
    ignored = False
    parents = [str(PurePosixPath(*PurePosixPath(path).parts[: i + 1])) for i in range(len(PurePosixPath(path).parts))]
    for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = "".join(
            ".*" if token == "**" else "[^/]*" if token == "*" else "[^/]" if token == "?" else re.escape(token)
            for token in re.split(r"(\*\*|\*|\?)", pattern)
        )
        if any(re.fullmatch(regex, parent) for parent in parents):
            ignored = not negated
    return ignored


def test_image_holds_the_dashboard_build_where_the_web_service_reads_it() -> None:
    stages = _dockerfile_stages()
    final = stages[-1]
    assert re.match(r"python:3\.11-slim\b", final[0].args), "the final image is python:3.11-slim"
    # A Node 20 stage builds the dashboard from its lockfile.
    node = [s for s in stages if re.match(r"node:20(\b|[.-])", s[0].args)]
    assert len(node) == 1, "expected one Node 20 stage (FROM node:20… AS <name>) building the dashboard"
    (stage,) = node
    name = _stage_name(stage)
    assert name, "the Node stage needs a name (FROM node:20… AS <name>)"
    workdirs = [i.args for i in stage if i.keyword == "WORKDIR"]
    assert workdirs and PurePosixPath(workdirs[-1]).name == "dashboard", "the Node stage works in .../dashboard"
    workdir = PurePosixPath(workdirs[-1])
    runs = " && ".join(i.args for i in stage if i.keyword == "RUN")
    assert re.search(r"\bnpm ci\b", runs) and re.search(r"\bnpm run build\b", runs), runs
    assert (REPO / "dashboard" / "package-lock.json").is_file(), "npm ci needs dashboard/package-lock.json"
    assert (REPO / "dashboard" / "package.json").is_file()
    # Only the build output reaches the final image, at DASHBOARD_DIR.
    copies = [i.args.split() for i in final if i.keyword == "COPY" and i.args.startswith(f"--from={name} ")]
    assert len(copies) == 1 and len(copies[0]) == 3, f"expected one COPY --from={name} <build> <dir>: {copies}"
    _, source, destination = copies[0]
    assert PurePosixPath(source) == workdir / "build", f"copy only the build output ({workdir / 'build'}), not {source}"
    image_env = _image_env(final)
    assert "DASHBOARD_DIR" in image_env, "the final image sets DASHBOARD_DIR (the default is a path in the sources)"
    assert PurePosixPath(image_env["DASHBOARD_DIR"]) == PurePosixPath(destination)
    web_settings = _settings_class(WEB_MODULE)
    assert "DASHBOARD_DIR" in _env_names(web_settings)[0], "the web service no longer reads DASHBOARD_DIR"
    # The web Deployment does not point it elsewhere.
    web_env = _env(_deployment_running(WEB_MODULE))
    if "DASHBOARD_DIR" in web_env:
        assert web_env["DASHBOARD_DIR"].value == image_env["DASHBOARD_DIR"]


def test_image_build_context_has_the_dashboard_sources_only() -> None:
    for path in ("dashboard/package.json", "dashboard/package-lock.json", "dashboard/src/app.html"):
        assert not _dockerignored(path), f"{path} is needed by the dashboard build"
    for path in (
        "dashboard/node_modules/vite/package.json",
        "dashboard/build/index.html",
        "dashboard/.svelte-kit/tsconfig.json",
        "dashboard/.env",
        "services/__pycache__/x.pyc",
        "tests/deploy/test_manifests.py",
    ):
        assert _dockerignored(path), f"{path} should not be sent to the build"
    for path in ("pyproject.toml", "services/web/app.py", "services/web/static/checkout.css"):
        assert not _dockerignored(path), f"{path} is needed by the image"


def test_web_service_files_are_packaged() -> None:
    """The image installs the project with `pip install .`: the files the web service
    serves from its package (services/web/static) must be package data in pyproject.toml."""
    package_data: dict[str, list[str]] = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    static: Path = importlib.import_module(f"{WEB_MODULE}.app").STATIC
    files = [f for f in static.rglob("*") if f.is_file()]
    assert files, f"nothing in {static}"
    for file in files:
        packages = [d for d in file.parents if d.is_relative_to(REPO / "services") and (d / "__init__.py").is_file()]
        included = any(
            file in set(package_dir.glob(pattern))
            for package_dir in packages
            for pattern in [
                *package_data.get("*", []),
                *package_data.get(".".join(package_dir.relative_to(REPO).parts), []),
            ]
        )
        assert included, (
            f"{file.relative_to(REPO)} is not package data: the image would not have it "
            f"(pyproject.toml [tool.setuptools.package-data])"
        )
