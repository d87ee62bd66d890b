"""The merchant account: its sessions, API keys, processor configurations and retry settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .base import Model, json_field, model_of, timestamp


@dataclass(frozen=True)
class Merchant(Model):
    id: str = ""
    name: str = ""
    email: str = ""
    webhook_url: str = ""
    # As the API returns it: {"maxAttempts": ..., "rules": [{"processor", "failureCode", "decision"}]}.
    retry_settings: dict[str, Any] = json_field(default={})
    created_at: datetime | None = json_field(parse=timestamp)
    updated_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class DashboardSession(Model):
    """The answer of register and login: a dashboard token (and the merchant, on register)."""

    token: str = json_field(default="", secret=True)
    expires_at: datetime | None = json_field(parse=timestamp)
    merchant: Merchant | None = json_field(parse=model_of(Merchant))


@dataclass(frozen=True)
class ApiKey(Model):
    id: str = ""
    prefix: str = ""
    mode: str = ""
    name: str = ""
    created_at: datetime | None = json_field(parse=timestamp)
    last_used_at: datetime | None = json_field(parse=timestamp)
    revoked_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class CreatedApiKey(Model):
    """A new API key with its secret, shown this one time only."""

    api_key: ApiKey | None = json_field(parse=model_of(ApiKey))
    secret: str = json_field(default="", secret=True)


@dataclass(frozen=True)
class ProcessorConfig(Model):
    processor: str = ""
    enabled: bool = False
    masked_credentials: dict[str, str] = json_field(default={})
    updated_at: datetime | None = json_field(parse=timestamp)
