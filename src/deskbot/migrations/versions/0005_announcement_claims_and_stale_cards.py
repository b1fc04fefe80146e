"""announcement claims with a token; cards marked for refresh until Slack shows a change

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("bug_reports", "deletion_requests")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("announce_claim", sa.String(length=32), nullable=True))
            table.add_column(sa.Column("card_stale_at", TIMESTAMP, nullable=True))
            table.create_index(op.f(f"ix_{name}_card_stale_at"), ["card_stale_at"], unique=False)


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.drop_index(op.f(f"ix_{name}_card_stale_at"))
            table.drop_column("card_stale_at")
            table.drop_column("announce_claim")
