"""The database tables, as typed SQLAlchemy models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.types import TypeDecorator

from deskbot import clock


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use deskbot.clock")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite hands back naive values; they were stored as UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime,
        date: Date,
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


class Draft(Base):
    """A conversation in progress: the answers so far, saved after every step."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_user_status", "organisation_id", "user_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    surface: Mapped[str] = mapped_column(String(16))  # modal, dm or console
    status: Mapped[str] = mapped_column(String(16), default="active")
    # answers, the path of steps taken, the current step and surface details (view id, ts)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": version}


class BugReport(Base):
    """A filed bug report, numbered BUG-<n> per organisation."""

    __tablename__ = "bug_reports"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), unique=True)
    reporter_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    answers: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    triage_channel: Mapped[str | None] = mapped_column(String(32))
    triage_ts: Mapped[str | None] = mapped_column(String(32))
    # The receipt and the triage card go out once: claimed with a lease, then marked done.
    announce_claim: Mapped[str | None] = mapped_column(String(32))  # the claimer's token
    announce_claimed_at: Mapped[datetime | None]
    receipt_sent_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set with every change the card shows, cleared once Slack shows it (deskbot.announcing).
    card_stale_at: Mapped[datetime | None] = mapped_column(index=True)
    # The service desk's work on it.
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    forwarded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(Text)  # the answer the reporter was given
    updated_at: Mapped[datetime | None]

    @property
    def reference(self) -> str:
        return f"BUG-{self.number}"


class Counter(Base):
    """Per-organisation sequences (BUG-<n>), incremented under a row lock."""

    __tablename__ = "counters"

    organisation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class AuditEvent(Base):
    """Who did what to which item, and when; never the personal data itself."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SlackDelivery(Base):
    """Slack event IDs already handled, so a retried delivery does nothing twice."""

    __tablename__ = "slack_deliveries"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)


class Account(Base):
    """One platform account from the organisation's exports: where an email address lives."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "platform", "kind", "account_id"),
        Index("ix_accounts_email", "organisation_id", "email"),
        Index("ix_accounts_email_key", "organisation_id", "email_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # client or professional
    account_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))  # normalised
    # The address with case, dots and +tag folded away: finds near-misses, never a match.
    email_key: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool]
    externally_managed: Mapped[bool] = mapped_column(default=False)
    groups: Mapped[list[str]] = mapped_column(default=list)
    row_hash: Mapped[str] = mapped_column(String(32))  # tells an unchanged row on re-import
    imported_at: Mapped[datetime]
    last_import_id: Mapped[str | None] = mapped_column(String(32))


class AccountImport(Base):
    """One run of `deskbot accounts import`, with its summary."""

    __tablename__ = "account_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    full: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    deactivated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)


class InstanceKey(Base):
    """Keys deskbot makes for itself, e.g. the key of the lookup audit's hashes."""

    __tablename__ = "instance_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class DeletionRequest(Base):
    """A GDPR deletion request, DEL-<n>: the anonymised client ID only, never a name or email."""

    __tablename__ = "deletion_requests"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number"),
        Index("ix_deletion_requests_open", "organisation_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), unique=True)
    requester_id: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(64))  # the configured platform's name
    client_id: Mapped[str] = mapped_column(String(64))  # anonymised
    asked_on: Mapped[date]  # when the client asked: the statutory month runs from here
    statutory_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)  # checked: no personal data
    status: Mapped[str] = mapped_column(String(24))
    submitted_by: Mapped[str | None] = mapped_column(String(32))  # the AM, for a therapist's
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None]
    # Fixed at confirmation with the calendar that computed them, and never recomputed;
    # a pause moves due_date out by the paused working days.
    calendar: Mapped[str | None] = mapped_column(String(200))
    first_due_date: Mapped[date | None]
    due_date: Mapped[date | None]
    due_at: Mapped[datetime | None]
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    paused_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_days: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Where deskbot showed it, so every change updates those messages in place.
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    messages: Mapped[list[str]] = mapped_column(default=list)  # "kind|channel|ts" of the copies
    announce_claim: Mapped[str | None] = mapped_column(String(32))  # the claimer's token
    announce_claimed_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set with every change the cards show, cleared once Slack shows it (deskbot.announcing).
    card_stale_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return f"DEL-{self.number}"


class Reminder(Base):
    """A scheduled message, claimed by exactly one process when due, then marked sent."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "kind", "due_at"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))  # deletion_request, draft, organisation
    subject_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # host:pid of the instance
    attempts: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[list[str]] = mapped_column(default=list)  # recipients reached so far
    sent_at: Mapped[datetime | None]


# Where deskbot keeps track of its own messages: changing these changes nothing a card shows.
CARD_BOOKKEEPING = frozenset(
    {
        "announce_claim",
        "announce_claimed_at",
        "receipt_sent_at",
        "announced_at",
        "triage_channel",
        "triage_ts",
        "card_channel",
        "card_ts",
        "messages",
        "card_stale_at",
        "version",
    }
)


def next_card_mark(previous: datetime | None) -> datetime:
    """A new mark for a card that must be brought up to date: later than the previous one even
    when the clock stands still, so a refresh that showed an older state never clears it."""
    now = clock.now()
    if previous is not None and now <= previous:
        return previous + timedelta(microseconds=1)
    return now


@event.listens_for(BugReport, "before_update")
@event.listens_for(DeletionRequest, "before_update")
def _card_goes_stale(_mapper: Any, _connection: Any, target: BugReport | DeletionRequest) -> None:
    """Every change a card shows marks its cards for refresh, in the change's own transaction:
    when the chat.update that follows fails, the ticker still knows the card is behind."""
    state = instance_state(target)
    if any(
        attribute.history.has_changes()
        for attribute in state.attrs
        if attribute.key not in CARD_BOOKKEEPING
    ):
        target.card_stale_at = next_card_mark(target.card_stale_at)
