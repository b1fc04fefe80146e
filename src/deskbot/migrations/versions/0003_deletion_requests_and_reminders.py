"""deletion requests and reminders

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered", JSON, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_type", "subject_id", "kind", "due_at"),
    )
    op.create_index("ix_reminders_due", "reminders", ["status", "due_at"], unique=False)
    op.create_table(
        "deletion_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("statutory_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("submitted_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", TIMESTAMP, nullable=True),
        sa.Column("calendar", sa.String(length=200), nullable=True),
        sa.Column("first_due_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_at", TIMESTAMP, nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("paused_at", TIMESTAMP, nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("card_channel", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("messages", JSON, nullable=False),
        sa.Column("announce_claimed_at", TIMESTAMP, nullable=True),
        sa.Column("announced_at", TIMESTAMP, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id"),
        sa.UniqueConstraint("organisation_id", "number"),
    )
    op.create_index(
        op.f("ix_deletion_requests_announced_at"),
        "deletion_requests",
        ["announced_at"],
        unique=False,
    )
    op.create_index(
        "ix_deletion_requests_open",
        "deletion_requests",
        ["organisation_id", "closed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_deletion_requests_open", table_name="deletion_requests")
    op.drop_index(op.f("ix_deletion_requests_announced_at"), table_name="deletion_requests")
    op.drop_table("deletion_requests")
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_table("reminders")
