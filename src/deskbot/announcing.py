"""Announcing a filed item (a receipt, a triage card) once, whichever process gets there first.

The item's row carries `announce_claimed_at` and `announced_at`. A caller claims the row with a
lease before sending; when it crashes or Slack fails, the ticker picks the row up again once the
lease has run out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from deskbot import clock
from deskbot.models import BugReport, DeletionRequest

LEASE = timedelta(minutes=5)


Item = TypeVar("Item", BugReport, DeletionRequest)


def claim(session: Session, model: type[Item], item_id: int) -> Item | None:
    """The item, for the one caller that may announce it now; None for everyone else."""
    now = clock.now()
    claimed = session.execute(
        update(model)
        .where(
            model.id == item_id,
            model.announced_at.is_(None),
            or_(model.announce_claimed_at.is_(None), model.announce_claimed_at < now - LEASE),
        )
        .values(announce_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return session.get(model, item_id, populate_existing=True)


def mark(session: Session, model: type[Item], item_id: int, **values: object) -> None:
    """Record one finished part of an announcement (receipt sent, card posted, all done)."""
    session.execute(
        update(model)
        .where(model.id == item_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def unannounced(
    session: Session, model: type[Item], *, organisation_id: str, limit: int = 50
) -> list[Item]:
    """Items whose announcement was never finished and whose claim has run out."""
    stale = clock.now() - LEASE
    return list(
        session.scalars(
            select(model)
            .where(
                model.organisation_id == organisation_id,
                model.announced_at.is_(None),
                or_(model.announce_claimed_at.is_(None), model.announce_claimed_at < stale),
                model.created_at < stale,
            )
            .order_by(model.id)
            .limit(limit)
        )
    )
