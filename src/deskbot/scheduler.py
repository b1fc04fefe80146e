"""The in-process ticker: APScheduler only wakes deskbot up; what is due lives in our tables."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from deskbot import drafts
from deskbot.db import Database

log = logging.getLogger(__name__)


def expire_drafts(db: Database) -> int:
    with db.transaction() as session:
        count = drafts.expire_stale(session)
    if count:
        log.info("expired %d unfinished drafts", count)
    return count


def start(
    db: Database, *, jobs: dict[str, Callable[[], object]] | None = None, interval_seconds: int = 60
) -> BackgroundScheduler:
    """Start the ticker. Every job is safe to run in several processes at once: each claims
    its rows in the database before acting on them."""
    scheduler = BackgroundScheduler(timezone="UTC")
    everything: dict[str, Callable[[], object]] = {"expire-drafts": lambda: expire_drafts(db)}
    everything.update(jobs or {})
    for name, job in everything.items():
        scheduler.add_job(
            job, "interval", seconds=interval_seconds, id=name, coalesce=True, max_instances=1
        )
    scheduler.start()
    return scheduler
