"""Proto <-> domain: stored RoutingRules into the merchant's program."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import timestamp_pb2
from payloops.merchant.v1 import merchant_internal_service_pb2, merchant_pb2
from payloops.router.v1 import router_service_pb2

from services.common.errors import FailedPrecondition
from services.router.convert import (
    ROUTING_RULE_INVALID,
    routing_from_proto,
    routing_input,
    rule_from_proto,
    rule_violations,
)
from services.router.domain import Conditions, Priority, Single, Split, VolumeSplit, route
from tests.router.helpers import BOTH, payment, table

pb = merchant_pb2


def stored(rule_id: str, action: pb.RoutingAction, priority: int = 0, **conditions: object) -> pb.RoutingRule:
    return pb.RoutingRule(
        id=rule_id,
        priority=priority,
        conditions=pb.RoutingConditions(**conditions),  # type: ignore[arg-type]
        action=action,
        create_time=timestamp_pb2.Timestamp(seconds=1_700_000_000),
    )


def single(processor: str) -> pb.RoutingAction:
    return pb.RoutingAction(single=pb.SingleProcessor(processor=processor))


def test_a_rule_converts_with_unset_amounts_left_unset() -> None:
    converted = rule_from_proto(stored("rr_1", single("stripe"), 3, currency="USD", amount_lt=0, metadata={"a": "b"}))
    assert converted.conditions == Conditions(currency="USD", amount_lt=0, metadata={"a": "b"})
    assert (converted.id, converted.priority, converted.algorithm) == ("rr_1", 3, Single("stripe"))
    assert converted.created_at == datetime.fromtimestamp(1_700_000_000, UTC)


def test_every_action_kind_converts() -> None:
    priority = pb.RoutingAction(priority=pb.PriorityList(processors=["razorpay", "stripe"]))
    split = pb.RoutingAction(volume_split=pb.VolumeSplit(splits=[pb.WeightedProcessor(processor="stripe", weight=3)]))
    assert rule_from_proto(stored("rr_1", priority)).algorithm == Priority(("razorpay", "stripe"))
    assert rule_from_proto(stored("rr_1", split)).algorithm == VolumeSplit((Split("stripe", 3),))


@pytest.mark.parametrize(
    "action",
    [
        pb.RoutingAction(),
        single("adyen"),
        pb.RoutingAction(volume_split=pb.VolumeSplit(splits=[pb.WeightedProcessor(processor="stripe")])),
    ],
)
def test_a_malformed_stored_rule_fails_closed(action: pb.RoutingAction) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        rule_from_proto(stored("rr_bad", action))
    assert (caught.value.reason, caught.value.metadata) == (ROUTING_RULE_INVALID, {"rule_id": "rr_bad"})
    assert "rr_bad" in caught.value.message


def test_rule_violations_for_the_merchant_service() -> None:
    bad = stored("", pb.RoutingAction(), amount_gte=5, amount_lt=5)
    assert [v.field for v in rule_violations(bad, prefix="routing_rule.")] == [
        "routing_rule.conditions.amount_lt",
        "routing_rule.action",
    ]


def test_a_routing_config_becomes_the_merchant_program_around_the_default() -> None:
    config = merchant_internal_service_pb2.GetRoutingConfigResponse(
        enabled_processors=["stripe", "razorpay"],
        routing_rules=[stored("rr_2", single("stripe"), 2), stored("rr_1", single("razorpay"), 1, currency="EUR")],
    )
    routing = routing_from_proto(config)
    assert routing.enabled == BOTH
    assert route(routing.program, payment(currency="EUR"), enabled=routing.enabled)[0].rule_id == "rr_1"
    assert route(routing.program, payment(currency="USD"), enabled=routing.enabled)[0].rule_id == "rr_2"
    no_rules = routing_from_proto(merchant_internal_service_pb2.GetRoutingConfigResponse(enabled_processors=["stripe"]))
    assert table(route(no_rules.program, payment(currency="GBP"), enabled=no_rules.enabled)) == [
        ("stripe", "default: other currency -> stripe", "")
    ]


def test_the_order_id_is_the_split_key() -> None:
    request = router_service_pb2.RouteRequest(
        merchant_id="mer_1",
        order_id="ord_9",
        amount=5,
        currency="INR",
        payment_method_type="upi",
        payment_method_token="t",
        metadata={"k": "v"},
    )
    assert routing_input(request) == payment(5, "INR", method="upi", token="t", metadata={"k": "v"}, key="ord_9")
