"""GDPR deletion requests, as the people involved live them in Slack.

An application manager asks for a client's account to be deleted, confirms it, and the service
desk works it against a 5-working-day clock, with reminders on working mornings; a therapist's
request goes to the application managers; the four-eyes rule; refusals for everyone else.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from deskbot import clock, deletions
from deskbot.db import Database
from deskbot.models import AuditEvent, DeletionRequest, Draft, Reminder
from deskbot.settings import Platform, Sla
from deskbot.slack import deletion_desk
from deskbot.slack.ids import Action, Shortcut
from tests.conftest import (
    AGENT,
    AM,
    AM2,
    GROUP_MEMBER,
    LEAD,
    OUTSIDER,
    THERAPIST,
    TRIAGE,
    RunningApp,
    all_idle,
    make_settings,
    serve_app,
    serving,
)
from tests.support.chat import Chat, blocks_text, eventually
from tests.support.slack_standin import SlackStandin

REQUEST = {
    "platform": "production",
    "account_kind": "client",
    "client_id": "c-48213",
    "asked_on": "2026-04-01",
    "note": "Client asked by phone during the intake call.",
}


class Clock:
    """The time deskbot sees; tests move it forward."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        clock.set_clock(lambda: self.now)

    def to(self, moment: datetime) -> None:
        """Time moves on once deskbot has done what the last click asked for: a click's
        follow-up (its cards, what became due) belongs to the moment of the click."""
        all_idle()
        self.now = moment


def amsterdam(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in the organisation's timezone (CEST in these tests: UTC+2)."""
    return datetime(year, month, day, hour - 2, minute, tzinfo=UTC)


@pytest.fixture
def good_friday() -> Iterator[Clock]:
    yield Clock(amsterdam(2026, 4, 3, 16))


@pytest.fixture
def four_eyes(db: Database, standin: SlackStandin) -> Iterator[RunningApp]:
    """deskbot with the four-eyes rule on: the confirmer must not be the requester."""
    yield from serving(make_settings(db.url, standin.api_url, sla=Sla(four_eyes=True)), standin)


def dm(standin: SlackStandin, user: str) -> list[dict[str, Any]]:
    return [m for m in standin.messages("D" + user) if m.get("subtype") == "bot_message"]


def card_in(standin: SlackStandin, channel: str) -> dict[str, Any]:
    cards = eventually(
        lambda: [m for m in standin.messages(channel) if "Delete a client account" in text(m)]
    )
    assert cards, f"no deletion card in {channel}"
    return cards[-1]


def text(message: dict[str, Any]) -> str:
    return blocks_text(message.get("blocks", [])) + "\n" + str(message.get("text", ""))


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def request_row(deskbot: RunningApp) -> DeletionRequest:
    with deskbot.db.transaction() as session:
        return session.scalars(select(DeletionRequest)).one()


def announced(deskbot: RunningApp) -> DeletionRequest | None:
    """The request once filed and announced (both follow the click, a moment later)."""
    with deskbot.db.transaction() as session:
        found = session.scalars(select(DeletionRequest)).first()
        return found if found is not None and found.announced_at is not None else None


def pending(deskbot: RunningApp) -> list[tuple[str, datetime]]:
    """Every pending reminder, as (kind, when), in time order: a duplicate would show."""
    with deskbot.db.transaction() as session:
        rows = session.scalars(
            select(Reminder).where(Reminder.status == "pending").order_by(Reminder.due_at)
        )
        return [(r.kind, r.due_at) for r in rows]


def sent_to(standin: SlackStandin, target: str, words: str) -> list[str]:
    return [
        c.params.get("text", "")
        for c in standin.successful("chat.postMessage")
        if c.params.get("channel") == target and words in c.params.get("text", "")
    ]


def fill_request(deskbot: RunningApp, standin: SlackStandin, user: str) -> dict[str, Any]:
    """Open the form with /desk delete and get to the summary; returns the summary view."""
    deskbot.driver.command(user, "/desk", "delete")
    standin.wait_for("views.open")
    view = standin.open_modal(user)
    assert view is not None
    _, errors = deskbot.driver.submit_view(user, view, REQUEST)
    assert errors is None
    summary = standin.open_modal(user)
    assert summary is not None
    return summary


def test_an_application_manager_requests_and_the_desk_completes_it(
    deskbot: RunningApp, standin: SlackStandin, good_friday: Clock
) -> None:
    driver = deskbot.driver
    driver.command(AM, "/desk", "delete")
    standin.wait_for("views.open")
    view = standin.open_modal(AM)
    assert view is not None
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "platform",
        "account_kind",
        "client_id",
        "asked_on",
        "note",
    ]

    # What identifies a person, a professional account or a date ahead is refused on its field.
    refused = {
        "account_kind": ("professional", "Deactivate the account"),
        "client_id": ("kees.jansen@example.org", "email address"),
        "asked_on": ("2026-04-10", "future"),
        "note": ("Call her on 06-12345678 first", "phone number"),
    }
    for key, (bad, message) in refused.items():
        _, errors = driver.submit_view(AM, view, {**REQUEST, key: bad})
        assert errors is not None and message in errors[key], (key, errors)
    _, errors = driver.submit_view(AM, view, {**REQUEST, "client_id": "Kees Jansen"})
    assert errors is not None and "name" in errors["client_id"]

    _, errors = driver.submit_view(AM, view, REQUEST)
    assert errors is None
    summary = standin.open_modal(AM)
    assert summary is not None
    read = blocks_text(summary["blocks"])
    assert "irreversibly" in read and "therapist's feedback" in read and "c-48213" in read

    # Filing asks for the deliberate confirmation at once: the client ID typed again.
    _, errors = driver.submit_view(AM, summary, {})
    assert errors is None
    confirm = standin.open_modal(AM)
    assert confirm is not None and confirm["callback_id"] == "deletion-confirm"
    assert "cannot be undone" in blocks_text(confirm["blocks"])
    assert request_row(deskbot).status == "awaiting_confirmation"
    _, errors = driver.submit_view(AM, confirm, {"typed": "c-48231"})
    assert errors is not None and "not this request's client ID" in errors["typed"]
    _, errors = driver.submit_view(AM, confirm, {"typed": "C-48213"})
    assert errors is None
    done = standin.open_modal(AM)
    assert done is not None and "Mon 13 Apr 2026" in blocks_text(done["blocks"])

    # Confirmed on Good Friday at 16:00: Easter Monday does not count, due end of Mon 13 Apr.
    request = request_row(deskbot)
    assert request.status == "confirmed" and request.due_date == date(2026, 4, 13)
    assert request.statutory_date == date(2026, 5, 1)
    assert request.calendar is not None and request.calendar.startswith("v1|NL|")
    assert pending(deskbot) == [
        ("working_day_3", amsterdam(2026, 4, 9, 9)),  # Tue 7, Wed 8, Thu 9
        ("due_day", amsterdam(2026, 4, 13, 9)),
        ("escalation", amsterdam(2026, 4, 14, 9)),
        ("statutory_near", amsterdam(2026, 4, 24, 9)),
    ]

    # The service desk's card; someone without the role is refused and nothing changes.
    card = eventually(lambda: (c := card_in(standin, TRIAGE)) and "Mon 13 Apr" in text(c) and c)
    assert card and "c-48213" in text(card)
    assert Action.DELETION_CLAIM in buttons(card)
    driver.click(OUTSIDER, card, Action.DELETION_CLAIM)
    assert eventually(lambda: standin.ephemerals(OUTSIDER))
    assert "Only service-desk agents" in standin.ephemerals(OUTSIDER)[0]["text"]
    assert request_row(deskbot).assignee_id is None

    # The organisation closes on Wed 8 April after all: this request keeps its deadline.
    deskbot.services.settings.sla.closed_dates = [date(2026, 4, 8)]
    driver.click(AGENT, card, Action.DELETION_CLAIM)
    updated = eventually(
        lambda: (m := standin.message(TRIAGE, card["ts"])) and f"<@{AGENT}>" in text(m) and m
    )
    assert updated and Action.DELETION_CLAIM not in buttons(updated)
    assert "earlier working-day calendar" in text(updated) and "Mon 13 Apr" in text(updated)
    assert request_row(deskbot).due_date == date(2026, 4, 13)

    # Working day 3, at the start of working hours: the assignee is reminded, once.
    good_friday.to(amsterdam(2026, 4, 9, 8, 59))
    assert deletion_desk.send_due(deskbot.services) == 0
    good_friday.to(amsterdam(2026, 4, 9, 9, 1))
    assert deletion_desk.send_due(deskbot.services) == 1
    assert deletion_desk.send_due(deskbot.services) == 0
    assert len(sent_to(standin, AGENT, "third working day")) == 1

    # Waiting for the requester: the clock stops (with a reason) until it is resumed.
    driver.click(AGENT, standin.message(TRIAGE, card["ts"]), Action.DELETION_PAUSE)
    standin.wait_for("views.open", count=2)
    reason = standin.open_modal(AGENT)
    assert reason is not None
    _, errors = driver.submit_view(AGENT, reason, {"reason": "Mail me at a@b.nl"})
    assert errors is not None and "personal data" in errors["reason"]
    _, errors = driver.submit_view(AGENT, reason, {"reason": "Which platform account exactly?"})
    assert errors is None
    # No reminders while it stands still, but the legal limit is still watched.
    assert [kind for kind, _ in pending(deskbot)] == ["statutory_near"]

    waiting = eventually(
        lambda: (
            (m := standin.message(TRIAGE, card["ts"]))
            and Action.DELETION_RESUME in buttons(m)
            and m
        )
    )
    assert "Which platform account exactly?" in text(waiting)
    good_friday.to(amsterdam(2026, 4, 14, 10))
    driver.click(AGENT, waiting, Action.DELETION_RESUME)
    # Paused Thu 9 → resumed Tue 14: Fri 10, Mon 13, Tue 14 did not count.
    assert eventually(lambda: request_row(deskbot).due_date == date(2026, 4, 16))
    request = request_row(deskbot)
    assert request.paused_days == 3 and request.statutory_date == date(2026, 5, 1)
    assert request.first_due_date == date(2026, 4, 13)
    assert pending(deskbot) == [
        ("due_day", amsterdam(2026, 4, 16, 9)),
        ("escalation", amsterdam(2026, 4, 17, 9)),
        ("statutory_near", amsterdam(2026, 4, 24, 9)),
    ]

    resumed = eventually(
        lambda: (
            (m := standin.message(TRIAGE, card["ts"])) and Action.DELETION_PAUSE in buttons(m) and m
        )
    )
    driver.click(AGENT, resumed, Action.DELETION_COMPLETE)
    assert eventually(lambda: request_row(deskbot).status == "completed")
    assert eventually(lambda: sent_to(standin, AM, "has been deleted"))
    assert eventually(lambda: pending(deskbot) == [])  # the rest was cancelled with it
    final = standin.message(TRIAGE, card["ts"])
    assert "completed" in text(final) and buttons(final) == [Action.HISTORY]
    requester_card = next(m for m in dm(standin, AM) if "Delete a client account" in text(m))
    assert "has been deleted" in text(requester_card)

    # The audit trail: who did what, with the anonymised ID only.
    request = request_row(deskbot)
    with deskbot.db.transaction() as session:
        trail = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == "DEL-1").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.action) for e in trail] == [
            (AM, "deletion.requested"),
            (AM, "deletion.confirmed"),
            (AGENT, "deletion.assigned"),
            (AGENT, "deletion.paused"),
            (AGENT, "deletion.resumed"),
            (AGENT, "deletion.completed"),
        ]
        stored = repr([e.detail for e in trail]) + repr(
            [getattr(request, c.key) for c in DeletionRequest.__table__.columns]
        )
        assert "c-48213" in stored and "Kees" not in stored and "@" not in stored


def test_a_therapists_request_goes_to_the_application_managers(
    four_eyes: RunningApp, standin: SlackStandin, good_friday: Clock
) -> None:
    deskbot = four_eyes
    # The therapist tells it in a DM, one question at a time.
    chat = Chat(deskbot.db, deskbot.driver, standin, THERAPIST)
    chat.say("delete")
    chat.press(Action.DM_CHOOSE, "production")
    chat.press(Action.DM_CHOOSE, "client")
    chat.say("Kees de Vries")
    assert "name" in chat.text()
    chat.say("c-7731")
    chat.say("yesterday")
    chat.press(Action.DM_SKIP)
    assert "irreversibly" in chat.text()
    chat.press(Action.DM_SUBMIT)

    request = eventually(lambda: announced(deskbot))
    assert request.status == "requested" and request.asked_on == date(2026, 4, 2)
    # Every application manager is asked to submit and confirm it; the therapist cannot.
    for manager in (AM, AM2, GROUP_MEMBER):
        asks = [m for m in dm(standin, manager) if Action.DELETION_CONFIRM in buttons(m)]
        assert len(asks) == 1, manager
    mine = [m for m in dm(standin, THERAPIST) if "Delete a client account" in text(m)]
    assert buttons(mine[-1]) == [Action.DELETION_WITHDRAW]
    # The triage card shows Confirm to everyone there; the server lets only a manager.
    deskbot.driver.click(THERAPIST, card_in(standin, TRIAGE), Action.DELETION_CONFIRM)
    assert eventually(lambda: standin.ephemerals(THERAPIST))
    assert "Only an application manager" in standin.ephemerals(THERAPIST)[0]["text"]

    # Two working days without a confirmation: the therapist is reminded (Easter Monday
    # does not count).
    good_friday.to(amsterdam(2026, 4, 8, 9, 5))
    assert deletion_desk.send_due(deskbot.services) == 1
    assert sent_to(standin, THERAPIST, "waiting two working days")

    ask = next(m for m in dm(standin, AM2) if Action.DELETION_CONFIRM in buttons(m))
    deskbot.driver.click(AM2, ask, Action.DELETION_CONFIRM)
    standin.wait_for("views.open")
    confirm = standin.open_modal(AM2)
    assert confirm is not None
    _, errors = deskbot.driver.submit_view(AM2, confirm, {"typed": "c-7731"})
    assert errors is None
    request = request_row(deskbot)
    assert request.status == "confirmed" and request.confirmed_by == AM2
    assert request.submitted_by == AM2 and request.due_date == date(2026, 4, 15)
    # The other managers' messages lose their button: there is nothing left to confirm.
    other = eventually(
        lambda: [m for m in dm(standin, AM) if "nothing more to do" in text(m) and not buttons(m)]
    )
    assert other

    # Past the deadline the lead hears every working morning until it is done.
    good_friday.to(amsterdam(2026, 4, 16, 9, 1))
    deletion_desk.send_due(deskbot.services)
    good_friday.to(amsterdam(2026, 4, 17, 9, 1))
    deletion_desk.send_due(deskbot.services)
    good_friday.to(amsterdam(2026, 4, 18, 9, 1))  # a Saturday: nothing
    deletion_desk.send_due(deskbot.services)
    escalations = sent_to(standin, LEAD, "overdue")
    assert len(escalations) == 2 and "overdue by 1 working day" in escalations[0]

    # Only agents act on the card; the requester may still withdraw before processing.
    deskbot.driver.click(OUTSIDER, card_in(standin, TRIAGE), Action.DELETION_START)
    assert eventually(lambda: standin.ephemerals(OUTSIDER))
    assert "Only service-desk agents" in standin.ephemerals(OUTSIDER)[0]["text"]
    mine = [m for m in dm(standin, THERAPIST) if "Delete a client account" in text(m)]
    deskbot.driver.click(THERAPIST, mine[-1], Action.DELETION_WITHDRAW)
    assert eventually(lambda: request_row(deskbot).status == "withdrawn")
    assert eventually(lambda: sent_to(standin, AM2, "withdrawn"))
    assert eventually(lambda: pending(deskbot) == [])  # the outcome is recorded a moment later


def test_four_eyes_refuses_the_requesters_own_confirmation(
    four_eyes: RunningApp, standin: SlackStandin, good_friday: Clock
) -> None:
    deskbot = four_eyes
    summary = fill_request(deskbot, standin, AM)
    deskbot.driver.submit_view(AM, summary, {})
    after = standin.open_modal(AM)
    assert after is not None
    assert "needs a confirmation by an application manager" in blocks_text(after["blocks"])
    request = eventually(lambda: announced(deskbot))
    assert request.status == "awaiting_confirmation"
    # The requester's own click on the triage card is refused on the server.
    card = card_in(standin, TRIAGE)
    deskbot.driver.click(AM, card, Action.DELETION_CONFIRM)
    assert eventually(lambda: standin.ephemerals(AM))
    assert "four-eyes" in standin.ephemerals(AM)[0]["text"]
    assert request_row(deskbot).status == "awaiting_confirmation"
    deskbot.driver.click(AM2, card, Action.DELETION_CONFIRM)
    standin.wait_for("views.open", count=2)
    confirm = standin.open_modal(AM2)
    assert confirm is not None
    deskbot.driver.submit_view(AM2, confirm, {"typed": "c-48213"})
    assert request_row(deskbot).confirmed_by == AM2


def test_a_lost_claim_is_retried_after_its_lease(
    deskbot: RunningApp, standin: SlackStandin, good_friday: Clock
) -> None:
    from deskbot import reminders

    summary = fill_request(deskbot, standin, AM)
    deskbot.driver.submit_view(AM, summary, {})
    good_friday.to(amsterdam(2026, 4, 8, 9, 1))  # the confirmation reminder is due
    with deskbot.db.transaction() as session:
        # A process claims it, then dies before sending.
        _, claimed = reminders.claim_due(session, organisation_id="test")
    assert len(claimed) == 1
    assert deletion_desk.send_due(deskbot.services) == 0  # the claim still holds
    good_friday.to(amsterdam(2026, 4, 8, 9, 7))
    assert deletion_desk.send_due(deskbot.services) == 1
    assert len(sent_to(standin, AM, "waiting two working days")) == 1


def test_the_shortcut_opens_the_same_form_and_outsiders_are_refused(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    deskbot.driver.global_shortcut(THERAPIST, Shortcut.REQUEST_DELETION)
    standin.wait_for("views.open")
    view = standin.open_modal(THERAPIST)
    assert view is not None and view["title"]["text"] == "Delete a client account"
    deskbot.driver.command(OUTSIDER, "/desk", "delete")
    refusal = standin.wait_for("response_url")
    assert "request the deletion" in str(refusal[0].params)
    deskbot.driver.global_shortcut(AGENT, Shortcut.REQUEST_DELETION)
    assert eventually(lambda: [m for m in dm(standin, AGENT) if "request the deletion" in text(m)])
    with deskbot.db.transaction() as session:
        assert [d.user_id for d in session.scalars(select(Draft))] == [THERAPIST]


def test_each_platform_checks_its_own_client_id_format(db: Database, standin: SlackStandin) -> None:
    platforms = [
        Platform(
            name="production",
            url="https://care.example.org",
            client_id_pattern="c-[0-9]{5}",
            client_id_example="c-48213",
        ),
        Platform(name="training", url="https://training.care.example.org"),
    ]
    deskbot = serve_app(make_settings(db.url, standin.api_url, platforms=platforms), standin)
    try:
        deskbot.driver.command(AM, "/desk", "delete")
        standin.wait_for("views.open")
        view = standin.open_modal(AM)
        assert view is not None
        _, errors = deskbot.driver.submit_view(AM, view, {**REQUEST, "client_id": "48213"})
        assert errors is not None and "For example c-48213" in errors["client_id"]
        # The training platform has no format of its own: any ID with digits will do.
        _, errors = deskbot.driver.submit_view(
            AM, view, {**REQUEST, "platform": "training", "client_id": "48213"}
        )
        assert errors is None
    finally:
        deskbot.stop()
        deskbot.db.dispose()


def test_escalations_survive_a_pause_and_a_lead_who_left(
    db: Database, standin: SlackStandin, good_friday: Clock
) -> None:
    # The first lead has left the workspace: Slack answers channel_not_found for them.
    roles = make_settings(db.url, standin.api_url).roles.model_copy(
        update={"leads": ["U0GONE", LEAD]}
    )
    deskbot = serve_app(make_settings(db.url, standin.api_url, roles=roles), standin)
    try:
        summary = fill_request(deskbot, standin, AM)
        deskbot.driver.submit_view(AM, summary, {})
        confirm = standin.open_modal(AM)
        assert confirm is not None
        deskbot.driver.submit_view(AM, confirm, {"typed": "c-48213"})  # due end of Mon 13 Apr
        card = eventually(lambda: (c := card_in(standin, TRIAGE)) and "Mon 13" in text(c) and c)
        deskbot.driver.click(AGENT, card, Action.DELETION_CLAIM)
        assert eventually(lambda: request_row(deskbot).assignee_id == AGENT)

        for morning in (14, 15):  # Tue and Wed: overdue, the lead hears each morning
            good_friday.to(amsterdam(2026, 4, morning, 9, 1))
            deletion_desk.send_due(deskbot.services)
        assert len(sent_to(standin, LEAD, "overdue")) == 2

        # Paused and resumed on Wednesday: no "due today" after all, and the escalations go on
        # from the next working morning (the deadline moved out by the day paused: none).
        good_friday.to(amsterdam(2026, 4, 15, 10))
        with deskbot.db.transaction() as session:
            request = session.scalars(select(DeletionRequest)).one()
            deletions.pause(
                session,
                request,
                deskbot.services.runner.actor(AGENT),
                "Which one?",
                deskbot.services.settings,
            )
        good_friday.to(amsterdam(2026, 4, 15, 11))
        with deskbot.db.transaction() as session:
            request = session.scalars(select(DeletionRequest)).one()
            deletions.resume(
                session, request, deskbot.services.runner.actor(AGENT), deskbot.services.settings
            )
        assert deletion_desk.send_due(deskbot.services) == 0
        assert [k for k, _ in pending(deskbot)] == ["escalation", "statutory_near"]
        for morning in (16, 17):
            good_friday.to(amsterdam(2026, 4, morning, 9, 1))
            deletion_desk.send_due(deskbot.services)
        assert len(sent_to(standin, LEAD, "overdue")) == 4
        # Nobody ticked on Monday 13, the due day: "due today" is not said on Tuesday.
        assert sent_to(standin, AGENT, "due *today*") == []
        with deskbot.db.transaction() as session:
            sent = session.scalars(select(Reminder).where(Reminder.kind == "escalation")).all()
            assert all(r.delivered == ["gone:U0GONE", LEAD] for r in sent if r.status == "sent")
    finally:
        deskbot.stop()
        deskbot.db.dispose()


def test_no_reminder_goes_out_outside_working_hours(
    deskbot: RunningApp, standin: SlackStandin, good_friday: Clock
) -> None:
    # Saturday 25 April, 23:00: the client asked on 1 April, so the legal month ends 1 May.
    good_friday.to(amsterdam(2026, 4, 25, 23))
    summary = fill_request(deskbot, standin, AM)
    deskbot.driver.submit_view(AM, summary, {})
    assert deletion_desk.send_due(deskbot.services) == 0
    assert ("statutory_near", amsterdam(2026, 4, 28, 9)) in pending(deskbot)  # Mon 27: King's Day
    good_friday.to(amsterdam(2026, 4, 28, 9, 1))
    assert deletion_desk.send_due(deskbot.services) == 1
    assert sent_to(standin, AM, "legal limit")
