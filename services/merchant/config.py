from pydantic import Field, field_validator

from services.common.config import ServiceSettings, refuse_dev_secrets

# Public development keys (in this repository): refused in production. Two, so a key
# rotation can be tried locally without restarting anything (see rotate_key.py).
DEV_CREDENTIAL_KEYS = {
    "dev1": "ZGV2LW9ubHktY3JlZGVudGlhbC1rZXktMzItYnl0ZSE=",
    "dev2": "ZGV2LW9ubHktY3JlZGVudGlhbC1rZXktbnVtYmVyLTI=",
}


class Settings(ServiceSettings):
    """Merchant service configuration (environment variables of the same names)."""

    # The router answers the dashboard's routing simulation and stats.
    router_service_addr: str
    router_call_timeout_seconds: float = Field(default=2.0, gt=0)

    # Server-side key of the API-key HMAC (see keys.py for why HMAC and not a slow hash).
    api_key_hmac_secret: str = Field(default="dev-api-key-hmac-secret-change-me", min_length=32)
    # AES-256-GCM keys for processor credentials and webhook secrets:
    # {"key id": "base64 of 32 bytes"}. New values are sealed with the active key; the
    # others stay readable until `python -m services.merchant.rotate_key` re-encrypts them.
    credential_keys: dict[str, str] = Field(default=DEV_CREDENTIAL_KEYS, min_length=1)
    credential_active_key_id: str = "dev1"
    # How long the edge may reuse a verified API key before looking it up again. A
    # revocation purges this process's cache at once; other replicas follow within it.
    auth_cache_seconds: float = Field(default=2.0, ge=0, le=10)
    # How often the API keys' lastUsedAt, batched in memory, is written to the database.
    key_usage_flush_seconds: float = Field(default=5.0, gt=0, le=300)

    # Dashboard tokens (JWT, HMAC-SHA2). The algorithm is pinned when verifying.
    jwt_secret: str = Field(default="dev-jwt-secret-change-me-0123456789abcdef")
    jwt_algorithm: str = Field(default="HS256", pattern="^HS(256|384|512)$")
    jwt_issuer: str = "payloops"
    jwt_audience: str = "payloops-dashboard"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=86_400)

    # Passwords: argon2id with OWASP's minimums (m >= 19 MiB, t >= 2, p = 1), PCI DSS 8.3.6 length.
    argon2_memory_kib: int = Field(default=19_456, ge=19_456)
    argon2_time_cost: int = Field(default=2, ge=2)
    password_min_length: int = Field(default=12, ge=12)
    # Concurrent password hashes (each holds argon2_memory_kib of memory and a CPU).
    password_hash_concurrency: int = Field(default=4, ge=1)

    # Login and registration throttles (Redis; fixed windows). Failed logins only count
    # against a client address, so successful logins never slow anyone down.
    login_ip_max_failures: int = Field(default=100, ge=1)
    login_ip_window_seconds: int = Field(default=900, ge=1)
    register_ip_max_attempts: int = Field(default=30, ge=1)
    register_ip_window_seconds: int = Field(default=600, ge=1)
    register_email_max_attempts: int = Field(default=5, ge=1)
    register_email_window_seconds: int = Field(default=3600, ge=1)
    # PCI DSS 8.3.4: at most 10 failed logins, then locked for at least 30 minutes.
    lockout_threshold: int = Field(default=10, ge=1, le=10)
    lockout_seconds: int = Field(default=1800, ge=1800)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if len(value.encode()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 bytes")
        return value

    def model_post_init(self, __context: object) -> None:
        refuse_dev_secrets(self, api_key_hmac_secret=self.api_key_hmac_secret, jwt_secret=self.jwt_secret)
        if self.payloops_env == "prod" and set(self.credential_keys.values()) & set(DEV_CREDENTIAL_KEYS.values()):
            raise ValueError("set CREDENTIAL_KEYS (the development keys are refused)")
        if self.credential_active_key_id not in self.credential_keys:
            raise ValueError("CREDENTIAL_ACTIVE_KEY_ID must name a key of CREDENTIAL_KEYS")
