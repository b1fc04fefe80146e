"""What an operator sees when deskbot cannot start or cannot do what it was told: one line
naming the setting or option, never a traceback; and Slack's start-up check, as real processes."""

from __future__ import annotations

import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskbot import startup
from deskbot.settings import Roles
from tests.conftest import AGENT, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, make_settings
from tests.support.slack_standin import SlackStandin

UNREACHABLE_POSTGRES = "postgresql+psycopg://deskbot:s3cr3t-pw@127.0.0.1:1/test"


def closed_port() -> int:
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The test's own environment without any deskbot or Slack setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBOT_", "SLACK_"))}
    env.update(
        {
            "DESKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'deskbot.sqlite3'}",
            "DESKBOT_LOG_LEVEL": "WARNING",
            # Nothing may reach the real Slack from a test.
            "DESKBOT_SLACK_API_URL": f"http://127.0.0.1:{closed_port()}/api/",
            "COLUMNS": "80",  # a narrow terminal: the line must not be wrapped into several
            **settings,
        }
    )
    return env


def deskbot(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskbot", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(tmp_path, **settings),
        cwd=tmp_path,
    )


def the_one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single line deskbot wrote to stderr, after checking the exit code and that there
    was no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("deskbot: ")
    return lines[0]


# -- configuration mistakes: exit 2 ---------------------------------------------------------


def test_an_unknown_language_names_the_setting_and_the_choices(tmp_path: Path) -> None:
    line = the_one_line(deskbot(tmp_path, "db", "upgrade", DESKBOT_LANGUAGE="fr"), 2)
    assert "DESKBOT_LANGUAGE must be one of en, nl, de, not 'fr'" in line


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://deskbot:s3cr3t-pw@db.example.org/deskbot", "uses mysql"),
        ("postgresql://deskbot:s3cr3t-pw@db.example.org/deskbot", "driver postgresql"),
        ("s3cr3t-pw and no URL at all", "is not a database URL"),
    ],
)
def test_an_unsupported_database_url_is_refused_without_its_password(
    tmp_path: Path, url: str, says: str
) -> None:
    line = the_one_line(deskbot(tmp_path, "db", "upgrade", DESKBOT_DATABASE_URL=url), 2)
    assert "DESKBOT_DATABASE_URL" in line and says in line
    assert "postgresql+psycopg://" in line  # what to write instead
    assert "s3cr3t" not in line


def test_an_invalid_config_file_names_the_file_and_the_place(tmp_path: Path) -> None:
    config = tmp_path / "deskbot.toml"
    config.write_text('organisation = "GGZ Voorbeeld"\nlanguage = \n')
    line = the_one_line(deskbot(tmp_path, "db", "upgrade", DESKBOT_CONFIG=str(config)), 2)
    assert f"DESKBOT_CONFIG points to {config}, which is not valid TOML" in line
    assert "line 2" in line


def test_bad_values_in_the_config_file_give_one_line_each(tmp_path: Path) -> None:
    config = tmp_path / "deskbot.toml"
    config.write_text('language = "fr"\n[sla]\nworking_days = 0\n')
    done = deskbot(tmp_path, "db", "upgrade", DESKBOT_CONFIG=str(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"deskbot: DESKBOT_LANGUAGE (language in {config}) must be one of en, nl, de, not 'fr'. "
        "Change it in the environment or in the file.",
        f"deskbot: DESKBOT_SLA__WORKING_DAYS (sla.working_days in {config}) must be greater "
        "than or equal to 1, not 0. Change it in the environment or in the file.",
    ]


@pytest.mark.parametrize(
    "command",
    [["audit", "export"], ["sla", "report", "--month", "2026-11"]],
    ids=["audit-export", "sla-report"],
)
def test_an_output_path_that_cannot_be_written(tmp_path: Path, command: list[str]) -> None:
    done = deskbot(tmp_path, *command, "-o", "/nonexistent/dir/x.csv")
    line = the_one_line(done, 2)
    assert "--output /nonexistent/dir/x.csv" in line and "does not exist" in line
    assert not (tmp_path / "deskbot.sqlite3").exists()  # refused before any work


def test_an_output_path_is_checked_before_the_work(tmp_path: Path) -> None:
    with pytest.raises(startup.OperatorError, match="is a folder: give the name of a file"):
        startup.check_output(tmp_path)
    startup.check_output(tmp_path / "report.csv")
    blocked = tmp_path / "blocked.csv"
    with pytest.raises(startup.OperatorError, match=r"blocked\.csv\/x\.csv: the folder"):
        blocked.write_text("")
        startup.check_output(blocked / "x.csv")


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET is not"),
        ({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN is not"),
        ({"SLACK_APP_TOKEN": APP_TOKEN}, "Socket Mode needs SLACK_BOT_TOKEN"),
    ],
    ids=["token-only", "secret-only", "app-token-only"],
)
def test_run_names_the_missing_slack_setting(
    tmp_path: Path, settings: dict[str, str], missing: str
) -> None:
    line = the_one_line(deskbot(tmp_path, "run", **settings), 2)
    assert missing in line


# -- Slack's answer at start ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_token_slack_refuses_stops_the_start(
    tmp_path: Path, standin: SlackStandin, command: str
) -> None:
    done = deskbot(
        tmp_path,
        command,
        "--port",
        "0",
        SLACK_BOT_TOKEN="xoxb-not-the-one",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DESKBOT_SLACK_API_URL=standin.api_url,
    )
    line = the_one_line(done, 2)
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in line
    assert "xoxb-not-the-one" not in line
    assert [call.method for call in standin.calls] == ["auth.test"]


def test_socket_mode_names_a_refused_app_token(tmp_path: Path, standin: SlackStandin) -> None:
    done = deskbot(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN="xapp-not-the-one",
        DESKBOT_SLACK_API_URL=standin.api_url,
    )
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in the_one_line(done, 2)


class Running:
    """deskbot in its own process, its stderr read line by line as it comes."""

    def __init__(self, tmp_path: Path, *args: str, **settings: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deskbot", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(tmp_path, DESKBOT_LOG_LEVEL="INFO", **settings),
            cwd=tmp_path,
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._new.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._new.get(timeout=0.1)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.lines)
                continue
            self.lines.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r}:\n" + "\n".join(self.lines))

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=10)
        while not self._new.empty():
            self.lines.append(self._new.get())
        return "\n".join(self.lines)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.stop()


def test_serve_starts_while_slack_cannot_be_reached(tmp_path: Path, running: list[Running]) -> None:
    slack = f"http://127.0.0.1:{closed_port()}/api/"
    server = Running(
        tmp_path,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DESKBOT_SLACK_API_URL=slack,
    )
    running.append(server)
    port = server.wait_for(r"listening on http://127\.0\.0\.1:(\d+)/").group(1)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        assert answer.status == 200
    assert server.process.poll() is None
    log = server.stop()
    assert "Traceback" not in log
    unreachable = [line for line in log.splitlines() if "could not be reached" in line]
    assert len(unreachable) == 1, log
    assert f"Slack could not be reached at {slack} (connection refused)" in unreachable[0]
    assert "keeps trying" in unreachable[0]
    # No roles are configured here: one warning says so, and where they are set.
    no_roles = [line for line in log.splitlines() if "No roles are configured" in line]
    assert len(no_roles) == 1 and "DESKBOT_ROLES__" in no_roles[0], log


def test_socket_mode_starts_and_connects(
    tmp_path: Path, standin: SlackStandin, running: list[Running]
) -> None:
    bot = Running(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        DESKBOT_SLACK_API_URL=standin.api_url,
        DESKBOT_ROLES__AGENTS=f'["{AGENT}"]',
    )
    running.append(bot)
    bot.wait_for("connected to Slack over Socket Mode")
    standin.wait_socket_connected(timeout=10)
    log = bot.stop()
    assert "Slack accepted SLACK_BOT_TOKEN (workspace T0001, bot user U0BOT)" in log
    assert "No roles are configured" not in log and "Traceback" not in log


# -- the database: exit 1 -------------------------------------------------------------------


def test_db_upgrade_with_the_database_unreachable(tmp_path: Path) -> None:
    done = deskbot(tmp_path, "db", "upgrade", DESKBOT_DATABASE_URL=UNREACHABLE_POSTGRES)
    line = the_one_line(done, 1)
    assert "The database at postgresql+psycopg://127.0.0.1:1/test could not be used" in line
    assert "Connection refused" in line and "DESKBOT_DATABASE_URL" in line
    assert "s3cr3t" not in done.stderr and "deskbot@" not in done.stderr


def test_serve_with_the_database_unreachable(tmp_path: Path, standin: SlackStandin) -> None:
    done = deskbot(
        tmp_path,
        "serve",
        "--port",
        "0",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DESKBOT_SLACK_API_URL=standin.api_url,
        DESKBOT_DATABASE_URL=UNREACHABLE_POSTGRES,
        DESKBOT_ROLES__AGENTS=f'["{AGENT}"]',
    )
    line = the_one_line(done, 1)
    assert "postgresql+psycopg://127.0.0.1:1/test could not be used" in line
    assert "s3cr3t" not in done.stderr


# -- the background check, in this process ------------------------------------------------------


def test_the_background_check_logs_once_when_slack_answers(
    standin: SlackStandin, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", standin.api_url)
    standin.fail_next("auth.test", status=503, times=3)
    with caplog.at_level(logging.INFO, logger="deskbot.startup"):
        thread = startup.check_slack(settings, first_delay=0.01, max_delay=0.05)
        assert thread is not None and thread.daemon
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert [r.getMessage() for r in caplog.records] == [
        f"Slack could not be reached at {standin.api_url} (HTTP 503); deskbot starts anyway "
        "and keeps trying.",
        "Slack answered: deskbot is connected (workspace T0001, bot user U0BOT).",
    ]
    assert len(standin.calls_to("auth.test")) == 4


def test_the_background_check_stops_at_a_refused_token(
    standin: SlackStandin, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'x.sqlite3'}", standin.api_url, slack_bot_token="xoxb-revoked"
    )
    standin.fail_next("auth.test", error="ratelimited")
    with caplog.at_level(logging.INFO, logger="deskbot.startup"):
        thread = startup.check_slack(settings, first_delay=0.01)
        assert thread is not None
        thread.join(timeout=10)
    last = caplog.records[-1]
    assert last.levelno == logging.ERROR and "SLACK_BOT_TOKEN (invalid_auth)" in last.getMessage()


def test_no_roles_is_all_roles_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with caplog.at_level(logging.WARNING, logger="deskbot.startup"):
        startup.warn_if_no_roles(make_settings(url, "http://127.0.0.1:9/", roles=Roles()))
        startup.warn_if_no_roles(make_settings(url, "http://127.0.0.1:9/"))
    assert len(caplog.records) == 1
