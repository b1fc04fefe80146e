"""The same bug report as a conversation in a DM: one question at a time, with buttons."""

from __future__ import annotations

from sqlalchemy import func, select

from deskbot.models import BugReport, Draft
from deskbot.slack.ids import Action
from tests.conftest import AM, AM2, OUTSIDER, TRIAGE, RunningApp
from tests.support.chat import Chat, blocks_text, eventually
from tests.support.slack_standin import SlackStandin


def test_full_report_in_a_dm(deskbot: RunningApp, standin: SlackStandin) -> None:
    deskbot.driver.command(AM, "/desk", "bug chat")
    assert "direct message" in standin.wait_for("response_url")[0].params["text"]
    chat = Chat(deskbot.db, deskbot.driver, standin, AM)
    assert "Which platform" in chat.text()

    # Back returns to the previous question; a typed name is refused with a clear message.
    chat.press(Action.DM_CHOOSE, "training")
    assert "How was the platform used" in chat.text()
    chat.press(Action.DM_BACK)
    assert "Which platform" in chat.text()
    chat.press(Action.DM_CHOOSE, "training")
    chat.press(Action.DM_CHOOSE, "browser")
    chat.press(Action.DM_CHOOSE, "client")
    chat.say("Anna de Vries")
    assert "looks like a person's name" in chat.text()
    chat.say("c-99812")
    assert "In which tool" in chat.text()
    chat.press(Action.DM_CHOOSE, "questionnaire")
    chat.press(Action.DM_SKIP)
    chat.say("Open questionnaire 12, answer question 3, press next.")
    chat.say("Question 4 appears.")
    chat.say("Error 500; client BSN 111222333 was on screen")
    assert "seems to contain a BSN" in chat.text()  # warned right away
    chat.press(Action.DM_CHOOSE, "desktop")
    chat.say("Windows 11")
    chat.say("Firefox")
    assert "version" in chat.text()
    chat.say("Firefox 128")
    assert "brand and model" not in chat.text().lower()  # not asked for a laptop
    chat.tick("connection", "other_browser", "browser_updated")
    chat.press(Action.DM_CHOOSE, "yes")
    chat.press(Action.DM_CHOOSE, "platform_wide")

    # Two screenshots dropped into the DM, then Done; the privacy tick cannot be typed away.
    for number in (1, 2):
        dropped = deskbot.driver.payloads.dm_event(AM, "")
        dropped.update(
            subtype="file_share", files=[{"id": f"F0{number}", "name": f"shot{number}.png"}]
        )
        deskbot.driver.event(dropped)
    chat.settle()
    chat.press(Action.DM_DONE)
    assert "no client details are readable" in chat.text()
    chat.say("No, a name is readable")
    assert "tick the boxes" in chat.text()
    chat.tick("yes")

    summary = chat.text()
    assert "c-99812" in summary and "Tip: try another network" in summary
    assert "shot1.png, shot2.png" in summary
    chat.press(Action.DM_SUBMIT)

    receipt = eventually(
        lambda: [
            m
            for m in standin.messages(chat.channel)
            if "Filed as" in blocks_text(m.get("blocks", []))
        ]
    )
    assert receipt and "BUG-1" in blocks_text(receipt[-1]["blocks"])
    card = standin.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("channel") == TRIAGE
    )
    card_text = blocks_text(card[0].params["blocks"])
    assert "111222333" not in card_text and "[BSN removed]" in card_text
    with deskbot.db.transaction() as session:
        report = session.scalars(select(BugReport)).one()
        assert report.answers["platform"] == "https://training.care.example.org"
        assert report.answers["excluded"] == ["connection", "other_browser", "browser_updated"]


def test_retried_event_and_double_click_file_once(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    deskbot.driver.dm(AM2, "bug")
    chat = Chat(deskbot.db, deskbot.driver, standin, AM2)
    chat.press(Action.DM_CHOOSE, "training")
    chat.press(Action.DM_CHOOSE, "browser")
    chat.press(Action.DM_CHOOSE, "client")

    # Slack delivers the answer again with X-Slack-Retry-Num: it is taken once.
    event = deskbot.driver.payloads.dm_event(AM2, "c-12345")
    deskbot.driver.event(event, event_id="Ev0RETRY1")
    deskbot.driver.event(event, event_id="Ev0RETRY1", retry_num=1, retry_reason="http_timeout")
    chat.settle()
    asked = [
        m for m in standin.messages(chat.channel) if "In which tool" in blocks_text(m["blocks"])
    ]
    assert len(asked) == 1
    with deskbot.db.transaction() as session:
        draft = session.scalars(select(Draft).where(Draft.user_id == AM2)).one()
        assert draft.state["path"].count("account_id") == 1
        assert draft.state["current"] == "tool"

    chat.press(Action.DM_CHOOSE, "questionnaire")
    chat.press(Action.DM_SKIP)
    chat.say("Open questionnaire 12, answer question 3, press next.")
    chat.say("Question 4 appears.")
    chat.say("Error 500 instead.")
    chat.press(Action.DM_CHOOSE, "desktop")
    chat.say("Windows 11")
    chat.say("Firefox 128")
    chat.tick()
    chat.press(Action.DM_CHOOSE, "no")
    chat.press(Action.DM_CHOOSE, "single_user")
    chat.press(Action.DM_SKIP)

    # Two clicks on "File report" (a double click, or a retried request): one BUG.
    summary = chat.question()
    assert "File report" in blocks_text(summary["blocks"])
    value = next(
        e["value"]
        for b in summary["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.DM_SUBMIT
    )
    clicks = [
        deskbot.driver.payloads.block_action(AM2, Action.DM_SUBMIT, value, message=summary)
        for _ in range(2)
    ]  # both built while the button is still shown
    for click in clicks:
        deskbot.driver.deliver(click)
    chat.settle()
    with deskbot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(BugReport)) == 1
    cards = [c for c in standin.successful("chat.postMessage") if c.params.get("channel") == TRIAGE]
    assert len(cards) == 1


def test_cancel_and_someone_elses_buttons(deskbot: RunningApp, standin: SlackStandin) -> None:
    deskbot.driver.dm(AM, "bug")
    chat = Chat(deskbot.db, deskbot.driver, standin, AM)
    question = chat.question()

    # A button is only a suggestion: someone else clicking it changes nothing.
    deskbot.driver.click(OUTSIDER, question, Action.DM_CANCEL)
    chat.settle()
    with deskbot.db.transaction() as session:
        assert session.scalars(select(Draft.status)).one() == "active"

    chat.press(Action.DM_CANCEL)
    with deskbot.db.transaction() as session:
        assert session.scalars(select(Draft.status)).one() == "cancelled"
    assert "cancelled" in blocks_text(standin.message(chat.channel, question["ts"])["blocks"])


def test_rate_limited_slack_gets_the_message_once(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    deskbot.driver.dm(AM, "bug")
    chat = Chat(deskbot.db, deskbot.driver, standin, AM)
    assert "Which platform" in chat.text()
    attempts = standin.calls_to("chat.postMessage")
    assert [c.ok for c in attempts] == [False, True]
    assert len(chat.from_deskbot()) == 1
