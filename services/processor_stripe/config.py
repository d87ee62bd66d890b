from urllib.parse import urlsplit

from services.processor_common.config import ProcessorSettings

STRIPE_HOST = "api.stripe.com"


class Settings(ProcessorSettings):
    """Stripe processor configuration (environment variables of the same names)."""

    stripe_api_base: str = "https://api.stripe.com"
    # localstripe speaks a subset of Stripe's API (see transformers.Dialect). None: decided
    # by STRIPE_API_BASE (anything but api.stripe.com is taken for localstripe).
    stripe_sandbox: bool | None = None

    @property
    def sandbox(self) -> bool:
        if self.stripe_sandbox is not None:
            return self.stripe_sandbox
        return urlsplit(self.stripe_api_base).hostname != STRIPE_HOST
