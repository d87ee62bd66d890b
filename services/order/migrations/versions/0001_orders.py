"""orders table

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("amount", sa.Integer, sa.CheckConstraint("amount > 0"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("capture_method", sa.String(16), nullable=False),
        sa.Column("amount_captured", sa.Integer, nullable=False, server_default="0"),
        sa.Column("amount_refunded", sa.Integer, nullable=False, server_default="0"),
        sa.Column("customer_email", sa.String(254), nullable=False, server_default=""),
        sa.Column("description", sa.String(1000), nullable=False, server_default=""),
        sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("processor", sa.String(32), nullable=False, server_default=""),
        sa.Column("failure_code", sa.String(128), nullable=False, server_default=""),
        sa.Column("failure_message", sa.String(1000), nullable=False, server_default=""),
        sa.Column("next_action_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("next_action_url", sa.String(2048), nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_refunded <= amount_captured", name="refunds_within_captured"),
        schema=SCHEMA,
    )
    op.execute(f"CREATE INDEX orders_merchant_listing ON {SCHEMA}.orders (merchant_id, mode, created_at DESC, id DESC)")


def downgrade() -> None:
    op.drop_table("orders", schema=SCHEMA)
