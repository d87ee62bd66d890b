"""when an unapplied processor event is due for the sweep (backoff after each failed
apply), and the index the sweep reads the due events through

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "webhook"


def upgrade() -> None:
    # now() is evaluated once here: the rows already recorded are due at once (and the
    # column is added without rewriting the table).
    op.add_column(
        "processor_events",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.drop_index("processor_events_unapplied", table_name="processor_events", schema=SCHEMA)
    op.create_index(
        "processor_events_due",
        "processor_events",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("applied_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("processor_events_due", table_name="processor_events", schema=SCHEMA)
    op.create_index(
        "processor_events_unapplied",
        "processor_events",
        ["received_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("applied_at IS NULL"),
    )
    op.drop_column("processor_events", "next_attempt_at", schema=SCHEMA)
