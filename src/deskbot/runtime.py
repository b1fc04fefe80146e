"""Starts deskbot: database, Slack app, HTTP server or Socket Mode, and the ticker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from deskbot import scheduler
from deskbot.db import Database
from deskbot.settings import Settings
from deskbot.slack.app import Services, build_app, build_services
from deskbot.slack.http import DeskbotWsgi

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    if settings.auto_migrate:
        db.upgrade()
    return db


def http_app(settings: Settings, db: Database) -> tuple[DeskbotWsgi, Services]:
    services = build_services(settings, db)
    return DeskbotWsgi(build_app(services), db), services


def start_ticker(services: Services) -> BackgroundScheduler:
    from deskbot.slack import deletion_desk, filing, scheduled

    return scheduler.start(
        services.db,
        jobs={
            "announce-pending": lambda: filing.announce_pending(services),
            "plan-scheduled": lambda: scheduled.plan(services),
            "send-reminders": lambda: deletion_desk.send_due(services),
        },
        interval_seconds=services.settings.tick_seconds,
    )


def run_http(settings: Settings, *, host: str, port: int, threads: int) -> None:
    from deskbot.slack.http import serve

    db = open_database(settings)
    wsgi, services = http_app(settings, db)
    ticker = start_ticker(services)
    log.info("deskbot listening on http://%s:%d/slack/events", host, port)
    try:
        serve(wsgi, host=host, port=port, threads=threads)
    finally:
        ticker.shutdown(wait=False)


def socket_mode_handler(settings: Settings, db: Database) -> tuple[SocketModeHandler, Services]:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    services = build_services(settings, db)
    app = build_app(services, verify_requests=False)
    return SocketModeHandler(app, settings.slack_app_token.get_secret_value()), services


def run_socket_mode(settings: Settings) -> None:
    db = open_database(settings)
    handler, services = socket_mode_handler(settings, db)
    ticker = start_ticker(services)
    log.info("deskbot connected to Slack over Socket Mode")
    try:
        connect_and_wait: Callable[[], None] = handler.start  # slack_bolt leaves it untyped
        connect_and_wait()
    finally:
        ticker.shutdown(wait=False)
