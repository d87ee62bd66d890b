"""The processors PayLoops can route to. Adding a processor is one entry in PROCESSORS."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessorInfo:
    id: str
    # Payment-method tokens with these prefixes can only be charged at this processor...
    native_token_prefixes: tuple[str, ...] = ()
    # ...unless they also have one of these: PayLoops test tokens every processor accepts.
    portable_token_prefixes: tuple[str, ...] = ()
    # Currencies for which the default program may fail over to this processor; None: all.
    # Explicit merchant rules are not limited by it: the merchant knows its own accounts.
    fallback_currencies: frozenset[str] | None = None


PROCESSORS: tuple[ProcessorInfo, ...] = (
    ProcessorInfo("stripe", native_token_prefixes=("pm_",), portable_token_prefixes=("pm_card_",)),
    # Razorpay takes other currencies only on accounts with international payments switched
    # on, which we cannot see; failing a USD payment over to it would mostly fail again.
    ProcessorInfo("razorpay", native_token_prefixes=("token_",), fallback_currencies=frozenset({"INR"})),
)

PROCESSOR_IDS: tuple[str, ...] = tuple(info.id for info in PROCESSORS)
_BY_ID = {info.id: info for info in PROCESSORS}


def is_known(processor: str) -> bool:
    return processor in _BY_ID


def takes_fallback(processor: str, currency: str) -> bool:
    """Whether the default program may fail over to `processor` for `currency`."""
    currencies = _BY_ID[processor].fallback_currencies
    return currencies is None or currency in currencies


def native_processor(token: str) -> str | None:
    """The only processor that can charge `token`, or None when any processor can."""
    for info in PROCESSORS:
        if token.startswith(info.native_token_prefixes) and not token.startswith(info.portable_token_prefixes):
            return info.id
    return None
