"""The service desk works a bug report from its card: claim, assign, status, a question to the
reporter and their answer in the thread, forwarding to the vendor, and the resolution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from deskbot.db import Database
from deskbot.models import AuditEvent, BugReport
from deskbot.settings import Smtp
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, AM2, OUTSIDER, TRIAGE, RunningApp, make_settings, serve_app
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import SlackStandin
from tests.support.smtp_server import SmtpServer
from tests.test_desk_tools import file_bug
from tests.test_processes import free_port


def card(standin: SlackStandin, *, showing: str = "") -> dict[str, Any]:
    found = eventually(
        lambda: [
            m
            for m in standin.messages(TRIAGE)
            if "BUG-1" in blocks_text(m.get("blocks", [])) and showing in str(m)
        ]
    )
    assert found, f"no card showing {showing!r}"
    return found[-1]


def report(deskbot: RunningApp) -> BugReport:
    with deskbot.db.transaction() as session:
        return session.scalars(select(BugReport)).one()


def thread(standin: SlackStandin, ts: str) -> str:
    return "\n".join(
        str(c.params.get("text"))
        for c in standin.successful("chat.postMessage")
        if c.params.get("thread_ts") == ts
    )


def dm_texts(standin: SlackStandin, user: str) -> str:
    """Everything deskbot said to the user in their DM, blocks included."""
    return "\n".join(
        str(c.params.get("text")) + "\n" + blocks_text(c.params.get("blocks") or [])
        for c in standin.successful("chat.postMessage")
        if c.params.get("channel") == user
    )


def test_an_agent_works_a_report_from_its_card(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    file_bug(deskbot, "Open the diary and save an entry.")
    first = card(standin)
    ts = first["ts"]

    # Anyone in the channel sees the buttons; only agents may use them.
    driver.click(OUTSIDER, first, Action.TRIAGE_CLAIM)
    assert eventually(lambda: standin.ephemerals(OUTSIDER))
    assert "Only service-desk agents" in standin.ephemerals(OUTSIDER)[0]["text"]
    driver.click(AM, first, Action.TRIAGE_CLAIM)  # an application manager is not an agent
    assert eventually(lambda: standin.ephemerals(AM))
    assert report(deskbot).assignee_id is None

    # Two agents click Claim on the same card at the same moment: the first one has it, the
    # second is told so; nobody is silently replaced.
    deskbot.services.settings.roles.agents.append(AM2)
    first_click = driver.payloads.block_action(AGENT, Action.TRIAGE_CLAIM, message=first)
    second_click = driver.payloads.block_action(AM2, Action.TRIAGE_CLAIM, message=first)
    driver.deliver(first_click)
    claimed = card(standin, showing=f"assignee: <@{AGENT}>")
    assert report(deskbot).status == "in_progress" and claimed["ts"] == ts  # updated in place
    driver.deliver(second_click)
    assert eventually(lambda: [e for e in standin.ephemerals(AM2) if "has claimed" in e["text"]])
    assert report(deskbot).assignee_id == AGENT
    deskbot.services.settings.roles.agents.remove(AM2)
    # Assigning to someone who is not an agent is refused.
    driver.block_action(AGENT, Action.TRIAGE_ASSIGN, AM2, message=claimed)
    assert eventually(
        lambda: [e for e in standin.ephemerals(AGENT) if "not a service-desk" in e["text"]]
    )
    driver.block_action(AGENT, Action.TRIAGE_STATUS, message=claimed, selected_option="with_vendor")
    assert eventually(lambda: report(deskbot).status == "with_vendor")

    # A question reaches the reporter; their answer comes back into the card's thread.
    driver.click(AGENT, card(standin), Action.TRIAGE_ASK)
    standin.wait_for("views.open")
    ask = standin.open_modal(AGENT)
    assert ask is not None
    driver.submit_view(AGENT, ask, {"reason": "Which browser version exactly?"})
    assert eventually(lambda: "Which browser version exactly?" in dm_texts(standin, AM))
    assert report(deskbot).status == "waiting"
    question = eventually(
        lambda: [
            m for m in standin.messages("D" + AM) if Action.TRIAGE_REPLY in str(m.get("blocks"))
        ]
    )[-1]
    driver.click(AGENT, question, Action.TRIAGE_REPLY)  # not the reporter: refused
    assert eventually(lambda: "Only the person who reported it" in dm_texts(standin, AGENT))
    assert len(standin.successful("views.open")) == 1
    driver.click(AM, question, Action.TRIAGE_REPLY)
    standin.wait_for("views.open", count=2)
    answer = standin.open_modal(AM)
    assert answer is not None
    reply = "Firefox 128; mail me at am@example.org <!channel> <https://evil.example|log in>"
    driver.submit_view(AM, answer, {"reason": reply})
    assert eventually(lambda: "Firefox 128" in thread(standin, ts))
    assert "am@example.org" not in thread(standin, ts)
    assert "<!channel>" not in thread(standin, ts) and "<https://evil" not in thread(standin, ts)
    assert eventually(lambda: report(deskbot).status == "in_progress")

    # Resolved with an answer: the reporter is told, the card shows it, and the history has it.
    driver.click(AGENT, card(standin), Action.TRIAGE_RESOLVE)
    standin.wait_for("views.open", count=3)
    resolve = standin.open_modal(AGENT)
    assert resolve is not None
    _, errors = driver.submit_view(AGENT, resolve, {"reason": "x"})
    assert errors is not None
    driver.submit_view(AGENT, resolve, {"reason": "Fixed in release 4.13; ask the user to update."})
    assert eventually(lambda: "Fixed in release 4.13" in dm_texts(standin, AM))
    done = card(standin, showing="resolved")
    assert Action.TRIAGE_CLAIM not in str(done["blocks"]) and Action.HISTORY in str(done["blocks"])
    with deskbot.db.transaction() as session:
        trail = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == "BUG-1").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.action) for e in trail] == [
            (AM, "bug.filed"),
            (AGENT, "bug.assigned"),
            (AGENT, "bug.status"),
            (AGENT, "bug.asked"),
            (AM, "bug.replied"),
            (AGENT, "bug.resolved"),
        ]
        assert "Firefox" not in str([e.detail for e in trail])


def test_forward_to_the_vendor_by_slack_and_mail(db: Database, standin: SlackStandin) -> None:
    with SmtpServer() as mail:
        smtp = Smtp(
            host=mail.host,
            port=mail.port,
            starttls=False,
            sender="deskbot@care.example.org",
            vendor_address="support@vendor.example",
        )
        deskbot = serve_app(make_settings(db.url, standin.api_url, smtp=smtp), standin)
        try:
            file_bug(deskbot, "Open the diary and save an entry.")
            first = card(standin)
            assert "and e-mailed to the vendor" in str(first["blocks"])
            deskbot.driver.click(OUTSIDER, first, Action.TRIAGE_FORWARD)
            assert eventually(lambda: standin.ephemerals(OUTSIDER))
            assert mail.messages == [] and standin.uploaded_files == []

            deskbot.driver.click(AGENT, first, Action.TRIAGE_FORWARD)
            files = eventually(lambda: len(standin.uploaded_files) == 2 and standin.uploaded_files)
            assert files and {f.filename for f in files} == {"BUG-1.txt", "BUG-1.md"}
            assert all(f.thread_ts == first["ts"] for f in files)
            assert all(b"kees@example.org" not in (f.content or b"") for f in files)
            assert eventually(lambda: mail.messages)
            sent = mail.messages[0]
            assert sent.rcpt_tos == ("support@vendor.example",)
            assert "BUG-1" in str(sent.message["Subject"]) and b"kees@example.org" not in sent.raw
            assert eventually(lambda: "forwarded BUG-1 to the vendor" in dm_texts(standin, AM))
            assert report(deskbot).status == "with_vendor"
            # Forwarded once: a second click (a stale card, a double click) sends nothing.
            deskbot.driver.click(AGENT, first, Action.TRIAGE_FORWARD)
            assert eventually(
                lambda: [e for e in standin.ephemerals(AGENT) if "forwarded" in e["text"]]
            )
            assert len(mail.messages) == 1 and len(standin.uploaded_files) == 2
        finally:
            deskbot.stop()
            deskbot.db.dispose()


def test_a_mail_server_that_is_down_leaves_the_copy_in_slack(
    db: Database, standin: SlackStandin
) -> None:
    smtp = Smtp(
        host="127.0.0.1",
        port=free_port(),  # nothing listens there
        starttls=False,
        sender="deskbot@care.example.org",
        vendor_address="support@vendor.example",
        timeout=2,
    )
    deskbot = serve_app(make_settings(db.url, standin.api_url, smtp=smtp), standin)
    try:
        file_bug(deskbot, "Open the diary and save an entry.")
        deskbot.driver.click(AGENT, card(standin), Action.TRIAGE_FORWARD)
        assert eventually(lambda: len(standin.uploaded_files) == 2)
        assert eventually(lambda: standin.ephemerals(AGENT))
        assert "could not be sent" in standin.ephemerals(AGENT)[0]["text"]
        with deskbot.db.transaction() as session:
            actions = session.scalars(select(AuditEvent.action)).all()
            assert "bug.forwarded" in actions and "bug.mailed" not in actions
    finally:
        deskbot.stop()
        deskbot.db.dispose()
