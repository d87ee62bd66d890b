from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Webhook service configuration (environment variables of the same names)."""

    merchant_service_addr: str
    order_service_addr: str
    processor_stripe_service_addr: str
    processor_razorpay_service_addr: str
