"""refunds of orders

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey(f"{SCHEMA}.orders.id"), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("processor", sa.String(32), nullable=False),
        sa.Column("payment_reference", sa.String(128), nullable=False),
        sa.Column("processor_reference", sa.String(128), nullable=False, server_default=""),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("failure_code", sa.String(128), nullable=False, server_default=""),
        sa.Column("failure_message", sa.String(1000), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount > 0", name="refunds_amount_positive"),
        schema=SCHEMA,
    )
    op.create_index("refunds_order", "refunds", ["order_id"], schema=SCHEMA)
    op.create_index("refunds_processor_reference", "refunds", ["processor", "processor_reference"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("refunds", schema=SCHEMA)
