"""deskbot as a real process: the console in a terminal session, and a crash mid-conversation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from deskbot.db import Database
from deskbot.models import BugReport, DeletionRequest, Draft, Reminder
from deskbot.slack.ids import Action
from tests.conftest import AM, BOT_TOKEN, SIGNING_SECRET, TRIAGE
from tests.support.chat import Chat
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandin

CONSOLE_SCRIPT = (
    "\n".join(
        [
            "1",  # report a bug
            "https://Care.Example.org/some/page",  # a typed address becomes its origin
            "2",  # the mobile app
            "1",  # a client
            "anna@example.org",  # refused: an email address
            "c-77",
            "6",  # conversations / messages
            "skip",
            "Open messages, write to the therapist, press send.",
            "The message is sent.",
            "The app closes. Call 0612345678 for details",
            "3",  # phone
            "Android",  # refused: no version
            "Android 14",
            "Fairphone 5",
            "4.12.1",
            "1,2,3,4,5,6",
            "2",
            "1",
            "skip",
            "y",  # file it
            "q",
        ]
    )
    + "\n"
)


def deskbot_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBOT_", "SLACK_"))}
    env.update({"DESKBOT_DATABASE_URL": database_url, "DESKBOT_LOG_LEVEL": "WARNING", **extra})
    return env


def run_console(
    tmp_path: Path, script: str, *options: str
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """`deskbot console` in its own process, typed to from a script; its database URL too."""
    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "deskbot", "console", *options],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=deskbot_env(url),
        cwd=tmp_path,
    )
    return url, done


def test_console_files_a_report_without_slack(tmp_path: Path) -> None:
    url, done = run_console(tmp_path, CONSOLE_SCRIPT)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "looks like an email address" in out
    assert "version number" in out
    assert "Filed as BUG-1" in out
    assert "[phone number removed]" in out and "0612345678" in out.split("Filed as")[0]
    assert "0612345678" not in out.split("Filed as")[1]
    db = Database(url)
    with db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.answers["platform"] == "https://care.example.org"
        assert report.answers["app_version"] == "4.12.1"
    db.dispose()


def test_run_without_credentials_or_terminal_explains_itself(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deskbot", "run"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=deskbot_env(f"sqlite:///{tmp_path / 'x.sqlite3'}"),
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "SLACK_BOT_TOKEN" in done.stderr and "deskbot console" in done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`deskbot serve` in its own process."""

    def __init__(self, database_url: str, standin: SlackStandin, **extra: str) -> None:
        self.port = free_port()
        self.env = deskbot_env(
            database_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            DESKBOT_SLACK_API_URL=standin.api_url,
            DESKBOT_TRIAGE_CHANNEL=TRIAGE,
            DESKBOT_ORGANISATION_ID="test",
            DESKBOT_ROLES__APPLICATION_MANAGERS=f'["{AM}"]',
            **extra,
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskbot",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                assert self.process.poll() is None, (
                    self.process.stderr.read() if self.process.stderr else ""
                )
                time.sleep(0.1)
        raise AssertionError("deskbot serve did not come up")

    def crash(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"


@pytest.fixture
def server(db: Database, standin: SlackStandin) -> Iterator[Server]:
    running = Server(db.url, standin)
    yield running
    if running.process and running.process.poll() is None:
        running.process.terminate()
        running.process.wait(timeout=10)


def test_a_crash_mid_conversation_loses_nothing(
    server: Server, db: Database, standin: SlackStandin
) -> None:
    server.start()
    driver = SlackDriver(server.url, SIGNING_SECRET, standin)

    chat = Chat(db, driver, standin, AM)
    driver.dm(AM, "bug")
    chat.press(Action.DM_CHOOSE, "production")
    chat.press(Action.DM_CHOOSE, "browser")
    chat.press(Action.DM_CHOOSE, "professional")
    chat.say("p-1234")
    assert "groups or roles" in chat.text()

    server.crash()
    server.start()

    chat.tick("therapist")
    chat.press(Action.DM_CHOOSE, "module")
    chat.press(Action.DM_SKIP)
    chat.say("Open module 3, go to page 2.")
    chat.say("Page 2 opens.")
    chat.say("Page 1 again.")
    chat.press(Action.DM_CHOOSE, "desktop")
    chat.say("macOS 14")
    chat.say("Safari 17.2")
    chat.tick("connection")
    chat.press(Action.DM_CHOOSE, "not_tried")
    chat.press(Action.DM_CHOOSE, "unknown")
    chat.press(Action.DM_SKIP)
    chat.press(Action.DM_SUBMIT)

    with db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.answers["account_id"] == "p-1234"  # given before the crash
        assert report.answers["roles"] == ["therapist"]  # after it
        assert session.scalars(select(Draft.status)).one() == "submitted"


def test_console_email_check_on_demo_accounts(tmp_path: Path) -> None:
    script = "2\ny\nJ.Bakker@Demo-GGZ.example\n2\nkees.jansen@example.org\nq\n"
    _, done = run_console(tmp_path, script)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "used by a professional account" in out and "inactive, ID p-1002, Jeroen Bakker" in out
    assert "activate it again instead of creating a new one" in out
    assert "— active, ID c-2001, Kees Jansen" in out  # the console sees client accounts in full


def test_two_processes_send_each_due_reminder_once(db: Database, standin: SlackStandin) -> None:
    """Two deskbot processes on one database, their tickers running every second: each due
    reminder reaches Slack exactly once, and both processes take part in sending them."""
    count = 600
    servers = [Server(db.url, standin, DESKBOT_TICK_SECONDS="1") for _ in range(2)]
    try:
        for server in servers:
            server.start()
        due = datetime.now(UTC) - timedelta(minutes=1)
        with db.transaction() as session:
            for number in range(1, count + 1):
                session.add(
                    Draft(
                        id=f"d{number}",
                        organisation_id="test",
                        flow="deletion_request",
                        user_id=AM,
                        surface="modal",
                        status="submitted",
                        state={},
                        expires_at=due,
                    )
                )
                session.flush()
                request = DeletionRequest(
                    organisation_id="test",
                    number=number,
                    draft_id=f"d{number}",
                    requester_id=AM,
                    platform="production",
                    client_id=f"c-{number}",
                    asked_on=date(2026, 11, 2),
                    statutory_date=date(2026, 12, 2),
                    status="confirmed",
                    confirmed_by=AM,
                    confirmed_at=due - timedelta(days=7),
                    # Due in two weeks: each due-day reminder is still worth sending.
                    due_date=(due + timedelta(days=14)).date(),
                    due_at=due + timedelta(days=14),
                    messages=[],
                    announced_at=due,
                )
                session.add(request)
                session.flush()
                session.add(
                    Reminder(
                        organisation_id="test",
                        subject_type="deletion_request",
                        subject_id=str(request.id),
                        kind="due_day",
                        due_at=due,
                        status="pending",
                        attempts=0,
                        delivered=[],
                    )
                )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with db.transaction() as session:
                left = session.scalars(
                    select(Reminder.id).where(Reminder.kind == "due_day", Reminder.status != "sent")
                ).all()
            if not left:
                break
            time.sleep(0.2)
        assert not left, f"{len(left)} reminders were never sent"
        posted = [
            c.params["text"]
            for c in standin.successful("chat.postMessage")
            if c.params.get("channel") == TRIAGE
        ]
        references = sorted(t.split("*")[1] for t in posted)
        assert references == sorted(f"DEL-{n}" for n in range(1, count + 1))
        with db.transaction() as session:
            senders = set(
                session.scalars(select(Reminder.claimed_by).where(Reminder.kind == "due_day")).all()
            )
        assert len(senders) == 2, senders  # both processes claimed and sent some
    finally:
        for server in servers:
            if server.process and server.process.poll() is None:
                server.process.terminate()
                server.process.wait(timeout=10)


def test_console_requests_and_confirms_a_deletion(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "3",  # request a deletion
            "1",  # production
            "2",  # a professional: refused, with the advice to deactivate
            "1",  # a client
            "Kees Jansen",  # refused: a name
            "c-5501",
            "tomorrow-ish",  # refused: not a date
            "yesterday",
            "skip",
            "y",  # request it
            "c-5501",  # typed again: confirmed
            "q",
        ]
    )
    url, done = run_console(tmp_path, script + "\n")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Deactivate the account instead" in out and "looks like a person's name" in out
    assert "Please give the date" in out and "This cannot be undone" in out
    assert "Filed as DEL-1" in out and "Confirmed." in out
    db = Database(url)
    with db.transaction() as session:
        request = session.scalars(select(DeletionRequest)).one()
        assert request.status == "confirmed" and request.client_id == "c-5501"
        assert request.due_date is not None and request.confirmed_by == "console"
    db.dispose()
