from pydantic import Field

from services.common.config import ServiceSettings


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
