"""The processors PayLoops can route to. Adding a processor is one entry in PROCESSORS."""

from __future__ import annotations

from dataclasses import dataclass

# Which processor a payment-method token belongs to is the processors' own rule (they
# translate the test tokens); routing uses the same function so the two never disagree.
from services.processor_common.test_tokens import native_processor

__all__ = ["PROCESSORS", "PROCESSOR_IDS", "ProcessorInfo", "is_known", "native_processor", "takes_fallback"]


@dataclass(frozen=True)
class ProcessorInfo:
    id: str
    # Currencies for which the default program may fail over to this processor; None: all.
    # Explicit merchant rules are not limited by it: the merchant knows its own accounts.
    fallback_currencies: frozenset[str] | None = None


PROCESSORS: tuple[ProcessorInfo, ...] = (
    ProcessorInfo("stripe"),
    # Razorpay takes other currencies only on accounts with international payments switched
    # on, which we cannot see; failing a USD payment over to it would mostly fail again.
    ProcessorInfo("razorpay", fallback_currencies=frozenset({"INR"})),
)

PROCESSOR_IDS: tuple[str, ...] = tuple(info.id for info in PROCESSORS)
_BY_ID = {info.id: info for info in PROCESSORS}


def is_known(processor: str) -> bool:
    return processor in _BY_ID


def takes_fallback(processor: str, currency: str) -> bool:
    """Whether the default program may fail over to `processor` for `currency`."""
    currencies = _BY_ID[processor].fallback_currencies
    return currencies is None or currency in currencies
