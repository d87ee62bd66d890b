from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Razorpay processor configuration (environment variables of the same names)."""

    merchant_service_addr: str
    razorpay_base_url: str = "https://api.razorpay.com"  # origin only: the SDK appends /v1/...
