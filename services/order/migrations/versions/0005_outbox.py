"""outbox of events for the merchants' webhooks

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
# Rechained after 0004 (refunds) when both branches meet.
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("object_id", "sequence", name="outbox_events_object_sequence"),
        schema=SCHEMA,
    )
    op.create_index(
        "outbox_events_unpublished",
        "outbox_events",
        ["position"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox_events", schema=SCHEMA)
