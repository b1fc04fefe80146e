"""The vendor's copy of a bug report: redacted, literal in Markdown, and mailed as it is."""

from __future__ import annotations

import logging
import os
import re
import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from deskbot import mailer, privacy
from deskbot.flows import bug_report
from deskbot.mailer import MailNotSent
from deskbot.settings import Platform, Settings, Smtp
from deskbot.vendor import VendorReport, vendor_report
from tests.support.answers import COMPLETE_BUG_REPORT, filed_report
from tests.support.smtp_server import SmtpServer

FLOW = bug_report.build([Platform(name="production", url="https://care.example.org")])
ORGANISATION = "GGZ *Voorbeeld* <b>"
SENDER = "deskbot@desk.example"
VENDOR = "bugs@vendor.example"

EMAIL = "jan.jansen@example.org"
PHONE = "0612345678"
BSN = "111222333"  # passes the 11-check
PERSONAL = (EMAIL, PHONE, BSN)

SCENARIO = (
    f"1. Log in as {EMAIL}\n"
    f"2. Call the client on {PHONE} (BSN {BSN})\n"
    "# heading\n"
    "[link](https://evil.example) ![image](https://evil.example/x.png)\n"
    "<script>alert(1)</script>\n"
    "```\n"
    "````` still the same block\n"
    "    indented\n"
    "---\n"
    "| a | b |\n"
    "|---|---|"
)
EXPECTED = "Saved\n===\n<b>bold</b> &amp; <!-- comment -->"
ACTUAL = f"```\nError for {EMAIL}\n```\n[click](javascript:alert(1))"
HOSTILE_ANSWERS: dict[str, Any] = {
    **COMPLETE_BUG_REPORT,
    "account_id": f"c-1 {EMAIL}",
    "scenario": SCENARIO,
    "expected": EXPECTED,
    "actual": ACTUAL,
    "os": "Windows 11 <img src=x onerror=alert(1)>",
    "browser": "Firefox 128 [link](https://evil.example)\n# heading",
    "excluded": ["connection", "other_browser"],
    "reproduced": "yes",
    "screenshots": [{"id": "F1", "name": f"{EMAIL}.png"}, {"id": "F2", "name": "<b>`x`</b>.png"}],
    "screenshots_clean": True,
    "app_version": "9.9.9-off-path",  # the app was not used: not on the path taken
}


def hostile_copy() -> VendorReport:
    return vendor_report(FLOW, filed_report(HOSTILE_ANSWERS), organisation=ORGANISATION)


# ------------------------------------------------------------------ reading Markdown back

# What the Markdown copy may consist of: anything else (a link, an image, HTML, a table, a
# rule, emphasis) came from user text that escaped its escaping.
BLOCK_TOKENS = {
    "heading_open",
    "heading_close",
    "paragraph_open",
    "paragraph_close",
    "bullet_list_open",
    "bullet_list_close",
    "list_item_open",
    "list_item_close",
    "inline",
    "fence",
}
INLINE_TOKENS = {"text", "text_special", "strong_open", "strong_close"}


def parse(markdown: str) -> list[Token]:
    # CommonMark with GitHub's tables and strikethrough, which many issue trackers render.
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    assert {t.type for t in tokens} <= BLOCK_TOKENS
    for token in tokens:
        assert {c.type for c in token.children or []} <= INLINE_TOKENS, token.children
    return tokens


def text_of(inline: Token) -> str:
    return "".join(c.content for c in inline.children or [] if c.type.startswith("text"))


def headings(tokens: list[Token]) -> list[tuple[str, str]]:
    return [
        (token.tag, text_of(tokens[i + 1]))
        for i, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def list_items(tokens: list[Token]) -> list[str]:
    # A list item holds a paragraph whose inline token is the item's text.
    return [
        text_of(tokens[i + 2]) for i, token in enumerate(tokens) if token.type == "list_item_open"
    ]


def fences(tokens: list[Token]) -> list[str]:
    assert all(t.info == "text" for t in tokens if t.type == "fence")
    return [t.content.removesuffix("\n") for t in tokens if t.type == "fence"]


# -------------------------------------------------------------------------- the copy


def test_the_markdown_shows_every_answer_literally_and_redacted() -> None:
    copy = hostile_copy()
    tokens = parse(copy.markdown)

    assert headings(tokens) == [
        ("h1", "BUG-12 — GGZ *Voorbeeld* <b>"),
        ("h2", "Details"),
        ("h2", "Steps taken"),
        ("h2", "Expected result"),
        ("h2", "Actual result"),
        ("h2", "Checks"),
    ]
    assert fences(tokens) == [
        "1. Log in as [email removed]\n"
        "2. Call the client on [phone number removed] (BSN [BSN removed])\n"
        + SCENARIO.split("\n", 2)[2],
        EXPECTED,
        "```\nError for [email removed]\n```\n[click](javascript:alert(1))",
    ]
    assert list_items(tokens) == [
        "Platform: production",
        "Access: In a web browser",
        "Affected user: A client",
        "Account ID: c-1 [email removed]",
        "Tool: Diary",
        "Tool ID: —",
        "Device type: Desktop or laptop",
        "Operating system: Windows 11 <img src=x onerror=alert(1)>",
        "Browser: Firefox 128 [link](https://evil.example) # heading",
        "Who is affected: Only this user",
        "Screenshots: [email removed], <b>`x`</b>.png",
        "No client details readable: yes",
        "Causes excluded: The internet connection works, Another browser was tried",
        "On training platform: Yes, it happens there too",
    ]
    paragraphs = [
        text_of(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "paragraph_open"
    ]
    assert "Filed 2026-03-04 09:30 UTC" in paragraphs


def test_the_plain_text_has_the_sections_in_order_and_no_personal_data() -> None:
    copy = hostile_copy()
    text = copy.text

    assert text.startswith("BUG-12 — GGZ *Voorbeeld* <b>\nFiled 2026-03-04 09:30 UTC\n\n")
    assert "Account ID: c-1 [email removed]\n" in text
    assert "Browser: Firefox 128 [link](https://evil.example) # heading\n" in text
    assert "Screenshots: [email removed], <b>`x`</b>.png\n" in text
    sections = [
        "\nSteps taken\n-----------\n1. Log in as [email removed]\n",
        f"\nExpected result\n---------------\n{EXPECTED}\n",
        "\nActual result\n-------------\n```\nError for [email removed]\n```\n",
        "\nChecks\n------\nCauses excluded: The internet connection works, Another browser "
        "was tried\nOn training platform: Yes, it happens there too\n",
    ]
    positions = [text.index(section) for section in sections]
    assert positions == sorted(positions)
    assert text.endswith(sections[-1])


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_nothing_personal_or_off_the_path_is_in_either_form(form: str) -> None:
    copy = hostile_copy()
    shown = getattr(copy, form)
    for value in PERSONAL:
        assert value not in shown
    assert "[email removed]" in shown or r"\[email removed\]" in shown
    assert "9.9.9-off-path" not in shown and "9\\.9\\.9" not in shown
    assert "U0REPORTER" not in shown  # the vendor has no use for who reported it
    assert copy.filename_stem == "BUG-12"


def test_markdown_cannot_open_a_block_that_outlasts_its_section() -> None:
    answers = {
        **COMPLETE_BUG_REPORT,
        "scenario": "a\n``````\n# escaped?\n```````text",
        "actual": "b",
    }
    copy = vendor_report(FLOW, filed_report(answers), organisation="Org")
    tokens = parse(copy.markdown)
    assert fences(tokens) == ["a\n``````\n# escaped?\n```````text", "Saved.", "b"]
    assert [h for _, h in headings(tokens)][-1] == "Checks"


PRINTABLE = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
# Markup characters are drawn as often as all others together, so they come in runs.
MARKUP = st.sampled_from(list("\n\r\t `*_#<>[]()!|\\&~-+.=:$@"))
TEXTS = st.text(PRINTABLE | MARKUP, max_size=80)


@settings(max_examples=150, deadline=None)
@given(organisation=TEXTS, scenario=TEXTS, actual=TEXTS, browser=TEXTS, file_name=TEXTS)
def test_any_text_stays_literal_in_markdown(
    organisation: str, scenario: str, actual: str, browser: str, file_name: str
) -> None:
    answers = {
        **COMPLETE_BUG_REPORT,
        "scenario": scenario,
        "actual": actual,
        "browser": browser,
        "screenshots": [{"id": "F1", "name": file_name}],
        "screenshots_clean": True,
    }
    copy = vendor_report(FLOW, filed_report(answers), organisation=organisation)
    tokens = parse(copy.markdown)

    def long_text(value: str) -> str:
        return re.sub(r"\r\n?", "\n", privacy.redact(value or "—"))

    def one_line(value: str) -> str:
        return " ".join(privacy.redact(value or "—").split())

    assert headings(tokens)[0] == ("h1", f"BUG-12 — {' '.join(organisation.split())}".strip())
    assert [h for _, h in headings(tokens)][1:] == [
        "Details",
        "Steps taken",
        "Expected result",
        "Actual result",
        "Checks",
    ]
    assert fences(tokens) == [long_text(scenario), "Saved.", long_text(actual)]
    items = list_items(tokens)
    assert f"Browser: {one_line(browser)}".strip() in items
    assert f"Screenshots: {one_line(file_name or 'F1')}".strip() in items  # unnamed: its ID


# --------------------------------------------------------------------------- the mail


def mail_settings(port: int, **smtp: Any) -> Settings:
    defaults: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": SENDER,
        "vendor_address": VENDOR,
        "timeout": 5,
    }
    return Settings(organisation="Not used by the mailer", smtp=Smtp(**(defaults | smtp)))


def test_the_report_is_mailed_with_the_markdown_attached(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="deskbot")
    copy = hostile_copy()
    with SmtpServer() as server:
        mailer.send_vendor_report(mail_settings(server.port), copy)
    [received] = server.messages

    assert received.mail_from == SENDER and received.rcpt_tos == (VENDOR,)
    message = received.message
    assert message["Subject"] == "[deskbot] BUG-12 from GGZ *Voorbeeld* <b>"
    assert message["From"] == SENDER and message["To"] == VENDOR
    body = message.get_body(("plain",))
    assert body is not None and body.get_content_type() == "text/plain"
    assert body.get_content().replace("\r\n", "\n") == copy.text
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    [attachment] = attachments
    assert attachment.get_content_type() == "text/markdown"
    assert attachment.get_filename() == "BUG-12.md"
    assert attachment.get_content().replace("\r\n", "\n") == copy.markdown

    decoded = body.get_content() + attachment.get_content() + str(message["Subject"])
    for value in PERSONAL:
        assert value not in decoded and value.encode() not in received.raw
    assert "[email removed]" in decoded
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("deskbot"))
    assert "Steps taken" not in logged and "[email removed]" not in logged


def test_the_subject_stays_one_line_whatever_the_organisation_is_called() -> None:
    copy = vendor_report(
        FLOW, filed_report(COMPLETE_BUG_REPORT), organisation="Line\nBcc: x@evil.example"
    )
    with SmtpServer() as server:
        mailer.send_vendor_report(mail_settings(server.port), copy)
    [received] = server.messages
    assert received.message["Subject"] == "[deskbot] BUG-12 from Line Bcc: x@evil.example"
    assert received.message["Bcc"] is None and received.rcpt_tos == (VENDOR,)


# Successful AUTH makes aiosmtpd itself touch its deprecated Session.login_data.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
def test_it_logs_in_when_a_user_name_is_set() -> None:
    with SmtpServer(credentials=("deskbot", "s3cret")) as server:
        mailer.send_vendor_report(
            mail_settings(server.port, username="deskbot", password="s3cret"), hostile_copy()
        )
        with pytest.raises(MailNotSent, match="logging in") as refused:
            mailer.send_vendor_report(
                mail_settings(server.port, username="deskbot", password="wrong"), hostile_copy()
            )
    assert len(server.messages) == 1
    assert "wrong" not in str(refused.value)


def test_starttls_is_never_skipped_when_the_server_lacks_it() -> None:
    with SmtpServer() as server, pytest.raises(MailNotSent, match="starting TLS"):
        mailer.send_vendor_report(mail_settings(server.port, starttls=True), hostile_copy())
    assert server.messages == []


def test_an_unreachable_server_fails_without_personal_data() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the mailer connects
    with pytest.raises(MailNotSent) as failed:
        mailer.send_vendor_report(mail_settings(port), hostile_copy())
    message = str(failed.value)
    assert "BUG-12" in message and "connecting" in message
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    for value in (*PERSONAL, "[email removed]", VENDOR):
        assert value not in message


def test_nothing_is_mailed_without_host_sender_and_vendor_address() -> None:
    for missing in ("host", "sender", "vendor_address"):
        settings_ = mail_settings(25, **{missing: None})
        assert not settings_.smtp.configured
        with pytest.raises(MailNotSent, match="not configured"):
            mailer.send_vendor_report(settings_, hostile_copy())


def test_mail_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DESKBOT_", "SLACK_")):
            monkeypatch.delenv(name)
    assert not Settings().smtp.configured
    assert Settings().smtp.port == 587 and Settings().smtp.starttls

    monkeypatch.setenv("DESKBOT_SMTP__HOST", "smtp.example.org")
    monkeypatch.setenv("DESKBOT_SMTP__PORT", "2525")
    monkeypatch.setenv("DESKBOT_SMTP__USERNAME", "deskbot")
    monkeypatch.setenv("DESKBOT_SMTP__PASSWORD", "from-env-secret")
    monkeypatch.setenv("DESKBOT_SMTP__STARTTLS", "false")
    monkeypatch.setenv("DESKBOT_SMTP__SENDER", SENDER)
    monkeypatch.setenv("DESKBOT_SMTP__VENDOR_ADDRESS", VENDOR)
    smtp = Settings().smtp
    assert smtp.configured
    assert (smtp.host, smtp.port, smtp.starttls, smtp.vendor_address) == (
        "smtp.example.org",
        2525,
        False,
        VENDOR,
    )
    assert smtp.password is not None and smtp.password.get_secret_value() == "from-env-secret"
    assert "from-env-secret" not in repr(Settings())
