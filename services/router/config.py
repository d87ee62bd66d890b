from services.common.config import ServiceSettings


class Settings(ServiceSettings):
    """Router service configuration (environment variables of the same names)."""

    merchant_service_addr: str
