from pydantic import Field

from services.common.config import ServiceSettings, refuse_dev_secrets


class Settings(ServiceSettings):
    """Merchant service configuration (environment variables of the same names)."""

    # Server-side key of the API-key HMAC (see keys.py for why HMAC and not a slow hash).
    api_key_hmac_secret: str = Field(default="dev-api-key-hmac-secret-change-me", min_length=32)
    # AES-256-GCM keys for processor credentials: {"key id": "base64 of 32 bytes"}.
    credential_keys: dict[str, str] = Field(
        default={"dev1": "ZGV2LW9ubHktY3JlZGVudGlhbC1rZXktMzItYnl0ZSE="}, min_length=1
    )
    credential_active_key_id: str = "dev1"
    # How long the edge may reuse a verified API key before looking it up again.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)

    def model_post_init(self, __context: object) -> None:
        refuse_dev_secrets(self, api_key_hmac_secret=self.api_key_hmac_secret)
        if self.payloops_env == "prod" and "dev1" in self.credential_keys:
            raise ValueError("set CREDENTIAL_KEYS (the development key is refused)")
        if self.credential_active_key_id not in self.credential_keys:
            raise ValueError("CREDENTIAL_ACTIVE_KEY_ID must name a key of CREDENTIAL_KEYS")
