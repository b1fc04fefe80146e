"""The audit trail ("contact history"): who did what to which item, and when."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskbot.models import AuditEvent


def record(
    session: Session,
    *,
    organisation_id: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction; detail must hold no personal data."""
    event = AuditEvent(
        organisation_id=organisation_id,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail or {},
    )
    session.add(event)
    return event


def history(
    session: Session, *, organisation_id: str, subject_type: str, subject_id: str, limit: int = 40
) -> list[AuditEvent]:
    """The newest events about one item (e.g. bug_report BUG-12), oldest first."""
    newest = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.organisation_id == organisation_id,
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id == subject_id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(reversed(list(newest)))


def events(
    session: Session,
    *,
    organisation_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_id: str | None = None,
    batch: int = 1000,
) -> Iterator[AuditEvent]:
    """Every event in a period (or about one item), in order, read a batch at a time."""
    query = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    last = 0
    while True:
        rows = list(
            session.scalars(query.where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch))
        )
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id
