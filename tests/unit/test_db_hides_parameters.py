"""A database error never carries its bind parameters: the interceptor logs unexpected
errors with their text, and parameters are payment tokens, emails, password hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from launcher.platform import Platform
from services.common.config import ServiceSettings
from services.common.db import create_engine

SECRET = "pm_card_4242424242424242_secret"


async def test_a_failing_statement_does_not_show_its_parameters(platform: Platform) -> None:
    engine = create_engine(ServiceSettings(port=1, database_url=platform.database_url))
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as caught:
                await connection.execute(text("SELECT CAST(:token AS text), 1 / 0"), {"token": SECRET})
    finally:
        await engine.dispose()
    assert "division by zero" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
