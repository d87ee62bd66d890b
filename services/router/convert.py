"""Proto <-> domain for routing: a merchant's stored RoutingRules into the program, a
RouteRequest into the evaluation input, candidates back out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_pb2
from payloops.router.v1 import router_pb2, router_service_pb2

from services.common.errors import FailedPrecondition, FieldViolation
from services.router.domain import (
    MAX_ATTEMPTS_LIMIT,
    Action,
    Algorithm,
    Candidate,
    Conditions,
    Decision,
    Priority,
    RetrySettings,
    RoutingInput,
    Rule,
    Single,
    Split,
    SuccessRate,
    VolumeSplit,
    merchant_program,
    processor_violations,
    validate_rule,
)

ROUTING_RULE_INVALID = "ROUTING_RULE_INVALID"


@dataclass(frozen=True)
class MerchantRouting:
    program: Algorithm
    enabled: frozenset[str]
    retry: RetrySettings = RetrySettings()


DECISIONS = {
    merchant_pb2.RetryRule.RETRY_NEXT_PROCESSOR: Decision.RETRY_NEXT_PROCESSOR,
    merchant_pb2.RetryRule.DO_NOT_RETRY: Decision.DO_NOT_RETRY,
    merchant_pb2.RetryRule.REQUIRES_ACTION: Decision.REQUIRES_ACTION,
}


def retry_settings_from_proto(settings: merchant_pb2.RetrySettings) -> RetrySettings:
    return RetrySettings(
        max_attempts=settings.max_attempts if settings.HasField("max_attempts") else None,
        overrides={
            (rule.processor, rule.failure_code): DECISIONS[rule.decision]
            for rule in settings.rules
            if rule.decision in DECISIONS
        },
    )


def retry_settings_violations(settings: merchant_pb2.RetrySettings, *, prefix: str = "") -> list[FieldViolation]:
    """What the merchant service checks before storing retry settings."""
    found: list[FieldViolation] = []
    if settings.HasField("max_attempts") and not 1 <= settings.max_attempts <= MAX_ATTEMPTS_LIMIT:
        found.append(FieldViolation(f"{prefix}max_attempts", f"must be between 1 and {MAX_ATTEMPTS_LIMIT}"))
    seen: set[tuple[str, str]] = set()
    for n, rule in enumerate(settings.rules):
        at = f"{prefix}rules[{n}]."
        found += processor_violations(rule.processor, f"{at}processor")
        if not rule.failure_code:
            found.append(FieldViolation(f"{at}failure_code", "is required"))
        if rule.decision not in DECISIONS:
            found.append(
                FieldViolation(f"{at}decision", "must be RETRY_NEXT_PROCESSOR, DO_NOT_RETRY or REQUIRES_ACTION")
            )
        if (rule.processor, rule.failure_code) in seen:
            found.append(FieldViolation(f"{at}failure_code", "this processor's code has a rule already"))
        seen.add((rule.processor, rule.failure_code))
    return found


def conditions_from_proto(conditions: merchant_pb2.RoutingConditions) -> Conditions:
    return Conditions(
        currency=conditions.currency,
        amount_gte=conditions.amount_gte if conditions.HasField("amount_gte") else None,
        amount_lt=conditions.amount_lt if conditions.HasField("amount_lt") else None,
        payment_method_type=conditions.payment_method_type,
        metadata=dict(conditions.metadata),
    )


def action_from_proto(action: merchant_pb2.RoutingAction) -> Action | None:
    """None when no kind is set (validate_rule reports it)."""
    kind = action.WhichOneof("kind")
    if kind == "single":
        return Single(action.single.processor)
    if kind == "priority":
        return Priority(tuple(action.priority.processors))
    if kind == "volume_split":
        return VolumeSplit(tuple(Split(s.processor, s.weight) for s in action.volume_split.splits))
    if kind == "success_rate":
        chosen, defaults = action.success_rate, SuccessRate(())
        return SuccessRate(
            tuple(chosen.processors),
            exploration_percent=(
                chosen.exploration_percent if chosen.HasField("exploration_percent") else defaults.exploration_percent
            ),
            min_samples=chosen.min_samples if chosen.HasField("min_samples") else defaults.min_samples,
            window_size=chosen.window_size if chosen.HasField("window_size") else defaults.window_size,
        )
    return None


def rule_violations(rule: merchant_pb2.RoutingRule, *, prefix: str = "") -> list[FieldViolation]:
    """What the merchant service checks on CreateRoutingRule (prefix "routing_rule.")."""
    return validate_rule(conditions_from_proto(rule.conditions), action_from_proto(rule.action), prefix=prefix)


def rule_from_proto(rule: merchant_pb2.RoutingRule) -> Rule:
    """A stored rule as a domain rule. A malformed one fails the route rather than being
    skipped: skipping could send a payment where the merchant's rule forbids it."""
    conditions, action = conditions_from_proto(rule.conditions), action_from_proto(rule.action)
    violations = validate_rule(conditions, action)
    if violations or action is None:
        problems = "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise FailedPrecondition(
            message=f"routing rule {rule.id} is invalid ({problems}); fix or delete it",
            reason=ROUTING_RULE_INVALID,
            metadata={"rule_id": rule.id},
        )
    return Rule(
        id=rule.id,
        conditions=conditions,
        algorithm=action,
        priority=rule.priority,
        created_at=rule.create_time.ToDatetime(tzinfo=UTC) if rule.HasField("create_time") else None,
    )


def routing_from_proto(config: merchant_internal_service_pb2.GetRoutingConfigResponse) -> MerchantRouting:
    return MerchantRouting(
        program=merchant_program(rule_from_proto(rule) for rule in config.routing_rules),
        enabled=frozenset(config.enabled_processors),
        retry=retry_settings_from_proto(config.retry_settings),
    )


def routing_input(request: router_service_pb2.RouteRequest) -> RoutingInput:
    return RoutingInput(
        amount=request.amount,
        currency=request.currency,
        payment_method_type=request.payment_method_type,
        payment_method_token=request.payment_method_token,
        metadata=dict(request.metadata),
        split_key=request.order_id,
    )


def candidate_to_proto(candidate: Candidate) -> router_pb2.Candidate:
    return router_pb2.Candidate(
        processor=candidate.processor,
        reason=candidate.reason,
        rule_id=candidate.rule_id,
        approach=candidate.approach.value,
        score=candidate.score,
        samples=candidate.samples,
        retry_on=candidate.retry_on,
        step_up_on=candidate.step_up_on,
    )
