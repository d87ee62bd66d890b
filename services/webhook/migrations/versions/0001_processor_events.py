"""verified inbound processor events

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "webhook"


def upgrade() -> None:
    op.create_table(
        "processor_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("processor", sa.String(32), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("refund_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("event", sa.LargeBinary, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("apply_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(16), nullable=False, server_default=""),
        sa.Column("last_error", sa.String(1000), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("processor", "merchant_id", "event_id", name="processor_events_unique"),
        schema=SCHEMA,
    )
    op.create_index(
        "processor_events_unapplied",
        "processor_events",
        ["received_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("applied_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("processor_events", schema=SCHEMA)
