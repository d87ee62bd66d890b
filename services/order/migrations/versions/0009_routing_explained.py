"""how routing chose each transaction's processor: the approach, and the success rate and
sample count it used

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCHEMA = "orders"


def upgrade() -> None:
    op.add_column(
        "transactions", sa.Column("routing_approach", sa.String(32), nullable=False, server_default=""), schema=SCHEMA
    )
    op.add_column("transactions", sa.Column("routing_score", sa.Float), schema=SCHEMA)
    op.add_column(
        "transactions", sa.Column("routing_samples", sa.Integer, nullable=False, server_default="0"), schema=SCHEMA
    )


def downgrade() -> None:
    for column in ("routing_samples", "routing_score", "routing_approach"):
        op.drop_column("transactions", column, schema=SCHEMA)
