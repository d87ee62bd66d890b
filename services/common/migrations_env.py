"""The body of every service's Alembic env.py: online migrations inside the
service's own schema, with the version table there too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text


def run_migrations(schema: str) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is required"
    engine = create_engine(url, hide_parameters=True)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(connection=connection, version_table_schema=schema, include_schemas=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
