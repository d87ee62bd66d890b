from pathlib import Path

from pydantic import Field

from services.common.config import ProcessSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(ProcessSettings):
    """Web service configuration (environment variables of the same names). It holds no
    database and no secret: everything goes through the order and merchant services."""

    order_service_addr: str
    merchant_service_addr: str
    # The dashboard's static build (SvelteKit, adapter-static).
    dashboard_dir: Path = REPO_ROOT / "dashboard" / "build"
    # How long a return from the customer's bank waits for the payment's outcome before
    # showing a page that checks again by itself.
    return_wait_seconds: float = Field(default=3, ge=0, le=20)
    call_timeout_seconds: float = Field(default=30, gt=0)
