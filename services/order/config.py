from pydantic import Field

from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Order service configuration (environment variables of the same names)."""

    max_amount: int = Field(default=99_999_999, ge=1, le=2**31 - 1)
    idempotency_lease_seconds: float = Field(default=300, gt=0)
    idempotency_retention_hours: float = Field(default=48, ge=24)
