"""The in-process ticker: APScheduler only wakes deskbot up; what is due lives in our tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete

from deskbot import clock, drafts
from deskbot.db import Database
from deskbot.models import SlackDelivery

log = logging.getLogger(__name__)


def expire_drafts(db: Database) -> int:
    with db.transaction() as session:
        count = drafts.expire_stale(session)
    if count:
        log.info("expired %d unfinished drafts", count)
    return count


DELIVERY_MEMORY = timedelta(days=2)  # Slack retries an event for minutes, not days


def forget_deliveries(db: Database) -> int:
    """Drop the IDs of Slack events older than Slack would ever deliver again."""
    with db.transaction() as session:
        result = session.execute(
            delete(SlackDelivery).where(SlackDelivery.received_at < clock.now() - DELIVERY_MEMORY)
        )
    return int(getattr(result, "rowcount", 0) or 0)


def start(
    db: Database, *, jobs: dict[str, Callable[[], object]] | None = None, interval_seconds: int = 60
) -> BackgroundScheduler:
    """Start the ticker. Every job is safe to run in several processes at once: each claims
    its rows in the database before acting on them."""
    scheduler = BackgroundScheduler(timezone="UTC")
    everything: dict[str, Callable[[], object]] = {
        "expire-drafts": lambda: expire_drafts(db),
        "forget-deliveries": lambda: forget_deliveries(db),
    }
    everything.update(jobs or {})
    for name, job in everything.items():
        scheduler.add_job(
            job, "interval", seconds=interval_seconds, id=name, coalesce=True, max_instances=1
        )
    scheduler.start()
    return scheduler
