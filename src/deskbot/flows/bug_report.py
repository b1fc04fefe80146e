"""The bug-report reproduction script: every question the vendor needs to reproduce a problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deskbot import privacy
from deskbot.flows import validate
from deskbot.flows.engine import Flow, Kind, Notice, Option, Step, When, Wording, when
from deskbot.settings import Platform

NAME = "bug_report"

ACCESS = (Option("browser", "In a web browser"), Option("app", "In the mobile app"))
USER_KIND = (Option("client", "A client"), Option("professional", "A professional"))
ROLES = (
    Option("application_manager", "Application manager"),
    Option("data_analyst", "Data analyst"),
    Option("data_officer", "Data officer"),
    Option("therapist", "Therapist"),
    Option("supervisor", "Supervisor"),
    Option("secretary", "Secretary"),
    Option("editor", "Editor (CMS)"),
    Option("release_manager", "Release manager (CMS)"),
)
TOOLS = (
    Option("module", "Module"),
    Option("training_course", "Training course"),
    Option("diary", "Diary"),
    Option("questionnaire", "Questionnaire"),
    Option("action_plan", "Action plan"),
    Option("conversations", "Conversations / messages"),
    Option("other", "Something else"),
)
DEVICES = (
    Option("desktop", "Desktop or laptop"),
    Option("tablet", "Tablet"),
    Option("phone", "Phone"),
)
CAUSES = (
    Option("connection", "The internet connection works"),
    Option("other_browser", "Another browser was tried"),
    Option("browser_updated", "The browser is up to date"),
    Option("other_network", "Another network was tried"),
    Option("device_settings", "Device settings are unchanged"),
    Option("typing", "Typing errors are ruled out"),
)
CAUSE_HINTS = {
    "connection": "check that the internet connection works (open another website)",
    "other_browser": "try the same steps in another browser",
    "browser_updated": "update the browser to its newest version",
    "other_network": "try another network (for example mobile data instead of Wi-Fi)",
    "device_settings": "check whether device settings were changed recently",
    "typing": "rule out typing errors (address, username, password)",
}
REPRODUCED = (
    Option("yes", "Yes, it happens there too"),
    Option("no", "No, it does not happen there"),
    Option("not_tried", "Not tried"),
)
SCOPE = (
    Option("single_user", "Only this user"),
    Option("platform_wide", "Everyone on the platform"),
    Option("unknown", "Not known yet"),
)
FREE_TEXT_STEPS = ("scenario", "expected", "actual", "tool_id", "os", "browser", "device_model")


def build(platforms: Sequence[Platform]) -> Flow:
    """The bug-report flow for an organisation's configured platforms."""

    def platform(raw: str, _answers: Mapping[str, Any]) -> str:
        # A chosen platform's value is its origin already; a typed address is normalised.
        return validate.platform_origin(raw)

    steps = (
        Step(
            "platform",
            Kind.CHOICE,
            "Platform",
            "Which platform is it about?",
            page=0,
            options=tuple(Option(validate.platform_origin(p.url), p.name) for p in platforms),
            other="Or type the platform's web address",
            parse=platform,
            placeholder="https://ehealth.example.org",
            max_length=300,
        ),
        Step("access", Kind.CHOICE, "Access", "How was the platform used?", page=0, options=ACCESS),
        Step(
            "user_kind",
            Kind.CHOICE,
            "Affected user",
            "Whose account has the problem?",
            page=0,
            options=USER_KIND,
        ),
        Step(
            "account_id",
            Kind.TEXT,
            "Account ID",
            "What is the platform account ID of that user?",
            page=0,
            hint="The ID from the account's details on the platform; never a name or email.",
            parse=validate.account_id,
            max_length=64,
            placeholder="for example 48213",
        ),
        Step(
            "roles",
            Kind.MULTI,
            "Groups / roles",
            "Which groups or roles does the professional have?",
            page=1,
            options=ROLES,
            conditions=(when("user_kind", "professional"),),
        ),
        Step("tool", Kind.CHOICE, "Tool", "In which tool did it happen?", page=1, options=TOOLS),
        Step(
            "tool_id",
            Kind.TEXT,
            "Tool ID",
            "What is the ID of that tool?",
            page=1,
            optional=True,
            hint="Optional: the ID of the module, questionnaire, … if you know it.",
            parse=validate.optional_id,
            max_length=64,
        ),
        Step(
            "scenario",
            Kind.LONG_TEXT,
            "Steps taken",
            "Which steps were taken, one by one, up to the problem?",
            page=1,
            hint="Write them so someone else can repeat them exactly.",
            parse=validate.free_text(10),
        ),
        Step(
            "expected",
            Kind.LONG_TEXT,
            "Expected result",
            "What should have happened?",
            page=1,
            parse=validate.free_text(),
        ),
        Step(
            "actual",
            Kind.LONG_TEXT,
            "Actual result",
            "What happened instead? Include the exact error message if there was one.",
            page=1,
            parse=validate.free_text(),
        ),
        Step(
            "device_type",
            Kind.CHOICE,
            "Device type",
            "On which kind of device?",
            page=1,
            options=DEVICES,
        ),
        Step(
            "os",
            Kind.TEXT,
            "Operating system",
            "Which operating system and version?",
            page=2,
            placeholder="for example Windows 11 or iOS 17.4",
            max_length=100,
            parse=validate.name_and_version("operating system", "Windows 11 or iOS 17.4"),
        ),
        Step(
            "browser",
            Kind.TEXT,
            "Browser",
            "Which browser and version?",
            page=2,
            conditions=(when("access", "browser"),),
            placeholder="for example Firefox 128",
            max_length=100,
            parse=validate.name_and_version("browser", "Chrome 120 or Safari 17"),
        ),
        Step(
            "device_model",
            Kind.TEXT,
            "Brand and model",
            "Which brand and model is the device?",
            page=2,
            conditions=(when("device_type", "phone", "tablet"),),
            placeholder="for example Samsung Galaxy S23",
            max_length=100,
            parse=validate.short_text,
        ),
        Step(
            "app_version",
            Kind.TEXT,
            "App version",
            "Which version of the app?",
            page=2,
            conditions=(when("access", "app"),),
            placeholder="for example 4.12.1",
            max_length=32,
            parse=validate.version,
        ),
        Step(
            "excluded",
            Kind.MULTI,
            "Causes excluded",
            "Which causes are already ruled out?",
            page=2,
            optional=True,
            options=CAUSES,
            hint="Tick what was checked. Anything left open gets a tip; it never stops the report.",
        ),
        Step(
            "reproduced",
            Kind.CHOICE,
            "On training platform",
            "Does it also happen on the training platform?",
            page=2,
            options=REPRODUCED,
        ),
        Step(
            "scope", Kind.CHOICE, "Who is affected", "Who has the problem?", page=2, options=SCOPE
        ),
        Step(
            "screenshots",
            Kind.FILES,
            "Screenshots",
            "Any screenshots?",
            page=2,
            optional=True,
            hint="Optional. Crop them so no client details can be read.",
        ),
        Step(
            "screenshots_clean",
            Kind.TICK,
            "No client details readable",
            "Can you confirm that no client details are readable in the screenshots?",
            page=2,
            conditions=(When.answered("screenshots"),),
            options=(Option("yes", "No client details are readable in the screenshots"),),
        ),
    )
    return Flow(
        name=NAME,
        title="Report a bug",
        steps=steps,
        page_titles=("Where and who", "What happened", "Device and checks"),
        notices=notices,
        wording=Wording(
            item="report",
            summary_intro="*Please check everything once more.* When you file it, the service "
            "desk gets a copy without personal data.",
            submit="File report",
            ready="Your bug report is ready to file.",
            start_again="Start a new report with `/desk bug`.",
        ),
    )


def notices(answers: Mapping[str, Any]) -> list[Notice]:
    """Warnings about personal data in free text, and tips for causes not yet ruled out."""
    found: list[Notice] = []
    for key in FREE_TEXT_STEPS:
        value = answers.get(key)
        if isinstance(value, str) and (kinds := privacy.kinds_found(value)):
            names = ", ".join(KIND_NAMES[k] for k in kinds)
            found.append(
                Notice(
                    "personal_data",
                    f"seems to contain {names}. It is removed from the copy for the service "
                    "desk and the vendor; better still, take it out.",
                    step=key,
                )
            )
    if "excluded" in answers:
        for cause in CAUSES:
            if cause.value not in (answers.get("excluded") or []):
                found.append(Notice("hint", f"Tip: {CAUSE_HINTS[cause.value]}."))
    return found


KIND_NAMES = {
    privacy.Kind.EMAIL: "an email address",
    privacy.Kind.PHONE: "a phone number",
    privacy.Kind.BSN: "a BSN",
    privacy.Kind.IBAN: "a bank account number",
    privacy.Kind.DATE_OF_BIRTH: "a date (of birth?)",
}


def redacted(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The copy of the answers that may leave the organisation."""
    return {
        key: privacy.redact(value) if isinstance(value, str) else value
        for key, value in answers.items()
    }
