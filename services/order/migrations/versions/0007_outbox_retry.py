"""retries of outbox events the webhook service refused: how many times, when due again
(NULL: never tried, due at once), and why; the relay reads the due events through one
index, new ones first

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.add_column("outbox_events", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"), schema=SCHEMA)
    op.add_column("outbox_events", sa.Column("next_attempt_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column(
        "outbox_events", sa.Column("last_error", sa.String(1000), nullable=False, server_default=""), schema=SCHEMA
    )
    # The relay's query (relay.due_events) is a range of this: due at or before now(), a
    # never-tried event (NULL) counting as due at -infinity, i.e. before every retry.
    op.drop_index("outbox_events_unpublished", table_name="outbox_events", schema=SCHEMA)
    op.create_index(
        "outbox_events_due",
        "outbox_events",
        [sa.text("coalesce(next_attempt_at, '-infinity'::timestamptz)"), "position"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("outbox_events_due", table_name="outbox_events", schema=SCHEMA)
    op.create_index(
        "outbox_events_unpublished",
        "outbox_events",
        ["position"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    for column in ("last_error", "next_attempt_at", "attempts"):
        op.drop_column("outbox_events", column, schema=SCHEMA)
