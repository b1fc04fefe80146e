""" "This email address is already in use": application managers, agents and the data officer ask
deskbot where an address lives, and each sees what their role may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from deskbot import i18n
from deskbot.db import Database
from deskbot.models import Account, AccountImport, AuditEvent
from deskbot.settings import Platform, Roles
from deskbot.slack.ids import Action, Shortcut
from tests.conftest import AGENT, AM, OUTSIDER, RunningApp, make_settings, serving
from tests.support.chat import blocks_text
from tests.support.slack_standin import SlackStandin

OFFICER = "U0DATAOFFICER"
IMPORTED = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)


def account(**values: Any) -> Account:
    defaults: dict[str, Any] = {
        "organisation_id": "test",
        "platform": "production",
        "display_name": None,
        "active": True,
        "externally_managed": False,
        "groups": [],
        "row_hash": "0" * 32,
        "imported_at": IMPORTED,
        "last_import_id": "i1",
    }
    return Account(**{**defaults, **values})


@pytest.fixture
def store(db: Database) -> Database:
    with db.transaction() as session:
        session.add_all(
            [
                account(
                    kind="client",
                    account_id="c-501",
                    email="anna.jansen@example.org",
                    email_key="annajansen@example.org",
                    display_name="Anna Jansen",
                    active=False,
                ),
                account(
                    kind="professional",
                    account_id="p-77",
                    email="a.jansen+work@example.org",
                    email_key="ajansen@example.org",
                    display_name="Dr. A. Jansen",
                    externally_managed=True,
                    groups=["therapist", "supervisor"],
                ),
                account(
                    kind="professional",
                    account_id="p-78",
                    email="ajansen@example.org",
                    email_key="ajansen@example.org",
                    display_name="Dr. A. Jansen (old)",
                    platform="training",
                ),
            ]
        )
        session.add(
            AccountImport(
                id="i1",
                organisation_id="test",
                platform="production",
                kind="client",
                full=True,
                started_at=IMPORTED,
                finished_at=IMPORTED,
            )
        )
    return db


@pytest.fixture
def desk(store: Database, standin: SlackStandin) -> Iterator[RunningApp]:
    standin.users[OFFICER] = {"locale": "nl-NL", "name": "officer", "tz": "Europe/Amsterdam"}
    settings = make_settings(
        store.url,
        standin.api_url,
        roles=Roles(application_managers=[AM], agents=[AGENT], data_officers=[OFFICER]),
        platforms=[
            Platform(name="production", url="https://care.example.org"),
            Platform(
                name="training",
                url="https://training.care.example.org",
                professional_details="always_manual",
            ),
        ],
    )
    yield from serving(settings, standin)


def test_an_application_manager_learns_a_client_has_it(
    desk: RunningApp, standin: SlackStandin
) -> None:
    desk.driver.command(AM, "/desk", "email  Anna.Jansen@Example.ORG ")
    reply = standin.wait_for("response_url")[0].params
    shown = blocks_text(reply["blocks"])
    assert "used by a client account" in shown and "Active: no" in shown
    assert "c-501" not in shown and "Anna Jansen" not in shown  # client details stay hidden
    assert "Ask the data officer" in shown and "another address" in shown
    assert "2026-11-20 07:30" in shown

    with desk.db.transaction() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "email.lookup")).one()
    assert audit.actor == AM and len(audit.subject_id) == 64
    assert "jansen" not in repr((audit.subject_id, audit.detail)).lower()


def test_professional_accounts_in_full_with_advice(desk: RunningApp, standin: SlackStandin) -> None:
    desk.driver.command(AGENT, "/desk", "email a.jansen+work@example.org")
    shown = blocks_text(standin.wait_for("response_url")[0].params["blocks"])
    assert "Dr. A. Jansen" in shown and "p-77" in shown and "therapist, supervisor" in shown
    assert "Externally managed: yes" in shown and "change the address there" in shown
    # The same address without +tag and dots on the training platform: a hint, not a match.
    assert "Hint: A professional account has a very similar address: ajansen@example.org" in shown
    assert "p-78" not in shown

    desk.driver.command(AGENT, "/desk", "email nobody@example.org")
    nothing = blocks_text(standin.wait_for("response_url", count=2)[1].params["blocks"])
    assert "not in the account store" in nothing and "created since" in nothing


def test_the_question_goes_to_the_data_officer_and_back(
    desk: RunningApp, standin: SlackStandin
) -> None:
    driver = desk.driver
    driver.global_shortcut(AM, Shortcut.CHECK_EMAIL)
    standin.wait_for("views.open")
    form = standin.open_modal(AM)
    assert form is not None
    _, errors = driver.submit_view(AM, form, {"address": "anna.jansen@@example"})
    assert errors is not None and "not an email address" in errors["address"]
    _, errors = driver.submit_view(AM, form, {"address": "anna.jansen@example.org"})
    assert errors is None
    result = standin.open_modal(AM)
    assert result is not None and "used by a client account" in blocks_text(result["blocks"])

    driver.click(AM, result, Action.EMAIL_ASK_DATA_OFFICER)
    question = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == OFFICER
    )[0]
    seen = blocks_text(question.params["blocks"])
    assert "Anna Jansen" in seen and "c-501" in seen  # the data officer sees the client
    asked = standin.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == AM)
    assert "asked the data officer" in asked[0].params["text"]

    message = standin.message(question.response["channel"], question.response["ts"])
    driver.click(OUTSIDER, message, Action.EMAIL_REPLY)  # not a data officer: nothing opens
    driver.click(OFFICER, message, Action.EMAIL_REPLY)
    standin.wait_for("views.open", count=2)
    reply_form = standin.open_modal(OFFICER)
    assert reply_form is not None and standin.open_modal(OUTSIDER) is None
    driver.submit_view(
        OFFICER, reply_form, {"reply": "Inactive client account; the secretary can activate it."}
    )
    answered = standin.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.params.get("channel") == AM and "answered" in c.params["text"],
    )
    assert "the secretary can activate it" in blocks_text(answered[0].params["blocks"])


def test_the_data_officer_sees_everything_and_others_nothing(
    desk: RunningApp, standin: SlackStandin
) -> None:
    desk.driver.command(OFFICER, "/desk", "email anna.jansen@example.org")
    shown = blocks_text(standin.wait_for("response_url")[0].params["blocks"])
    # The data officer's Slack is in Dutch: the vendor's next step reads in Dutch.
    with i18n.speaking("nl"):
        next_step = i18n._(
            "The client account is inactive. The platform secretary can activate it again or "
            "assign it to another therapist; a new account needs another address."
        )
    assert "Anna Jansen" in shown and "c-501" in shown and next_step in shown
    assert "secretariaat" in next_step and "Ask the data officer" not in shown

    desk.driver.command(OUTSIDER, "/desk", "email anna.jansen@example.org")
    refusal = standin.wait_for("response_url", count=2)[1].params
    assert "cannot check email addresses" in refusal["text"] and "blocks" not in refusal
    with desk.db.transaction() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "email.lookup")
        ).all()
    assert OUTSIDER not in actors
