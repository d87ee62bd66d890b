"""Routing as a pure library: no gRPC, no I/O, no randomness but the injected splitter.

`route(program, payment, enabled=...)` evaluates a program (evaluate.py documents the
failover policy); `merchant_program(rules)` wraps a merchant's rules around the
contract's DEFAULT_PROGRAM; `validate_rule` checks a rule before it is stored or used."""

from services.router.domain.defaults import DEFAULT_PROCESSOR, DEFAULT_PROGRAM, DEFAULT_ROUTES, merchant_program
from services.router.domain.evaluate import FALLBACK, NO_PROCESSOR_AVAILABLE, no_processor_available, route
from services.router.domain.processors import PROCESSOR_IDS, PROCESSORS, ProcessorInfo, native_processor
from services.router.domain.program import (
    Action,
    Algorithm,
    Candidate,
    Conditions,
    Priority,
    Program,
    RoutingInput,
    Rule,
    Rules,
    Single,
    Split,
    VolumeSplit,
)
from services.router.domain.split import Splitter, hash_point
from services.router.domain.validation import validate_rule

__all__ = [
    "DEFAULT_PROCESSOR",
    "DEFAULT_PROGRAM",
    "DEFAULT_ROUTES",
    "FALLBACK",
    "NO_PROCESSOR_AVAILABLE",
    "PROCESSORS",
    "PROCESSOR_IDS",
    "Action",
    "Algorithm",
    "Candidate",
    "Conditions",
    "Priority",
    "ProcessorInfo",
    "Program",
    "RoutingInput",
    "Rule",
    "Rules",
    "Single",
    "Split",
    "Splitter",
    "VolumeSplit",
    "hash_point",
    "merchant_program",
    "native_processor",
    "no_processor_available",
    "route",
    "validate_rule",
]
