"""Drafts: a conversation's answers, stored after every step so nothing is lost."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from deskbot import clock
from deskbot.audit import record
from deskbot.models import Draft

ACTIVE = "active"


def start(
    session: Session,
    *,
    organisation_id: str,
    flow: str,
    user_id: str,
    surface: str,
    ttl: timedelta,
    state: dict[str, Any] | None = None,
) -> Draft:
    now = clock.now()
    draft = Draft(
        id=uuid.uuid4().hex,
        organisation_id=organisation_id,
        flow=flow,
        user_id=user_id,
        surface=surface,
        status=ACTIVE,
        state=state or {},
        created_at=now,
        updated_at=now,
        expires_at=now + ttl,
    )
    session.add(draft)
    session.flush()
    return draft


def find_active(
    session: Session,
    *,
    organisation_id: str,
    user_id: str,
    flow: str | None = None,
    surface: str | None = None,
) -> Draft | None:
    """The user's newest unexpired active draft (of that flow / surface, when given)."""
    query = select(Draft).where(
        Draft.organisation_id == organisation_id,
        Draft.user_id == user_id,
        Draft.status == ACTIVE,
        Draft.expires_at > clock.now(),
    )
    if flow is not None:
        query = query.where(Draft.flow == flow)
    if surface is not None:
        query = query.where(Draft.surface == surface)
    return session.scalars(query.order_by(Draft.updated_at.desc()).limit(1)).first()


def get(session: Session, draft_id: str, *, for_update: bool = False) -> Draft | None:
    query = select(Draft).where(Draft.id == draft_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def save(draft: Draft, state: dict[str, Any], *, ttl: timedelta) -> None:
    """Store the new state; the draft lives on for another ttl from now."""
    draft.state = state
    flag_modified(draft, "state")
    draft.updated_at = clock.now()
    draft.expires_at = draft.updated_at + ttl


def close(draft: Draft, status: str) -> None:
    draft.status = status
    draft.updated_at = clock.now()


def audit(session: Session, draft: Draft, *, actor: str, event: str, **detail: str) -> None:
    """Record what happened to a draft, e.g. bug_report.draft_started."""
    record(
        session,
        organisation_id=draft.organisation_id,
        actor=actor,
        action=f"{draft.flow}.draft_{event}",
        subject_type="draft",
        subject_id=draft.id,
        detail=detail,
    )


def expire_stale(session: Session) -> int:
    """Mark drafts past their expiry as expired; returns how many."""
    result = session.execute(
        update(Draft)
        .where(Draft.status == ACTIVE, Draft.expires_at <= clock.now())
        .values(status="expired", version=Draft.version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
