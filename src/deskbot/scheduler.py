"""The in-process ticker: APScheduler only wakes deskbot up; what is due lives in our tables."""

from __future__ import annotations

import logging

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


def start(db: Database, *, interval_seconds: int = 300) -> BackgroundScheduler:
    """Start the ticker; jobs are idempotent, so several processes may run it side by side."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        expire_drafts,
        "interval",
        seconds=interval_seconds,
        args=[db],
        id="expire-drafts",
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    return scheduler
