"""After the ack: when Slack fails for a while, every receipt, card and card update still arrives,
once, at the ticker's next run after Slack answers again; and a reminder interrupted part-way
has recorded each recipient it reached."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from deskbot import announcing, clock
from deskbot.db import Database
from deskbot.models import BugReport, DeletionRequest, Reminder
from deskbot.slack import deletion_desk, filing, scheduled
from deskbot.slack import views as slack_views
from deskbot.slack.app import build_services
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, AM2, GROUP_MEMBER, TRIAGE, RunningApp, make_settings, serving
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import JsonDict, SlackStandin
from tests.test_deletion_tracker import file_requests


def posted_to(standin: SlackStandin, channel: str) -> list[JsonDict]:
    return [
        c.params for c in standin.successful("chat.postMessage") if c.params["channel"] == channel
    ]


def the_report(deskbot: RunningApp) -> BugReport:
    with deskbot.db.transaction() as session:
        return session.scalars(select(BugReport)).one()


def submit_bug_report(deskbot: RunningApp, standin: SlackStandin, user: str = AM) -> None:
    """The reporter, looking at a complete report's summary, files it (over signed HTTP)."""
    runner = deskbot.services.runner
    draft, _ = runner.open(flow="bug_report", user_id=user, surface="modal", fresh=True)
    answers = dict(COMPLETE_BUG_REPORT)
    runner.update_state(draft.id, user, {"answers": answers, "current": None})
    summary = slack_views.modal_summary(runner.flow("bug_report"), draft.id, answers)
    deskbot.services.client.views_open(trigger_id=standin.issue_trigger_id(user), view=summary)
    shown = standin.open_modal(user)
    assert shown is not None
    reply, errors = deskbot.driver.submit_view(user, shown, {})
    assert reply.status == 200 and errors is None
    assert reply.elapsed < 3.0  # Slack gives up after 3 s


def failed(standin: SlackStandin, method: str) -> int:
    return len([c for c in standin.calls_to(method) if not c.ok])


def unclaimed(deskbot: RunningApp) -> bool:
    """The first attempt is over and has let go of the report."""
    return the_report(deskbot).announce_claim is None


@pytest.fixture
def ticking(db: Database, standin: SlackStandin) -> Iterator[RunningApp]:
    """deskbot with its ticker running every second, as `deskbot serve` starts it."""
    from deskbot.runtime import start_ticker

    for running in serving(make_settings(db.url, standin.api_url, tick_seconds=1), standin):
        ticker = start_ticker(running.services)
        try:
            yield running
        finally:
            ticker.shutdown(wait=True)


def test_after_an_outage_the_ticker_sends_receipt_and_card_once(
    ticking: RunningApp, standin: SlackStandin
) -> None:
    deskbot = ticking
    # Slack refuses every message for a while: the filing's own attempt and the ticker's
    # next runs all fail. Nothing is given up, and nothing waits for a lease to run out.
    standin.fail_next("chat.postMessage", error="ratelimited", times=6)
    submit_bug_report(deskbot, standin)
    assert eventually(lambda: failed(standin, "chat.postMessage") == 6, timeout=15)
    assert posted_to(standin, AM) == [] and posted_to(standin, TRIAGE) == []
    assert the_report(deskbot).announced_at is None

    # Slack answers again: the ticker's next run delivers both, and no run repeats them.
    assert eventually(lambda: the_report(deskbot).announced_at is not None, timeout=5)
    receipts, cards = posted_to(standin, AM), posted_to(standin, TRIAGE)
    assert len(receipts) == 1 and "BUG-1" in receipts[0]["text"]
    assert len(cards) == 1 and the_report(deskbot).triage_ts is not None
    assert filing.announce_pending(deskbot.services) == 0
    assert len(posted_to(standin, AM)) == 1 and len(posted_to(standin, TRIAGE)) == 1


def test_a_failed_receipt_does_not_hold_back_the_card(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    standin.fail_next("chat.postMessage", error="ratelimited")  # the receipt's one try
    submit_bug_report(deskbot, standin)
    assert eventually(lambda: unclaimed(deskbot) and the_report(deskbot).triage_ts)
    assert posted_to(standin, AM) == [] and len(posted_to(standin, TRIAGE)) == 1
    report = the_report(deskbot)
    assert report.receipt_sent_at is None and report.announced_at is None

    assert filing.announce_pending(deskbot.services) == 1  # the ticker's job, once
    assert len(posted_to(standin, AM)) == 1 and len(posted_to(standin, TRIAGE)) == 1
    assert the_report(deskbot).announced_at is not None
    assert filing.announce_pending(deskbot.services) == 0


def test_a_card_whose_update_failed_is_brought_up_to_date(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    submit_bug_report(deskbot, standin)
    assert eventually(lambda: the_report(deskbot).announced_at is not None)
    ts = the_report(deskbot).triage_ts
    assert ts is not None

    standin.fail_next("chat.update", error="ratelimited")
    shown = standin.message(TRIAGE, ts)
    deskbot.driver.click(AGENT, shown, Action.TRIAGE_CLAIM)
    assert eventually(lambda: failed(standin, "chat.update") == 1)
    assert eventually(lambda: the_report(deskbot).assignee_id == AGENT)
    # The claim is saved, Slack still shows the card as it was, and the card is marked.
    assert f"<@{AGENT}>" not in blocks_text(standin.message(TRIAGE, ts)["blocks"])
    assert the_report(deskbot).card_stale_at is not None

    assert filing.announce_pending(deskbot.services) == 1
    assert f"<@{AGENT}>" in blocks_text(standin.message(TRIAGE, ts)["blocks"])
    assert the_report(deskbot).card_stale_at is None
    updates = len(standin.successful("chat.update"))
    assert filing.announce_pending(deskbot.services) == 0
    assert len(standin.successful("chat.update")) == updates  # once


def test_every_copy_of_a_deletion_card_catches_up(
    db: Database, standin: SlackStandin, deskbot: RunningApp
) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))  # Tue 7 Apr, 10:00 local
    file_requests(deskbot.services.runner, 1)  # DEL-1: filed and confirmed by AM
    assert filing.announce_pending(deskbot.services) == 1
    with db.transaction() as session:
        request = session.scalars(select(DeletionRequest)).one()
        assert request.announced_at is not None and request.card_ts is not None
        desk_ts, copies = request.card_ts, list(request.messages)
    assert [entry.split("|")[0] for entry in copies] == ["requester"]

    # The claim is saved while Slack rate-limits every update; the cards show it afterwards.
    standin.fail_next("chat.update", error="ratelimited", times=3)
    deskbot.driver.click(AGENT, standin.message(TRIAGE, desk_ts), Action.DELETION_CLAIM)
    assert eventually(lambda: failed(standin, "chat.update") >= 1)
    with db.transaction() as session:
        request = session.scalars(select(DeletionRequest)).one()
        assert request.assignee_id == AGENT and request.card_stale_at is not None
    filing.announce_pending(deskbot.services)  # still refused: stays marked
    filing.announce_pending(deskbot.services)
    assert failed(standin, "chat.update") == 3
    assert filing.announce_pending(deskbot.services) == 1
    assert f"<@{AGENT}>" in blocks_text(standin.message(TRIAGE, desk_ts)["blocks"])
    _, requester_channel, requester_ts = copies[0].split("|")
    assert f"<@{AGENT}>" in blocks_text(standin.message(requester_channel, requester_ts)["blocks"])
    with db.transaction() as session:
        assert session.scalars(select(DeletionRequest)).one().card_stale_at is None
    assert filing.announce_pending(deskbot.services) == 0


def test_a_claim_held_elsewhere_is_left_alone_until_its_lease_runs_out(
    db: Database, standin: SlackStandin
) -> None:
    services = build_services(make_settings(db.url, standin.api_url), db)
    runner = services.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    runner.update_state(draft.id, AM, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    filed = runner.file(draft.id, AM)
    with db.transaction() as session:
        # Another instance claims the report, then dies before it sends anything.
        assert announcing.claim(session, BugReport, filed.item.id) is not None
    filing.announce(services, filed.item)
    assert filing.announce_pending(services) == 0
    assert posted_to(standin, AM) == [] and posted_to(standin, TRIAGE) == []

    later = clock.now() + announcing.LEASE + timedelta(seconds=1)
    clock.set_clock(lambda: later)
    assert filing.announce_pending(services) == 1
    assert len(posted_to(standin, AM)) == 1 and len(posted_to(standin, TRIAGE)) == 1


def test_two_instances_announcing_at_once_send_each_part_once(
    db: Database, standin: SlackStandin
) -> None:
    first = build_services(make_settings(db.url, standin.api_url), db)
    second = build_services(make_settings(db.url, standin.api_url), db)
    runner = first.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    runner.update_state(draft.id, AM, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    filed = runner.file(draft.id, AM)
    start = threading.Barrier(2)

    def announce(services: Any) -> None:
        start.wait()
        filing.announce(services, filed.item)

    threads = [threading.Thread(target=announce, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert filing.announce_pending(second) == 0
    assert len(posted_to(standin, AM)) == 1 and len(posted_to(standin, TRIAGE)) == 1


def test_a_claim_is_renewed_while_a_slow_send_waits_for_slack(
    db: Database, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(announcing, "RENEW_EVERY", timedelta(seconds=0.05))
    now = clock.now()
    clock.set_clock(lambda: now)
    first = build_services(make_settings(db.url, standin.api_url), db)
    runner = first.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    runner.update_state(draft.id, AM, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    filed = runner.file(draft.id, AM)

    # The receipt meets a 429: the client waits two seconds before it tries again. Meanwhile
    # more than a lease passes, and another instance's ticker looks for unfinished work.
    standin.fail_next("chat.postMessage", status=429, retry_after=2)
    sending = threading.Thread(target=filing.announce, args=(first, filed.item))
    sending.start()
    standin.wait_for("chat.postMessage")
    later = now + announcing.LEASE * 2
    clock.set_clock(lambda: later)

    def renewed() -> bool:
        with db.transaction() as session:
            report = session.get(BugReport, filed.item.id)
            return report is not None and report.announce_claimed_at == later

    assert eventually(renewed)
    second = build_services(make_settings(db.url, standin.api_url), db)
    assert filing.announce_pending(second) == 0  # still claimed: left alone
    sending.join()
    assert len(posted_to(standin, AM)) == 1 and len(posted_to(standin, TRIAGE)) == 1


# ---- reminders --------------------------------------------------------------------------------


class Held:
    """Holds Slack's answer to one chat.postMessage (to `channel`) until released, as a slow
    Slack would: the sender is then mid-batch, between two recipients."""

    def __init__(self, standin: SlackStandin, channel: str) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()
        methods = standin._methods  # the stand-in's own handler, wrapped
        original = methods["chat.postMessage"]

        def post(params: JsonDict) -> JsonDict:
            if params.get("channel") == channel and not self.arrived.is_set():
                self.arrived.set()
                self.release.wait(10)
                raise_ratelimited()
            return original(params)

        methods["chat.postMessage"] = post


def raise_ratelimited() -> None:
    from tests.support.slack_standin import _ApiError

    raise _ApiError("ratelimited")


def release_notes_due(services: Any) -> int:
    """A release-note reminder to the application managers (AM, AM2 and, by the user group,
    GROUP_MEMBER), due now: a Friday morning."""
    from deskbot import reminders

    friday = datetime(2026, 4, 24, 8, 0, tzinfo=UTC)
    clock.set_clock(lambda: friday)
    with services.db.transaction() as session:
        reminders.schedule(
            session,
            scheduled.organisation(services.settings),
            scheduled.RELEASE_NOTES,
            clock.now() - timedelta(seconds=1),
        )
        return int(session.scalars(select(Reminder.id)).one())


def test_each_recipient_is_recorded_as_it_is_reached(db: Database, standin: SlackStandin) -> None:
    services = build_services(make_settings(db.url, standin.api_url), db)
    reminder_id = release_notes_due(services)
    held = Held(standin, AM2)  # Slack keeps the second recipient waiting
    sending = threading.Thread(target=deletion_desk.send_due, args=(services,))
    sending.start()
    assert held.arrived.wait(10)

    # Were the process killed now, only AM2's message (in flight) could go out twice.
    with db.transaction() as session:
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None and reminder.delivered == [AM]
        assert reminder.status == "pending"
    held.release.set()
    sending.join()

    # Slack refused AM2's message: the next run sends to the others only, each once.
    assert deletion_desk.send_due(services) == 1
    for manager in (AM, AM2, GROUP_MEMBER):
        assert len(posted_to(standin, manager)) == 1, manager
    with db.transaction() as session:
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None and reminder.status == "sent"
        assert reminder.delivered == [AM, AM2, GROUP_MEMBER]
        assert reminder.attempts == 1  # Slack's trouble was not counted against it


def test_an_outage_stops_the_reminder_batch_until_the_next_run(
    db: Database, standin: SlackStandin
) -> None:
    services = build_services(make_settings(db.url, standin.api_url), db)
    reminder_id = release_notes_due(services)
    standin.fail_next("chat.postMessage", error="ratelimited")
    assert deletion_desk.send_due(services) == 1
    assert failed(standin, "chat.postMessage") == 1  # one try, then the batch stopped
    with db.transaction() as session:
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None and reminder.status == "pending"
        assert reminder.claimed_at is None and reminder.attempts == 0
    assert deletion_desk.send_due(services) == 1  # no lease to wait for
    assert [len(posted_to(standin, m)) for m in (AM, AM2, GROUP_MEMBER)] == [1, 1, 1]
