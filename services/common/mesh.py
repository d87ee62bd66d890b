"""Mutual TLS between PayLoops components.

Every component holds one certificate from the mesh's CA; its identity is the
certificate's common name (also its DNS subject alternative name), one of `IDENTITIES`.
Servers demand a client certificate from that CA; clients check that the server's
certificate names the component they meant to call, whatever address it listens on.
The files come from configuration (MESH_CA_FILE, MESH_CERT_FILE, MESH_KEY_FILE): the
launcher issues development ones, production mounts them from secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

IDENTITIES: tuple[str, ...] = (
    "gateway",
    "merchant",
    "order",
    "order-worker",
    "router",
    "processor-stripe",
    "processor-razorpay",
    "webhook",
    "webhook-worker",
    "web",
    "operator",
)


def identity_of(component: str) -> str:
    """A component or service name (`processor_stripe`, `order_worker`) as its identity."""
    identity = component.replace("_", "-")
    if identity not in IDENTITIES:
        raise ValueError(f"{component!r} has no mesh identity")
    return identity


@dataclass(frozen=True)
class MeshFiles:
    ca: Path
    cert: Path
    key: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MeshFiles:
        """The files MESH_CA_FILE, MESH_CERT_FILE and MESH_KEY_FILE name (KeyError if unset)."""
        return cls(
            ca=Path(environ["MESH_CA_FILE"]), cert=Path(environ["MESH_CERT_FILE"]), key=Path(environ["MESH_KEY_FILE"])
        )

    def _read(self) -> tuple[bytes, bytes, bytes]:
        try:
            return self.ca.read_bytes(), self.cert.read_bytes(), self.key.read_bytes()
        except OSError as error:
            raise ValueError(f"cannot read the mesh certificate files: {error}") from error

    def server_credentials(self) -> grpc.ServerCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)

    def channel(self, target: str, peer: str) -> grpc.aio.Channel:
        """An asyncio channel to component `peer` (its identity) at `target`."""
        return grpc.aio.secure_channel(target, self.channel_credentials(), options=self._options(peer))

    def processor_channels(self, addresses: Mapping[str, str]) -> dict[str, grpc.aio.Channel]:
        """Processor id -> a channel to that processor's service."""
        return {name: self.channel(target, f"processor_{name}") for name, target in addresses.items()}

    def blocking_channel(self, target: str, peer: str) -> grpc.Channel:
        """The same, for synchronous callers (CLI, launcher, tests)."""
        return grpc.secure_channel(target, self.channel_credentials(), options=self._options(peer))

    @staticmethod
    def _options(peer: str) -> list[tuple[str, Any]]:
        # No client keepalive pings: a server answers pings on an idle connection more
        # often than every 5 minutes with GOAWAY, failing the next call.
        return [("grpc.ssl_target_name_override", identity_of(peer))]


def peer_identity(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    """The calling component, from its verified client certificate; None without one."""
    names = list(context.auth_context().get("x509_common_name") or [])
    if len(names) != 1:
        return None
    name = names[0]
    return name.decode() if isinstance(name, bytes) else str(name)
