from services.common.migrations_env import run_migrations
from services.webhook.outbound.models import SCHEMA

run_migrations(SCHEMA)
