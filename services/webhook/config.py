from pydantic import Field

from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Webhook service configuration (environment variables of the same names)."""

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
