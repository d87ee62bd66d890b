from pydantic import Field

from services.common.config import ServiceSettings
from services.router.domain import Health


class Settings(ServiceSettings):
    """Router service configuration (environment variables of the same names)."""

    merchant_service_addr: str
    # How long a merchant's rules and enabled processors are reused; 0 disables the cache.
    routing_cache_seconds: float = Field(default=5.0, ge=0)
    # Upper bound of a GetRoutingConfig call; the caller's deadline shortens it.
    merchant_call_timeout_seconds: float = Field(default=2.0, gt=0)
    # The router's only state is the success-rate windows, in Redis; no database. Without
    # REDIS_URL, success-rate rules route in their listed order.
    database_url: str = ""
    redis_url: str = ""
    # A Redis call slower than this routes statically rather than hold up the payment.
    redis_timeout_seconds: float = Field(default=0.25, gt=0)
    # A window without new outcomes for this long is forgotten.
    score_ttl_seconds: int = Field(default=6 * 3600, gt=0)
    # How long a read of the scores is reused by this process for the same merchant,
    # payment method type, currency and rule; 0 reads Redis for every decision.
    score_cache_seconds: float = Field(default=0.25, ge=0, le=10)

    # Elimination (domain/success_rate.py): below this success rate, or after this many
    # failures in a row, a processor is skipped for the cool-down after its last failure;
    # then this share of payments probes it, and this many successes in a row restore it.
    elimination_threshold: float = Field(default=0.35, ge=0, le=1)
    elimination_failure_streak: int = Field(default=5, ge=1)
    elimination_cooldown_seconds: float = Field(default=30.0, ge=0)
    elimination_probe_percent: float = Field(default=10.0, ge=0, le=100)
    elimination_restore_after: int = Field(default=2, ge=1)

    @property
    def health(self) -> Health:
        return Health(
            threshold=self.elimination_threshold,
            failure_streak=self.elimination_failure_streak,
            cooldown_seconds=self.elimination_cooldown_seconds,
            probe_percent=self.elimination_probe_percent,
            restore_after=self.elimination_restore_after,
        )
