"""English, Dutch and German: each person reads deskbot in their own Slack language, the
shared triage channel in the organisation's, and anyone else in the organisation's too.

The expected texts come from the catalogs (`in_dutch("…")`), each checked to differ from the
English, so a missing translation fails here as well as in test_translations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from deskbot import i18n
from deskbot.db import Database
from deskbot.settings import Roles
from deskbot.slack import deletion_desk
from deskbot.slack.ids import COMMAND, Action
from deskbot.templating import render_text
from tests.conftest import (
    AGENT,
    AM,
    DUTCH,
    FRENCH,
    GERMAN,
    THERAPIST,
    TRIAGE,
    RunningApp,
    make_settings,
    serving,
)
from tests.support.chat import Chat, blocks_text, eventually
from tests.support.slack_standin import SlackStandin
from tests.test_deletion_requests import (
    REQUEST,
    Clock,
    amsterdam,
    buttons,
    dm,
    pending,
    sent_to,
    text,
)
from tests.test_processes import run_console

# Words of English that neither Dutch nor German uses: one of them in a text for a Dutch or
# German reader means a text was left untranslated.
ENGLISH = re.compile(
    r"\b(the|your|you|please|with|this|that|has|have|which|what|when|there|will not|"
    r"cannot|should|request|report|deleted|confirmed|working)\b",
    re.IGNORECASE,
)


def said(language: i18n.Language, english: str, **values: object) -> str:
    with i18n.speaking(language):
        translated = i18n._(english, **values)
    assert translated != english.format(**values), f"no {language} translation: {english!r}"
    return translated


def in_dutch(english: str, **values: object) -> str:
    return said("nl", english, **values)


def in_german(english: str, **values: object) -> str:
    return said("de", english, **values)


def english_in(shown: str) -> list[str]:
    """English words in what a Dutch or German reader was shown (Slack mentions, commands,
    references and emoji codes aside)."""
    plain = re.sub(r"<[^>]*>|`[^`]*`|:[a-z_]+:|/desk \w+|\b(BUG|DEL)-\d+\b", " ", shown)
    return ENGLISH.findall(plain)


@pytest.fixture
def organisation_in_german(db: Database, standin: SlackStandin) -> Iterator[RunningApp]:
    """A German-speaking organisation with a Dutch application manager, a German agent who
    leads the desk, an English agent and a therapist whose Slack is in French."""
    settings = make_settings(
        db.url,
        standin.api_url,
        language="de",
        roles=Roles(
            application_managers=[AM, DUTCH],
            agents=[AGENT, GERMAN],
            therapists=[THERAPIST, FRENCH],
            leads=[GERMAN],
        ),
    )
    yield from serving(settings, standin)


def test_each_reader_gets_their_own_language(
    organisation_in_german: RunningApp, standin: SlackStandin
) -> None:
    deskbot, driver = organisation_in_german, organisation_in_german.driver
    clock = Clock(amsterdam(2026, 4, 3, 16))  # Good Friday: due Monday 13 April
    shown_to_dutch: list[str] = []

    # Help is the command's immediate answer: already in Dutch.
    help_text = driver.command(DUTCH, "/desk", "help").body
    with i18n.speaking("nl"):
        assert help_text == render_text("text/help.txt.j2", command=COMMAND)
    assert help_text != render_text("text/help.txt.j2", command=COMMAND)
    shown_to_dutch.append(help_text)

    # The form, its refusals and its summary, in Dutch.
    driver.command(DUTCH, "/desk", "delete")
    standin.wait_for("views.open")
    form = standin.open_modal(DUTCH)
    assert form is not None and form["title"]["text"] == in_dutch("Delete a client account")
    shown_to_dutch.append(blocks_text(form["blocks"]))
    note = "Cliënt vroeg het telefonisch tijdens de intake."
    _, errors = driver.submit_view(
        DUTCH, form, {**REQUEST, "client_id": "kees.jansen@example.org", "note": note}
    )
    assert errors is not None and "client_id" in errors
    shown_to_dutch += errors.values()
    _, errors = driver.submit_view(DUTCH, form, {**REQUEST, "note": note})
    assert errors is None
    summary = standin.open_modal(DUTCH)
    assert summary is not None
    shown_to_dutch.append(blocks_text(summary["blocks"]))
    _, errors = driver.submit_view(DUTCH, summary, {})
    assert errors is None
    confirm = standin.open_modal(DUTCH)
    assert confirm is not None and confirm["callback_id"] == "deletion-confirm"
    shown_to_dutch.append(blocks_text(confirm["blocks"]))
    _, errors = driver.submit_view(DUTCH, confirm, {"typed": "c-4821"})
    assert errors == {
        "typed": in_dutch("That is not this request's client ID; check it and type it again.")
    }
    _, errors = driver.submit_view(DUTCH, confirm, {"typed": "c-48213"})
    assert errors is None
    done = standin.open_modal(DUTCH)
    assert done is not None and done["title"]["text"] == in_dutch("Deletion confirmed")
    assert "ma 13 apr 2026" in blocks_text(done["blocks"])  # Dutch dates too
    shown_to_dutch.append(blocks_text(done["blocks"]))

    # The triage channel reads the organisation's language, whoever clicks there.
    title_de = in_german("Delete a client account")
    card = eventually(
        lambda: [
            m
            for m in standin.messages(TRIAGE)
            if title_de in text(m) and "Mo., 13. Apr. 2026" in text(m)  # once confirmed
        ]
    )[-1]
    driver.click(THERAPIST, card, Action.DELETION_CLAIM)  # refused in their own English
    assert eventually(lambda: standin.ephemerals(THERAPIST))
    assert "Only service-desk agents" in standin.ephemerals(THERAPIST)[0]["text"]
    driver.click(AGENT, card, Action.DELETION_CLAIM)  # an English-speaking agent
    claimed = eventually(
        lambda: (m := standin.message(TRIAGE, card["ts"])) and f"<@{AGENT}>" in text(m) and m
    )
    assert title_de in text(claimed) and "Delete a client account" not in text(claimed)

    # The ticker writes each reminder in its reader's language: the German lead's escalation
    # once it is overdue. (Nobody ran deskbot on the third working day or the due day: those
    # reminders, overtaken by the escalation, are not sent late.) The claim's own follow-up
    # (it sends what became due) may still be running and take some of them first: whoever
    # claims a reminder, each is dealt with once.
    clock.to(amsterdam(2026, 4, 14, 9, 1))
    deletion_desk.send_due(deskbot.services)
    assert eventually(lambda: [k for k, at in pending(deskbot) if at <= clock.now] == [], 10)
    assert sent_to(standin, AGENT, "DEL-1") == []
    escalation = sent_to(standin, GERMAN, "DEL-1")
    assert len(escalation) == 1 and not english_in(escalation[0]), escalation
    assert "Mo., 13. Apr. 2026" in escalation[0]

    # The tracker and the App Home, in Dutch.
    driver.command(DUTCH, "/desk", "deletions")
    tracker = standin.wait_for("response_url", count=1)[-1].params
    assert tracker["text"] == in_dutch("Open deletion requests")
    shown_to_dutch.append(blocks_text(tracker["blocks"]))
    driver.event({"type": "app_home_opened", "user": DUTCH, "tab": "home"})
    home = eventually(lambda: standin.home(DUTCH))
    shown_to_dutch.append(blocks_text(home["blocks"]))

    # The requester's own card follows in Dutch, and so does the news when it is done.
    driver.click(AGENT, standin.message(TRIAGE, card["ts"]), Action.DELETION_COMPLETE)
    assert eventually(lambda: len(dm(standin, DUTCH)) >= 2)
    title_nl = in_dutch("Delete a client account")
    own = eventually(
        lambda: [m for m in dm(standin, DUTCH) if title_nl in text(m) and not buttons(m)]
    )
    assert own, [text(m) for m in dm(standin, DUTCH)]
    shown_to_dutch += [text(m) for m in dm(standin, DUTCH)]
    assert not english_in("\n".join(shown_to_dutch)), english_in("\n".join(shown_to_dutch))

    # Someone whose Slack speaks French reads the organisation's German.
    driver.command(FRENCH, "/desk", "whoami")
    answer = str(standin.wait_for("response_url", count=2)[-1].params.get("text"))
    assert in_german("therapist") in answer and not english_in(answer)


def test_a_german_agent_reports_a_bug_in_a_conversation(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    """In an English-speaking organisation, a German agent answers one question at a time,
    typing German words; an English agent beside them still reads English."""
    deskbot.services.settings.roles.agents.append(GERMAN)
    with i18n.speaking("de"):
        first_de = deskbot.services.runner.flow("bug_report").steps[0].question
    first_en = deskbot.services.runner.flow("bug_report").steps[0].question
    assert first_de != first_en

    chat = Chat(deskbot.db, deskbot.driver, standin, GERMAN)
    chat.say(in_german("bug"))  # the word that starts a report, typed in German
    assert first_de in chat.text()
    chat.press(Action.DM_CHOOSE, "https://care.example.org")
    chat.say(in_german("back"))  # typed German words move the conversation
    assert first_de in chat.text()
    chat.say(in_german("cancel"))
    shown = "\n".join(blocks_text(m.get("blocks", [])) for m in chat.from_deskbot())
    assert not english_in(shown), english_in(shown)

    english = Chat(deskbot.db, deskbot.driver, standin, AGENT)
    english.say("bug")
    assert first_en in english.text()


def test_the_console_speaks_the_language_asked_for(tmp_path: Path) -> None:
    _, done = run_console(tmp_path, "q\n", "--language", "nl")
    assert done.returncode == 0, done.stderr
    with i18n.speaking("nl"):
        assert i18n._("Report a bug") in done.stdout
    assert "Report a bug" not in done.stdout


def test_dates_read_as_each_language_writes_them() -> None:
    monday = date(2026, 4, 13)
    shown = {}
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            shown[language] = (i18n.day(monday), i18n.long_day(monday), i18n.month(monday))
    assert shown == {
        "en": ("Mon 13 Apr 2026", "Monday 13 April", "April 2026"),
        "nl": ("ma 13 apr 2026", "maandag 13 april", "april 2026"),
        "de": ("Mo., 13. Apr. 2026", "Montag, 13. April", "April 2026"),
    }


def test_slack_locales_map_to_the_three_languages() -> None:
    assert i18n.of_locale("nl-NL", "en") == "nl"
    assert i18n.of_locale("nl-BE", "en") == "nl"
    assert i18n.of_locale("de-AT", "nl") == "de"
    assert i18n.of_locale("en-GB", "de") == "en"
    assert i18n.of_locale("fr-FR", "de") == "de"
    assert i18n.of_locale(None, "nl") == "nl"


def test_when_slack_cannot_say_the_language_the_organisation_speaks(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    """A Dutch user's first request while Slack is rate-limiting: answered at once in the
    organisation's English, and Slack is not asked again for every request meanwhile."""
    deskbot.services.settings.roles.agents.append(DUTCH)
    standin.fail_next("users.info", status=429, retry_after=30)
    first = deskbot.driver.command(DUTCH, "/desk", "help")  # not retried after 30 s: one call
    assert first.body == render_text("text/help.txt.j2", command=COMMAND)
    deskbot.driver.command(DUTCH, "/desk", "help")
    assert len(standin.calls_to("users.info")) == 1
