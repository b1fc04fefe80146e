"""Unknown is not nobody: when Slack cannot list a user group, a role that depends on it is
neither granted nor denied. A request is refused at once (within Slack's 3 seconds) with a
sentence that says why; an announcement or a reminder waits for the missing recipients and is
not marked done meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from deskbot import clock
from deskbot.db import Database
from deskbot.models import BugReport, DeletionRequest, Reminder
from deskbot.roles import MAY_CHECK_EMAIL, Role, RoleDirectory, RolesUnknown
from deskbot.settings import Roles
from deskbot.slack import deletion_desk, email_check, filing, views
from deskbot.slack.app import Services, build_services
from deskbot.slack.ids import Action
from tests.conftest import (
    AGENT,
    AM,
    AM2,
    GROUP_MEMBER,
    LEAD,
    THERAPIST,
    TRIAGE,
    RunningApp,
    make_settings,
)
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import JsonDict, SlackStandin
from tests.test_deletion_tracker import file_requests

REFUSAL = "could not check your roles with Slack just now, so I did nothing"


def show(deskbot: RunningApp, standin: SlackStandin, user: str, view: JsonDict) -> JsonDict:
    """A modal in front of the user, as if deskbot had opened it a moment ago."""
    deskbot.services.client.views_open(trigger_id=standin.issue_trigger_id(user), view=view)
    shown = standin.open_modal(user)
    assert shown is not None
    return shown


def group_listed(standin: SlackStandin) -> bool:
    return bool(standin.successful("usergroups.users.list"))


def test_the_email_check_refuses_in_time_while_slack_rate_limits_a_cold_lookup(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    # GROUP_MEMBER is an application manager through a user group nobody has looked up yet;
    # Slack answers the lookup with 429 twice, asking for two seconds' patience each time.
    form = show(deskbot, standin, GROUP_MEMBER, email_check.ask_view())
    standin.fail_next("usergroups.users.list", status=429, retry_after=2, times=2)
    reply, errors = deskbot.driver.submit_view(GROUP_MEMBER, form, {"address": "a@example.org"})
    assert reply.status == 200 and reply.elapsed < 3.0
    assert errors is not None and REFUSAL in errors["address"]

    # The patient lookup goes on behind the refusal; the next try gets the answer.
    assert eventually(lambda: group_listed(standin), timeout=8)
    reply, errors = deskbot.driver.submit_view(GROUP_MEMBER, form, {"address": "a@example.org"})
    assert reply.status == 200 and reply.elapsed < 3.0 and errors is None
    answer = standin.open_modal(GROUP_MEMBER)
    assert answer is not None and REFUSAL not in blocks_text(answer["blocks"])
    assert len(standin.calls_to("usergroups.users.list")) == 3


def test_the_final_submission_refuses_in_time_and_files_nothing(
    db: Database, standin: SlackStandin, deskbot: RunningApp
) -> None:
    # The draft was written on another instance, which knows the group; this one does not yet.
    elsewhere = build_services(make_settings(db.url, standin.api_url), db)
    draft, _ = elsewhere.runner.open(
        flow="bug_report", user_id=GROUP_MEMBER, surface="modal", fresh=True
    )
    answers = dict(COMPLETE_BUG_REPORT)
    elsewhere.runner.update_state(draft.id, GROUP_MEMBER, {"answers": answers, "current": None})
    listed_before = len(standin.successful("usergroups.users.list"))
    summary = views.modal_summary(deskbot.services.runner.flow("bug_report"), draft.id, answers)
    form = show(deskbot, standin, GROUP_MEMBER, summary)

    standin.fail_next("usergroups.users.list", status=429, retry_after=2, times=2)
    reply, errors = deskbot.driver.submit_view(GROUP_MEMBER, form, {})
    assert reply.status == 200 and reply.elapsed < 3.0 and errors is None
    told = standin.open_modal(GROUP_MEMBER)  # the form has no field: a notice on top of it
    assert told is not None and REFUSAL in blocks_text(told["blocks"])
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(BugReport)) == 0

    assert eventually(lambda: len(standin.successful("usergroups.users.list")) > listed_before, 8)
    standin.close_modal(GROUP_MEMBER, told["id"])
    reply, errors = deskbot.driver.submit_view(GROUP_MEMBER, form, {})
    assert reply.status == 200 and reply.elapsed < 3.0 and errors is None
    filed = standin.open_modal(GROUP_MEMBER)
    assert filed is not None and "BUG-1" in blocks_text(filed["blocks"])
    assert eventually(lambda: [m for m in standin.messages(TRIAGE) if "BUG-1" in str(m)])


def test_a_direct_holder_needs_no_lookup_and_nobody_is_granted_on_unknown(
    standin: SlackStandin,
) -> None:
    def unreachable(group: str) -> list[str]:
        raise ConnectionError("Slack is down")

    roles = RoleDirectory(
        Roles(application_managers=[AM, "S0AMS"], agents=[AGENT], leads=["S0LEADS"]),
        unreachable,
    )
    assert roles.has_any(AM, MAY_CHECK_EMAIL) and roles.has_any(AGENT, MAY_CHECK_EMAIL)
    with pytest.raises(RolesUnknown) as unknown:
        roles.has_any(GROUP_MEMBER, MAY_CHECK_EMAIL)
    assert REFUSAL in str(unknown.value)
    with pytest.raises(RolesUnknown):
        roles.roles_of(AM)  # a lead too, through S0LEADS? Nobody can say yet.
    with pytest.raises(RolesUnknown) as unknown:
        roles.members(Role.APPLICATION_MANAGER)
    assert unknown.value.known == (AM,)
    assert roles.members(Role.AGENT) == [AGENT]


def file_for_a_therapist(services: Services) -> int:
    """A therapist's deletion request, filed on another instance (one that knows the groups):
    every application manager is to confirm it."""
    runner = services.runner
    draft, _ = runner.open(flow="deletion_request", user_id=THERAPIST, surface="dm", fresh=True)
    answers = {
        "platform": "production",
        "account_kind": "client",
        "client_id": "c-7731",
        "asked_on": "2026-04-01",
        "note": None,
    }
    runner.update_state(draft.id, THERAPIST, {"answers": answers, "current": None})
    return runner.file(draft.id, THERAPIST).item.id


def confirm_cards(standin: SlackStandin, user: str) -> list[JsonDict]:
    return [
        c.params
        for c in standin.successful("chat.postMessage")
        if c.params["channel"] == user and Action.DELETION_CONFIRM in str(c.params.get("blocks"))
    ]


def test_a_confirm_card_waits_for_the_group_and_the_announcement_is_not_done(
    db: Database, standin: SlackStandin, deskbot: RunningApp
) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))
    request_id = file_for_a_therapist(build_services(make_settings(db.url, standin.api_url), db))

    def request() -> DeletionRequest:
        with db.transaction() as session:
            found = session.get(DeletionRequest, request_id)
            assert found is not None
            return found

    # This instance's ticker announces it while Slack refuses to list the managers' group.
    standin.fail_next("usergroups.users.list", error="ratelimited", times=2)
    for _ in range(2):
        filing.announce_pending(deskbot.services)
        assert request().announced_at is None
    assert [len(confirm_cards(standin, m)) for m in (AM, AM2, GROUP_MEMBER)] == [1, 1, 0]
    assert eventually(lambda: [m for m in standin.messages(TRIAGE) if "DEL-1" in str(m)])

    # Slack lists the group again: the missing card goes out, once, and it is done.
    assert filing.announce_pending(deskbot.services) == 1
    assert [len(confirm_cards(standin, m)) for m in (AM, AM2, GROUP_MEMBER)] == [1, 1, 1]
    assert request().announced_at is not None
    assert filing.announce_pending(deskbot.services) == 0
    assert len([m for m in standin.messages(TRIAGE) if "DEL-1" in str(m)]) == 1

    # The card works: the group member confirms from it.
    card = next(
        m for m in standin.messages("D" + GROUP_MEMBER) if Action.DELETION_CONFIRM in str(m)
    )
    deskbot.driver.click(GROUP_MEMBER, card, Action.DELETION_CONFIRM)
    confirm = standin.wait_for("views.open")
    assert confirm[-1].ok


def test_an_escalation_waits_for_the_leads_group_instead_of_going_to_the_desk(
    db: Database, standin: SlackStandin
) -> None:
    standin.usergroups["S0LEADS"] = [LEAD]
    roles = make_settings(db.url, standin.api_url).roles.model_copy(update={"leads": ["S0LEADS"]})
    settings = make_settings(db.url, standin.api_url, roles=roles)
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))  # Tue 7 Apr, 10:00
    # Filed and confirmed on another instance: due by the end of Tue 14 Apr.
    file_requests(build_services(settings, db).runner, 1)
    ticker = build_services(settings, db)  # this instance has not listed the leads yet
    filing.announce_pending(ticker)

    clock.set_clock(lambda: datetime(2026, 4, 15, 7, 1, tzinfo=UTC))  # Wed 15, 09:01: overdue
    standin.fail_next("usergroups.users.list", error="ratelimited", times=2)
    deletion_desk.send_due(ticker)
    deletion_desk.send_due(ticker)

    def escalations(target: str) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in standin.successful("chat.postMessage")
            if c.params["channel"] == target and "overdue" in str(c.params.get("text"))
        ]

    # Unknown leads are not "no leads": the desk is not told instead, and it is not sent.
    assert escalations(TRIAGE) == [] and escalations(LEAD) == []
    with db.transaction() as session:
        escalation = session.scalars(select(Reminder).where(Reminder.kind == "escalation")).one()
        assert escalation.status == "pending" and escalation.attempts == 0

    deletion_desk.send_due(ticker)
    assert len(escalations(LEAD)) == 1 and escalations(TRIAGE) == []
    with db.transaction() as session:
        sent = session.scalars(
            select(Reminder).where(Reminder.kind == "escalation", Reminder.status == "sent")
        ).one()
        assert sent.delivered == [LEAD]
