from pydantic import Field

from services.common.config import TemporalSettings

# Waits after each failed attempt (seconds): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
# 24 h, 20 h -- ten attempts over about three days.
DEFAULT_RETRY_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0, 86400.0, 72000.0]


class Settings(TemporalSettings):
    """Webhook service and delivery worker configuration (environment variables of the same names)."""

    merchant_service_addr: str
    order_service_addr: str
    processor_stripe_service_addr: str
    processor_razorpay_service_addr: str
    webhook_call_timeout_seconds: float = Field(default=10, gt=0)
    # How long a recorded processor event may stay unapplied before the sweep retries it.
    webhook_apply_retry_seconds: float = Field(default=5, gt=0)

    @property
    def processor_addrs(self) -> dict[str, str]:
        """Processor id -> its service address; a new processor adds one field here."""
        return {"stripe": self.processor_stripe_service_addr, "razorpay": self.processor_razorpay_service_addr}

    # The delivery worker's own queue; empty: "<TEMPORAL_TASK_QUEUE>-webhooks".
    webhook_task_queue: str = ""
    # JSON list, e.g. WEBHOOK_RETRY_SCHEDULE='[1, 2, 4]'.
    webhook_retry_schedule: list[float] = Field(default=DEFAULT_RETRY_SCHEDULE, max_length=50)
    webhook_retry_jitter: float = Field(default=0.2, ge=0, le=0.5)
    webhook_attempt_timeout_seconds: float = Field(default=10, gt=0, le=60)
    merchant_call_timeout_seconds: float = Field(default=5, gt=0)

    @property
    def delivery_task_queue(self) -> str:
        return self.webhook_task_queue or f"{self.temporal_task_queue}-webhooks"
