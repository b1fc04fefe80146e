"""Socket Mode: the same flows over a WebSocket that deskbot opens to (a stand-in for) Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from deskbot.db import Database
from deskbot.models import BugReport, Draft
from deskbot.runtime import socket_mode_handler
from deskbot.slack.ids import Action
from tests.conftest import AM, APP_TOKEN, TRIAGE, make_settings
from tests.support.chat import Chat, blocks_text, eventually
from tests.support.driver import SocketDriver
from tests.support.slack_standin import SlackStandin

# slack_sdk notices a dropped connection at once, or at its next 5-second health check.
RECONNECT_TIMEOUT = 30


@pytest.fixture
def socket_app(db: Database, standin: SlackStandin) -> Iterator[SocketDriver]:
    settings = make_settings(
        db.url, standin.api_url, slack_app_token=APP_TOKEN, slack_signing_secret=None
    )
    handler, _ = socket_mode_handler(settings, Database(db.url))
    handler.connect()
    standin.wait_socket_connected(timeout=10)
    yield SocketDriver(standin)
    # Closing from Slack's side first lets the client stop without waiting out its read timeout;
    # it must not connect again meanwhile.
    handler.client.auto_reconnect_enabled = False
    standin.close_sockets()
    eventually(lambda: not handler.client.is_connected(), timeout=5)
    handler.close()


def test_bug_report_over_socket_mode(
    socket_app: SocketDriver, db: Database, standin: SlackStandin
) -> None:
    assert standin.successful("apps.connections.open")
    chat = Chat(db, socket_app, standin, AM)
    socket_app.command(AM, "/desk", "bug chat")
    chat.press(Action.DM_CHOOSE, "production")
    chat.press(Action.DM_CHOOSE, "browser")
    chat.press(Action.DM_CHOOSE, "client")
    chat.say("c-1")
    chat.press(Action.DM_CHOOSE, "diary")
    chat.press(Action.DM_SKIP)
    chat.say("Open the diary and add an entry.")
    chat.say("The entry is saved.")
    chat.say("Nothing happens.")
    chat.press(Action.DM_CHOOSE, "tablet")
    chat.say("iPadOS 17")
    chat.say("Safari 17")
    chat.say("Apple iPad Air")
    chat.tick()
    chat.press(Action.DM_CHOOSE, "no")
    chat.press(Action.DM_CHOOSE, "single_user")
    chat.press(Action.DM_SKIP)
    chat.press(Action.DM_SUBMIT)
    cards = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == TRIAGE
    )
    assert "BUG-1" in blocks_text(cards[0].params["blocks"])
    with db.transaction() as session:
        assert session.scalars(select(BugReport.answers)).one()["device_model"] == "Apple iPad Air"


def test_modal_over_socket_mode(
    socket_app: SocketDriver, db: Database, standin: SlackStandin
) -> None:
    socket_app.command(AM, "/desk", "bug")
    standin.wait_for("views.open")
    view = standin.open_modal(AM)
    assert view is not None
    _, errors = socket_app.submit_view(
        AM,
        view,
        {
            "platform": "https://care.example.org",
            "access": "browser",
            "user_kind": "client",
            "account_id": "not an id",
        },
    )
    assert errors is not None and "account_id" in errors
    assert eventually(lambda: standin.open_modal(AM) is not None)


def start_a_report_in_a_dm(chat: Chat) -> None:
    """The user starts a report in the DM and answers up to the client's account ID."""
    chat.say("bug")
    assert "Which platform" in chat.text()
    chat.press(Action.DM_CHOOSE, "production")
    chat.press(Action.DM_CHOOSE, "browser")
    chat.press(Action.DM_CHOOSE, "client")
    assert "account ID" in chat.text()


def assert_answered_once(chat: Chat, db: Database, asked_before: int) -> None:
    """The account ID was taken once: one next question, one draft, one step in its path."""
    assert "In which tool" in chat.text()
    assert len(chat.from_deskbot()) == asked_before + 1
    with db.transaction() as session:
        draft = session.scalars(select(Draft).where(Draft.user_id == AM)).one()
        assert draft.status == "active"
        assert draft.state["answers"]["account_id"] == "c-1"
        assert draft.state["path"].count("account_id") == 1
        assert draft.state["current"] == "tool"


def test_a_conversation_goes_on_after_slack_drops_the_connection(
    socket_app: SocketDriver, db: Database, standin: SlackStandin
) -> None:
    chat = Chat(db, socket_app, standin, AM)
    start_a_report_in_a_dm(chat)
    asked = len(chat.from_deskbot())

    # Slack drops the WebSocket mid-conversation; deskbot opens a new connection by itself.
    standin.close_sockets()
    standin.wait_socket_connected(timeout=RECONNECT_TIMEOUT, opened=2)
    assert len(standin.successful("apps.connections.open")) == 2

    chat.say("c-1")
    assert_answered_once(chat, db, asked)


def test_an_answer_in_flight_when_the_connection_drops_is_taken_once(
    socket_app: SocketDriver, db: Database, standin: SlackStandin
) -> None:
    """The answer goes out just as the WebSocket dies, so Slack never sees its ack and
    delivers it again on the new connection: deskbot may have handled it already, or not."""
    chat = Chat(db, socket_app, standin, AM)
    start_a_report_in_a_dm(chat)
    asked = len(chat.from_deskbot())

    answer = socket_app.payloads.event(socket_app.payloads.dm_event(AM, "c-1"))
    socket_app.deliver_as_connection_drops(answer)
    standin.wait_socket_connected(timeout=RECONNECT_TIMEOUT, opened=2)
    socket_app.deliver(answer.retried("timeout"))
    chat.settle()
    assert_answered_once(chat, db, asked)
