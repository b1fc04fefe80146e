"""What a stranger or a garbled delivery sends cannot break the HTTP endpoint (issue 10, item 2).

A request without a valid, fresh signature gets 401 whatever its body; a body over 1 MiB gets
413; and signed payloads of every kind Slack sends, mutated by hypothesis (keys deleted, types
changed, strings cut, exotic or very long, deep nesting), never get a 5xx or leave a traceback
in the log. A normal bug report still files afterwards.

SQLite only: this is about the HTTP edge, and the database adds nothing but time.
"""

from __future__ import annotations

import copy
import http.client
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from deskbot.models import Draft
from deskbot.slack.ids import COMMAND, Action, Shortcut, View
from tests.conftest import AGENT, AM, AM2, OUTSIDER, TRIAGE, RunningApp
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.chat import blocks_text
from tests.support.driver import SlackDriver
from tests.support.slack_standin import Call, JsonDict, SlackStandin, block_elements

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FORM = "application/x-www-form-urlencoded"
EXAMPLES_PER_KIND = 350  # six kinds: 2,100 mutated payloads
# json.dumps cannot write 5,000 levels of nesting: a placeholder string is expanded afterwards.
DEEP = re.compile(r'"\\u0000deep(\d+)\\u0000"')
MALFORMED = {
    "payload=%7B": (b"payload=%7B", FORM),
    "{": (b"{", FORM),
    "{ as JSON": (b"{", "application/json"),
    "payload=1": (b"payload=1", FORM),
    "invalid UTF-8": (b"command=%2Fdesk&text=\xff\xfe", FORM),
    "payload=%FF%FE": (b"payload=%FF%FE", FORM),
    "5,000-deep JSON": (b"[" * 5000 + b"]" * 5000, "application/json"),
    "5,000-deep payload": (b"payload=" + quote_plus("[" * 5000 + "]" * 5000).encode(), FORM),
    "empty": (b"", FORM),
}


# -- seeds: payloads as Slack sends them, built from what deskbot showed -------------------------


def input_ids(view: JsonDict) -> set[str]:
    return {
        str(block["element"].get("action_id"))
        for block in view.get("blocks") or []
        if block.get("type") == "input" and isinstance(block.get("element"), dict)
    }


def files_a_bug_report(deskbot: RunningApp, standin: SlackStandin, user: str) -> str:
    """Through the modal, page by page, as a user would; the reference, once receipt and triage
    card are posted."""
    driver = deskbot.driver
    opened = len(standin.calls_to("views.open"))
    assert driver.command(user, COMMAND, "bug").status == 200
    standin.wait_for("views.open", count=opened + 1)
    view = standin.open_modal(user)
    for _page in range(5):
        assert view is not None
        if view["callback_id"] == View.FLOW_SUMMARY:
            break
        answers = {
            key: value
            for key, value in COMPLETE_BUG_REPORT.items()
            if key in input_ids(view) and value not in (None, [])
        }
        _, errors = driver.submit_view(user, view, answers)
        assert errors is None, errors
        view = standin.open_modal(user)
    assert view is not None and view["callback_id"] == View.FLOW_SUMMARY
    _, errors = driver.submit_view(user, view, {})
    assert errors is None, errors
    done = standin.open_modal(user)
    found = re.search(r"BUG-\d+", blocks_text(done["blocks"]) if done else "")
    assert found, "the summary did not file a report"
    reference = found.group()
    for channel in (user, TRIAGE):

        def posted(call: Call, channel: str = channel) -> bool:
            text = str(call.params.get("text"))
            return call.ok and call.params.get("channel") == channel and reference in text

        standin.wait_for("chat.postMessage", predicate=posted)
    return reference


def element_seeds(
    deskbot: RunningApp, user: str, shown: JsonDict, channel: str | None = None
) -> list[JsonDict]:
    """A block_actions payload for each button and select that a view or message shows."""
    builder = deskbot.driver.payloads
    is_view = shown.get("type") in ("modal", "home")
    seeds = []
    for block in shown.get("blocks") or []:
        for element in block_elements(block):
            options = element.get("options") or []
            value: object = {
                "button": element.get("value"),
                "users_select": AM,
                "static_select": options[0]["value"] if options else None,
                "radio_buttons": options[0]["value"] if options else None,
                "checkboxes": [options[0]["value"]] if options else None,
                "multi_static_select": [options[0]["value"]] if options else None,
            }.get(str(element.get("type")), "x")
            with suppress(AssertionError, KeyError):
                delivery = builder.block_action(
                    user,
                    str(element.get("action_id")),
                    value,
                    block_id=block.get("block_id"),
                    view=shown if is_view else None,
                    message=None if is_view else shown,
                    channel_id=channel,
                )
                seeds.append(delivery.payload)
    return seeds


AGENT_USER = {"id": AGENT, "username": "u0agent", "name": "u0agent", "team_id": "T0001"}
COMMON = {"token": "x", "api_app_id": "A0001", "team": {"id": "T0001"}, "user": AGENT_USER}


def command_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    builder = deskbot.driver.payloads
    texts = ["", "bug", "bug chat", "delete", "email jan@example.org", "deletions", "find x"]
    return [builder.command(user, COMMAND, t).payload for user in (AM, OUTSIDER) for t in texts]


def shortcut_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    builder = deskbot.driver.payloads
    said = standin.add_message(TRIAGE, {"text": "The diary spinner again", "user": AM})
    shortcuts = [builder.global_shortcut(u, s).payload for u in (AM, OUTSIDER) for s in Shortcut]
    return [
        *shortcuts,
        builder.message_shortcut(AM, Shortcut.REPORT_MESSAGE_AS_BUG, said, TRIAGE).payload,
    ]


def event_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    builder = deskbot.driver.payloads
    events = [
        builder.dm_event(AM, "hello"),
        builder.dm_event(AGENT, "bug"),
        {"type": "app_home_opened", "user": AM, "channel": "D" + AM, "tab": "home"},
        {"type": "message", "channel": TRIAGE, "channel_type": "channel", "text": "hi"},
    ]
    verification = {"token": "x", "challenge": "c", "type": "url_verification"}
    return [*(builder.event(event).payload for event in events), verification]


def open_modal(deskbot: RunningApp, standin: SlackStandin) -> tuple[JsonDict, str]:
    """The first page of a real bug-report draft, in front of AM, and the draft's ID."""
    assert deskbot.driver.command(AM, COMMAND, "bug").status == 200
    standin.wait_for("views.open")
    view = standin.open_modal(AM)
    assert view is not None
    return view, json.loads(view["private_metadata"])["d"]


def suggestion_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    view, _draft = open_modal(deskbot, standin)
    container = {"type": "view", "view_id": view["id"]}
    return [
        {**COMMON, "type": "block_suggestion", "action_id": key, "block_id": key}
        | {"value": "car", "container": container, "view": view}
        for key in sorted(input_ids(view))
    ]


def submission_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    """The real first page submitted and closed, and every callback ID with each kind of
    private metadata deskbot writes."""
    builder = deskbot.driver.payloads
    view, draft = open_modal(deskbot, standin)
    values = {key: COMPLETE_BUG_REPORT[key] for key in input_ids(view) & set(COMPLETE_BUG_REPORT)}
    real = [
        builder.view_submission(AM, view, values)[1].payload,
        builder.view_closed(AM, view, is_cleared=False).payload,
    ]
    state = {
        key: {key: {"type": "plain_text_input", "value": "kees@example.org"}}
        for key in ("address", "reason", "typed", "reply", "account_id")
    }
    metas = [{"d": draft, "p": 0}, {"d": draft}, {"r": 1, "a": "ask"}, {"to": AM}]
    submitted = [
        view
        | {"callback_id": str(callback), "private_metadata": json.dumps(meta)}
        | {"state": {"values": state}}
        for callback in View
        for meta in metas
    ]
    return real + [
        {**COMMON, "type": "view_submission", "trigger_id": "t.1", "view": shown}
        for shown in submitted
    ]


def action_seeds(deskbot: RunningApp, standin: SlackStandin) -> list[JsonDict]:
    """Each element of a real modal and a real triage card clicked, and every action ID with
    each kind of value deskbot's buttons carry."""
    view, draft = open_modal(deskbot, standin)
    files_a_bug_report(deskbot, standin, AM2)
    card = standin.last_message(TRIAGE)
    real = element_seeds(deskbot, AM, view) + element_seeds(deskbot, AGENT, card, TRIAGE)
    values = [draft, "1", f"{draft}:platform:https://care.example.org", '{"a": "x@y.org"}']
    on_message = {"type": "message", "message_ts": card["ts"], "channel_id": TRIAGE}
    containers = [
        {"container": {"type": "view", "view_id": view["id"]}, "view": view},
        {"container": on_message, "channel": {"id": TRIAGE}, "message": card},
    ]
    clicks = [
        {"type": "button", "block_id": "bug-1", "value": value, "action_ts": "1.1"}
        | {"action_id": f"{action}-1" if action == Action.DM_CHOOSE else str(action)}
        for action in Action
        for value in values
    ]
    made = [
        {**COMMON, "type": "block_actions", "trigger_id": "t.1", **where, "actions": [click]}
        for click in clicks
        for where in containers
    ]
    return real + made


SEEDS: dict[str, Callable[[RunningApp, SlackStandin], list[JsonDict]]] = {
    "command": command_seeds,
    "shortcut": shortcut_seeds,
    "block_actions": action_seeds,
    "view_submission": submission_seeds,
    "event": event_seeds,
    "block_suggestion": suggestion_seeds,
}


# -- mutations ----------------------------------------------------------------------------------

DELETE = object()  # a replacement that removes the key or item instead
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
ODD_TEXT = st.one_of(
    st.text(),
    st.sampled_from(["\x00", "\ud800", "\u202eevil", "\ufeff", "🙂" * 50, "<!channel>", "payload"]),
    st.integers(3_001, 60_000).map(lambda n: "x" * n),
)
# What replaces a value: nothing, a value of another type, odd text, or deep nesting.
REPLACEMENT = st.one_of(
    st.just(DELETE),
    st.recursive(
        SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    ODD_TEXT,
    st.sampled_from([50, 900, 5000]).map(lambda depth: f"\x00deep{depth}\x00"),
)


def paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where a value could be changed: the root and every key or index below it."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*path, index))


def changed(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return {} if new is DELETE else new
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


@st.composite
def mutated_json(draw: st.DrawFn, seeds: list[JsonDict]) -> bytes:
    """A seed with one to three values replaced or deleted anywhere, serialised as Slack would
    (or cut short: no longer JSON)."""
    value: Any = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(value))))
        value = changed(value, path, draw(REPLACEMENT))
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    text = DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)
    body = text.encode("utf-8", "surrogatepass")
    if draw(st.sampled_from([False] * 19 + [True])) and len(body) > 1:  # one in twenty
        body = body[: draw(st.integers(1, len(body) - 1))]
    return body


@st.composite
def mutated_form(draw: st.DrawFn, seeds: list[JsonDict]) -> bytes:
    """A slash command's form with fields deleted, changed, doubled or broken."""
    pairs = [(str(k), str(v)) for k, v in draw(st.sampled_from(seeds)).items()]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(pairs) - 1))
        what = draw(st.sampled_from(["delete", "change", "double", "payload"]))
        if what == "delete" and len(pairs) > 1:
            del pairs[index]
        elif what == "change":
            pairs[index] = (pairs[index][0], draw(ODD_TEXT))
        elif what == "double":
            pairs.append((pairs[index][0], draw(ODD_TEXT)))
        else:
            pairs.append(("payload", draw(st.sampled_from(["1", "{", "[]", '{"type": 1}']))))
    encoded = "&".join(f"{quote_plus(k)}={quote_plus(v, errors='surrogatepass')}" for k, v in pairs)
    return (encoded + draw(st.sampled_from(["", "&%ZZ", "&=", "%FF"]))).encode()


def strategy(kind: str, seeds: list[JsonDict]) -> st.SearchStrategy[tuple[bytes, str]]:
    if kind == "command":
        return mutated_form(seeds).map(lambda body: (body, FORM))
    if kind == "event":
        return mutated_json(seeds).map(lambda body: (body, "application/json"))
    return mutated_json(seeds).map(lambda body: (b"payload=" + quote_plus(body).encode(), FORM))


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_payloads_never_get_a_5xx(
    kind: str, deskbot: RunningApp, standin: SlackStandin, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = SEEDS[kind](deskbot, standin)
    answers: Counter[int | None] = Counter()
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_KIND,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
        database=None,
    )
    @given(strategy(kind, seeds))
    def send(request: tuple[bytes, str]) -> None:
        body, content_type = request
        try:
            status: int | None = deskbot.driver.raw(
                body, {"Content-Type": content_type, **deskbot.driver.sign(body)}
            ).status
        except OSError:
            status = None  # no HTTP answer at all
        answers[status] += 1
        if status is None or status >= 500:
            failures.append(f"{status}: {body[:120]!r}")

    send()
    time.sleep(0.5)  # work after the acks may still log
    tracebacks = Counter(
        record.exc_info[0].__name__
        for record in caplog.records
        if record.exc_info and record.exc_info[0] is not None
    )
    sent = sum(answers.values())
    assert not failures and not tracebacks, (
        f"{len(failures)} of {sent} mutated {kind} payloads got a 5xx or no answer "
        f"(answers: {dict(answers)}); tracebacks logged: {dict(tracebacks)}; some of them:\n"
        + "\n".join(sorted(set(failures), key=failures.index)[:8])
    )
    assert sent >= EXAMPLES_PER_KIND * 0.9
    files_a_bug_report(deskbot, standin, AM2)


def drafts(deskbot: RunningApp) -> int:
    with deskbot.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Draft)) or 0)


def test_without_a_valid_fresh_signature_any_body_gets_401(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    forged = SlackDriver(deskbot.url, "not-the-secret", standin)
    command = urlencode(driver.payloads.command(AM, COMMAND, "email kees@example.org").payload)
    ways: dict[str, Callable[[bytes], dict[str, str]]] = {
        "unsigned": lambda body: {},
        "wrong secret": forged.sign,
        "stale": lambda body: driver.sign(body, timestamp=int(time.time()) - 6 * 60),
        "timestamp not a number": lambda body: {
            **driver.sign(body),
            "X-Slack-Request-Timestamp": "soon",
        },
    }
    bodies = {**MALFORMED, "a real command": (command.encode(), FORM)}
    got = {
        (name, way): driver.raw(body, {"Content-Type": kind, **sign(body)}).status
        for name, (body, kind) in bodies.items()
        for way, sign in ways.items()
    }
    assert {key: status for key, status in got.items() if status != 401} == {}
    time.sleep(0.3)
    assert drafts(deskbot) == 0 and not standin.calls


def post_oversized(url: str, body: bytes, headers: dict[str, str]) -> int | None:
    """The status of a POST whose body the server may refuse before reading it all."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    try:
        connection.putrequest("POST", parts.path)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders()
        with suppress(BrokenPipeError, ConnectionResetError):
            connection.send(body)
        return connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def test_a_body_over_one_mebibyte_gets_413(deskbot: RunningApp) -> None:
    body = urlencode({"command": COMMAND, "text": "x" * (1 << 20), "user_id": AM}).encode()
    headers = {"Content-Type": FORM}
    assert post_oversized(deskbot.url, body, headers) == 413
    assert post_oversized(deskbot.url, body, {**headers, **deskbot.driver.sign(body)}) == 413
    # Still serving afterwards.
    assert deskbot.driver.command(AM, COMMAND, "help").status == 200
