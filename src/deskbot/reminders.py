"""Reminders as rows: scheduled in the same transaction as the change that calls for them,
claimed by exactly one process when due, and marked sent once delivered.

APScheduler only wakes each process up; which reminder is due, and who took it, lives here.
Each recipient reached is recorded as it happens (record_delivery), not after the last one.
The due query reads the (status, due_at) index, so a tick costs what is due, not what is open.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskbot import clock
from deskbot.models import DeletionRequest, Reminder

PENDING, SENT, CANCELLED, SKIPPED, FAILED = "pending", "sent", "cancelled", "skipped", "failed"
LEASE = timedelta(minutes=5)  # a claim older than this was lost with its process: retry
MAX_ATTEMPTS = 5
SUBJECT = "deletion_request"
# Which instance claimed a reminder, for the operator reading the table.
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(frozen=True)
class Subject:
    """What a reminder is about: a deletion request, a draft, or the organisation itself."""

    organisation_id: str
    type: str
    id: str


def subject(of: DeletionRequest | Subject) -> Subject:
    if isinstance(of, Subject):
        return of
    return Subject(of.organisation_id, SUBJECT, str(of.id))


def schedule(
    session: Session, about: DeletionRequest | Subject, kind: str, due_at: datetime
) -> None:
    """A reminder of this kind at this moment; the same one scheduled again is not doubled."""
    target = subject(about)
    existing = session.scalars(
        select(Reminder).where(
            Reminder.subject_type == target.type,
            Reminder.subject_id == target.id,
            Reminder.kind == kind,
            Reminder.due_at == due_at,
        )
    ).first()
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    Reminder(
                        organisation_id=target.organisation_id,
                        subject_type=target.type,
                        subject_id=target.id,
                        kind=kind,
                        due_at=due_at,
                        status=PENDING,
                        attempts=0,
                        delivered=[],
                    )
                )
        except IntegrityError:
            pass  # another process scheduled the very same reminder a moment ago
    elif existing.status == CANCELLED:
        existing.status = PENDING


def cancel(
    session: Session, about: DeletionRequest | Subject, *, kinds: Iterable[str] | None = None
) -> int:
    """Cancel the pending reminders (of these kinds) about something, in the caller's
    transaction."""
    target = subject(about)
    query = update(Reminder).where(
        Reminder.subject_type == target.type,
        Reminder.subject_id == target.id,
        Reminder.status == PENDING,
    )
    if kinds is not None:
        query = query.where(Reminder.kind.in_(list(kinds)))
    result = session.execute(
        query.values(status=CANCELLED).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_due(
    session: Session, *, organisation_id: str, limit: int = 100, about: Subject | None = None
) -> tuple[str, list[int]]:
    """Claim up to `limit` due reminders for this caller: a token and the claimed IDs.

    On PostgreSQL the rows are locked with SKIP LOCKED, so a second process claims others at
    the same moment; SQLite's single writer orders the processes instead. A claim holds for
    LEASE: if its process dies before sending, the reminder becomes due again after that.
    The sender renews the claim just before sending (renew), so a long batch is never
    re-claimed while it is being worked through.
    """
    now = clock.now()
    token = uuid.uuid4().hex
    due = (
        select(Reminder.id)
        .where(
            Reminder.status == PENDING,
            Reminder.due_at <= now,
            or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < now - LEASE),
            Reminder.organisation_id == organisation_id,
        )
        .order_by(Reminder.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if about is not None:
        due = due.where(Reminder.subject_type == about.type, Reminder.subject_id == about.id)
    ids = list(session.scalars(due))
    if ids:
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids))
            .values(
                claimed_at=now,
                claim_token=token,
                claimed_by=INSTANCE,
                attempts=Reminder.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    return token, ids


def renew(session: Session, reminder_id: int, token: str) -> Reminder | None:
    """Renew this caller's claim right before sending; None when it no longer holds."""
    renewed = session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id, Reminder.claim_token == token, Reminder.status == PENDING
        )
        .values(claimed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if getattr(renewed, "rowcount", 0) != 1:
        return None
    return claimed(session, reminder_id, token)


def claimed(session: Session, reminder_id: int, token: str) -> Reminder | None:
    """The reminder, if this caller's claim still holds."""
    return session.scalars(
        select(Reminder).where(
            Reminder.id == reminder_id, Reminder.claim_token == token, Reminder.status == PENDING
        )
    ).first()


def record_delivery(session: Session, reminder_id: int, token: str, recipient: str) -> bool:
    """One recipient reached (or skipped for good), recorded at once: a process that dies next
    repeats nothing but the message it was sending. True while this caller's claim holds (it
    is renewed); the delivery is recorded either way, so whoever took over skips it."""
    reminder = session.get(Reminder, reminder_id, with_for_update=True, populate_existing=True)
    if reminder is None:
        return False
    if recipient not in (reminder.delivered or []):
        reminder.delivered = [*(reminder.delivered or []), recipient]
    if reminder.claim_token != token or reminder.status != PENDING:
        return False
    reminder.claimed_at = clock.now()
    return True


def release(session: Session, reminder_ids: Iterable[int], token: str) -> None:
    """Give claimed reminders back for the next run, uncounted: Slack was down, which is no
    fault of theirs (MAX_ATTEMPTS is for reminders that fail on their own)."""
    ids = list(reminder_ids)
    if not ids:
        return
    session.execute(
        update(Reminder)
        .where(Reminder.id.in_(ids), Reminder.claim_token == token, Reminder.status == PENDING)
        .values(claimed_at=None, claim_token=None, attempts=Reminder.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, reminder: Reminder, *, status: str, delivered: list[str]) -> None:
    reminder.delivered = delivered
    reminder.status = status
    if status == SENT:
        reminder.sent_at = clock.now()


def record_progress(session: Session, reminder: Reminder, delivered: list[str]) -> bool:
    """A delivery failed part-way: keep who was reached; True when it is given up for good
    (after MAX_ATTEMPTS), otherwise it is tried again once the lease has run out."""
    reminder.delivered = delivered
    if reminder.attempts >= MAX_ATTEMPTS:
        reminder.status = FAILED
        return True
    return False
