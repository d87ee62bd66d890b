"""Capture and void of an authorization (or of a payment waiting for the customer's 3-D
Secure step): the data of their workflow, and which processor answers end each one.

Both run like payments: the order's row lock is held only to record the step as a PENDING
transaction; the processor is called by a workflow, outside any lock; an unknown outcome
is settled by asking the processor; the processor's webhook can settle them too."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.order.payments import CAPTURED, FAILED, VOIDED


class StepKind(StrEnum):
    CAPTURE = "CAPTURE"
    VOID = "VOID"


@dataclass(frozen=True)
class AuthorizationStep:
    kind: str  # StepKind
    order_id: str
    merchant_id: str
    mode: str
    attempt: int
    processor: str
    processor_reference: str
    amount: int
    currency: str
    # The step's transaction (its idempotency key), also the processor call's key.
    transaction_key: str
    step_timeout_seconds: float = 30

    @property
    def workflow_id(self) -> str:
        return authorization_workflow_id(self.transaction_key)


def authorization_workflow_id(transaction_key: str) -> str:
    return f"step-{transaction_key}"


# The processor statuses that end each step (any other: still in flight, ask again).
FINAL = {
    StepKind.CAPTURE.value: frozenset({CAPTURED, FAILED, VOIDED}),
    StepKind.VOID.value: frozenset({VOIDED, CAPTURED, FAILED}),
}
# What the processor reports when the step did what it was asked.
DONE = {StepKind.CAPTURE.value: CAPTURED, StepKind.VOID.value: VOIDED}
