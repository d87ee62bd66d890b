from services.common.migrations_env import run_migrations
from services.merchant.models import SCHEMA

run_migrations(SCHEMA)
