"""The edge between Slack and deskbot, tried as a new user and as a stranger would: every form
body read right, signatures before anything else, one answer per message, a word to the user
whenever something could not be done, and other people's views left alone."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from deskbot.db import Database
from deskbot.models import BugReport, DeletionRequest, Draft
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, AM2, THERAPIST, TRIAGE, RunningApp, make_settings, serve_app
from tests.support.chat import Chat, blocks_text, eventually
from tests.support.driver import Delivery, SlackDriver
from tests.support.slack_standin import SlackStandin
from tests.support.tcp_relay import TcpRelay
from tests.test_bug_report_modal import PAGE_1, PAGE_2, PAGE_3, open_modal
from tests.test_deletion_requests import announced, buttons, dm, fill_request, request_row, text

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DOWN = "cannot reach its database"


def replies(standin: SlackStandin) -> list[str]:
    """What deskbot answered through slash commands' response URLs."""
    return [str(c.params.get("text") or "") for c in standin.successful("response_url")]


def count(app: RunningApp, model: type[Any]) -> int:
    with app.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_commands_mentioning_payload_are_handled_like_any_other(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    # The word in the command's text ...
    assert driver.command(AM, "/desk", "find payload").status == 200
    assert eventually(lambda: any("payload" in r for r in replies(standin)))
    assert driver.command(AM, "/desk", "email payload@example.org").status == 200
    assert eventually(lambda: len(replies(standin)) == 2)
    # ... in the channel's name, and in the user's name.
    for field, value in (("channel_name", "payload-team"), ("user_name", "payload")):
        delivery = driver.payloads.command(AM, "/desk", "whoami")
        delivery.payload[field] = value
        assert driver.deliver(delivery).status == 200
    assert eventually(lambda: len(replies(standin)) == 4)
    assert all("application manager" in r for r in replies(standin)[2:])


MALFORMED = [
    b"payload=%7B",
    b"{",
    b"payload=1",
    b"payload=%5B%5D",
    b"\xff\xfe\x00garbage",
    b"[" * 5000 + b"]" * 5000,
    b'{"type": "event_callback", "event": "x", "event_id": 3}',
    b"command=%2Fdesk",
    b"",
]


def test_signature_first_then_the_shape_of_the_body(
    deskbot: RunningApp, standin: SlackStandin, caplog: pytest.LogCaptureFixture
) -> None:
    driver = deskbot.driver
    caplog.set_level(logging.DEBUG)
    for body in MALFORMED:
        for content_type in ("application/x-www-form-urlencoded", "application/json"):
            headers = {"Content-Type": content_type}
            assert driver.raw(body, headers).status == 401
            wrong = {**headers, **driver.sign(body, timestamp=int(time.time()) - 600)}
            assert driver.raw(body, wrong).status == 401
            signed = driver.raw(body, {**headers, **driver.sign(body)})
            assert 400 <= signed.status < 500, (body[:40], content_type, signed.status)
    assert too_large(deskbot.url) == 413
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"

    # Afterwards deskbot works as before: a bug report still files.
    driver.command(AM, "/desk", "bug")
    for page in (PAGE_1, PAGE_2, PAGE_3):
        driver.submit_view(AM, open_modal(standin, AM), page)
    driver.submit_view(AM, open_modal(standin, AM), {})
    assert eventually(lambda: count(deskbot, BugReport) == 1)


def test_a_retried_message_is_answered_once_also_on_another_instance(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    other = serve_app(deskbot.services.settings, standin)
    try:
        for words in ("hello", "bug"):
            event = deskbot.driver.payloads.dm_event(AM, words)
            first = deskbot.driver.payloads.event(event)
            retry = Delivery("events_api", first.payload, retry_num=1, retry_reason="http_timeout")
            assert deskbot.driver.deliver(first).status == 200
            assert other.driver.deliver(retry).status == 200
            Chat(deskbot.db, deskbot.driver, standin, AM).settle()
        said = [blocks_text(m.get("blocks", [])) or m.get("text", "") for m in dm(standin, AM)]
        assert sum("Hello!" in s for s in said) == 1
        assert sum("Which platform" in s for s in said) == 1
        assert count(deskbot, Draft) == 1
    finally:
        other.stop()
        other.db.dispose()


def test_a_strangers_click_leaves_the_owners_modal_alone(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    driver.command(AM, "/desk", "bug")
    driver.submit_view(AM, open_modal(standin, AM), PAGE_1)
    owners = open_modal(standin, AM)
    updates = len(standin.calls_to("views.update"))
    for action in (Action.MODAL_BACK, Action.MODAL_TO_DM):
        forged = driver.payloads.block_action(AM, action, view=owners)
        forged.payload["user"] = {**forged.payload["user"], "id": AM2, "name": "am2"}
        assert driver.deliver(forged).status == 200
    assert eventually(lambda: len(dm(standin, AM2)) == 2)
    assert all("not your draft" in m["text"] for m in dm(standin, AM2))
    assert len(standin.calls_to("views.update")) == updates
    assert standin.open_modal(AM) == owners
    with deskbot.db.transaction() as session:
        draft = session.scalars(select(Draft)).one()
        assert draft.status == "active" and draft.surface == "modal"


def test_a_strangers_confirmation_is_refused_before_it_is_checked(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    driver.submit_view(AM, fill_request(deskbot, standin, AM), {})
    confirm = eventually(lambda: standin.open_modal(AM))
    assert confirm is not None and confirm["callback_id"] == "deletion-confirm"
    assert eventually(lambda: announced(deskbot))
    Chat(deskbot.db, driver, standin, AM).settle()
    posted = len(standin.calls_to("chat.postMessage")) + len(standin.calls_to("chat.update"))
    for typed in ("c-00000", "c-48213"):  # a wrong client ID, then the right one
        _shown, forged = driver.payloads.view_submission(AM, confirm, {"typed": typed})
        forged.payload["user"] = {**forged.payload["user"], "id": AGENT, "name": "agent"}
        answer = driver.deliver(forged).json()
        assert answer["response_action"] == "errors"
        assert "Only an application manager" in answer["errors"]["typed"]
    Chat(deskbot.db, driver, standin, AM).settle()
    assert request_row(deskbot).status == "awaiting_confirmation"
    assert (
        len(standin.calls_to("chat.postMessage")) + len(standin.calls_to("chat.update")) == posted
    )


def test_a_form_slack_would_not_open_in_time_becomes_a_message_that_keeps_the_draft(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    driver.command(AM, "/desk", "bug")
    first = open_modal(standin, AM)
    driver.submit_view(AM, first, PAGE_1)
    standin.close_modal(AM, first["id"])

    # Slack refuses views.open until the trigger has expired (its 3 seconds).
    standin.fail_next("views.open", times=4)
    driver.command(AM, "/desk", "bug")
    offer = eventually(
        lambda: next((m for m in dm(standin, AM) if "could not be opened" in text(m)), None),
        timeout=15,
    )
    assert offer is not None, "the user was not told"
    driver.click(AM, offer, Action.HOME_RESUME)
    resumed = eventually(lambda: standin.open_modal(AM), timeout=10)
    assert resumed is not None and "Step 2 of 3" in blocks_text(resumed["blocks"])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_while_the_database_is_down_everyone_hears_nothing_was_done(
    database_url: str, standin: SlackStandin
) -> None:
    """PostgreSQL behind a relay that is cut: each entry point answers plainly."""
    url = make_url(database_url)
    relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    Database(relayed).upgrade()
    app = serve_app(make_settings(relayed, standin.api_url), standin)
    driver = app.driver
    try:
        # Before the cut: a therapist's request waiting for a manager, and a bug report at
        # its summary.
        summary = fill_request(app, standin, THERAPIST)
        driver.submit_view(THERAPIST, summary, {})
        card = eventually(
            lambda: next(
                (m for m in dm(standin, THERAPIST) if Action.DELETION_WITHDRAW in buttons(m)),
                None,
            )
        )
        driver.command(AM, "/desk", "bug")
        for page in (PAGE_1, PAGE_2, PAGE_3):
            driver.submit_view(AM, open_modal(standin, AM, count=2), page)
        bug_summary = open_modal(standin, AM, count=2)

        relay.cut()
        driver.command(AM, "/desk", "bug")
        assert eventually(lambda: any(DOWN in r for r in replies(standin)), timeout=15)
        driver.dm(AM2, "bug")
        assert eventually(lambda: any(DOWN in m.get("text", "") for m in dm(standin, AM2)), 15)
        _reply, problems = driver.submit_view(AM, bug_summary, {})
        notice = standin.open_modal(AM)
        assert problems is None and notice is not None and DOWN in blocks_text(notice["blocks"])
        driver.click(THERAPIST, card, Action.DELETION_WITHDRAW)
        told = eventually(
            lambda: [m for m in dm(standin, THERAPIST) if DOWN in m.get("text", "")], 15
        )
        assert told, "the withdrawal's failure was not reported"

        relay.restore()
        assert request_row(app).status == "requested"  # not withdrawn: it was never saved
        # Closing the notice brings the summary back; filing it now works.
        standin.close_modal(AM, notice["id"])
        driver.submit_view(AM, open_modal(standin, AM, count=2), {})
        assert eventually(lambda: count(app, BugReport) == 1, timeout=15)
        assert count(app, DeletionRequest) == 1
        assert "Delete a client account" in text(card)
    finally:
        app.stop()
        app.db.dispose()
        relay.close()


ADDRESS = "kees.jansen@example.org"


def test_the_real_server_logs_no_body_at_any_level(standin: SlackStandin, tmp_path: Path) -> None:
    """`deskbot serve` as an operator runs it, at DEBUG: whatever arrives, signed or not, the
    log never shows an address, and never a traceback."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "the-right-secret",
        "DESKBOT_SLACK_API_URL": standin.api_url,
        "DESKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'deskbot.sqlite3'}",
        "DESKBOT_ROLES__APPLICATION_MANAGERS": json.dumps([AM]),
        "DESKBOT_TRIAGE_CHANNEL": TRIAGE,
        "DESKBOT_LOG_LEVEL": "DEBUG",
    }
    env.pop("DESKBOT_CONFIG", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "deskbot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        assert eventually(lambda: healthy(url), timeout=30), "deskbot serve did not start"
        right = SlackDriver(url, "the-right-secret", standin)
        wrong = SlackDriver(url, "a-wrong-secret", standin)
        command = urlencode(
            {**right.payloads.command(AM, "/desk", f"email {ADDRESS}").payload}
        ).encode()
        dm = right.payloads.event(right.payloads.dm_event(AM, f"mail {ADDRESS} please"))
        event = json.dumps(dm.payload).encode()
        broken = b"payload=" + urlencode({"x": ADDRESS}).encode() + b"%7B"
        for body, kind in ((command, FORM), (event, JSON), (broken, FORM)):
            assert wrong.raw(body, {**kind, **wrong.sign(body)}).status == 401
        assert right.raw(broken, {**FORM, **right.sign(broken)}).status == 400
        assert right.raw(command, {**FORM, **right.sign(command)}).status == 200
        assert right.raw(event, {**JSON, **right.sign(event)}).status == 200
        standin.wait_for("response_url", timeout=10)
        time.sleep(0.5)  # the DM's answer follows the ack
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert "SLACK_SIGNING_SECRET" in output  # the operator learns what to check
    assert "kees.jansen" not in output and "example.org" not in output, output
    assert "Traceback" not in output, output


JSON = {"Content-Type": "application/json"}


def too_large(events_url: str) -> int:
    """The status of a request announcing a body over 1 MiB, answered before it is sent."""
    host_port = events_url.split("/")[2]
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: deskbot\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (1024 * 1024 + 1)
        )
        status_line = connection.recv(200).split(b"\r\n")[0]
    return int(status_line.split()[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(events_url: str) -> bool:
    try:
        with urllib.request.urlopen(events_url.replace("/slack/events", "/healthz"), timeout=2):
            return True
    except OSError:
        return False
