"""indexes for the analytics summary (services/order/analytics.py): each of its queries
reads one merchant's orders, payment attempts or refunds from a time on, from an index
alone; and the statistics that tell the planner how few (UTC day, currency) groups there
are, so it aggregates them in a hash table, not by sorting every order

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCHEMA = "orders"
# name: (table, key columns, included columns)
INDEXES = {
    "orders_analytics": (
        "orders",
        ["merchant_id", "mode", "created_at"],
        ["id", "status", "currency", "amount", "amount_captured"],
    ),
    "transactions_analytics": (
        "transactions",
        ["merchant_id", "created_at"],
        ["order_id", "type", "processor", "status", "currency", "amount", "failure_code"],
    ),
    "refunds_analytics": (
        "refunds",
        ["merchant_id", "mode", "created_at"],
        ["order_id", "status", "currency", "amount"],
    ),
}
DAYS = "orders_analytics_days"


def upgrade() -> None:
    # Built concurrently, so orders keep being written while a large table is indexed;
    # IF NOT EXISTS, so a run interrupted after an index was built can be run again.
    with op.get_context().autocommit_block():
        for name, (table, columns, included) in INDEXES.items():
            op.create_index(
                name,
                table,
                columns,
                schema=SCHEMA,
                postgresql_include=included,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    op.execute(
        f"CREATE STATISTICS IF NOT EXISTS {SCHEMA}.{DAYS} (ndistinct)"
        f" ON (date(timezone('UTC', created_at))), currency FROM {SCHEMA}.orders"
    )
    op.execute(f"ANALYZE {SCHEMA}.orders")


def downgrade() -> None:
    op.execute(f"DROP STATISTICS IF EXISTS {SCHEMA}.{DAYS}")
    with op.get_context().autocommit_block():
        for name, (table, *_) in INDEXES.items():
            op.drop_index(name, table_name=table, schema=SCHEMA, postgresql_concurrently=True, if_exists=True)
