"""operations bound to their Idempotency-Key: an order created with a key, the payment
attempt a key started, and a refund a key asked for, so a retry after a crash joins the
operation instead of running it again; the routing decision of the current payment
attempt, so a sweep can start an attempt whose workflow never started

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.add_column("orders", sa.Column("idempotency_key", sa.String(255)), schema=SCHEMA)
    op.add_column("orders", sa.Column("payment_idempotency_key", sa.String(255)), schema=SCHEMA)
    op.add_column("refunds", sa.Column("idempotency_key", sa.String(255)), schema=SCHEMA)
    op.add_column("orders", sa.Column("payment_candidates", JSONB, nullable=False, server_default="[]"), schema=SCHEMA)
    op.create_index(
        "orders_open_by_age",
        "orders",
        ["status", "updated_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status IN ('PROCESSING', 'REQUIRES_ACTION')"),
    )
    for table in ("orders", "refunds"):
        op.create_index(
            f"{table}_idempotency_key",
            table,
            ["merchant_id", "mode", "idempotency_key"],
            unique=True,
            schema=SCHEMA,
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )


def downgrade() -> None:
    op.drop_index("orders_open_by_age", table_name="orders", schema=SCHEMA)
    op.drop_column("orders", "payment_candidates", schema=SCHEMA)
    for table in ("orders", "refunds"):
        op.drop_index(f"{table}_idempotency_key", table_name=table, schema=SCHEMA)
        op.drop_column(table, "idempotency_key", schema=SCHEMA)
    op.drop_column("orders", "payment_idempotency_key", schema=SCHEMA)
