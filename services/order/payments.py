"""The payment flow's data: workflow and activity inputs and results (plain
dataclasses, so Temporal serialises them as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The routing approach of a transaction at a candidate after the first: the earlier ones
# were unavailable (RoutingDecision.approach).
FAILOVER = "FAILOVER"


@dataclass(frozen=True)
class Candidate:
    processor: str
    reason: str
    rule_id: str = ""
    # How routing chose it (the router's Approach), and the success rate it used, if any.
    approach: str = ""
    score: float | None = None
    samples: int = 0
    # This processor's failure codes after which the next candidate is tried.
    retry_on: list[str] = field(default_factory=list)
    # Its failure codes after which the payment is tried again there with 3-D Secure.
    step_up_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PaymentInput:
    order_id: str
    merchant_id: str
    mode: str
    attempt: int
    amount: int
    currency: str
    capture: bool
    payment_method_type: str
    payment_method_token: str
    candidates: list[Candidate]
    return_url: str = ""
    customer_email: str = ""
    description: str = ""
    # Longest a processor step may run before Temporal retries it elsewhere (a crashed
    # worker's step is retried after this long).
    step_timeout_seconds: float = 30

    @property
    def workflow_id(self) -> str:
        return payment_workflow_id(self.order_id, self.attempt)


def payment_workflow_id(order_id: str, attempt: int) -> str:
    return f"pay-{order_id}-{attempt}"


@dataclass(frozen=True)
class ChargeStep:
    """One candidate processor of one payment attempt."""

    payment: PaymentInput
    index: int
    # A step-up: the candidate again, with 3-D Secure requested, after a decline asking for it.
    authenticate: bool = False

    @property
    def candidate(self) -> Candidate:
        return self.payment.candidates[self.index]

    @property
    def idempotency_key(self) -> str:
        """The same on every retry of this step, so the processor sees one payment."""
        key = f"{self.payment.order_id}-a{self.payment.attempt}-{self.candidate.processor}"
        return f"{key}-3ds" if self.authenticate else key


# Canonical attempt statuses (payloops.processor.v1.PaymentResult.Status names).
PENDING = "PENDING"
REQUIRES_ACTION = "REQUIRES_ACTION"
AUTHORIZED = "AUTHORIZED"
CAPTURED = "CAPTURED"
FAILED = "FAILED"
VOIDED = "VOIDED"
NO_PAYMENT = "STATUS_UNSPECIFIED"  # the processor has no such payment
SETTLED = frozenset({REQUIRES_ACTION, AUTHORIZED, CAPTURED, FAILED, VOIDED})


@dataclass(frozen=True)
class ChargeResult:
    status: str
    processor_reference: str = ""
    amount_captured: int = 0
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""


@dataclass(frozen=True)
class PaymentOutcome:
    order_status: str
    processor: str = ""
    failure_code: str = ""
    attempts: list[str] = field(default_factory=list)


# Error types raised by activities (ApplicationError.type) and acted on by the workflow.
PROCESSOR_UNAVAILABLE = "PROCESSOR_UNAVAILABLE"
PROCESSOR_OUTCOME_UNKNOWN = "PROCESSOR_OUTCOME_UNKNOWN"
INVALID_REQUEST = "PROCESSOR_INVALID_REQUEST"
