from pydantic import Field

from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Router service configuration (environment variables of the same names)."""

    merchant_service_addr: str
    # How long a merchant's rules and enabled processors are reused; 0 disables the cache.
    routing_cache_seconds: float = Field(default=5.0, ge=0)
    # Upper bound of a GetRoutingConfig call; the caller's deadline shortens it.
    merchant_call_timeout_seconds: float = Field(default=2.0, gt=0)
    # The router keeps no state of its own: no database, no Redis.
    database_url: str = ""
    redis_url: str = ""
