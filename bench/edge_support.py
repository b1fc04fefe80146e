"""What bench/edge.py's sections share: the stand-in that can fail for a while, a deskbot served
on waitress, the log tally, signed requests, waiting, and reading what Slack received.

bench/edge.py puts this checkout (for tests.support) and bench/ on sys.path before importing it.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.driver import Response, SlackDriver
from tests.support.slack_standin import JsonDict, SlackStandin

from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.settings import Platform, Roles, Settings
from deskbot.slack.http import make_server
from deskbot.slack.ids import View

SECRET = "bench-edge-secret"
TOKEN = "xoxb-test"
TRIAGE = "C0TRIAGE"
AM, AM2, AGENT, DO, THERAPIST, LEAD = "U0AM", "U0AM2", "U0AGENT", "U0DO", "U0THERAPIST", "U0LEAD"
OUTSIDER, GROUPED, FRESH = "U0OUTSIDER", "U0GROUPED", "U0FRESH"
PEOPLE = (AM, AM2, AGENT, DO, THERAPIST, LEAD, OUTSIDER, GROUPED, FRESH)
MARKER = "edge-marker-7f3a"  # in what the fuzzed requests carry, so a logged body is found
ADDRESS = f"{MARKER}@example.org"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
BUDGET = {False: 900.0, True: 120.0}  # seconds a section may send for, by --quick
T = TypeVar("T")


# -- the stand-in and deskbot -------------------------------------------------------------------


class BenchStandin(SlackStandin):
    """The project's stand-in plus outages in time: while one lasts, every call to its method
    fails as if queued with `fail_next` just before it arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._outages: dict[str, tuple[float, int]] = {}
        self._outage_lock = threading.Lock()

    def outage(self, method: str, seconds: float, *, status: int = 503) -> float:
        """Fails every call to `method` for `seconds`; returns when that ends (monotonic)."""
        until = time.monotonic() + seconds
        with self._outage_lock:
            self._outages[method] = (until, status)
        return until

    def _api(
        self, method: str, query: str, body: bytes, request: BaseHTTPRequestHandler
    ) -> tuple[int, dict[str, str], bytes]:
        with self._outage_lock:
            window = self._outages.get(method)
        if window is not None and time.monotonic() < window[0]:
            self.fail_next(method, status=window[1])
        return super()._api(method, query, body, request)


def bench_standin(extra_people: Iterable[str] = (), **kwargs: Any) -> BenchStandin:
    """The stand-in with the triage channel, the bench's people and `extra_people`."""
    users = {
        uid: {"locale": "en-US", "name": uid.lower(), "tz": "Europe/Amsterdam"}
        for uid in (*PEOPLE, *extra_people)
    }
    return BenchStandin(bot_token=TOKEN, channels={TRIAGE}, users=users, **kwargs)


def bench_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "organisation": "Bench care",
        "organisation_id": "bench",
        "platforms": [
            Platform(name="production", url="https://care.example.org"),
            Platform(name="training", url="https://training.care.example.org"),
        ],
        "roles": Roles(
            application_managers=[AM, AM2, FRESH, "S0AMS"],
            agents=[AGENT],
            data_officers=[DO],
            therapists=[THERAPIST],
            leads=[LEAD],
        ),
        "triage_channel": TRIAGE,
        "database_url": database_url,
        "slack_api_url": api_url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def database(base_url: str | None, workdir: Path, name: str) -> Iterator[Database]:
    """A fresh, migrated database per section: a SQLite file, or a schema in PostgreSQL."""
    if base_url is None or not base_url.startswith("postgresql"):
        db = Database(f"sqlite:///{workdir / name}.sqlite3")
        db.upgrade()
        yield db
        db.dispose()
        return
    schema = f"edge_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    db = Database(f"{base_url}{separator}options=-csearch_path%3D{schema}")
    try:
        db.upgrade()
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def served(wsgi: Any) -> Iterator[str]:
    """deskbot's own waitress server on a free port of 127.0.0.1; yields the request URL."""
    server = make_server(wsgi, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/slack/events"
    finally:
        server.close()


def complete_draft(runner: FlowRunner, user: str) -> str:
    """A bug-report draft with every answer given, waiting for its summary to be submitted."""
    draft, _ = runner.open(flow="bug_report", user_id=user, surface="modal", fresh=True)
    runner.update_state(draft.id, user, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    return draft.id


# -- the log ------------------------------------------------------------------------------------


class LogTally(logging.Handler):
    """Keeps every log line in a file and counts tracebacks and lines that carry a body."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.out: Any = None
        self.path = Path()
        self.reset("edge")

    def reset(self, section: str) -> None:
        if self.out is not None:
            self.out.close()
        self.path = Path(tempfile.gettempdir()) / f"deskbot-edge-{section}.log"
        self.out = self.path.open("w", encoding="utf-8", errors="backslashreplace")
        self.tracebacks = 0
        self.marked = 0
        self.errors = 0
        self.types: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.out.write(line + "\n")
        self.tracebacks += line.count("Traceback (most recent call last)")
        self.marked += MARKER in line
        self.errors += record.levelno >= logging.ERROR
        if record.exc_info and record.exc_info[0] is not None:
            self.types[record.exc_info[0].__name__] += 1

    def summary(self) -> str:
        kinds = ", ".join(f"{name} x{n}" for name, n in self.types.most_common(6)) or "none"
        return (
            f"log lines with a traceback: {self.tracebacks} (exception types: {kinds}); "
            f"ERROR lines: {self.errors}; lines carrying a request's text ({MARKER}): "
            f"{self.marked}; log: {self.path}"
        )


TALLY = LogTally()


def log_thread_crash(crash: threading.ExceptHookArgs) -> None:
    """A thread that dies unseen would not show in the log; say so in it, traceback included."""
    if crash.exc_type is SystemExit or crash.exc_value is None:
        return
    logging.getLogger("bench.threads").error(
        "thread %s died",
        crash.thread.name if crash.thread else "?",
        exc_info=(crash.exc_type, crash.exc_value, crash.exc_traceback),
    )


# -- waiting ------------------------------------------------------------------------------------


def wait_until(check: Callable[[], T | None], timeout: float, every: float = 0.05) -> T | None:
    """The first truthy answer of `check` within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() >= deadline:
            return found or None
        time.sleep(every)


def settle(standin: SlackStandin, *, quiet_for: float = 1.0, limit: float = 30.0) -> None:
    """Waits until deskbot's work after the acks has stopped calling Slack (bounded)."""
    deadline = time.monotonic() + limit
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(standin.calls)
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return
        time.sleep(0.1)


# -- requests -----------------------------------------------------------------------------------


def signed(driver: SlackDriver, body: bytes, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, **driver.sign(body)}


def exchange(driver: SlackDriver, body: bytes, headers: dict[str, str]) -> Response | None:
    """A POST of exactly this; None when deskbot gave no HTTP answer at all."""
    try:
        return driver.raw(body, headers)
    except OSError:
        return None


def post(driver: SlackDriver, body: bytes, content_type: str) -> Response | None:
    """A signed POST; None when deskbot gave no HTTP answer at all."""
    return exchange(driver, body, signed(driver, body, content_type))


def interaction(payload: JsonDict) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def submission(user: str, callback_id: str, values: JsonDict, metadata: str) -> tuple[bytes, str]:
    """A view_submission as Slack sends it for a modal deskbot opened earlier."""
    view = {
        "id": f"V{uuid.uuid4().hex[:8].upper()}",
        "type": "modal",
        "hash": "h",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "blocks": [],
        "state": {"values": values},
    }
    return interaction(
        {
            "type": "view_submission",
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "token": "x",
            "user": {"id": user},
            "trigger_id": "t.1",
            "view": view,
        }
    )


def summary_submission(user: str, draft_id: str) -> tuple[bytes, str]:
    """The bug report's last page: submitting it files the report."""
    return submission(user, View.FLOW_SUMMARY, {}, json.dumps({"d": draft_id, "p": None}))


# -- what came back, and what Slack received ----------------------------------------------------


def reference_in(shown: str) -> str | None:
    """The first BUG-n a text shows."""
    return next(iter(re.findall(r"BUG-\d+", shown)), None)


def mentions(call_text: str, reference: str) -> bool:
    """Whether a message's text names this reference and no other."""
    found = set(re.findall(r"\b(?:BUG|DEL)-\d+\b", call_text))
    return found == {reference}


def posted(standin: SlackStandin, reference: str, channel: str) -> list[float]:
    """When each successful top-level post naming this reference (and no other) arrived, to a
    channel or to a user (their DM)."""
    return [
        call.at
        for call in standin.successful("chat.postMessage")
        if call.params.get("channel") in (channel, "D" + channel)
        and not call.params.get("thread_ts")
        and mentions(str(call.params.get("text") or ""), reference)
    ]


# -- tables -------------------------------------------------------------------------------------


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def columns(widths: Sequence[int], rows: Iterable[Sequence[object]]) -> list[str]:
    """Fixed-width lines, a header being just the first row: a positive width aligns right, a
    negative one left, 0 leaves the cell as it is."""
    return [
        "".join(
            f"{cell!s:>{width}}" if width > 0 else f"{cell!s:<{-width}}"
            for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def statuses(seen: Counter[int | None]) -> str:
    """HTTP status x count, most often first; '-' for none."""
    return ", ".join(f"{status or 'none'} x{n}" for status, n in seen.most_common()) or "-"
