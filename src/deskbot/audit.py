"""The audit trail ("contact history"): who did what to which item, and when."""

from __future__ import annotations

from typing import Any

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
