"""A filed report's receipt and triage card go out once each, and a failed one is retried at the
ticker's next run (tests/test_delivery_recovery.py has the outages)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from deskbot import clock
from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.models import BugReport
from deskbot.slack import filing
from deskbot.slack.app import build_services
from tests.conftest import AM, TRIAGE, make_settings
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.slack_standin import SlackStandin


def test_a_failed_card_is_retried_without_a_second_receipt(
    db: Database, standin: SlackStandin
) -> None:
    # The triage channel does not exist yet (a typo in the configuration, say).
    services = build_services(make_settings(db.url, standin.api_url, triage_channel="C0LATER"), db)
    runner: FlowRunner = services.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    runner.update_state(draft.id, AM, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    filed = runner.file(draft.id, AM)

    filing.announce(services, filed.item)
    receipts = [c for c in standin.successful("chat.postMessage") if c.params["channel"] == AM]
    assert len(receipts) == 1
    assert [c.error for c in standin.calls_to("chat.postMessage") if not c.ok] == [
        "channel_not_found"
    ]

    # Each ticker run tries the card again (the channel's trouble is the configuration's,
    # never given up), and only the card: the receipt went out and was recorded.
    assert filing.announce_pending(services) == 1
    assert len([c for c in standin.calls_to("chat.postMessage") if not c.ok]) == 2
    standin.channels.add("C0LATER")
    assert filing.announce_pending(services) == 1
    cards = [c for c in standin.successful("chat.postMessage") if c.params["channel"] == "C0LATER"]
    assert len(cards) == 1
    assert (
        len([c for c in standin.successful("chat.postMessage") if c.params["channel"] == AM]) == 1
    )
    with db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.triage_ts == cards[0].response["ts"] and report.announced_at is not None
    assert filing.announce_pending(services) == 0


def test_a_reporter_who_left_does_not_hold_up_the_card(db: Database, standin: SlackStandin) -> None:
    services = build_services(make_settings(db.url, standin.api_url), db)
    runner: FlowRunner = services.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    runner.update_state(draft.id, AM, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
    filed = runner.file(draft.id, AM)
    standin.fail_next("chat.postMessage", error="account_inactive")  # the receipt
    filing.announce(services, filed.item)
    assert [c.params["channel"] for c in standin.successful("chat.postMessage")] == [TRIAGE]
    with db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.announced_at is not None  # nobody to wait for
    assert filing.announce_pending(services) == 0


def test_old_event_ids_are_forgotten(db: Database) -> None:
    from deskbot.flows.runner import first_delivery
    from deskbot.scheduler import forget_deliveries

    with db.transaction() as session:
        assert first_delivery(session, "Ev1")
    with db.transaction() as session:
        assert not first_delivery(session, "Ev1")  # a retry within days is recognised
    assert forget_deliveries(db) == 0
    later = clock.now() + timedelta(days=3)
    clock.set_clock(lambda: later)
    assert forget_deliveries(db) == 1
