"""Routing rules, simulated routing decisions and the success rates routing sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .base import Model, json_field, list_of, timestamp


@dataclass(frozen=True)
class RoutingRule(Model):
    id: str = ""
    priority: int = 0
    # As the API returns them, e.g. {"currency": "USD", "amountGte": 1000}.
    conditions: dict[str, Any] = json_field(default={})
    # One of {"single": ...}, {"priority": ...}, {"volumeSplit": ...}, {"successRate": ...}.
    action: dict[str, Any] = json_field(default={})
    created_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class RoutingCandidate(Model):
    processor: str = ""
    reason: str = ""
    rule_id: str = ""
    score: float | None = None
    samples: int = 0
    approach: str = ""


@dataclass(frozen=True)
class RoutingSimulation(Model):
    candidates: list[RoutingCandidate] = json_field(default=[], parse=list_of(RoutingCandidate))
    approach: str = ""


@dataclass(frozen=True)
class RoutingStat(Model):
    processor: str = ""
    payment_method_type: str = ""
    currency: str = ""
    success_rate: float = 0.0
    sample_count: int = 0
    eliminated: bool = False
    eliminated_until: datetime | None = json_field(parse=timestamp)
