"""routing rules, webhook endpoints; lookups by merchant

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "merchant"


def merchant_id() -> sa.Column[str]:
    return sa.Column("merchant_id", sa.String(64), sa.ForeignKey(f"{SCHEMA}.merchants.id"), nullable=False)


def created_at() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        merchant_id(),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("conditions", JSONB, nullable=False),
        sa.Column("action", JSONB, nullable=False),
        created_at(),
        schema=SCHEMA,
    )
    op.create_index("routing_rules_merchant", "routing_rules", ["merchant_id", "priority"], schema=SCHEMA)
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(64), primary_key=True),
        merchant_id(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        created_at(),
        schema=SCHEMA,
    )
    op.create_index("webhook_endpoints_merchant", "webhook_endpoints", ["merchant_id"], schema=SCHEMA)
    # Key rotation looks for values sealed under an older key.
    op.create_index("processor_configs_key_id", "processor_configs", ["key_id"], schema=SCHEMA)
    op.create_index("webhook_endpoints_key_id", "webhook_endpoints", ["key_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("processor_configs_key_id", "processor_configs", schema=SCHEMA)
    for table in ("webhook_endpoints", "routing_rules"):
        op.drop_table(table, schema=SCHEMA)
