from services.common.migrations_env import run_migrations
from services.order.models import SCHEMA

run_migrations(SCHEMA)
