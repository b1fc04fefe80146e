"""Announcing a filed item (a receipt, cards) once, whichever process gets there first, and
keeping its cards up to date.

Announcing: a caller claims the item's row (`announce_claim`, a token, with a short lease kept
alive while it sends), records each part as soon as it went out, and releases the claim when it
stops. What is still missing after a failure is tried again at the ticker's next run; a claim
whose process died runs out after LEASE.

Cards: every change a card shows sets `card_stale_at` in its own transaction (deskbot.models);
a chat.update that showed that state clears it. A refresh that may have shown an older state
(another change or another refresh came in between) sets a new mark instead, so the ticker
brings the card up to date again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from deskbot import clock
from deskbot.db import Database
from deskbot.models import BugReport, DeletionRequest, next_card_mark

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a claim not renewed for this long was lost with its process
RENEW_EVERY = LEASE / 3

Item = TypeVar("Item", BugReport, DeletionRequest)


@dataclass
class Claim(Generic[Item]):
    """One caller's claim on announcing one item."""

    model: type[Item]
    item_id: int
    token: str
    lost: threading.Event = field(default_factory=threading.Event)

    def renew(self, session: Session) -> bool:
        """Keep the claim; False (and `lost`) when it was taken over meanwhile."""
        renewed = session.execute(
            update(self.model)
            .where(self.model.id == self.item_id, self.model.announce_claim == self.token)
            .values(announce_claimed_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if getattr(renewed, "rowcount", 0) != 1:
            self.lost.set()
        return not self.lost.is_set()

    def record(self, session: Session, **values: object) -> bool:
        """Record one part that went out (whoever holds the claim now), and renew the claim."""
        session.execute(
            update(self.model)
            .where(self.model.id == self.item_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return self.renew(session)

    def release(self, session: Session) -> None:
        """Stop announcing: what is missing is tried again at the ticker's next run."""
        session.execute(
            update(self.model)
            .where(self.model.id == self.item_id, self.model.announce_claim == self.token)
            .values(announce_claim=None, announce_claimed_at=None)
            .execution_options(synchronize_session=False)
        )


def claim(session: Session, model: type[Item], item_id: int) -> tuple[Item, Claim[Item]] | None:
    """The item and the claim, for the one caller that may announce it now; None for everyone
    else (announced already, or another caller's claim still holds)."""
    now = clock.now()
    token = uuid.uuid4().hex
    claimed = session.execute(
        update(model)
        .where(
            model.id == item_id,
            model.announced_at.is_(None),
            or_(model.announce_claimed_at.is_(None), model.announce_claimed_at < now - LEASE),
        )
        .values(announce_claimed_at=now, announce_claim=token)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    item = session.get(model, item_id, populate_existing=True)
    return None if item is None else (item, Claim(model, item_id, token))


@contextmanager
def kept(db: Database, held: Claim[Item]) -> Iterator[Claim[Item]]:
    """Renew the claim every RENEW_EVERY while the block sends (one Slack call may wait out
    retries for longer than the lease), and release it afterwards."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(RENEW_EVERY.total_seconds()):
            try:
                with db.transaction() as session:
                    if not held.renew(session):
                        return
            except Exception as problem:  # the database, say: the lease may run out
                log.warning("claim not renewed: %s", type(problem).__name__)

    beating = threading.Thread(target=beat, name="deskbot-claim", daemon=True)
    beating.start()
    try:
        yield held
    finally:
        stop.set()
        beating.join()
        with db.transaction() as session:
            held.release(session)


def unannounced(
    session: Session, model: type[Item], *, organisation_id: str, limit: int = 50
) -> list[Item]:
    """Items whose announcement was never finished and that nobody is announcing now."""
    now = clock.now()
    return list(
        session.scalars(
            select(model)
            .where(
                model.organisation_id == organisation_id,
                model.announced_at.is_(None),
                or_(model.announce_claimed_at.is_(None), model.announce_claimed_at < now - LEASE),
            )
            .order_by(model.id)
            .limit(limit)
        )
    )


def stale_cards(
    session: Session, model: type[Item], *, organisation_id: str, limit: int = 50
) -> list[int]:
    """Announced items whose cards do not show their last change yet, longest waiting first.
    (An item still being announced gets its cards brought up to date when that finishes.)"""
    return list(
        session.scalars(
            select(model.id)
            .where(
                model.organisation_id == organisation_id,
                model.card_stale_at.is_not(None),
                model.announced_at.is_not(None),
            )
            .order_by(model.card_stale_at)
            .limit(limit)
        )
    )


def card_shown(session: Session, model: type[Item], item_id: int, seen: datetime | None) -> None:
    """Every copy of the card now shows the state read with mark `seen`. Clear the mark if
    nothing changed since; otherwise mark it anew, so the ticker refreshes it again."""
    row = session.execute(
        select(model.card_stale_at, model.announced_at).where(model.id == item_id).with_for_update()
    ).first()
    if row is None:
        return
    current, announced = row
    if current == seen:
        if current is not None and announced is not None:
            _set_mark(session, model, item_id, None)
        return
    _set_mark(session, model, item_id, next_card_mark(current))


def finish(
    session: Session, held: Claim[Item], seen: datetime | None, *, all_posted_now: bool
) -> bool:
    """Record the announcement as done; True when its cards must be refreshed now (a change
    came after a copy was posted)."""
    held.record(session, announced_at=clock.now())
    current = session.scalar(
        select(held.model.card_stale_at).where(held.model.id == held.item_id).with_for_update()
    )
    if current is None:
        return False
    if all_posted_now and current == seen:  # every copy shows the state it was posted with
        _set_mark(session, held.model, held.item_id, None)
        return False
    return True


def _set_mark(session: Session, model: type[Item], item_id: int, mark: datetime | None) -> None:
    # A plain UPDATE: neither a change the cards show nor a new version of a deletion request,
    # so it never makes a concurrent click fail.
    session.execute(
        update(model)
        .where(model.id == item_id)
        .values(card_stale_at=mark)
        .execution_options(synchronize_session=False)
    )
