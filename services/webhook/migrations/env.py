from services.common.migrations_env import run_migrations
from services.webhook.models import SCHEMA

run_migrations(SCHEMA)
