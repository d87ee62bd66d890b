"""A database error never carries the statement's data: the interceptor logs unexpected
errors with their text, and the data are payment tokens, emails, password hashes. Neither
SQLAlchemy's list of parameters nor the server's message, which quotes them back (the
duplicate key, the failing row, the value that did not cast), reaches a log line."""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from launcher.components import sqlalchemy_url
from services.common.config import ServiceSettings
from services.common.db import create_engine, driver_transaction
from services.common.logging import JsonFormatter

SECRET = f"pm_secret_{secrets.token_hex(8)}"
SCHEMA = f"leak_check_{secrets.token_hex(4)}"
INSERT = f"INSERT INTO {SCHEMA}.cards (token, email) VALUES (:token, :email)"


@pytest.fixture()
async def engine(database_url: str | None, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """The services' engine on a throwaway schema (on DATABASE_URL's server, else the platform's)."""
    url = sqlalchemy_url(database_url) if database_url else request.getfixturevalue("platform").database_url
    # Only its database fields matter to the engine factory.
    made = create_engine(ServiceSettings.model_construct(database_url=url))
    async with made.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await connection.execute(text(f"CREATE TABLE {SCHEMA}.cards (token text PRIMARY KEY, email text NOT NULL)"))
    try:
        yield made
    finally:
        async with made.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
        await made.dispose()


def logged(caplog: pytest.LogCaptureFixture, error: BaseException) -> str:
    """What the services' log would hold: the error logged as the interceptor does, and
    whatever else was logged meanwhile, in the services' format."""
    logging.getLogger("payloops.rpc").error("rpc failed", exc_info=error)
    return "\n".join(JsonFormatter("test").format(record) for record in caplog.records)


def assert_withheld(error: BaseException, log: str) -> None:
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert SECRET not in "".join(traceback.format_exception(error))  # the driver's error too
    assert "rpc failed" in log and SECRET not in log


@pytest.mark.parametrize(
    ("statements", "raised", "named"),
    [
        # The detail would say: Key (token)=(<secret>) already exists.
        ([INSERT, INSERT], IntegrityError, "cards_pkey"),
        # The detail would say: Failing row contains (<secret>, null).
        ([f"INSERT INTO {SCHEMA}.cards (token) VALUES (:token)"], IntegrityError, "not-null constraint"),
        # The message would say: invalid input syntax for type integer: "<secret>".
        (["SELECT CAST(:token AS integer)"], DataError, "type integer"),
    ],
    ids=["duplicate-key", "not-null", "bad-cast"],
)
async def test_a_failing_statement_does_not_show_its_data(
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    statements: list[str],
    raised: type[DBAPIError],
    named: str,
) -> None:
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="sqlalchemy"):
        with pytest.raises(raised) as caught:
            async with engine.begin() as connection:
                for statement in statements:
                    await connection.execute(text(statement), {"token": SECRET, "email": f"{SECRET}@example.com"})
        log = logged(caplog, caught.value)
    assert_withheld(caught.value, log)
    # What failed is still told: the constraint, column or type, and that parameters are hidden.
    assert named in str(caught.value.orig) and named in log
    assert "parameters hidden" in str(caught.value)


async def test_a_failing_statement_on_the_driver_does_not_show_its_data(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    insert = f"INSERT INTO {SCHEMA}.cards (token, email) VALUES (%s, 'someone@example.com')"
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        async with driver_transaction(engine) as db:
            await db.execute(insert, (SECRET,))
            await db.execute(insert, (SECRET,))
    assert_withheld(caught.value, logged(caplog, caught.value))
    assert "cards_pkey" in str(caught.value)
