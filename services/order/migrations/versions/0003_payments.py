"""payment attempts on orders, and transactions

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    for column in (
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("payment_method_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("payment_method_token", sa.String(255), nullable=False, server_default=""),
        sa.Column("return_url", sa.String(2048), nullable=False, server_default=""),
    ):
        op.add_column("orders", column, schema=SCHEMA)
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey(f"{SCHEMA}.orders.id"), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("candidate_index", sa.Integer, nullable=False, server_default="0"),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("processor", sa.String(32), nullable=False),
        sa.Column("processor_reference", sa.String(128), nullable=False, server_default=""),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("failure_code", sa.String(128), nullable=False, server_default=""),
        sa.Column("failure_message", sa.String(1000), nullable=False, server_default=""),
        sa.Column("routing_rule_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("routing_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("refund_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("transactions_order", "transactions", ["order_id", "created_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("transactions", schema=SCHEMA)
    for name in ("attempt", "payment_method_type", "payment_method_token", "return_url"):
        op.drop_column("orders", name, schema=SCHEMA)
