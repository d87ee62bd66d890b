from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Stripe processor configuration (environment variables of the same names)."""

    merchant_service_addr: str
    stripe_api_base: str = "https://api.stripe.com"
