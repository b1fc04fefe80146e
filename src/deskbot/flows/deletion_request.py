"""The GDPR deletion request: which platform, which anonymised client, and when the client asked.

Nothing that identifies the client as a person is asked for or kept: the anonymised client ID
is checked against the platform's configured format, and anything that looks like a name,
email address, phone number or BSN is refused, in the ID and in the note alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from deskbot import clock, i18n, privacy
from deskbot.flows import validate
from deskbot.flows.bug_report import kind_names
from deskbot.flows.engine import Flow, Invalid, Kind, Notice, Option, Step, Wording, translated
from deskbot.i18n import N_, _
from deskbot.settings import Settings
from deskbot.sla.calendar import statutory_deadline

NAME = "deletion_request"
GDPR_APPLIES = date(2018, 5, 25)
ACCOUNT_KIND = (Option("client", N_("A client")), Option("professional", N_("A professional")))
# Translate where shown: `_(PROFESSIONAL_REFUSED)`.
PROFESSIONAL_REFUSED = N_(
    "Professional accounts cannot be deleted on the platform: their feedback and conversations "
    "are part of their clients' files. Deactivate the account instead (in the account's "
    "details on the platform); it then no longer has access."
)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
_HAS_DIGIT = re.compile(r"\d")
# The words for a day that are understood in every language, whichever is in force.
_TODAY = ("today", "vandaag", "heute")
_YESTERDAY = ("yesterday", "gisteren", "gestern")


def today_word() -> str:
    # Translators: a word the user may type as a date (for "today"); one word, lower case.
    return _("today")


def yesterday_word() -> str:
    # Translators: a word the user may type as a date (for "yesterday"); one word, lower case.
    return _("yesterday")


def build(settings: Settings) -> Flow:
    """The deletion-request flow, in the language in force."""
    platforms = {p.name: p for p in settings.platforms}

    def account_kind(raw: str, _answers: Mapping[str, Any]) -> str:
        if raw == "professional":
            raise Invalid(_(PROFESSIONAL_REFUSED))
        return raw

    def client_id(raw: str, answers: Mapping[str, Any]) -> str:
        text = validate.account_id(raw)
        platform = platforms.get(str(answers.get("platform")))
        if platform and platform.client_id_pattern:
            if not re.fullmatch(platform.client_id_pattern, text):
                if platform.client_id_example:
                    raise Invalid(
                        _(
                            "That is not an anonymised client ID of {platform}. For example "
                            "{example}. You find it in the client's details on the platform.",
                            platform=platform.name,
                            example=platform.client_id_example,
                        )
                    )
                raise Invalid(
                    _(
                        "That is not an anonymised client ID of {platform}. You find it in the "
                        "client's details on the platform.",
                        platform=platform.name,
                    )
                )
        elif not _HAS_DIGIT.search(text):
            raise Invalid(
                _(
                    "An anonymised client ID has digits in it; this looks like a word or a name. "
                    "You find the ID in the client's details on the platform."
                )
            )
        return text

    zone = settings.work_calendar().zone

    def today() -> date:
        return clock.now().astimezone(zone).date()

    def asked_on(raw: str, _answers: Mapping[str, Any]) -> str:
        return parse_date(raw, today=today())

    steps = (
        Step(
            "platform",
            Kind.CHOICE,
            _("Platform"),
            _("On which platform is the client's account?"),
            page=0,
            options=tuple(Option(p.name, f"{p.name} ({p.url})") for p in settings.platforms),
        ),
        Step(
            "account_kind",
            Kind.CHOICE,
            _("Account"),
            _("Whose account is to be deleted?"),
            page=0,
            options=translated(ACCOUNT_KIND),
            hint=_("Only client accounts can be deleted."),
            parse=account_kind,
        ),
        Step(
            "client_id",
            Kind.TEXT,
            _("Anonymised client ID"),
            _("What is the client's anonymised ID?"),
            page=0,
            hint=_("From the client's details on the platform. Never a name or an email address."),
            parse=client_id,
            max_length=64,
        ),
        Step(
            "asked_on",
            Kind.DATE,
            _("Client asked on"),
            # Translators: {today} is the word the user may type for today's date.
            _(
                "On which date did the client ask for the deletion? (for example 2026-11-20, "
                "or '{today}')",
                today=today_word(),
            ),
            page=0,
            hint=_("The law allows one month from this date."),
            parse=asked_on,
        ),
        Step(
            "note",
            Kind.LONG_TEXT,
            _("Note"),
            _("Anything the service desk should know? (optional)"),
            page=0,
            optional=True,
            hint=_("Optional. No names, addresses or other personal details."),
            parse=note,
            max_length=1000,
        ),
    )
    return Flow(
        name=NAME,
        # Translators: a dialog's title, at most 24 characters.
        title=_("Delete a client account"),
        steps=steps,
        page_titles=(_("The request"),),
        notices=lambda answers: notices(answers, today()),
        wording=Wording(
            # Translators: {erased} lists what the vendor erases, separated by semicolons.
            summary_intro=_(
                "*Please check the request.* Once it is confirmed, the vendor erases, "
                "irreversibly: {erased}.",
                erased="; ".join(_(item) for item in ERASED),
            ),
            # Translators: a dialog's submit button, at most 24 characters.
            submit=_("Request deletion"),
            ready=_("Your deletion request is ready."),
            start_again=_("Start a new request with `/desk delete`."),
            # Translators: {where} is how far the draft got, e.g. "question 4 of 17".
            waiting=_(
                ":memo: Your unfinished deletion request is still waiting for you ({where})."
            ),
            # Translators: {delete} is the word the user types to start a deletion request.
            cancelled=_(
                "Request cancelled and its draft discarded. Type *{delete}* to start a new one.",
                delete=_("delete"),
            ),
            resumed=_(
                "Your unfinished deletion request is back, with the answers you gave. "
                "Everything is saved as you go."
            ),
            continuing=_("Continuing your unfinished deletion request."),
        ),
    )


# What the vendor erases, irreversibly: shown before every confirmation. Translate where
# shown: `[_(item) for item in ERASED]`.
ERASED = (
    N_("all module data, including the therapist's feedback"),
    N_("diaries and questionnaires"),
    N_("conversations and messages"),
    N_("the account and its information"),
)


def parse_date(raw: str, *, today: date) -> str:
    """A date as typed or picked: ISO, day-month-year, or 'today' or 'yesterday' in English,
    Dutch, German or the language in force."""
    text = raw.strip().lower()
    if text in _TODAY or text == today_word().lower():
        day = today
    elif text in _YESTERDAY or text == yesterday_word().lower():
        day = today - timedelta(days=1)
    else:
        for form in _DATE_FORMATS:
            try:
                day = datetime.strptime(text, form).date()
                break
            except ValueError:
                continue
        else:
            raise Invalid(
                _(
                    "Please give the date as 2026-11-20 or 20-11-2026, or type '{today}'.",
                    today=today_word(),
                )
            )
    if day > today:
        raise Invalid(_("That date is in the future; give the date the client asked."))
    if day < GDPR_APPLIES:
        raise Invalid(_("That date is before the GDPR applied (25 May 2018); please check it."))
    return day.isoformat()


def note(raw: str, _answers: Mapping[str, Any]) -> str:
    kinds = privacy.kinds_found(raw)
    if kinds:
        raise Invalid(
            # Translators: {names} lists the kinds of personal data found, e.g. "a phone number".
            _(
                "The note seems to contain {names}. A deletion request keeps no personal data; "
                "please leave it out.",
                names=kind_names(kinds),
            )
        )
    return raw


def notices(answers: Mapping[str, Any], today: date) -> list[Notice]:
    """How close the statutory limit is, once the request date is known."""
    asked = answers.get("asked_on")
    if not isinstance(asked, str):
        return []
    limit = statutory_deadline(date.fromisoformat(asked))
    if limit < today:
        return [
            Notice(
                "deadline",
                _(
                    "The legal month ended on {day}. Handle this request without delay.",
                    day=i18n.day(limit),
                ),
            )
        ]
    if (limit - today).days <= 7:
        return [Notice("deadline", _("The legal month ends on {day}: soon.", day=i18n.day(limit)))]
    return []
