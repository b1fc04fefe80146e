"""An application manager reports a bug through the modal, as they would in Slack."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from deskbot.models import AuditEvent, BugReport, Draft
from deskbot.slack.ids import Action, Shortcut
from tests.conftest import AGENT, AM, GROUP_MEMBER, OUTSIDER, TRIAGE, RunningApp
from tests.support.chat import Chat, blocks_text, eventually, text_objects
from tests.support.slack_standin import SlackStandin

PAGE_1 = {
    "platform": "https://care.example.org",  # "production", as the select offers it
    "access": "app",
    "user_kind": "professional",
    "account_id": "prof-4821",
}
PAGE_2 = {
    "roles": ["therapist", "supervisor"],
    "tool": "diary",
    "scenario": "Open the diary, add an entry for today, press save. Mail me at jan@example.org",
    "expected": "The entry is saved and listed.",
    "actual": "A spinner keeps turning; nothing is saved. <!channel> <https://x.example|look>",
    "device_type": "phone",
}
PAGE_3 = {
    "os": "iOS 17.4",
    "device_model": "Apple iPhone 13",
    "app_version": "4.12.1",
    "excluded": ["connection", "other_network"],
    "reproduced": "not_tried",
    "scope": "single_user",
}


def open_modal(standin: SlackStandin, user: str, count: int = 1) -> dict[str, Any]:
    standin.wait_for("views.open", count=count)
    view = standin.open_modal(user)
    assert view is not None, "no modal is open"
    return view


def labels(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def test_full_report_through_the_modal(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    assert driver.command(AM, "/desk", "bug").status == 200
    view = open_modal(standin, AM)
    assert labels(view) == ["platform", "platform__other", "access", "user_kind", "account_id"]

    # An email address as account ID is refused on the field, and nothing else is lost.
    _, errors = driver.submit_view(AM, view, {**PAGE_1, "account_id": "jan@example.org"})
    assert errors is not None and "email address" in errors["account_id"]
    _, errors = driver.submit_view(AM, view, {**PAGE_1, "account_id": "Jan de Vries"})
    assert errors is not None and "name" in errors["account_id"]
    _, errors = driver.submit_view(AM, view, PAGE_1)
    assert errors is None

    # Page 2 asks for the professional's roles, because the affected user is a professional.
    view = standin.open_modal(AM)
    assert view is not None
    assert "roles" in labels(view)
    _, errors = driver.submit_view(AM, view, PAGE_2)
    assert errors is None

    # Page 3 branches on the app (app version, no browser) and the phone (brand and model).
    view = standin.open_modal(AM)
    assert view is not None
    shown = labels(view)
    assert "app_version" in shown and "device_model" in shown and "browser" not in shown
    _, errors = driver.submit_view(AM, view, {**PAGE_3, "app_version": "latest"})
    assert errors is not None and "version" in errors["app_version"]
    _, errors = driver.submit_view(AM, view, PAGE_3)
    assert errors is None

    # The summary warns about the email address and gives tips for unchecked causes.
    summary = standin.open_modal(AM)
    assert summary is not None and summary["callback_id"] == "flow-summary"
    read = blocks_text(summary["blocks"])
    assert "an email address" in read and "Tip: try the same steps in another browser" in read
    _, errors = driver.submit_view(AM, summary, {})
    assert errors is None
    done = standin.open_modal(AM)
    assert done is not None and "BUG-1" in blocks_text(done["blocks"])

    # The reporter gets the reference and what happens next; the triage channel a redacted card.
    receipts = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == AM
    )
    assert "BUG-1" in receipts[0].params["text"]
    cards = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == TRIAGE
    )
    card = blocks_text(cards[0].params["blocks"])
    assert "BUG-1" in card and "prof-4821" in card and "A spinner keeps turning" in card
    assert "jan@example.org" not in card and "[email removed]" in card
    # Typed text is shown literally: it can neither ping the channel nor smuggle in a link.
    for block in cards[0].params["blocks"]:
        for obj in text_objects(block):
            assert obj["type"] == "plain_text" or "<!channel>" not in obj["text"]
    assert "<!channel> <https://x.example|look>" in card

    with deskbot.db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.reference == "BUG-1" and report.reporter_id == AM
        assert report.answers["roles"] == ["therapist", "supervisor"]
        assert "browser" not in report.answers
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "bug_report.draft_started" in actions and "bug.filed" in actions

    def card_recorded() -> bool:
        with deskbot.db.transaction() as session:
            return session.scalars(select(BugReport.triage_ts)).one() == cards[0].response["ts"]

    assert eventually(card_recorded)


def test_back_keeps_what_was_typed_and_resume(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    driver.global_shortcut(GROUP_MEMBER, Shortcut.REPORT_BUG)  # an AM through a user group
    view = open_modal(standin, GROUP_MEMBER)
    driver.submit_view(GROUP_MEMBER, view, {**PAGE_1, "user_kind": "client", "access": "browser"})
    view = standin.open_modal(GROUP_MEMBER)
    assert view is not None and "roles" not in labels(view)  # a client has no roles

    # Back keeps what was typed on this page, even though the page was not submitted.
    driver.block_action(
        GROUP_MEMBER,
        Action.MODAL_BACK,
        view=view,
        values={k: v for k, v in PAGE_2.items() if k not in ("roles", "tool")},
    )
    standin.wait_for("views.update")
    view = standin.open_modal(GROUP_MEMBER)
    assert view is not None and labels(view)[0] == "platform"

    # Closing the modal and starting again resumes the draft where it was.
    driver.close_view(GROUP_MEMBER, view)
    driver.command(GROUP_MEMBER, "/desk", "bug")
    view = open_modal(standin, GROUP_MEMBER, count=2)
    assert "Start afresh" in blocks_text(view["blocks"])
    assert "scenario" in labels(view)  # the first unanswered question's page
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert initial["expected"] == PAGE_2["expected"]

    # "Start afresh" discards the draft and starts with empty answers.
    driver.click(GROUP_MEMBER, view, Action.MODAL_RESTART)
    standin.wait_for("views.update", count=2)
    view = standin.open_modal(GROUP_MEMBER)
    assert view is not None and labels(view)[0] == "platform"
    assert all("initial_option" not in b["element"] for b in view["blocks"] if b["type"] == "input")


def test_roles_are_checked_on_the_server(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    response = driver.command(OUTSIDER, "/desk", "bug")
    assert response.status == 200
    refusal = standin.wait_for("response_url")
    assert "cannot report bugs" in refusal[0].params["text"]
    assert not standin.calls_to("views.open")

    driver.global_shortcut(OUTSIDER, Shortcut.REPORT_BUG)
    refusal = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == OUTSIDER
    )
    assert "cannot report bugs" in refusal[0].params["text"]
    assert not standin.calls_to("views.open")

    # Agents may report too.
    driver.command(AGENT, "/desk", "bug")
    assert open_modal(standin, AGENT)["callback_id"] == "flow-page"


def test_screenshots_need_the_privacy_tick(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    # A colleague's message in a channel becomes the start of a report.
    message = standin.add_message(
        TRIAGE,
        {"type": "message", "user": AGENT, "text": "When I open the diary the page stays white"},
    )
    driver.message_shortcut(AM, Shortcut.REPORT_MESSAGE_AS_BUG, message=message, channel_id=TRIAGE)
    view = open_modal(standin, AM)
    driver.submit_view(AM, view, PAGE_1)
    view = standin.open_modal(AM)
    assert view is not None
    scenario = next(b for b in view["blocks"] if b.get("block_id") == "scenario")
    assert scenario["element"]["initial_value"] == "When I open the diary the page stays white"
    driver.submit_view(AM, view, {**PAGE_2, "scenario": scenario["element"]["initial_value"]})

    view = standin.open_modal(AM)
    assert view is not None
    shot = [{"id": "F0SHOT1", "name": "white-page.png"}]
    _, errors = driver.submit_view(AM, view, {**PAGE_3, "screenshots": shot})
    assert errors is not None and "tick" in errors["screenshots_clean"]
    _, errors = driver.submit_view(
        AM, view, {**PAGE_3, "screenshots": shot, "screenshots_clean": ["yes"]}
    )
    assert errors is None
    summary = standin.open_modal(AM)
    assert summary is not None and "white-page.png" in blocks_text(summary["blocks"])


def test_an_unfinished_draft_waits_a_week(deskbot: RunningApp, standin: SlackStandin) -> None:
    from datetime import timedelta

    from deskbot import clock
    from deskbot.models import Draft
    from deskbot.scheduler import expire_drafts

    driver = deskbot.driver
    driver.command(AM, "/desk", "bug")
    driver.submit_view(AM, open_modal(standin, AM), PAGE_1)
    started = clock.now()

    clock.set_clock(lambda: started + timedelta(days=6, hours=23))
    driver.command(AM, "/desk", "bug")
    assert "Start afresh" in blocks_text(open_modal(standin, AM, count=2)["blocks"])

    # Untouched for more than the configured 7 days (counted from the last answer): gone.
    clock.set_clock(lambda: started + timedelta(days=14))
    assert expire_drafts(deskbot.db) == 1
    driver.command(AM, "/desk", "bug")
    fresh = open_modal(standin, AM, count=3)
    assert "Start afresh" not in blocks_text(fresh["blocks"])
    with deskbot.db.transaction() as session:
        assert sorted(session.scalars(select(Draft.status))) == ["active", "expired"]


def test_continue_in_a_dm_and_screenshots_survive_back(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    driver = deskbot.driver
    driver.command(AM, "/desk", "bug")
    view = open_modal(standin, AM)
    driver.submit_view(AM, view, {**PAGE_1, "user_kind": "client"})
    view = standin.open_modal(AM)
    assert view is not None
    driver.submit_view(AM, view, {k: v for k, v in PAGE_2.items() if k != "roles"})
    view = standin.open_modal(AM)
    assert view is not None
    shot = [{"id": "F0SHOT1", "name": "spinner.png"}]
    driver.submit_view(AM, view, {**PAGE_3, "screenshots": shot, "screenshots_clean": ["yes"]})

    # Back from the summary to page 3 and on again: the file input comes back empty, the
    # screenshots stay attached.
    summary = standin.open_modal(AM)
    assert summary is not None
    driver.click(AM, summary, Action.MODAL_BACK)
    standin.wait_for("views.update")
    page_3 = standin.open_modal(AM)
    assert page_3 is not None and "spinner.png" in blocks_text(page_3["blocks"])
    driver.submit_view(AM, page_3, {**PAGE_3, "screenshots_clean": ["yes"]})
    summary = standin.open_modal(AM)
    assert summary is not None and "spinner.png" in blocks_text(summary["blocks"])

    # Back to page 1, then on in a DM: the next unanswered question is asked there, typed
    # answers land in the same draft.
    driver.click(AM, summary, Action.MODAL_BACK)
    standin.wait_for("views.update", count=2)
    page_3 = standin.open_modal(AM)
    assert page_3 is not None
    driver.click(AM, page_3, Action.MODAL_TO_DM)
    chat = Chat(deskbot.db, driver, standin, AM)
    assert "File report" in chat.text()  # everything was answered: the summary
    chat.press(Action.DM_BACK)
    assert "screenshots" in chat.text().lower()
    with deskbot.db.transaction() as session:
        draft = session.scalars(select(Draft)).one()
        assert draft.surface == "dm" and draft.state["answers"]["screenshots"] == shot
