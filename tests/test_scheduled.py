"""The scheduled messages, on working mornings and once each: the daily digest, the nudge for
an untouched draft, and the release-note reminder on the month's last Friday."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from deskbot import clock
from deskbot.models import Reminder
from deskbot.slack import deletion_desk, scheduled
from tests.conftest import AGENT, AM, AM2, GROUP_MEMBER, TRIAGE, RunningApp
from tests.support.slack_standin import SlackStandin
from tests.test_deletion_tracker import file_requests
from tests.test_desk_tools import file_bug


class Ticker:
    """What each instance's ticker does, at a time of the test's choosing (CEST: UTC+2)."""

    def __init__(self, deskbot: RunningApp) -> None:
        self.services = deskbot.services

    def at(self, month: int, day: int, hour: int, minute: int = 0) -> int:
        moment = datetime(2026, month, day, hour - 2, minute, tzinfo=UTC)
        clock.set_clock(lambda: moment)
        scheduled.plan(self.services)
        scheduled.plan(self.services)  # a second instance plans the same
        return deletion_desk.send_due(self.services)


def posted(standin: SlackStandin, channel: str, words: str) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in standin.successful("chat.postMessage")
        if c.params.get("channel") == channel and words in str(c.params.get("text"))
    ]


def test_the_daily_digest(deskbot: RunningApp, standin: SlackStandin) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 6, 12, 0, tzinfo=UTC))  # Easter Monday
    file_bug(deskbot, "Open the diary and save an entry.")
    file_bug(deskbot, "Open a module and press next.")
    file_requests(deskbot.services.runner, 1, confirm=False)
    ticker = Ticker(deskbot)
    assert ticker.at(4, 7, 8, 59) == 0  # Tue 7 April, before working hours
    assert ticker.at(4, 7, 9, 1) == 1
    assert ticker.at(4, 7, 9, 30) == 0
    digests = posted(standin, TRIAGE, "The triage queue")
    assert len(digests) == 1
    assert "Tuesday 07 April" in digests[0]
    assert "New bug reports since the last digest: *2* (BUG-1, BUG-2)" in digests[0]
    assert "Unassigned: *2*" in digests[0] and "awaiting confirmation: *1* (DEL-1)" in digests[0]

    ticker.at(4, 8, 9, 1)  # every working morning
    assert len(posted(standin, TRIAGE, "The triage queue")) == 2
    ticker.at(4, 11, 9, 1)  # deskbot was down on Thursday and Friday; Saturday has none
    assert len(posted(standin, TRIAGE, "The triage queue")) == 2
    ticker.at(4, 13, 8, 0)
    ticker.at(4, 13, 9, 1)  # Monday
    assert len(posted(standin, TRIAGE, "The triage queue")) == 3
    assert (
        "New bug reports since the last digest: *0*"
        in posted(standin, TRIAGE, "The triage queue")[-1]
    )


def test_the_release_notes_on_the_last_friday(deskbot: RunningApp, standin: SlackStandin) -> None:
    ticker = Ticker(deskbot)
    ticker.at(4, 23, 9, 30)  # Thursday
    assert posted(standin, AM, "release notes") == []
    ticker.at(4, 24, 9, 1)  # Friday 24 April: the last Friday of April 2026
    ticker.at(4, 24, 15)
    for manager in (AM, AM2, GROUP_MEMBER):
        assert len(posted(standin, manager, "release notes")) == 1
    assert posted(standin, AGENT, "release notes") == []
    with deskbot.db.transaction() as session:
        planned = session.scalars(
            select(Reminder.due_at).where(
                Reminder.kind == "release_notes", Reminder.status == "pending"
            )
        ).all()
    assert planned == [datetime(2026, 5, 29, 7, 0, tzinfo=UTC)]  # Friday 29 May, 09:00


def test_a_draft_left_alone_is_nudged_once(deskbot: RunningApp, standin: SlackStandin) -> None:
    runner = deskbot.services.runner
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))  # Tue 7 April, 10:00
    runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    touched, _ = runner.open(flow="deletion_request", user_id=AM2, surface="modal", fresh=True)
    ticker = Ticker(deskbot)
    ticker.at(4, 9, 11)  # Thu: two working days have passed; the nudge is planned
    assert posted(standin, AM, "unfinished") == []
    runner.update_state(touched.id, AM2, {"pending": {}})  # AM2 works on theirs meanwhile
    ticker.at(4, 10, 9, 1)  # Friday morning, once
    ticker.at(4, 13, 9, 1)
    nudges = posted(standin, AM, "unfinished report")
    assert len(nudges) == 1 and "question 1 of" in nudges[0] and "expires on" in nudges[0]
    assert posted(standin, AM2, "unfinished") == []


def test_a_digest_switched_off_stays_off(deskbot: RunningApp, standin: SlackStandin) -> None:
    ticker = Ticker(deskbot)
    ticker.at(4, 7, 8, 0)  # planned for 09:00
    deskbot.services.settings.jobs.daily_digest = False  # then switched off
    ticker.at(4, 7, 9, 1)
    ticker.at(4, 8, 9, 1)
    assert posted(standin, TRIAGE, "The triage queue") == []
    with deskbot.db.transaction() as session:
        pending = session.scalars(
            select(Reminder).where(Reminder.kind == "daily_digest", Reminder.status == "pending")
        ).all()
        assert pending == []
