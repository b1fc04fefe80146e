"""The HTTP endpoint: only properly signed, fresh requests get through; /healthz tells the truth."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from deskbot.db import Database
from deskbot.models import Draft
from tests.conftest import AM, RunningApp, make_settings, serve_app
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandin
from tests.support.tcp_relay import TcpRelay


def command_body(user: str = AM) -> bytes:
    return urlencode(
        {
            "command": "/desk",
            "text": "bug chat",
            "user_id": user,
            "team_id": "T0001",
            "channel_id": "C0TRIAGE",
            "trigger_id": "t.1",
            "response_url": "http://127.0.0.1:9/x",
        }
    ).encode()


def drafts_count(app: RunningApp) -> int:
    with app.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Draft)) or 0)


def test_unsigned_forged_or_stale_requests_are_refused(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    body = command_body()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    assert driver.raw(body, headers).status == 401  # no signature headers at all

    forged = SlackDriver(deskbot.url, "not-the-secret", standin)
    assert forged.raw(body, {**headers, **forged.sign(body)}).status == 401

    stale = driver.sign(body, timestamp=int(time.time()) - 6 * 60)  # more than 5 minutes off
    assert driver.raw(body, {**headers, **stale}).status == 401

    tampered = driver.sign(body)
    assert driver.raw(body + b"&x=1", {**headers, **tampered}).status == 401

    time.sleep(0.3)
    assert drafts_count(deskbot) == 0 and not standin.calls_to("chat.postMessage")

    # The same request, properly signed, does start a conversation.
    assert driver.raw(body, {**headers, **driver.sign(body)}).status == 200


def test_url_verification_is_answered(deskbot: RunningApp) -> None:
    response = deskbot.driver.url_verification("challenge-3x4mpl3")
    assert response.status == 200
    assert "challenge-3x4mpl3" in response.body


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_healthz_follows_the_database(database_url: str, standin: SlackStandin) -> None:
    """200 while the database answers, 503 while it is unreachable, 200 again after.

    PostgreSQL only: an embedded SQLite file cannot become unreachable.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    Database(relayed).upgrade()
    app = serve_app(make_settings(relayed, standin.api_url), standin)
    health = app.url.replace("/slack/events", "/healthz")

    def status() -> int:
        try:
            with urllib.request.urlopen(health, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    try:
        assert status() == 200
        relay.cut()
        assert status() == 503
        relay.restore()
        assert status() == 200
    finally:
        app.stop()
        relay.close()
