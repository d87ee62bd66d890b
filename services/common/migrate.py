"""Apply every service's Alembic migrations: `python -m services.common.migrate`.

Each service keeps its migrations in services/<name>/migrations and its tables, and
its Alembic version table, in its own PostgreSQL schema."""

from __future__ import annotations

import os
import pathlib
import sys

from alembic import command
from alembic.config import Config

from services.common.db import sqlalchemy_url

SERVICES = pathlib.Path(__file__).resolve().parent.parent


def migration_dirs() -> list[pathlib.Path]:
    return sorted(p for p in SERVICES.glob("*/migrations") if (p / "env.py").exists())


def upgrade(database_url: str) -> None:
    for directory in migration_dirs():
        config = Config()
        config.set_main_option("script_location", str(directory))
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
        command.upgrade(config, "head")


def main() -> int:
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("migrate: DATABASE_URL is not set", file=sys.stderr)
        return 2
    upgrade(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
