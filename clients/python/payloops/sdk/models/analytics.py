"""The analytics summary of the dashboard API: figures about the merchant's orders created
in a time range, in one mode. Money is in minor units per currency, never added across
currencies; the API sends sums as decimal strings (int64), read here as Python ints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Model, json_field, list_of, model_of


def int64(value: Any) -> int:
    """A sum of money as the API sends it: a decimal string ("4200"), or a number."""
    return int(value or 0)


@dataclass(frozen=True)
class Volume(Model):
    """A sum of money in one currency, in its minor unit."""

    currency: str = ""
    amount: int = json_field(default=0, parse=int64)


def volumes_by_currency(volumes: list[Volume]) -> dict[str, int]:
    """{"USD": 3000, "EUR": 500} from a list of volumes."""
    return {volume.currency: volume.amount for volume in volumes}


@dataclass(frozen=True)
class RefundTotals(Model):
    """The non-failed (PENDING or SUCCEEDED) refunds of the orders."""

    count: int = 0
    volume: list[Volume] = json_field(default=[], parse=list_of(Volume))


@dataclass(frozen=True)
class Totals(Model):
    """Every order of the range."""

    # Orders created.
    count: int = 0
    # Their amounts, per currency.
    volume: list[Volume] = json_field(default=[], parse=list_of(Volume))
    # Orders paid: status SUCCEEDED, PARTIALLY_REFUNDED or REFUNDED.
    succeeded: int = 0
    # Money captured, per currency.
    captured_volume: list[Volume] = json_field(default=[], parse=list_of(Volume))
    refunds: RefundTotals = json_field(factory=RefundTotals, parse=model_of(RefundTotals))


@dataclass(frozen=True)
class StatusTotals(Model):
    """The orders now in one status."""

    status: str = ""
    count: int = 0
    volume: list[Volume] = json_field(default=[], parse=list_of(Volume))


@dataclass(frozen=True)
class ProcessorTotals(Model):
    """The payment attempts (charges, authorizations) that reached an outcome at one processor."""

    processor: str = ""
    attempted: int = 0
    succeeded: int = 0
    # succeeded / attempted, from 0 to 1.
    success_rate: float = 0.0
    # The amounts of the succeeded attempts, per currency.
    volume: list[Volume] = json_field(default=[], parse=list_of(Volume))


@dataclass(frozen=True)
class CurrencyTotals(Model):
    """The orders in one currency; sums in its minor unit."""

    currency: str = ""
    count: int = 0
    volume: int = json_field(default=0, parse=int64)
    succeeded: int = 0
    captured_volume: int = json_field(default=0, parse=int64)
    refund_count: int = 0
    refunded_volume: int = json_field(default=0, parse=int64)


@dataclass(frozen=True)
class FailureCodeCount(Model):
    """How many payment attempts failed with one code ("unknown" when the processor gave none)."""

    code: str = ""
    count: int = 0


@dataclass(frozen=True)
class DailyTotals(Model):
    """The orders created on one UTC day."""

    # YYYY-MM-DD (UTC).
    date: str = ""
    count: int = 0
    volume: list[Volume] = json_field(default=[], parse=list_of(Volume))
    succeeded: int = 0
    captured_volume: list[Volume] = json_field(default=[], parse=list_of(Volume))


@dataclass(frozen=True)
class AnalyticsSummary(Model):
    """Figures about the orders created in [from, to) and what happened to them since
    (their payment attempts and refunds, whenever they happened)."""

    totals: Totals = json_field(factory=Totals, parse=model_of(Totals))
    # One entry per order status present.
    by_status: list[StatusTotals] = json_field(default=[], parse=list_of(StatusTotals))
    # One entry per processor with attempts, by name.
    by_processor: list[ProcessorTotals] = json_field(default=[], parse=list_of(ProcessorTotals))
    # One entry per currency present, by code.
    by_currency: list[CurrencyTotals] = json_field(default=[], parse=list_of(CurrencyTotals))
    # The ten most frequent failure codes, most frequent first.
    failure_codes: list[FailureCodeCount] = json_field(default=[], parse=list_of(FailureCodeCount))
    # One entry per UTC day the range touches, oldest first (days without orders count 0).
    daily: list[DailyTotals] = json_field(default=[], parse=list_of(DailyTotals))
