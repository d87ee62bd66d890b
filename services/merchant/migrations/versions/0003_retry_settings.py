"""a merchant's retry settings (max attempts, overrides of the shipped retry table), as
the RetrySettings message in its proto3 JSON form

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "merchant"


def upgrade() -> None:
    op.add_column(
        "merchants",
        sa.Column("retry_settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("merchants", "retry_settings", schema=SCHEMA)
