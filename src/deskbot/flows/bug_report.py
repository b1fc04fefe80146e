"""The bug-report reproduction script: every question the vendor needs to reproduce a problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deskbot import privacy
from deskbot.flows import validate
from deskbot.flows.engine import (
    Flow,
    Kind,
    Notice,
    Option,
    Step,
    When,
    Wording,
    translated,
    when,
)
from deskbot.i18n import N_, _
from deskbot.settings import Platform

NAME = "bug_report"

ACCESS = (Option("browser", N_("In a web browser")), Option("app", N_("In the mobile app")))
USER_KIND = (Option("client", N_("A client")), Option("professional", N_("A professional")))
ROLES = (
    Option("application_manager", N_("Application manager")),
    Option("data_analyst", N_("Data analyst")),
    Option("data_officer", N_("Data officer")),
    Option("therapist", N_("Therapist")),
    Option("supervisor", N_("Supervisor")),
    Option("secretary", N_("Secretary")),
    Option("editor", N_("Editor (CMS)")),
    Option("release_manager", N_("Release manager (CMS)")),
)
TOOLS = (
    Option("module", N_("Module")),
    Option("training_course", N_("Training course")),
    Option("diary", N_("Diary")),
    Option("questionnaire", N_("Questionnaire")),
    Option("action_plan", N_("Action plan")),
    Option("conversations", N_("Conversations / messages")),
    Option("other", N_("Something else")),
)
DEVICES = (
    Option("desktop", N_("Desktop or laptop")),
    Option("tablet", N_("Tablet")),
    Option("phone", N_("Phone")),
)
CAUSES = (
    Option("connection", N_("The internet connection works")),
    Option("other_browser", N_("Another browser was tried")),
    Option("browser_updated", N_("The browser is up to date")),
    Option("other_network", N_("Another network was tried")),
    Option("device_settings", N_("Device settings are unchanged")),
    Option("typing", N_("Typing errors are ruled out")),
)
# A tip for each cause not ruled out: shown in the summary and on the receipt.
CAUSE_HINTS = {
    "connection": N_("Tip: check that the internet connection works (open another website)."),
    "other_browser": N_("Tip: try the same steps in another browser."),
    "browser_updated": N_("Tip: update the browser to its newest version."),
    "other_network": N_("Tip: try another network (for example mobile data instead of Wi-Fi)."),
    "device_settings": N_("Tip: check whether device settings were changed recently."),
    "typing": N_("Tip: rule out typing errors (address, username, password)."),
}
REPRODUCED = (
    Option("yes", N_("Yes, it happens there too")),
    Option("no", N_("No, it does not happen there")),
    Option("not_tried", N_("Not tried")),
)
SCOPE = (
    Option("single_user", N_("Only this user")),
    Option("platform_wide", N_("Everyone on the platform")),
    Option("unknown", N_("Not known yet")),
)
FREE_TEXT_STEPS = ("scenario", "expected", "actual", "tool_id", "os", "browser", "device_model")


def build(platforms: Sequence[Platform]) -> Flow:
    """The bug-report flow for an organisation's configured platforms, in the language in force."""

    def platform(raw: str, _answers: Mapping[str, Any]) -> str:
        # A chosen platform's value is its origin already; a typed address is normalised.
        return validate.platform_origin(raw)

    steps = (
        Step(
            "platform",
            Kind.CHOICE,
            _("Platform"),
            _("Which platform is it about?"),
            page=0,
            options=tuple(Option(validate.platform_origin(p.url), p.name) for p in platforms),
            other=_("Or type the platform's web address"),
            parse=platform,
            placeholder="https://ehealth.example.org",
            max_length=300,
        ),
        Step(
            "access",
            Kind.CHOICE,
            _("Access"),
            _("How was the platform used?"),
            page=0,
            options=translated(ACCESS),
        ),
        Step(
            "user_kind",
            Kind.CHOICE,
            _("Affected user"),
            _("Whose account has the problem?"),
            page=0,
            options=translated(USER_KIND),
        ),
        Step(
            "account_id",
            Kind.TEXT,
            _("Account ID"),
            _("What is the platform account ID of that user?"),
            page=0,
            hint=_("The ID from the account's details on the platform; never a name or email."),
            parse=validate.account_id,
            max_length=64,
            placeholder=_("for example {example}", example="48213"),
        ),
        Step(
            "roles",
            Kind.MULTI,
            _("Groups / roles"),
            _("Which groups or roles does the professional have?"),
            page=1,
            options=translated(ROLES),
            conditions=(when("user_kind", "professional"),),
        ),
        Step(
            "tool",
            Kind.CHOICE,
            _("Tool"),
            _("In which tool did it happen?"),
            page=1,
            options=translated(TOOLS),
        ),
        Step(
            "tool_id",
            Kind.TEXT,
            _("Tool ID"),
            _("What is the ID of that tool?"),
            page=1,
            optional=True,
            hint=_("Optional: the ID of the module, questionnaire, … if you know it."),
            parse=validate.optional_id,
            max_length=64,
        ),
        Step(
            "scenario",
            Kind.LONG_TEXT,
            _("Steps taken"),
            _("Which steps were taken, one by one, up to the problem?"),
            page=1,
            hint=_("Write them so someone else can repeat them exactly."),
            parse=validate.free_text(10),
        ),
        Step(
            "expected",
            Kind.LONG_TEXT,
            _("Expected result"),
            _("What should have happened?"),
            page=1,
            parse=validate.free_text(),
        ),
        Step(
            "actual",
            Kind.LONG_TEXT,
            _("Actual result"),
            _("What happened instead? Include the exact error message if there was one."),
            page=1,
            parse=validate.free_text(),
        ),
        Step(
            "device_type",
            Kind.CHOICE,
            _("Device type"),
            _("On which kind of device?"),
            page=1,
            options=translated(DEVICES),
        ),
        Step(
            "os",
            Kind.TEXT,
            _("Operating system"),
            _("Which operating system and version?"),
            page=2,
            placeholder=_("for example Windows 11 or iOS 17.4"),
            max_length=100,
            parse=validate.name_and_version(
                lambda: _(
                    "Please give the operating system and its version number, for example "
                    "Windows 11 or iOS 17.4."
                )
            ),
        ),
        Step(
            "browser",
            Kind.TEXT,
            _("Browser"),
            _("Which browser and version?"),
            page=2,
            conditions=(when("access", "browser"),),
            placeholder=_("for example {example}", example="Firefox 128"),
            max_length=100,
            parse=validate.name_and_version(
                lambda: _(
                    "Please give the browser and its version number, for example Chrome 120 or "
                    "Safari 17."
                )
            ),
        ),
        Step(
            "device_model",
            Kind.TEXT,
            _("Brand and model"),
            _("Which brand and model is the device?"),
            page=2,
            conditions=(when("device_type", "phone", "tablet"),),
            placeholder=_("for example {example}", example="Samsung Galaxy S23"),
            max_length=100,
            parse=validate.short_text,
        ),
        Step(
            "app_version",
            Kind.TEXT,
            _("App version"),
            _("Which version of the app?"),
            page=2,
            conditions=(when("access", "app"),),
            placeholder=_("for example {example}", example="4.12.1"),
            max_length=32,
            parse=validate.version,
        ),
        Step(
            "excluded",
            Kind.MULTI,
            _("Causes excluded"),
            _("Which causes are already ruled out?"),
            page=2,
            optional=True,
            options=translated(CAUSES),
            hint=_(
                "Tick what was checked. Anything left open gets a tip; it never stops the report."
            ),
        ),
        Step(
            "reproduced",
            Kind.CHOICE,
            _("On training platform"),
            _("Does it also happen on the training platform?"),
            page=2,
            options=translated(REPRODUCED),
        ),
        Step(
            "scope",
            Kind.CHOICE,
            _("Who is affected"),
            _("Who has the problem?"),
            page=2,
            options=translated(SCOPE),
        ),
        Step(
            "screenshots",
            Kind.FILES,
            _("Screenshots"),
            _("Any screenshots?"),
            page=2,
            optional=True,
            hint=_("Optional. Crop them so no client details can be read."),
        ),
        Step(
            "screenshots_clean",
            Kind.TICK,
            _("No client details readable"),
            _("Can you confirm that no client details are readable in the screenshots?"),
            page=2,
            conditions=(When.answered("screenshots"),),
            options=(Option("yes", _("No client details are readable in the screenshots")),),
        ),
    )
    return Flow(
        name=NAME,
        # Translators: a dialog's title, at most 24 characters.
        title=_("Report a bug"),
        steps=steps,
        page_titles=(_("Where and who"), _("What happened"), _("Device and checks")),
        notices=notices,
        wording=Wording(
            summary_intro=_(
                "*Please check everything once more.* When you file it, the service desk gets "
                "a copy without personal data."
            ),
            # Translators: a dialog's submit button, at most 24 characters.
            submit=_("File report"),
            ready=_("Your bug report is ready to file."),
            start_again=_("Start a new report with `/desk bug`."),
            # Translators: {where} is how far the draft got, e.g. "question 4 of 17".
            waiting=_(":memo: Your unfinished report is still waiting for you ({where})."),
            # Translators: {bug} is the word the user types to start a bug report.
            cancelled=_(
                "Report cancelled and its draft discarded. Type *{bug}* to start a new one.",
                bug=_("bug"),
            ),
            resumed=_(
                "Your unfinished report is back, with the answers you gave. Everything is saved "
                "as you go."
            ),
            continuing=_("Continuing your unfinished report."),
        ),
    )


def notices(answers: Mapping[str, Any]) -> list[Notice]:
    """Warnings about personal data in free text, and tips for causes not yet ruled out.
    Written when asked for, in the language in force then."""
    found: list[Notice] = []
    for key in FREE_TEXT_STEPS:
        value = answers.get(key)
        if isinstance(value, str) and (kinds := privacy.kinds_found(value)):
            found.append(
                Notice(
                    "personal_data",
                    # Translators: follows the name of a question, e.g. "Steps taken: seems to
                    # contain a phone number. …"; {names} lists what was found.
                    _(
                        "seems to contain {names}. It is removed from the copy for the service "
                        "desk and the vendor; better still, take it out.",
                        names=kind_names(kinds),
                    ),
                    step=key,
                )
            )
    if "excluded" in answers:
        for cause in CAUSES:
            if cause.value not in (answers.get("excluded") or []):
                found.append(Notice("hint", _(CAUSE_HINTS[cause.value])))
    return found


# What each kind of personal data is called in a warning; translate where shown:
# `_(KIND_NAMES[kind])`, or `kind_names(kinds)` for a list.
KIND_NAMES = {
    privacy.Kind.EMAIL: N_("an email address"),
    privacy.Kind.PHONE: N_("a phone number"),
    privacy.Kind.BSN: N_("a BSN"),
    privacy.Kind.IBAN: N_("a bank account number"),
    privacy.Kind.DATE_OF_BIRTH: N_("a date (of birth?)"),
}


def kind_names(kinds: Sequence[privacy.Kind]) -> str:
    """The kinds found, named in the language in force: "an email address, a phone number"."""
    return ", ".join(_(KIND_NAMES[k]) for k in kinds)


def redacted(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The copy of the answers that may leave the organisation."""
    return {
        key: privacy.redact(value) if isinstance(value, str) else value
        for key, value in answers.items()
    }
