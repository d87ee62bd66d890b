from pydantic import Field

from services.common.config import TemporalSettings


class Settings(TemporalSettings):
    """Order service and payment worker configuration (environment variables of the same names)."""

    max_amount: int = Field(default=99_999_999, ge=1, le=2**31 - 1)
    # A running request renews its key's lease; a key whose lease ran out (its process
    # died) is taken over by the next request with the same key and body.
    idempotency_lease_seconds: float = Field(default=15, gt=0)
    idempotency_retention_hours: float = Field(default=48, ge=24)
    # How long a request waits for the running request with the same Idempotency-Key to
    # answer before it is told 409 IDEMPOTENCY_KEY_IN_USE.
    idempotency_join_seconds: float = Field(default=10, ge=0, le=25)
    # How long POST /pay waits for a final or action-required state before answering PROCESSING.
    pay_wait_seconds: float = Field(default=10, gt=0, le=25)
    processor_call_timeout_seconds: float = Field(default=20, gt=0)
    payment_step_timeout_seconds: float = Field(default=30, gt=0)
    # How often a PENDING refund is checked at the processor when no webhook settles it.
    refund_poll_seconds: float = Field(default=60, gt=0)

    # The sweep (sweep.py): how often it runs; when a PENDING refund or capture/void, or a
    # PROCESSING order, counts as stuck; when a REQUIRES_ACTION order is asked about at its
    # processor, and when it expires (voided).
    sweep_seconds: float = Field(default=15, gt=0)
    stuck_after_seconds: float = Field(default=30, gt=0)
    requires_action_check_seconds: float = Field(default=60, gt=0)
    requires_action_expiry_seconds: float = Field(default=86_400, gt=0)
    # How long a charge given up on is watched for a capture that lands late anyway.
    late_capture_watch_seconds: float = Field(default=3 * 86_400, gt=0)

    # The outbox relay (relay.py): how often it looks for new events when idle, and how
    # long one PublishEvent call may take.
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_batch_size: int = Field(default=100, ge=1)
    outbox_publish_timeout_seconds: float = Field(default=5, gt=0)

    # Hosted checkout: the public origin its pages are served from (the gateway's), and
    # the shortest session a merchant may ask for (the contract's 1800 s; tests shorten it
    # to see the expiry timer fire).
    checkout_base_url: str = "http://127.0.0.1:8080"
    checkout_min_expires_seconds: int = Field(default=1800, ge=1, le=86_400)
    # How long a checkout session's expiry waits between tries while a payment made on its
    # page is still in flight.
    checkout_expiry_retry_seconds: float = Field(default=30, gt=0)

    router_service_addr: str
    processor_stripe_service_addr: str
    processor_razorpay_service_addr: str
    webhook_service_addr: str

    @property
    def processor_addrs(self) -> dict[str, str]:
        """Processor id -> its service address; a new processor adds one field here."""
        return {"stripe": self.processor_stripe_service_addr, "razorpay": self.processor_razorpay_service_addr}
