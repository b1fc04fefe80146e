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

from deskbot import clock, privacy
from deskbot.flows import validate
from deskbot.flows.bug_report import KIND_NAMES
from deskbot.flows.engine import Flow, Invalid, Kind, Notice, Option, Step, Wording
from deskbot.settings import Settings
from deskbot.sla.calendar import statutory_deadline

NAME = "deletion_request"
GDPR_APPLIES = date(2018, 5, 25)
ACCOUNT_KIND = (Option("client", "A client"), Option("professional", "A professional"))
PROFESSIONAL_REFUSED = (
    "Professional accounts cannot be deleted on the platform: their feedback and conversations "
    "are part of their clients' files. Deactivate the account instead (in the account's "
    "details on the platform); it then no longer has access."
)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
_HAS_DIGIT = re.compile(r"\d")


def build(settings: Settings) -> Flow:
    platforms = {p.name: p for p in settings.platforms}

    def account_kind(raw: str, _answers: Mapping[str, Any]) -> str:
        if raw == "professional":
            raise Invalid(PROFESSIONAL_REFUSED)
        return raw

    def client_id(raw: str, answers: Mapping[str, Any]) -> str:
        text = validate.account_id(raw)
        platform = platforms.get(str(answers.get("platform")))
        example = (
            f" For example {platform.client_id_example}."
            if platform and platform.client_id_example
            else ""
        )
        if platform and platform.client_id_pattern:
            if not re.fullmatch(platform.client_id_pattern, text):
                raise Invalid(
                    f"That is not an anonymised client ID of {platform.name}.{example} You find it "
                    "in the client's details on the platform."
                )
        elif not _HAS_DIGIT.search(text):
            raise Invalid(
                "An anonymised client ID has digits in it; this looks like a word or a name. "
                "You find the ID in the client's details on the platform."
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
            "Platform",
            "On which platform is the client's account?",
            page=0,
            options=tuple(Option(p.name, f"{p.name} ({p.url})") for p in settings.platforms),
        ),
        Step(
            "account_kind",
            Kind.CHOICE,
            "Account",
            "Whose account is to be deleted?",
            page=0,
            options=ACCOUNT_KIND,
            hint="Only client accounts can be deleted.",
            parse=account_kind,
        ),
        Step(
            "client_id",
            Kind.TEXT,
            "Anonymised client ID",
            "What is the client's anonymised ID?",
            page=0,
            hint="From the client's details on the platform. Never a name or an email address.",
            parse=client_id,
            max_length=64,
        ),
        Step(
            "asked_on",
            Kind.DATE,
            "Client asked on",
            "On which date did the client ask for the deletion? (for example 2026-11-20, or "
            "'today')",
            page=0,
            hint="The law allows one month from this date.",
            parse=asked_on,
        ),
        Step(
            "note",
            Kind.LONG_TEXT,
            "Note",
            "Anything the service desk should know? (optional)",
            page=0,
            optional=True,
            hint="Optional. No names, addresses or other personal details.",
            parse=note,
            max_length=1000,
        ),
    )
    return Flow(
        name=NAME,
        title="Delete a client account",
        steps=steps,
        page_titles=("The request",),
        notices=lambda answers: notices(answers, today()),
        wording=Wording(
            item="deletion request",
            summary_intro=(
                "*Please check the request.* Once it is confirmed, the vendor erases, "
                "irreversibly: " + "; ".join(ERASED) + "."
            ),
            submit="Request deletion",
            ready="Your deletion request is ready.",
            start_again="Start a new request with `/desk delete`.",
        ),
    )


# What the vendor erases, irreversibly: shown before every confirmation.
ERASED = (
    "all module data, including the therapist's feedback",
    "diaries and questionnaires",
    "conversations and messages",
    "the account and its information",
)


def parse_date(raw: str, *, today: date) -> str:
    """A date as typed or picked: ISO, day-month-year, 'today' or 'yesterday'."""
    text = raw.strip().lower()
    if text in ("today", "vandaag", "heute"):
        day = today
    elif text in ("yesterday", "gisteren", "gestern"):
        day = today - timedelta(days=1)
    else:
        for form in _DATE_FORMATS:
            try:
                day = datetime.strptime(text, form).date()
                break
            except ValueError:
                continue
        else:
            raise Invalid("Please give the date as 2026-11-20 or 20-11-2026, or type 'today'.")
    if day > today:
        raise Invalid("That date is in the future; give the date the client asked.")
    if day < GDPR_APPLIES:
        raise Invalid("That date is before the GDPR applied (25 May 2018); please check it.")
    return day.isoformat()


def note(raw: str, _answers: Mapping[str, Any]) -> str:
    kinds = privacy.kinds_found(raw)
    if kinds:
        names = ", ".join(KIND_NAMES[k] for k in kinds)
        raise Invalid(
            f"The note seems to contain {names}. A deletion request keeps no personal data; "
            "please leave it out."
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
                f"The legal month ended on {limit:%d %b %Y}. Handle this request without delay.",
            )
        ]
    if (limit - today).days <= 7:
        return [Notice("deadline", f"The legal month ends on {limit:%d %b %Y}: soon.")]
    return []
