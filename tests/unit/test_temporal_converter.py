"""The platform's Temporal data converter decodes exactly what the SDK's default does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.converter import DataConverter

from services.common.temporal_converter import DATA_CONVERTER
from services.order.payments import Candidate, ChargeResult, ChargeStep, PaymentInput, PaymentOutcome
from services.order.workflows import StepOutcome

PAYMENT = PaymentInput(
    order_id="ord_1",
    merchant_id="mer_1",
    mode="test",
    attempt=2,
    amount=1999,
    currency="INR",
    capture=True,
    payment_method_type="card",
    payment_method_token="tok_visa",
    candidates=[
        Candidate(processor="razorpay", reason="rule", score=0.93, samples=40, retry_on=["PROCESSOR_DOWN"]),
        Candidate(processor="stripe", reason="failover", approach="FAILOVER", score=None),
    ],
    return_url="https://shop.example/back",
)

VALUES: list[Any] = [
    PAYMENT,
    ChargeStep(payment=PAYMENT, index=1, authenticate=True),
    ChargeResult(status="CAPTURED", processor_reference="pay_1", amount_captured=1999),
    PaymentOutcome(order_status="SUCCEEDED", processor="razorpay", attempts=["razorpay:CAPTURED"]),
    StepOutcome(order_status="FAILED", refusal="card_declined"),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
async def test_a_dataclass_decodes_as_the_sdk_decodes_it(value: Any) -> None:
    payloads = await DATA_CONVERTER.encode([value])
    assert payloads == await DataConverter.default.encode([value])
    ours = await DATA_CONVERTER.decode(payloads, [type(value)])
    assert ours == await DataConverter.default.decode(payloads, [type(value)]) == [value]


async def test_unknown_keys_are_ignored_and_a_missing_required_field_fails() -> None:
    (payload,) = await DATA_CONVERTER.encode([{"status": "FAILED", "added_by_a_newer_version": 1}])
    assert await DATA_CONVERTER.decode([payload], [ChargeResult]) == [ChargeResult(status="FAILED")]
    (without_status,) = await DATA_CONVERTER.encode([{"processor_reference": "pay_1"}])
    with pytest.raises(TypeError):
        await DATA_CONVERTER.decode([without_status], [ChargeResult])


@dataclass
class WithDerivedField:
    amount: int
    label: str = field(init=False, default="")


async def test_a_field_not_set_by_init_is_left_to_the_sdk() -> None:
    (payload,) = await DATA_CONVERTER.encode([{"amount": 5, "label": "five"}])
    (decoded,) = await DATA_CONVERTER.decode([payload], [WithDerivedField])
    assert (decoded.amount, decoded.label) == (5, "five")
