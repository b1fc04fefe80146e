"""Fixtures: a database built by the migrations (SQLite and PostgreSQL), the Slack stand-in,
and deskbot itself served over HTTP on a local port."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from deskbot import clock
from deskbot.db import Database
from deskbot.settings import Platform, Roles, Settings
from deskbot.slack.app import Services
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandin

POSTGRES_URL = os.environ.get(
    "DESKBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
AM = "U0AM"  # an application manager
AM2 = "U0AM2"
AGENT = "U0AGENT"
GROUP_MEMBER = "U0GROUPED"  # an application manager through a user group
OUTSIDER = "U0OUTSIDER"  # no role at all
THERAPIST = "U0THERAPIST"
LEAD = "U0LEAD"  # receives SLA escalations
TRIAGE = "C0TRIAGE"
# Users whose Slack is set to another language; they hold roles only where a test gives them.
DUTCH = "U0NL"  # nl-NL
GERMAN = "U0DE"  # de-DE
FRENCH = "U0FR"  # fr-FR: a language deskbot does not speak


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_ok() -> bool:
    available = _postgres_available()
    if not available and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and not reachable at {POSTGRES_URL}")
    return available


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_ok: bool
) -> Iterator[str]:
    """An empty database of each kind; each test gets its own (a file, or a PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deskbot.sqlite3'}"
        return
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable here (CI always runs it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    users = {
        uid: {"locale": "en-US", "name": uid.lower(), "tz": "Europe/Amsterdam"}
        for uid in (AM, AM2, AGENT, GROUP_MEMBER, OUTSIDER, THERAPIST, LEAD)
    }
    for uid, locale in ((DUTCH, "nl-NL"), (GERMAN, "de-DE"), (FRENCH, "fr-FR")):
        users[uid] = {"locale": locale, "name": uid.lower(), "tz": "Europe/Amsterdam"}
    with SlackStandin(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        channels={TRIAGE},
        users=users,
        usergroups={"S0AMS": [GROUP_MEMBER]},
    ) as running:
        yield running


def make_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "organisation": "Test care",
        "organisation_id": "test",
        "platforms": [
            Platform(name="production", url="https://care.example.org"),
            Platform(name="training", url="https://training.care.example.org"),
        ],
        "roles": Roles(
            application_managers=[AM, AM2, "S0AMS"],
            agents=[AGENT],
            therapists=[THERAPIST],
            leads=[LEAD],
        ),
        "triage_channel": TRIAGE,
        "database_url": database_url,
        "slack_api_url": api_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class RunningApp:
    url: str
    db: Database
    services: Services
    driver: SlackDriver
    server: Any

    def stop(self) -> None:
        RUNNING.discard(self)
        self.server.close()
        self.services.work.shutdown(wait=True)

    def idle(self, timeout: float = 30.0) -> None:
        """Wait until deskbot has finished the work that followed its acks so far."""
        assert self.services.work.wait_idle(timeout), "deskbot's work after the ack hangs"

    __hash__ = object.__hash__


# Every deskbot served in this test, so that a test's clock moves only once they are idle.
RUNNING: set[RunningApp] = set()


def all_idle() -> None:
    for app in list(RUNNING):
        app.idle()


def run_until_closed(server: Any) -> None:
    """waitress's loop, which ends with EBADF when the test closes the server's sockets."""
    with suppress(OSError, ValueError):
        server.run()


def serve_app(settings: Settings, standin: SlackStandin) -> RunningApp:
    from deskbot.runtime import http_app
    from deskbot.slack.http import make_server

    database = Database(settings.database_url)
    wsgi, services = http_app(settings, database)
    server = make_server(wsgi, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=run_until_closed, args=(server,), daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    running = RunningApp(url, database, services, SlackDriver(url, SIGNING_SECRET, standin), server)
    RUNNING.add(running)
    return running


def serving(settings: Settings, standin: SlackStandin) -> Iterator[RunningApp]:
    """For a fixture: `yield from serving(settings, standin)` serves deskbot for one test."""
    running = serve_app(settings, standin)
    yield running
    running.stop()
    running.db.dispose()


@pytest.fixture
def deskbot(db: Database, standin: SlackStandin) -> Iterator[RunningApp]:
    """deskbot served over HTTP on a local port, talking to the Slack stand-in."""
    yield from serving(make_settings(db.url, standin.api_url), standin)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def cli_settings(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The command line's settings (from the environment) pointing at the test database."""
    from deskbot.settings import get_settings

    monkeypatch.delenv("DESKBOT_CONFIG", raising=False)
    monkeypatch.setenv("DESKBOT_DATABASE_URL", db.url)
    monkeypatch.setenv("DESKBOT_ORGANISATION_ID", "care")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables at 80 columns otherwise
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
