"""triage work on bug reports

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bug_reports") as table:
        table.add_column(sa.Column("assignee_id", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("forwarded_at", TIMESTAMP, nullable=True))
        table.add_column(sa.Column("resolved_at", TIMESTAMP, nullable=True))
        table.add_column(sa.Column("resolved_by", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        table.add_column(sa.Column("updated_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bug_reports") as table:
        for column in (
            "updated_at",
            "resolution",
            "resolved_by",
            "resolved_at",
            "forwarded_at",
            "assignee_id",
        ):
            table.drop_column(column)
