"""when the sweep next asks a processor about a charge (waiting for 3-D Secure, or given
up on), so a pass asks only the charges due, the least recently asked first, each less
often as it ages

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.add_column("transactions", sa.Column("recheck_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    # The sweep's late-capture query (sweep.late_captures) is a range of this.
    op.create_index(
        "transactions_given_up_recheck",
        "transactions",
        [sa.text("coalesce(recheck_at, '-infinity'::timestamptz)")],
        schema=SCHEMA,
        postgresql_where=sa.text(
            "status = 'FAILED' AND failure_code IN ('cancelled', 'PROCESSOR_UNAVAILABLE') AND processor_reference <> ''"
        ),
    )


def downgrade() -> None:
    op.drop_index("transactions_given_up_recheck", table_name="transactions", schema=SCHEMA)
    op.drop_column("transactions", "recheck_at", schema=SCHEMA)
