"""Routing as a pure library: no gRPC, no I/O, no randomness but the injected splitter.

`route(program, payment, enabled=...)` evaluates a program (evaluate.py documents the
failover policy); `merchant_program(rules)` wraps a merchant's rules around the
contract's DEFAULT_PROGRAM; `validate_rule` checks a rule before it is stored or used."""

from services.router.domain.defaults import DEFAULT_PROCESSOR, DEFAULT_PROGRAM, DEFAULT_ROUTES, merchant_program
from services.router.domain.evaluate import (
    FALLBACK,
    NO_PROCESSOR_AVAILABLE,
    NO_SCORES,
    deciding_action,
    no_processor_available,
    route,
    success_rate_actions,
)
from services.router.domain.processors import PROCESSOR_IDS, PROCESSORS, ProcessorInfo, native_processor
from services.router.domain.program import (
    Action,
    Algorithm,
    Approach,
    Candidate,
    Conditions,
    Priority,
    Program,
    RoutingInput,
    Rule,
    Rules,
    Single,
    Split,
    SuccessRate,
    VolumeSplit,
)
from services.router.domain.retry import MAX_ATTEMPTS_LIMIT, Decision, RetrySettings, apply_retry_settings
from services.router.domain.split import Splitter, hash_point
from services.router.domain.success_rate import (
    LEVELS,
    MAX_WINDOW,
    Health,
    Level,
    Scores,
    State,
    Window,
    health_state,
    window_outcome,
)
from services.router.domain.validation import processor_violations, validate_rule

__all__ = [
    "DEFAULT_PROCESSOR",
    "DEFAULT_PROGRAM",
    "DEFAULT_ROUTES",
    "FALLBACK",
    "NO_PROCESSOR_AVAILABLE",
    "PROCESSORS",
    "PROCESSOR_IDS",
    "LEVELS",
    "MAX_ATTEMPTS_LIMIT",
    "MAX_WINDOW",
    "NO_SCORES",
    "Action",
    "Algorithm",
    "Approach",
    "Candidate",
    "Conditions",
    "Decision",
    "Priority",
    "RetrySettings",
    "ProcessorInfo",
    "Program",
    "RoutingInput",
    "Rule",
    "Rules",
    "Single",
    "Health",
    "Level",
    "Scores",
    "Split",
    "Splitter",
    "State",
    "SuccessRate",
    "VolumeSplit",
    "Window",
    "deciding_action",
    "apply_retry_settings",
    "hash_point",
    "health_state",
    "merchant_program",
    "native_processor",
    "processor_violations",
    "no_processor_available",
    "route",
    "success_rate_actions",
    "validate_rule",
    "window_outcome",
]
