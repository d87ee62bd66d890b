from pydantic import Field

from services.processor_common.config import ProcessorSettings


class Settings(ProcessorSettings):
    """Razorpay processor configuration (environment variables of the same names)."""

    razorpay_base_url: str = "https://api.razorpay.com"  # origin only: the SDK appends /v1/...
    # The SDK is synchronous: this many calls can be in flight at once.
    razorpay_max_concurrency: int = Field(default=16, ge=1, le=256)
