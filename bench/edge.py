"""Issue 10's measurements of the Slack edge: fuzzed requests, acks with a cold cache and 429s,
and how soon a report's receipt and triage card arrive after a Slack outage.

deskbot runs on waitress on 127.0.0.1 against the project's Slack stand-in, which runs in this
process so the benchmark can make it fail; the project's test driver signs and sends the
requests. Every loop is bounded in count and time, and a fixed seed makes two runs (before and
after a change) send the same mutations.

    python bench/edge.py [--quick] [--only fuzz,acks,outage] [--seed 10] [--database-url URL]

To measure another checkout of deskbot with this script and this checkout's stand-in:
    PYTHONPATH=/path/to/checkout/src python bench/edge.py
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import create_engine, func, select, text
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.driver import PayloadBuilder, Response, SlackDriver
from tests.support.slack_standin import Call, JsonDict, SlackStandin, block_elements

import deskbot
from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.models import BugReport
from deskbot.runtime import http_app, start_ticker
from deskbot.settings import Platform, Roles, Settings
from deskbot.slack.http import make_server
from deskbot.slack.ids import COMMAND, Action, Shortcut, View

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
PAGE_1 = {
    "platform": "https://care.example.org",
    "access": "app",
    "user_kind": "professional",
    "account_id": "prof-4821",
}
PAGE_2 = {
    "roles": ["therapist"],
    "tool": "diary",
    "scenario": f"Open the diary and save. Mail {ADDRESS}",
    "expected": "Saved.",
    "actual": "A spinner keeps turning.",
    "device_type": "phone",
}
PAGE_3 = {
    "os": "iOS 17.4",
    "device_model": "Apple iPhone 13",
    "app_version": "4.12.1",
    "excluded": ["connection"],
    "reproduced": "not_tried",
    "scope": "single_user",
}


# -- the stand-in, deskbot and the log ----------------------------------------------------------


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


def people(extra: list[str] | None = None) -> dict[str, JsonDict]:
    return {
        uid: {"locale": "en-US", "name": uid.lower(), "tz": "Europe/Amsterdam"}
        for uid in (*PEOPLE, *(extra or []))
    }


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
    """A fresh, migrated database per benchmark: a SQLite file, or a schema in PostgreSQL."""
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


class Switch:
    """A WSGI app that hands each request to the current deskbot: a fresh one has cold caches."""

    def __init__(self) -> None:
        self.current: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current(environ, start_response)


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


def interaction(payload: JsonDict) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def post(driver: SlackDriver, body: bytes, content_type: str) -> Response | None:
    """A signed POST; None when deskbot gave no HTTP answer at all."""
    try:
        return driver.raw(body, {"Content-Type": content_type, **driver.sign(body)})
    except OSError:
        return None


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def mentions(call_text: str, reference: str) -> bool:
    """Whether a message's text names this reference and no other."""
    found = set(re.findall(r"\b(?:BUG|DEL)-\d+\b", call_text))
    return found == {reference}


# -- a normal bug report, through the modal -----------------------------------------------------


def wait_modal(standin: SlackStandin, user: str, timeout: float = 10.0) -> JsonDict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = standin.open_modal(user)
        if view is not None:
            return view
        time.sleep(0.05)
    raise AssertionError(f"no modal opened for {user}")


def next_modal(standin: SlackStandin, user: str, old: JsonDict, timeout: float = 10.0) -> JsonDict:
    """The modal in front of the user once it is no longer `old` (its hash changes on update)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = standin.open_modal(user)
        if view is not None and (view["id"], view.get("hash")) != (old["id"], old.get("hash")):
            return view
        time.sleep(0.05)
    raise AssertionError(f"the modal of {user} did not change")


def file_normal_report(driver: SlackDriver, standin: SlackStandin, user: str) -> str:
    """Files a bug report through the modal as a user would; says what was (not) done."""
    try:
        opened = len(standin.calls_to("views.open"))
        answer = driver.command(user, COMMAND, "bug")
        if answer.status != 200:
            return f"no: /desk bug answered HTTP {answer.status}"
        standin.wait_for("views.open", count=opened + 1, timeout=10)
        view = wait_modal(standin, user)
        for page in (PAGE_1, PAGE_2, PAGE_3):
            reply, errors = driver.submit_view(user, view, page)
            if reply.status != 200 or errors:
                return f"no: a page answered HTTP {reply.status} {errors or ''}".strip()
            view = standin.open_modal(user) or view
        reply, errors = driver.submit_view(user, view, {})
        done = json.dumps(standin.open_modal(user) or {})
        reference = next(iter(re.findall(r"BUG-\d+", done)), None)
        if reply.status != 200 or errors or reference is None:
            return f"no: the summary answered HTTP {reply.status} {errors or ''}".strip()
        for channel, what in ((user, "receipt"), (TRIAGE, "triage card")):

            def sent(call: Call, channel: str = channel) -> bool:
                text = str(call.params.get("text"))
                return call.ok and call.params.get("channel") == channel and reference in text

            try:
                standin.wait_for("chat.postMessage", timeout=15, predicate=sent)
            except TimeoutError:
                return f"filed {reference}, but no {what} within 15 s"
        return f"yes: {reference} filed, receipt and triage card posted"
    except (AssertionError, TimeoutError) as problem:
        return f"no: {str(problem)[:160]}"


# -- seeds: payloads of every kind deskbot receives ---------------------------------------------


def element_value(element: JsonDict) -> object:
    kind = element.get("type")
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    if kind in ("static_select", "radio_buttons", "overflow"):
        return options[0]["value"] if options else None
    if kind in ("multi_static_select", "checkboxes"):
        return [options[0]["value"]] if options else None
    if kind in ("users_select", "multi_users_select"):
        return AM
    if kind == "datepicker":
        return (date.today() - timedelta(days=1)).isoformat()
    if kind == "button":
        return element.get("value")
    return "edge"


def element_seeds(
    builder: PayloadBuilder,
    user: str,
    *,
    view: JsonDict | None = None,
    message: JsonDict | None = None,
    channel: str | None = None,
) -> list[JsonDict]:
    """A block_actions payload for each element a view or message shows."""
    shown = view if view is not None else message
    seeds = []
    for block in (shown or {}).get("blocks") or []:
        for element in block_elements(block):
            if not element.get("action_id") or element.get("type") == "file_input":
                continue
            try:
                delivery = builder.block_action(
                    user,
                    str(element["action_id"]),
                    element_value(element),
                    block_id=block.get("block_id"),
                    view=view,
                    message=message,
                    channel_id=channel,
                )
            except (AssertionError, KeyError):
                continue
            seeds.append(delivery.payload)
    return seeds


@dataclass
class Seeds:
    by_kind: dict[str, list[JsonDict]]
    notes: list[str]


def live_seeds(driver: SlackDriver, standin: SlackStandin, db: Database) -> tuple[Seeds, JsonDict]:
    """Payloads built from what deskbot really shows: its modals, cards, questions and home."""
    builder = driver.payloads
    seeds: dict[str, list[JsonDict]] = defaultdict(list)
    notes: list[str] = []
    ids: JsonDict = {"draft": "d" * 32, "report": 1, "request": 1, "view": None}

    def step(name: str, work: Callable[[], None]) -> None:
        try:
            work()
        except (AssertionError, TimeoutError, KeyError, IndexError) as problem:
            notes.append(f"{name}: {type(problem).__name__}: {str(problem)[:120]}")

    def modal_pages() -> None:
        driver.command(AM, COMMAND, "bug")
        view = wait_modal(standin, AM)
        for page in (PAGE_1, PAGE_2, PAGE_3, {}):
            seeds["view_submission"].append(builder.view_submission(AM, view, page)[1].payload)
            seeds["block_actions"] += element_seeds(builder, AM, view=view)
            seeds["view_closed"].append(builder.view_closed(AM, view, is_cleared=False).payload)
            ids["view"] = view
            driver.submit_view(AM, view, page)
            view = next_modal(standin, AM, view)

    def open_draft() -> None:
        driver.command(AM2, COMMAND, "bug")
        view = wait_modal(standin, AM2)
        ids["draft"] = json.loads(view.get("private_metadata") or "{}").get("d", ids["draft"])
        seeds["view_submission"].append(builder.view_submission(AM2, view, PAGE_1)[1].payload)

    def triage_card() -> None:
        standin.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == TRIAGE)
        card = standin.last_message(TRIAGE)
        seeds["block_actions"] += element_seeds(builder, AGENT, message=card, channel=TRIAGE)
        with db.transaction() as session:
            ids["report"] = session.scalar(select(func.max(BugReport.id))) or 1
        opened = len(standin.calls_to("views.open"))
        driver.click(AGENT, card, Action.TRIAGE_ASK)
        standin.wait_for("views.open", count=opened + 1)
        dialog = wait_modal(standin, AGENT)
        values = {"reason": f"Which browser? {ADDRESS}"}
        seeds["view_submission"].append(builder.view_submission(AGENT, dialog, values)[1].payload)

    def conversation() -> None:
        driver.dm(AGENT, "bug")
        standin.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == AGENT)
        time.sleep(0.3)
        question = standin.last_message("D" + AGENT)
        seeds["block_actions"] += element_seeds(builder, AGENT, message=question)

    def deletion() -> None:
        driver.command(AM, COMMAND, "delete")
        view = next_modal(standin, AM, wait_modal(standin, AM))
        asked = (date.today() - timedelta(days=1)).isoformat()
        request = {
            "platform": "production",
            "account_kind": "client",
            "client_id": "c-48213",
            "asked_on": asked,
            "note": "Asked by phone.",
        }
        for values in (request, {}, {"typed": "c-48213"}):
            seeds["view_submission"].append(builder.view_submission(AM, view, values)[1].payload)
            seeds["block_actions"] += element_seeds(builder, AM, view=view)
            driver.submit_view(AM, view, values)
            view = next_modal(standin, AM, view)
        time.sleep(1.0)
        for message in standin.messages(TRIAGE)[-3:]:
            seeds["block_actions"] += element_seeds(builder, AGENT, message=message, channel=TRIAGE)
        ids["request"] = 1

    def email() -> None:
        driver.global_shortcut(DO, Shortcut.CHECK_EMAIL)
        view = wait_modal(standin, DO)
        seeds["view_submission"].append(
            builder.view_submission(DO, view, {"address": ADDRESS})[1].payload
        )

    def home() -> None:
        published = len(standin.calls_to("views.publish"))
        driver.event(
            {"type": "app_home_opened", "user": AGENT, "channel": "D" + AGENT, "tab": "home"}
        )
        standin.wait_for("views.publish", count=published + 1)
        seeds["block_actions"] += element_seeds(builder, AGENT, view=standin.home(AGENT))

    def shortcuts() -> None:
        for user in (AM, AGENT, OUTSIDER):
            for shortcut in (Shortcut.REPORT_BUG, Shortcut.CHECK_EMAIL, Shortcut.REQUEST_DELETION):
                seeds["shortcut"].append(builder.global_shortcut(user, shortcut).payload)
        said = standin.add_message(TRIAGE, {"text": f"Spinner again, {ADDRESS}", "user": AM})
        seeds["shortcut"].append(
            builder.message_shortcut(AM, Shortcut.REPORT_MESSAGE_AS_BUG, said, TRIAGE).payload
        )

    for name, work in (
        ("bug report modal", modal_pages),
        ("open draft", open_draft),
        ("triage card", triage_card),
        ("DM conversation", conversation),
        ("deletion request", deletion),
        ("email check", email),
        ("app home", home),
        ("shortcuts", shortcuts),
    ):
        step(name, work)
    standin.close_modal(AM2, clear=True)
    return Seeds(dict(seeds), notes), ids


def made_seeds(builder: PayloadBuilder, ids: JsonDict) -> dict[str, list[JsonDict]]:
    """Payloads built here, for every command, action ID and callback ID deskbot knows."""
    seeds: dict[str, list[JsonDict]] = defaultdict(list)
    texts = [
        "",
        "help",
        "bug",
        "bug chat",
        "delete",
        "delete dm",
        f"email {ADDRESS}",
        "email",
        "deletions",
        "deletions report 2026-11",
        "whoami",
        "find diary",
        "search spinner",
    ]
    for user in (AM, AGENT, OUTSIDER, DO):
        for words in texts:
            seeds["command"].append(builder.command(user, COMMAND, words).payload)
    draft, report, request = ids["draft"], ids["report"], ids["request"]
    values = [
        draft,
        str(report),
        str(request),
        f"{draft}:platform:https://care.example.org",
        json.dumps({"a": ADDRESS}),
        json.dumps({"to": AM}),
        f"BUG-{report}",
        "next:2",
    ]
    person = {"id": AGENT, "username": "u0agent", "name": "u0agent", "team_id": "T0001"}
    common = {"token": "x", "api_app_id": "A0001", "team": {"id": "T0001"}, "user": person}
    view = {
        "id": "V0EDGE",
        "type": "modal",
        "hash": "h",
        "callback_id": View.FLOW_PAGE,
        "private_metadata": json.dumps({"d": draft, "p": 0}),
        "blocks": [],
        "state": {"values": {}},
    }
    for action in Action:
        action_id = f"{action}-1" if action == Action.DM_CHOOSE else str(action)
        for value in values:
            clicked = {
                "type": "button",
                "action_id": action_id,
                "block_id": f"bug-{report}",
                "value": value,
                "action_ts": "1.1",
            }
            on_message = {
                "container": {"type": "message", "message_ts": "1.1", "channel_id": TRIAGE},
                "channel": {"id": TRIAGE},
                "message": {"ts": "1.1", "blocks": []},
            }
            on_view = {"container": {"type": "view", "view_id": "V0EDGE"}, "view": view}
            for where in (on_message, on_view):
                seeds["block_actions"].append(
                    {
                        **common,
                        "type": "block_actions",
                        "trigger_id": "t.1",
                        "actions": [clicked],
                        **where,
                    }
                )
    metas = [
        {"d": draft, "p": 0},
        {"d": draft},
        {"r": request, "a": "pause"},
        {"r": report, "a": "ask"},
        {"to": AM},
    ]
    state = {
        key: {key: {"type": "plain_text_input", "value": f"Hello {ADDRESS}"}}
        for key in ("address", "reason", "typed", "reply", "account_id")
    }
    for callback in View:
        for meta in metas:
            submitted = {
                **view,
                "callback_id": str(callback),
                "private_metadata": json.dumps(meta),
                "state": {"values": state},
            }
            seeds["view_submission"].append(
                {**common, "type": "view_submission", "trigger_id": "t.1", "view": submitted}
            )
    for action_id in ("platform", "tool", "account_id", "assignee"):
        seeds["block_suggestion"].append(
            {
                **common,
                "type": "block_suggestion",
                "action_id": action_id,
                "block_id": action_id,
                "value": "car",
                "container": {"type": "view", "view_id": "V0EDGE"},
                "view": view,
            }
        )
    events = [
        builder.dm_event(AM2, "hello"),
        builder.dm_event(AM2, "bug"),
        builder.dm_event(AGENT, "back"),
        {"type": "app_home_opened", "user": AM, "channel": "D" + AM, "tab": "home"},
        {
            "type": "message",
            "channel": TRIAGE,
            "channel_type": "channel",
            "user": AM,
            "text": "hello",
            "ts": "1.2",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "D" + AM,
            "channel_type": "im",
            "message": {"text": "bug", "user": AM},
            "ts": "1.3",
        },
        {
            "type": "message",
            "subtype": "bot_message",
            "channel": "D" + AM,
            "channel_type": "im",
            "bot_id": "B0BOT",
            "text": "hi",
            "ts": "1.4",
        },
        {"type": "app_mention", "user": AM, "channel": TRIAGE, "text": "<@U0BOT> bug"},
        {
            "type": "reaction_added",
            "user": AM,
            "reaction": "ticket",
            "item": {"type": "message", "channel": TRIAGE, "ts": "1.2"},
        },
    ]
    for event in events:
        seeds["event"].append(builder.event(event).payload)
    seeds["event"].append({"token": "x", "challenge": "c", "type": "url_verification"})
    return dict(seeds)


# -- mutations ----------------------------------------------------------------------------------

UNICODE = [
    "Zoë Ångström",
    "🙂" * 40,
    "\u202eevil\u202c",
    "\x00",
    "\ud800",
    "e\u0301" * 30,
    "\U0001d518\U0001d52b\U0001d526",  # Fraktur letters
    "中文字符",
    "مرحبا",
    "\ufeff",
    "<!channel> &amp; <@U0AM>",
    "payload",
]
DEEP = re.compile(r'"\\u0000deep(\d+)\\u0000"')
MUTATIONS = ("delete", "retype", "truncate", "unicode", "long", "deep")


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def replaced(root: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    if not path:
        return {} if delete else new
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return root


def mutate_json(seed: Any, rng: random.Random) -> tuple[Any, list[str]]:
    """The seed with one to three changes anywhere in it: deleted keys, other types, cut or
    exotic or very long strings, deep nesting (a placeholder, expanded by `to_json`)."""
    value = copy.deepcopy(seed)
    done = []
    for _ in range(rng.randint(1, 3)):
        path, node = rng.choice(list(nodes(value)))
        what = rng.choice(MUTATIONS)
        done.append(what)
        if what == "delete":
            value = replaced(value, path, None, delete=True)
        elif what == "retype":
            new = rng.choice([0, -1, 2**64, 1.5, True, None, "", "1", [], {}, [node], {"x": node}])
            value = replaced(value, path, new)
        elif what == "truncate":
            if isinstance(node, str | list):
                value = replaced(value, path, node[: rng.randrange(len(node) + 1)])
            elif isinstance(node, dict):
                kept = dict(list(node.items())[: len(node) // 2])
                value = replaced(value, path, kept)
        elif what == "unicode":
            value = replaced(value, path, rng.choice(UNICODE))
        elif what == "long":
            value = replaced(value, path, "x" * rng.choice([3_001, 50_000, 250_000]))
        else:
            value = replaced(value, path, f"\x00deep{rng.choice([50, 900, 5_000])}\x00")
    return value, done


def to_json(value: Any, rng: random.Random) -> bytes:
    dumped = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    dumped = DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), dumped)
    body = dumped.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        body = body[: rng.randrange(len(body) + 1)]  # cut anywhere: no longer JSON
    return body


def mutate_form(seed: JsonDict, rng: random.Random) -> tuple[bytes, list[str]]:
    """A slash command's form with changed, missing, doubled, exotic or broken fields."""
    pairs = [(str(k), str(v)) for k, v in seed.items()]
    done = []
    raw: list[str] = []
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(pairs)) if pairs else 0
        what = rng.choice(["delete", "empty", "long", "unicode", "payload", "double", "broken"])
        done.append(what)
        if not pairs:
            break
        key, value = pairs[index]
        if what == "delete":
            del pairs[index]
        elif what == "empty":
            pairs[index] = (key, "")
        elif what == "long":
            pairs[index] = (key, "a" * rng.choice([3_001, 50_000, 250_000]))
        elif what == "unicode":
            pairs[index] = (key, rng.choice(UNICODE))
        elif what == "payload":
            pairs.append(("payload", rng.choice(["1", "{", "[]", "null", '{"type": 1}', value])))
        elif what == "double":
            pairs.append((key, rng.choice(UNICODE)))
        else:
            raw.append(rng.choice(["%ZZ", "%FF%FE", "text=%", "=", "&&", "payload"]))
    encoded = [
        f"{quote_plus(k)}={quote_plus(v, encoding='utf-8', errors='surrogatepass')}"
        for k, v in pairs
    ]
    return "&".join(encoded + raw).encode(), done


def malformed_bodies() -> dict[str, tuple[bytes, str]]:
    deep = "[" * 5_000 + "]" * 5_000
    return {
        "payload=%7B": (b"payload=%7B", FORM),
        "{": (b"{", FORM),
        "{ (as JSON)": (b"{", JSON),
        "payload=1": (b"payload=1", FORM),
        "invalid UTF-8": (b"command=%2Fdesk&text=\xff\xfe\xfa", FORM),
        "invalid UTF-8 JSON": (b'{"type": "\xff\xfe"}', JSON),
        "payload=%FF%FE": (b"payload=%FF%FE", FORM),
        "5,000-deep JSON": (deep.encode(), JSON),
        "5,000-deep payload": (b"payload=" + quote_plus(deep).encode(), FORM),
        "empty body": (b"", FORM),
        "huge body (2 MiB)": (b"command=%2Fdesk&text=" + b"a" * (2 << 20), FORM),
    }


def signatures(
    driver: SlackDriver, forged: SlackDriver
) -> dict[str, Callable[[bytes], dict[str, str]]]:
    """Ways a request can come without a valid, fresh signature."""
    now = int(time.time())
    return {
        "no signature": lambda body: {},
        "wrong secret": lambda body: forged.sign(body),
        "stale (6 min)": lambda body: driver.sign(body, timestamp=now - 360),
        "future (6 min)": lambda body: driver.sign(body, timestamp=now + 360),
        "garbage signature": lambda body: {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": "v0=zz",
        },
        "timestamp not a number": lambda body: {
            **driver.sign(body),
            "X-Slack-Request-Timestamp": "soon",
        },
        "signature only": lambda body: {
            "X-Slack-Signature": driver.sign(body)["X-Slack-Signature"]
        },
    }


# -- 1. fuzzing ---------------------------------------------------------------------------------


@dataclass
class Probe:
    kind: str  # the table's row
    label: str  # the body or the mutations, for the breakdown
    body: bytes
    headers: dict[str, str]
    way: str = "signed"  # how it was (not) signed


@dataclass
class Answer:
    probe: Probe
    status: int | None  # None: no HTTP answer
    elapsed: float


MUTATED = {  # kind: requests in a full run (a tenth with --quick)
    "command": 800,
    "shortcut": 300,
    "block_actions": 1100,
    "view_submission": 1100,
    "view_closed": 150,
    "event": 550,
    "block_suggestion": 197,
}
REFUSED, SIGNED_MALFORMED = 1200, 600


def probes(
    seeds: dict[str, list[JsonDict]],
    driver: SlackDriver,
    forged: SlackDriver,
    seed: int,
    scale: float,
) -> list[Probe]:
    """6,000 requests (times `scale`), the same ones for the same seed and seeds."""
    rng = random.Random(seed)
    bad = malformed_bodies()
    ways = signatures(driver, forged)
    valid = [
        (urlencode(seeds["command"][0]).encode(), FORM, "valid command"),
        (*interaction(seeds["block_actions"][0]), "valid interaction"),
        (json.dumps(seeds["event"][0]).encode(), JSON, "valid event"),
    ]
    bodies = [(body, kind, name) for name, (body, kind) in bad.items()] + valid
    made: list[Probe] = []
    for _ in range(round(REFUSED * scale)):
        body, content_type, name = rng.choice(bodies)
        way = rng.choice(sorted(ways))
        made.append(
            Probe(
                "unsigned, forged or stale",
                name,
                body,
                {"Content-Type": content_type, **ways[way](body)},
                way,
            )
        )
    names = sorted(bad)
    for index in range(round(SIGNED_MALFORMED * scale)):
        body, content_type = bad[names[index % len(names)]]
        made.append(
            Probe(
                "signed, malformed body",
                names[index % len(names)],
                body,
                {"Content-Type": content_type, **driver.sign(body)},
            )
        )
    for kind, count in MUTATED.items():
        for _ in range(round(count * scale)):
            chosen = rng.choice(seeds[kind])
            if kind == "command":
                body, done = mutate_form(chosen, rng)
                content_type = FORM
            else:
                value, done = mutate_json(chosen, rng)
                body = to_json(value, rng)
                content_type = JSON
                if kind != "event":
                    body = b"payload=" + quote_plus(body).encode()
                    content_type = FORM
            made.append(
                Probe(
                    f"signed {kind} (mutated)",
                    "+".join(sorted(set(done))),
                    body,
                    {"Content-Type": content_type, **driver.sign(body)},
                )
            )
    for words, channel in (
        ("find payload", TRIAGE),
        ("email payload@example.org", TRIAGE),
        ("whoami", "C0PAYLOAD"),
    ):
        fields = driver.payloads.command(AM, COMMAND, words, TRIAGE).payload
        if channel != TRIAGE:
            fields["channel_name"] = "payload-team"
        body = urlencode(fields).encode()
        made.append(
            Probe(
                "signed command naming 'payload'",
                words,
                body,
                {"Content-Type": FORM, **driver.sign(body)},
            )
        )
    return made


def send(driver: SlackDriver, probe: Probe) -> Answer:
    started = time.monotonic()
    try:
        status: int | None = driver.raw(probe.body, probe.headers).status
    except OSError:
        status = None
    return Answer(probe, status, time.monotonic() - started)


def status_class(status: int | None) -> str:
    return "none" if status is None else f"{status // 100}xx"


def fuzz_tables(answers: list[Answer]) -> list[str]:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    for answer in answers:
        rows[answer.probe.kind][status_class(answer.status)] += 1
        if answer.status == 401:
            rows[answer.probe.kind]["401"] += 1
        slowest[answer.probe.kind] = max(slowest[answer.probe.kind], answer.elapsed)
    lines = [
        f"{'request kind':<36}{'sent':>6}{'2xx':>6}{'4xx':>6}{'(401)':>7}{'5xx':>6}"
        f"{'none':>6}{'max ms':>9}"
    ]
    total: Counter[str] = Counter()
    for kind, counts in rows.items():
        sent = sum(counts[c] for c in ("2xx", "3xx", "4xx", "5xx", "none"))
        total.update(counts)
        total["sent"] += sent
        lines.append(
            f"{kind:<36}{sent:>6}{counts['2xx']:>6}{counts['4xx']:>6}{counts['401']:>7}"
            f"{counts['5xx']:>6}{counts['none']:>6}{slowest[kind] * 1000:>9.0f}"
        )
    lines.append(
        f"{'all':<36}{total['sent']:>6}{total['2xx']:>6}{total['4xx']:>6}{total['401']:>7}"
        f"{total['5xx']:>6}{total['none']:>6}"
    )
    breakdown: dict[tuple[str, str], Counter[int | None]] = defaultdict(Counter)
    for answer in answers:
        if answer.probe.kind in ("unsigned, forged or stale", "signed, malformed body"):
            breakdown[(answer.probe.label, answer.probe.kind)][answer.status] += 1
    lines += ["", "malformed and refused bodies, by body: HTTP status x count"]
    lines.append(f"{'body':<22}{'unsigned, forged or stale':<34}{'signed'}")
    for label in sorted({label for label, _ in breakdown}):
        cells = []
        for kind in ("unsigned, forged or stale", "signed, malformed body"):
            seen = breakdown.get((label, kind), Counter())
            cells.append(
                ", ".join(
                    f"{s or 'none'} x{n}"
                    for s, n in sorted(seen.items(), key=lambda item: -item[1])
                )
                or "-"
            )
        lines.append(f"{label:<22}{cells[0]:<34}{cells[1]}")
    signed: dict[str, Counter[int | None]] = defaultdict(Counter)
    for answer in answers:
        if answer.probe.kind == "unsigned, forged or stale":
            signed[answer.probe.way][answer.status] += 1
    lines += ["", "unsigned, forged or stale, by signature: HTTP status x count"]
    for way, seen in sorted(signed.items()):
        shown = ", ".join(f"{s or 'none'} x{n}" for s, n in seen.most_common())
        lines.append(f"{way:<24}{shown}")
    failing: Counter[str] = Counter()
    for answer in answers:
        if "mutated" in answer.probe.kind and (answer.status is None or answer.status >= 500):
            failing[f"{answer.probe.kind.split()[1]}: {answer.probe.label}"] += 1
    if failing:
        lines += ["", "mutated payloads answered 5xx or not at all, by kind and mutations (top 12)"]
        lines += [f"  {n:>5}  {what}" for what, n in failing.most_common(12)]
    return lines


def fuzz(args: argparse.Namespace, workdir: Path) -> list[str]:
    scale = 0.1 if args.quick else 1.0
    standin = BenchStandin(
        bot_token=TOKEN, channels={TRIAGE}, users=people(), usergroups={"S0AMS": [GROUPED]}
    )
    with standin, database(args.database_url, workdir, "fuzz") as db:
        settings = bench_settings(db.url, standin.api_url)
        wsgi, _services = http_app(settings, db)
        with served(wsgi) as url:
            driver = SlackDriver(url, SECRET, standin)
            forged = SlackDriver(url, "not-the-secret", standin)
            live, ids = live_seeds(driver, standin, db)
            seeds = made_seeds(driver.payloads, ids)
            for kind, found in live.by_kind.items():
                seeds.setdefault(kind, []).extend(found)
            settle(standin)
            TALLY.reset("fuzz")
            made = probes(seeds, driver, forged, args.seed, scale)
            started = time.monotonic()
            deadline = started + (120 if args.quick else 900)
            answers: list[Answer] = []
            with ThreadPoolExecutor(4) as pool:
                for start in range(0, len(made), 200):
                    if time.monotonic() > deadline:
                        break
                    answers += pool.map(lambda p: send(driver, p), made[start : start + 200])
            wall = time.monotonic() - started
            settle(standin, limit=60)
            after = file_normal_report(driver, standin, FRESH)
    counts = ", ".join(f"{kind} {len(found)}" for kind, found in sorted(seeds.items()))
    lines = [
        f"== 1. Fuzzing the HTTP endpoint: {len(answers)} of {len(made)} requests sent in "
        f"{wall:.0f} s, 4 clients, seed {args.seed}",
        f"seed payloads: {counts}"
        + (f"; live seeds missing: {'; '.join(live.notes)}" if live.notes else ""),
        "",
        *fuzz_tables(answers),
        "",
        TALLY.summary(),
        f"a normal bug report files afterwards: {after}",
    ]
    return lines


# -- 2. acks with a cold cache and 429s ----------------------------------------------------------


def email_submission(user: str) -> tuple[bytes, str]:
    view = {
        "id": f"V{uuid.uuid4().hex[:8].upper()}",
        "type": "modal",
        "hash": "h",
        "callback_id": View.EMAIL_CHECK,
        "private_metadata": "",
        "blocks": [],
        "state": {
            "values": {"address": {"address": {"type": "plain_text_input", "value": ADDRESS}}}
        },
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
    view = {
        "id": f"V{uuid.uuid4().hex[:8].upper()}",
        "type": "modal",
        "hash": "h",
        "callback_id": View.FLOW_SUMMARY,
        "blocks": [],
        "state": {"values": {}},
        "private_metadata": json.dumps({"d": draft_id, "p": None}),
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


def complete_draft(runner: FlowRunner, user: str) -> str:
    draft, _ = runner.open(flow="bug_report", user_id=user, surface="modal", fresh=True)
    runner.update_state(draft.id, user, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    return draft.id


def use_up_failures(api_url: str) -> None:
    """Answers the 429s a measured request left queued, so they do not hit the next one."""
    client = WebClient(token=TOKEN, base_url=api_url, timeout=2, retry_handlers=[])
    for method, params in (
        ("usergroups.users.list", {"usergroup": "S0AMS"}),
        ("users.info", {"user": AM}),
    ):
        for _ in range(5):
            try:
                client.api_call(method, params=params)
                break
            except SlackApiError:
                continue


def posted(standin: SlackStandin, reference: str, channel: str) -> list[float]:
    """When each successful top-level post naming this reference (and no other) arrived."""
    return [
        call.at
        for call in standin.successful("chat.postMessage")
        if call.params.get("channel") in (channel, "D" + channel)
        and not call.params.get("thread_ts")
        and mentions(str(call.params.get("text") or ""), reference)
    ]


def acks(args: argparse.Namespace, workdir: Path) -> list[str]:
    rounds = 4 if args.quick else 20
    failures = args.failures
    tags = ("email-cold429", "email-cold", "email-warm", "bug-cold429", "bug-cold", "bug-warm")
    users = {
        (tag, r): f"U0{tag.upper().replace('-', '')}{r:03d}" for tag in tags for r in range(rounds)
    }
    # Roles through user groups only: a cold cache has to ask Slack for each of them.
    roles = Roles(
        application_managers=["S0AMS"],
        agents=["S0AGENTS"],
        data_officers=["S0DOS"],
        leads=["S0LEADS"],
        therapists=[THERAPIST],
    )
    groups = {
        "S0AMS": sorted(users.values()),
        "S0AGENTS": [AGENT],
        "S0DOS": [DO],
        "S0LEADS": [LEAD],
    }
    standin = BenchStandin(
        bot_token=TOKEN,
        channels={TRIAGE},
        trigger_ttl=3600,
        users=people(sorted(users.values())),
        usergroups=groups,
    )
    rows: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    started = time.monotonic()
    deadline = started + (120 if args.quick else 900)
    with standin, database(args.database_url, workdir, "acks") as db:
        settings = bench_settings(db.url, standin.api_url, roles=roles, log_level="WARNING")
        runner = FlowRunner(settings, db)
        switch = Switch()
        warm, _ = http_app(settings, db)
        with served(switch) as url:
            driver = SlackDriver(url, SECRET, standin)
            TALLY.reset("acks")
            for r in range(rounds):
                if time.monotonic() > deadline:
                    break
                for tag in tags:
                    what, cache = tag.split("-")
                    user = users[(tag, r)]
                    drafts = [complete_draft(runner, user)] if what == "bug" else []
                    if cache == "warm":
                        switch.current = warm
                        post(driver, *email_submission(user))  # unmeasured: learns the user
                        settle(standin, quiet_for=0.3)
                    else:
                        switch.current, _ = http_app(settings, db)  # nothing cached
                    if cache == "cold429":
                        standin.fail_next("usergroups.users.list", retry_after=1, times=failures)
                        standin.fail_next("users.info", retry_after=1, times=failures)
                    body = (
                        email_submission(user)
                        if what == "email"
                        else summary_submission(user, drafts[0])
                    )
                    answer = post(driver, *body)
                    use_up_failures(standin.api_url)
                    rows[(what, cache)].append(
                        (answer.elapsed if answer else float("nan"), outcome(answer, standin, user))
                    )
                    settle(standin, quiet_for=0.3)
    kinds = {"email": "email-check submission", "bug": "bug-report summary submission"}
    conditions = {
        "cold429": f"cold, {failures}x 429 (Retry-After 1) on groups and users.info",
        "cold": "cold, Slack answers at once",
        "warm": "warm (baseline), Slack answers at once",
    }
    lines = [
        f"== 2. Acks of view submissions: {rounds} rounds, conditions interleaved, "
        f"{time.monotonic() - started:.0f} s",
        "roles only through user groups (4 groups); cold = a fresh deskbot, a new user",
        "",
        f"{'submission':<31}{'cache and Slack':<55}{'n':>3}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'>3 s':>5}  work done",
    ]
    for (what, cache), measured in rows.items():
        times = [t for t, _ in measured]
        done = Counter(o for _, o in measured)
        lines.append(
            f"{kinds[what]:<31}{conditions[cache]:<55}{len(times):>3}"
            f"{percentile(times, 50) * 1000:>8.0f}{percentile(times, 99) * 1000:>8.0f}"
            f"{max(times) * 1000:>8.0f}{sum(t > 3 for t in times):>5}  "
            + ", ".join(f"{n} {o}" for o, n in done.most_common())
        )
    lines += ["", TALLY.summary()]
    return lines


def outcome(answer: Response | None, standin: SlackStandin, user: str) -> str:
    """What the user got from a submission, and for a filed report whether its receipt and card
    followed within 20 s."""
    if answer is None:
        return "no answer"
    if answer.status != 200:
        return f"HTTP {answer.status}"
    reply = answer.json() if answer.body.strip().startswith("{") else None
    action = (reply or {}).get("response_action")
    if action == "errors":
        return "refused on the form"
    shown = json.dumps((reply or {}).get("view") or {})
    reference = next(iter(re.findall(r"BUG-\d+", shown)), None)
    if reference is None:
        return "answered with the result" if action == "update" else f"answered {action}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if posted(standin, reference, TRIAGE) and posted(standin, reference, user):
            return "filed, receipt and card posted"
        time.sleep(0.05)
    return "filed, receipt or card missing after 20 s"


# -- 3. recovery after a Slack outage ------------------------------------------------------------


def outage(args: argparse.Namespace, workdir: Path) -> list[str]:
    count = 2 if args.quick else 5
    length = 10.0 if args.quick else 30.0
    patience = 100.0 if args.quick else 420.0
    tick = 5
    reporters = [f"U0REPORTER{i}" for i in range(count)]
    standin = BenchStandin(
        bot_token=TOKEN, channels={TRIAGE}, trigger_ttl=3600, users=people(reporters)
    )
    with standin, database(args.database_url, workdir, "outage") as db:
        roles = Roles(application_managers=[AM, *reporters], agents=[AGENT], leads=[LEAD])
        settings = bench_settings(
            db.url, standin.api_url, roles=roles, tick_seconds=tick, log_level="WARNING"
        )
        runner = FlowRunner(settings, db)
        drafts = [complete_draft(runner, user) for user in reporters]
        wsgi, services = http_app(settings, db)
        ticker = start_ticker(services)
        TALLY.reset("outage")
        try:
            with served(wsgi) as url:
                driver = SlackDriver(url, SECRET, standin)
                began = time.monotonic()
                ended = standin.outage("chat.postMessage", length, status=503)
                filed: list[tuple[str, str, float, str]] = []
                for index, (user, draft) in enumerate(zip(reporters, drafts, strict=True)):
                    time.sleep(max(0.0, began + index * length * 0.66 / count - time.monotonic()))
                    answer = post(driver, *summary_submission(user, draft))
                    shown = answer.body if answer is not None else ""
                    reference = next(iter(re.findall(r"BUG-\d+", shown)), "?")
                    ack = f"HTTP {answer.status}" if answer else "no answer"
                    filed.append((user, reference, time.monotonic() - began, ack))
                time.sleep(max(0.0, ended - time.monotonic()))
                failed = sum(not c.ok for c in standin.calls_to("chat.postMessage"))

                def arrived() -> bool:
                    return all(
                        posted(standin, ref, user) and posted(standin, ref, TRIAGE)
                        for user, ref, _, _ in filed
                    )

                while not arrived() and time.monotonic() < ended + patience:
                    time.sleep(0.5)
                time.sleep(2 * tick + 2)  # a second post would come within two ticks
        finally:
            ticker.shutdown(wait=False)
        with db.transaction() as session:
            open_rows = session.scalar(
                select(func.count()).select_from(BugReport).where(BugReport.announced_at.is_(None))
            )
    lines = [
        f"== 3. A {length:.0f} s outage of chat.postMessage (HTTP 503) while {count} reports are "
        f"filed; ticker every {tick} s; waited up to {patience:.0f} s after the outage",
        f"failed chat.postMessage calls during the outage: {failed}",
        "",
        f"{'report':<8}{'filed at':>10}{'ack':>10}{'receipt after end':>19}{'card after end':>16}"
        f"{'receipts':>10}{'cards':>7}",
    ]
    last: dict[str, float] = {}
    for user, reference, at, ack in filed:
        cells = []
        for target, what in ((user, "receipt"), (TRIAGE, "card")):
            times = posted(standin, reference, target)
            if times:
                last[what] = max(last.get(what, float("-inf")), min(times) - ended)
            else:
                last[what] = float("inf")
            cells.append((f"{min(times) - ended:.1f} s" if times else "never", len(times)))
        lines.append(
            f"{reference:<8}{at:>8.1f} s{ack:>10}{cells[0][0]:>19}{cells[1][0]:>16}"
            f"{cells[0][1]:>10}{cells[1][1]:>7}"
        )

    def after_end(seconds: float | None) -> str:
        if seconds is None or seconds == float("inf"):
            return f"not within {patience:.0f} s"
        return f"{seconds:.1f} s"

    lines += [
        "",
        f"end of outage -> last receipt: {after_end(last.get('receipt'))}; -> last triage card: "
        f"{after_end(last.get('card'))}; reports not marked announced: {open_rows}",
        TALLY.summary(),
    ]
    return lines


# -- main ---------------------------------------------------------------------------------------


def describe_source() -> str:
    source = Path(deskbot.__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "?"
    return f"deskbot from {source} ({commit or 'not a git checkout'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests, short waits")
    parser.add_argument("--only", default="fuzz,acks,outage", help="comma-separated sections")
    parser.add_argument("--seed", type=int, default=10, help="the fuzzer's random seed")
    parser.add_argument("--failures", type=int, default=2, help="429s before Slack answers")
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default: SQLite files")
    parser.add_argument("--max-minutes", type=float, default=30, help="stop, whatever happens")
    args = parser.parse_args()

    def give_up() -> None:
        print(f"\nstopped: the run took longer than {args.max_minutes} minutes", flush=True)
        os._exit(3)

    watchdog = threading.Timer(args.max_minutes * 60, give_up)
    watchdog.daemon = True
    watchdog.start()
    logging.basicConfig(level=logging.INFO, handlers=[TALLY], force=True)
    threading.excepthook = log_thread_crash
    kind = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    print(f"bench/edge.py {'--quick ' if args.quick else ''}on {kind}; {describe_source()}")
    sections = {"fuzz": fuzz, "acks": acks, "outage": outage}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            try:
                lines = sections[name.strip()](args, Path(tmp))
            except Exception:
                lines = [f"== {name}: the benchmark itself failed", traceback.format_exc()]
            print("\n" + "\n".join(lines), flush=True)
    watchdog.cancel()


if __name__ == "__main__":
    main()
