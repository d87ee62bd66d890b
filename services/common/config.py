"""Configuration from the environment: one pydantic-settings class per service,
all sharing these base fields."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.mesh import MeshFiles

Environment = Literal["dev", "test", "prod"]


class ProcessSettings(BaseSettings):
    """Fields every server process has: where it listens, how it logs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    payloops_env: Environment = "prod"
    listen_host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    log_level: str = "INFO"
    # This component's mesh identity: the CA every peer's certificate must chain to, and
    # its own certificate and key (services.common.mesh).
    mesh_ca_file: Path
    mesh_cert_file: Path
    mesh_key_file: Path

    @property
    def listen_address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def mesh(self) -> MeshFiles:
        return MeshFiles(ca=self.mesh_ca_file, cert=self.mesh_cert_file, key=self.mesh_key_file)


class ServiceSettings(ProcessSettings):
    """Fields every gRPC service has. Peer addresses are declared by each service as
    required fields, so a missing one stops the service at start."""

    database_url: str
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    # A ping before every checkout costs three round trips per transaction. Without it a
    # connection the server dropped fails one statement, and the pool then replaces every
    # connection opened before it. Turn it on behind a proxy that drops idle connections.
    db_pre_ping: bool = False
    db_recycle_seconds: int = Field(default=1800, ge=-1)
    redis_url: str
    redis_key_prefix: str = "payloops:"
    grace_period_seconds: float = 5.0
    # Webhook endpoints on loopback addresses (services.common.ssrf): local development
    # and tests only; every other internal address is refused whatever this says.
    webhook_allow_loopback: bool = False


class TemporalSettings(ServiceSettings):
    """Services that start or run workflows."""

    temporal_address: str
    temporal_namespace: str = "default"
    temporal_task_queue: str = "payloops"
    # Temporal over TLS (a cluster with TLS; the dev server has none): the CA that signed
    # the frontend's certificate and, for mutual TLS, this component's client certificate.
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str = ""


class DevDefaultSecret(ValueError):
    """A secret still has its development default outside dev/test."""


def refuse_dev_secrets(settings: ServiceSettings, **secrets: str) -> None:
    """Raise when a secret has its built-in development default in production."""
    if settings.payloops_env == "prod":
        weak = [name for name, value in secrets.items() if value.startswith("dev-")]
        if weak:
            raise DevDefaultSecret(f"set real values for {', '.join(weak)} (development defaults refused)")
