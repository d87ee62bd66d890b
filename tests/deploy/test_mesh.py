"""The mesh in deploy/: every component's certificate (cert-manager Certificates, the
Secret each Deployment mounts, the MESH_* variables pointing into it) and the
NetworkPolicies, which must allow exactly the call graph below between the pods, and
outside the namespace only DNS, the data stores and the internet where needed. No
cluster: the manifests are read as in test_manifests.py."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from services.common.mesh import IDENTITIES, identity_of
from tests.deploy.test_manifests import (
    COMPONENT_MODULES,
    CONFIGMAPS,
    DEPLOYMENTS,
    JOBS_APPLIED,
    JOBS_ON_DEMAND,
    KUBERNETES,
    SECRETS,
    SERVICES,
    Manifest,
    _container,
    _deployment_running,
    _dockerignored,
    _env,
    _of_kind,
    _pod_spec,
    _render_gateway,
    _service_target,
    _split_addr,
)

MESH_DIR = PurePosixPath("/etc/payloops/mesh")
# Variable -> file in the Secret (what a cert-manager Certificate writes).
MESH_FILES = {"MESH_CA_FILE": "ca.crt", "MESH_CERT_FILE": "tls.crt", "MESH_KEY_FILE": "tls.key"}
GATEWAY = "gateway"
NAMESPACE = "payloops"  # of the <Service>.<namespace>.svc names in the certificates

CERTIFICATES = _of_kind("Certificate")
ISSUERS = _of_kind("Issuer")
POLICIES = _of_kind("NetworkPolicy")

# Who calls whom (Deployment names, which are the mesh identities), on the callee's
# port. From the peer addresses each component reads (services/*/config.py) and the
# gateway's upstreams; test_call_graph_is_the_peer_addresses keeps them in step.
CALLS: dict[str, set[str]] = {
    "gateway": {"merchant", "order", "webhook", "web"},
    "merchant": {"router"},
    "order": {"router", "webhook", "processor-stripe", "processor-razorpay"},
    "order-worker": {"router", "processor-stripe", "processor-razorpay"},
    "router": {"merchant"},
    "processor-stripe": {"merchant"},
    "processor-razorpay": {"merchant"},
    "webhook": {"order", "merchant", "processor-stripe", "processor-razorpay"},
    "webhook-worker": {"merchant"},
    "web": {"order", "merchant"},
}
# Addresses a worker is given (it shares its service's settings) but never calls: only the
# order service's outbox relay publishes to the webhook service; the webhook worker
# delivers merchant webhooks with the merchant service's subscriptions only.
UNCALLED_PEERS = {
    ("order-worker", "webhook"),
    ("webhook-worker", "order"),
    ("webhook-worker", "processor-stripe"),
    ("webhook-worker", "processor-razorpay"),
}
# Reachable from anywhere, on this port (the gateway's LoadBalancer).
PUBLIC = {GATEWAY: 8080}
# Outside the namespace. Data stores: whoever has the setting, on its default port (the
# rules allow any address: the operator narrows them, deploy/README.md).
DATA_STORE_PORTS = {"DATABASE_URL": 5432, "REDIS_URL": 6379}
# The internet: the processors' APIs (their https port), merchant webhook endpoints (any
# port: merchants may register http and https URLs with a port).
INTERNET_URL_SETTINGS = {"processor-stripe": "STRIPE_API_BASE", "processor-razorpay": "RAZORPAY_BASE_URL"}
INTERNET_ANY_PORT = {"webhook-worker"}
# What "the internet" excludes: what the SSRF guard calls internal and the cluster uses.
INTERNAL_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
]
KUBE_DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}

# Every pod the policies may select: the Deployments and the Jobs (applied or on demand).
PODS: dict[str, Manifest] = {**DEPLOYMENTS, **JOBS_APPLIED, **JOBS_ON_DEMAND}


# -- certificates -----------------------------------------------------------------------------


def _mesh_volume(workload: Manifest) -> dict[str, Any] | None:
    """The volume mounted at MESH_DIR, checked read-only and not world-readable."""
    label = workload["metadata"]["name"]
    mounts = [m for m in _container(workload).get("volumeMounts", []) if PurePosixPath(m["mountPath"]) == MESH_DIR]
    if not mounts:
        return None
    (mount,) = mounts
    assert mount.get("readOnly") is True, f"{label}: the mesh mount is not read-only"
    assert "subPath" not in mount, f"{label}: a subPath mount never sees a renewed certificate"
    (volume,) = [v for v in _pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
    assert "secret" in volume, f"{label}: the mesh volume is not a Secret"
    mode = volume["secret"].get("defaultMode", 0o644)
    assert mode & 0o007 == 0, f"{label}: the mesh key is world-readable (defaultMode {mode:o})"
    secret: dict[str, Any] = volume["secret"]
    return secret


@pytest.mark.parametrize("name", COMPONENT_MODULES)
def test_every_component_mounts_its_identity(name: str) -> None:
    deployment = _deployment_running(COMPONENT_MODULES[name])
    label = deployment["metadata"]["name"]
    identity = identity_of(name)
    assert label == identity, f"the Deployment of {name} is {label}, not its mesh identity {identity}"
    secret = _mesh_volume(deployment)
    assert secret is not None, f"{label}: nothing mounted at {MESH_DIR}"
    assert secret["secretName"] == f"mesh-{identity}"
    assert "items" not in secret, f"{label}: mount the whole Secret ({sorted(MESH_FILES.values())})"
    env = _env(deployment)
    for variable, file in MESH_FILES.items():
        assert variable in env, f"{label}: {variable} is not set"
        assert env[variable].value == str(MESH_DIR / file), f"{label}: {variable}={env[variable].value}"


def test_the_gateway_mounts_its_identity_where_envoy_reads_it() -> None:
    render = _render_gateway()
    assert PurePosixPath(render.MESH_DIR) == MESH_DIR
    secret = _mesh_volume(DEPLOYMENTS[GATEWAY])
    assert secret is not None and secret["secretName"] == f"mesh-{GATEWAY}"
    envoy = yaml.safe_load(CONFIGMAPS[render.CONFIGMAP_NAME]["data"][render.CONFIG_KEY])
    files = {PurePosixPath(f) for f in re.findall(r"filename: (\S+)", yaml.safe_dump(envoy))}
    in_mount = {f for f in files if f.is_relative_to(MESH_DIR)}
    assert in_mount == {MESH_DIR / file for file in MESH_FILES.values()}, in_mount


def test_every_identity_but_the_operator_is_a_deployment() -> None:
    mounted = {secret["secretName"] for d in DEPLOYMENTS.values() if (secret := _mesh_volume(d))}
    assert mounted == {f"mesh-{identity}" for identity in IDENTITIES} - {"mesh-operator"}
    assert len(mounted) == len(DEPLOYMENTS), "a Deployment has no mesh identity, or two share one"


def test_jobs_have_no_identity() -> None:
    """The Jobs call no component: no certificate. rotate-key sets MESH_* only because the
    merchant service's settings require them."""
    for job in [*JOBS_APPLIED.values(), *JOBS_ON_DEMAND.values()]:
        assert _mesh_volume(job) is None, f"{job['metadata']['name']} mounts a mesh certificate"
    source = inspect.getsource(importlib.import_module("services.merchant.rotate_key"))
    assert "grpc" not in source and ".mesh" not in source, "rotate-key now calls a component: give it an identity"


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_identity_has_a_certificate(identity: str) -> None:
    found = [c for c in CERTIFICATES.values() if c["spec"]["secretName"] == f"mesh-{identity}"]
    assert len(found) == 1, f"{len(found)} Certificates write Secret mesh-{identity}"
    spec = found[0]["spec"]
    assert spec["commonName"] == identity
    names = [identity]
    if identity in SERVICES:
        names += [f"{identity}.{NAMESPACE}.svc", f"{identity}.{NAMESPACE}.svc.cluster.local"]
    assert spec["dnsNames"] == names
    assert {"server auth", "client auth"} <= set(spec["usages"])
    assert (spec["privateKey"]["algorithm"], spec["privateKey"]["size"]) == ("ECDSA", 256)
    assert not spec.get("isCA", False)
    assert 0 < _hours(spec["renewBefore"]) < _hours(spec["duration"])
    _check_ca_issuer(spec["issuerRef"])


def _hours(duration: str) -> float:
    match = re.fullmatch(r"(\d+)h", duration)
    assert match, f"duration {duration!r}: write it in hours"
    return float(match.group(1))


def _check_ca_issuer(ref: dict[str, str]) -> None:
    """The Issuer signs with the mesh CA, itself a Certificate of this folder."""
    assert ref.get("kind", "Issuer") == "Issuer" and ref["name"] in ISSUERS, f"no Issuer {ref['name']}"
    ca_secret = ISSUERS[ref["name"]]["spec"]["ca"]["secretName"]
    (ca,) = [c for c in CERTIFICATES.values() if c["spec"]["secretName"] == ca_secret]
    assert ca["spec"]["isCA"] is True
    bootstrap = ca["spec"]["issuerRef"]["name"]
    assert ISSUERS[bootstrap]["spec"] == {"selfSigned": {}}


def test_the_readme_shows_the_mesh_secrets_for_your_own_pki() -> None:
    mesh = {name: keys for name, keys in SECRETS.items() if name.startswith("mesh-")}
    assert mesh, "deploy/README.md does not show how to create the mesh-<identity> Secrets"
    for name, keys in mesh.items():
        assert keys == set(MESH_FILES.values()), f"README: Secret {name} has keys {sorted(keys)}"


def test_no_certificate_goes_into_the_image() -> None:
    for path in (".payloops/mesh/ca.key", ".payloops/mesh/order.key", "services/mesh/order.crt"):
        assert _dockerignored(path), f"{path} would be sent to the image build"


# -- network policies -------------------------------------------------------------------------

# (peer, protocol, port): peer is a pod of PODS, "anywhere", "kube-dns", "internet" (every
# public address) or "elsewhere" (an address block or another namespace's pods: what the
# operator may narrow the data store rules to); protocol "*" and port None mean all.
Grant = tuple[str, str, int | None]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels is supported here: {selector}"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _pod_labels(name: str) -> dict[str, str]:
    labels: dict[str, str] = PODS[name]["spec"]["template"]["metadata"]["labels"]
    return labels


def _peers(peer: dict[str, Any]) -> set[str]:
    if "ipBlock" in peer:
        cidr = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        if cidr.prefixlen:
            return {"elsewhere"}
        excepted = [ipaddress.ip_network(n) for n in peer["ipBlock"].get("except", [])]
        for internal in INTERNAL_NETWORKS:
            if internal.version == cidr.version:
                assert any(_within(internal, e) for e in excepted), f"ipBlock {cidr} does not except {internal}"
        return {"internet"}
    if "namespaceSelector" in peer:
        if peer == KUBE_DNS:
            return {"kube-dns"}
        assert peer["namespaceSelector"].get("matchLabels"), f"{peer}: every namespace, this one included"
        return {"elsewhere"}
    found = {name for name in PODS if _selects(peer["podSelector"], _pod_labels(name))}
    assert found, f"podSelector {peer['podSelector']} selects no pod"
    return found


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and (
        int(outer.network_address) <= int(inner.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


def _grants(name: str, direction: str) -> set[Grant]:
    """What the policies selecting pod `name` allow, direction "ingress" or "egress"."""
    grants: set[Grant] = set()
    for policy in POLICIES.values():
        spec = policy["spec"]
        types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]
        if direction.capitalize() not in types or not _selects(spec["podSelector"], _pod_labels(name)):
            continue
        for rule in spec.get(direction) or []:
            side = rule.get("from" if direction == "ingress" else "to")
            peers = {found for p in side for found in _peers(p)} if side else {"anywhere"}
            ports: list[tuple[str, int | None]] = [("*", None)]
            if rule.get("ports"):
                assert all("endPort" not in p for p in rule["ports"])
                ports = [(p.get("protocol", "TCP"), p.get("port")) for p in rule["ports"]]
            grants |= {(peer, protocol, port) for peer in peers for protocol, port in ports}
    return grants


def _pod_port(name: str) -> int:
    (port,) = _container(PODS[name])["ports"]
    return int(port["containerPort"])


def test_default_deny() -> None:
    deny = [
        p
        for p in POLICIES.values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no NetworkPolicy denies all ingress and egress by default"


def test_one_policy_per_pod() -> None:
    for policy in POLICIES.values():
        selected = [n for n in PODS if _selects(policy["spec"]["podSelector"], _pod_labels(n))]
        if policy["spec"]["podSelector"]:
            assert len(selected) == 1, f"NetworkPolicy {policy['metadata']['name']} selects {selected}"
            assert policy["metadata"]["name"] == selected[0]
    assert {n for n in PODS if POLICIES.get(n)} == set(PODS), "a Deployment or Job has no NetworkPolicy"


@pytest.mark.parametrize("name", PODS)
def test_policies_allow_exactly_the_call_graph(name: str) -> None:
    calls = {g for g in _grants(name, "egress") if g[0] in PODS}
    assert calls == {(callee, "TCP", _pod_port(callee)) for callee in CALLS.get(name, ())}, f"{name} may call"
    callers = {caller for caller, callees in CALLS.items() if name in callees}
    called = {g for g in _grants(name, "ingress") if g[0] in PODS}
    assert called == {(caller, "TCP", _pod_port(name)) for caller in callers}, f"{name} may be called by"


@pytest.mark.parametrize("name", PODS)
def test_policies_allow_nothing_else(name: str) -> None:
    """Outside the call graph: DNS, the data stores in the pod's settings, the internet for
    those that need it; from anywhere only to the gateway's public port."""
    env = _env(PODS[name])
    store_ports = {port for key, port in DATA_STORE_PORTS.items() if key in env}
    if "TEMPORAL_ADDRESS" in env:
        temporal = env["TEMPORAL_ADDRESS"].value
        assert temporal is not None
        store_ports.add(_split_addr(temporal)[1])
    egress = {g for g in _grants(name, "egress") if g[0] not in PODS}
    stores = {g for g in egress if g[0] in {"anywhere", "elsewhere"}}
    assert {(protocol, port) for _, protocol, port in stores} == {("TCP", port) for port in store_ports}

    expected: set[Grant] = {("kube-dns", "UDP", 53), ("kube-dns", "TCP", 53)}
    if name in INTERNET_URL_SETTINGS:
        api = env[INTERNET_URL_SETTINGS[name]].value
        assert api is not None and urlsplit(api).scheme == "https", f"{name}: {api}"
        expected.add(("internet", "TCP", urlsplit(api).port or 443))
    if name in INTERNET_ANY_PORT:
        expected.add(("internet", "TCP", None))
    assert egress - stores == expected
    public = {("anywhere", "TCP", PUBLIC[name])} if name in PUBLIC else set()
    assert {g for g in _grants(name, "ingress") if g[0] not in PODS} == public


def test_call_graph_is_the_peer_addresses() -> None:
    """CALLS is what the code calls: the *_SERVICE_ADDR each component is given (bar
    UNCALLED_PEERS) and the gateway's upstreams."""
    assert set(CALLS) == set(DEPLOYMENTS)
    render = _render_gateway()
    assert CALLS[GATEWAY] == {
        _service_target(host, port, GATEWAY)["metadata"]["name"] for host, port in render.UPSTREAMS.values()
    }
    for name, deployment in DEPLOYMENTS.items():
        if name == GATEWAY:
            continue
        given = set()
        for key, var in _env(deployment).items():
            if key.endswith("_SERVICE_ADDR"):
                assert var.value is not None
                host, port = _split_addr(var.value)
                given.add(_service_target(host, port, f"{name} {key}")["metadata"]["name"])
        assert CALLS[name] == given - {callee for caller, callee in UNCALLED_PEERS if caller == name}, name


def test_kustomization_applies_the_mesh() -> None:
    resources = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    assert {"mesh-certificates.yaml", "network-policies.yaml"} <= set(resources)
    assert CERTIFICATES.keys() and ISSUERS.keys() and POLICIES.keys()
