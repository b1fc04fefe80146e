"""Starts deskbot: database, Slack app, HTTP server or Socket Mode, and the ticker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from deskbot import scheduler, startup
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
    secret = settings.slack_signing_secret
    wsgi = DeskbotWsgi(build_app(services), db, secret.get_secret_value() if secret else None)
    return wsgi, services


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


def check_start(settings: Settings, *, socket_mode: bool = False) -> Database:
    """What `run` and `serve` check before they serve: the bot token (auth.test), the roles,
    the database (opened and returned), and for Socket Mode the app token. Raises
    startup.OperatorError for what the operator must fix first."""
    asking = startup.check_slack(settings)
    if socket_mode and asking is None:
        startup.check_app_token(settings)
    startup.warn_if_no_roles(settings)
    db = open_database(settings)
    if not settings.auto_migrate and not db.is_reachable():
        # Instances that leave migrating to `deskbot db upgrade` may start before the database.
        log.warning(
            "The database at %s cannot be reached yet; /healthz answers 503 until it can.",
            startup.masked(settings.database_url),
        )
    if socket_mode and asking is not None:
        asking.join()  # Socket Mode has nothing to serve before Slack answers
        startup.check_app_token(settings)
    return db


def run_http(settings: Settings, *, host: str, port: int, threads: int) -> None:
    from deskbot.slack.http import make_server

    db = check_start(settings)
    wsgi, services = http_app(settings, db)
    try:
        server = make_server(wsgi, host=host, port=port, threads=threads)
    except OSError as problem:
        raise startup.OperatorError(
            f"--host {host} --port {port}: deskbot cannot listen there ({problem.strerror}). "
            "Choose another --port, or stop what is using it."
        ) from None
    ticker = start_ticker(services)
    log.info("deskbot listening on http://%s:%s/slack/events", host, server.effective_port)
    try:
        server.run()
    finally:
        ticker.shutdown(wait=False)


def socket_mode_handler(settings: Settings, db: Database) -> tuple[SocketModeHandler, Services]:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    services = build_services(settings, db)
    app = build_app(services)
    return SocketModeHandler(app, settings.slack_app_token.get_secret_value()), services


def run_socket_mode(settings: Settings) -> None:
    db = check_start(settings, socket_mode=True)
    handler, services = socket_mode_handler(settings, db)
    ticker = start_ticker(services)
    try:
        connect: Callable[[], None] = handler.connect  # slack_bolt leaves it untyped
        startup.connect_socket_mode(connect, settings)
        log.info("deskbot connected to Slack over Socket Mode")
        threading.Event().wait()  # the connection lives on slack_sdk's threads
    finally:
        ticker.shutdown(wait=False)
