"""The service desk's actions on a bug report's card in the triage channel.

Claim or assign, set the status, ask the reporter (their answer comes back into the card's
thread), forward a redacted copy to the vendor, resolve with an answer for the reporter. Every
click is checked on the server for the user who clicked; the card is updated in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from deskbot import announcing, i18n, privacy, triage
from deskbot.i18n import N_, _
from deskbot.models import BugReport
from deskbot.roles import Actor, Role
from deskbot.slack import access, delivery, views
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.ids import Action, View
from deskbot.slack.payloads import clicked_id, metadata, view_values
from deskbot.templating import escape_mrkdwn

log = logging.getLogger(__name__)
Change = Callable[[Session, BugReport, Actor], object]

# Purpose of a text dialog: title, submit, intro and label, translated when it opens.
DIALOGS = {
    "ask": (
        N_("Ask the reporter"),
        N_("Send"),
        N_(
            "Your question goes to the reporter in a direct message; their answer comes back "
            "into this card's thread."
        ),
        N_("What do you need to know?"),
    ),
    "resolve": (
        N_("Resolve the report"),
        N_("Resolve"),
        N_("The reporter gets your answer, so they can inform the end user."),
        N_("The answer for the reporter"),
    ),
    "reply": (
        N_("Answer the service desk"),
        N_("Send"),
        N_(
            "Your answer goes to the service desk's card. Please leave out names and other "
            "personal details."
        ),
        N_("Your answer"),
    ),
}


def card_blocks(services: Services, report: BugReport) -> list[dict[str, Any]]:
    flow = services.runner.flow("bug_report")
    return views.triage_card(flow, report, mails=services.settings.smtp.configured)


def refresh(services: Services, report: BugReport) -> None:
    """Show the report's current state on its card, now; the ticker retries when this fails."""
    refresh_card(services, report.id)


def refresh_card(services: Services, report_id: int) -> bool:
    """Bring the card up to date with the report as it is now; False when Slack is down (the
    card stays marked, so the ticker's next run tries again)."""
    with services.db.transaction() as session:
        report = session.get(BugReport, report_id)
    if report is None:
        return True
    if report.triage_channel and report.triage_ts:
        try:
            with services.languages.speaking_to(report.triage_channel):
                services.client.chat_update(
                    channel=report.triage_channel,
                    ts=report.triage_ts,
                    text=_(
                        "Bug report {reference}: {status}",
                        reference=report.reference,
                        status=triage.label(report),
                    ),
                    blocks=card_blocks(services, report),
                )
        except Exception as problem:
            code = delivery.slack_error(problem)
            if code not in delivery.MESSAGE_GONE:
                kind = type(problem).__name__
                log.warning("%s card not updated yet: %s %s", report.reference, kind, code)
                return not delivery.outage(problem)
            log.warning("%s card is gone: %s", report.reference, code)
    with services.db.transaction() as session:
        announcing.card_shown(session, BugReport, report.id, report.card_stale_at)
    return True


def shown(text: str) -> str:
    """Typed text as the triage channel may see it: personal data removed, mrkdwn escaped."""
    return escape_mrkdwn(privacy.redact(text))


def in_thread(services: Services, report: BugReport, text: Callable[[], str]) -> None:
    """A line in the card's thread, written in the channel's language."""
    if report.triage_channel and report.triage_ts:
        with services.languages.speaking_to(report.triage_channel):
            services.client.chat_postMessage(
                channel=report.triage_channel, thread_ts=report.triage_ts, text=text()
            )


def to_reporter(
    services: Services, report: BugReport, text: Callable[[], str], **blocks: Any
) -> None:
    """A direct message to the reporter, in their language; `blocks` renders its blocks."""
    with services.languages.speaking_to(report.reporter_id):
        services.client.chat_postMessage(
            channel=report.reporter_id,
            text=text(),
            **{name: render() for name, render in blocks.items()},
        )


def act(services: Services, user_id: str, report_id: int, change: Change) -> BugReport | str:
    """Apply one change for this user: the report as it is now, or the refusal's text."""
    return access.change_as(
        services,
        user_id,
        lambda session: triage.get(
            session, services.settings.organisation_id, report_id, for_update=True
        ),
        change,
        _("That bug report does not exist."),
    )


def dialog(purpose: str, report: BugReport) -> dict[str, Any]:
    title, submit, intro, label = (_(text) for text in DIALOGS[purpose])
    return views.text_dialog(
        View.TRIAGE_TEXT, report.id, report.reference, purpose, (title, submit, intro, label)
    )


def _report_of_card(body: dict[str, Any]) -> int:
    """Selects carry no value of their own: the card's block ID names the report."""
    block = str(body["actions"][0].get("block_id") or "")
    number = block.removeprefix("bug-")
    return int(number) if number.isdigit() else 0


def register(app: App, services: Services) -> None:
    settings = services.settings

    def tell(body: dict[str, Any], text: str) -> None:
        access.tell(services, body, text)

    def clicked(body: dict[str, Any], report_id: int, change: Change) -> BugReport | None:
        outcome = act(services, body["user"]["id"], report_id, change)
        if isinstance(outcome, str):
            tell(body, outcome)
            return None
        refresh(services, outcome)
        return outcome

    def load(report_id: int) -> BugReport | None:
        with services.db.transaction() as session:
            return triage.get(session, settings.organisation_id, report_id)

    @later(app.action(Action.TRIAGE_CLAIM))
    def claim(body: dict[str, Any]) -> None:
        clicked(body, clicked_id(body), lambda s, r, a: triage.assign(s, r, a, a, claim=True))

    @later(app.action(Action.TRIAGE_ASSIGN))
    def assign(body: dict[str, Any]) -> None:
        chosen = str(body["actions"][0].get("selected_user") or "")
        assignee = services.runner.actor(chosen)
        clicked(body, _report_of_card(body), lambda s, r, a: triage.assign(s, r, a, assignee))

    @later(app.action(Action.TRIAGE_STATUS))
    def status(body: dict[str, Any]) -> None:
        picked = (body["actions"][0].get("selected_option") or {}).get("value")
        if picked not in {s.value for s in triage.SETTABLE}:
            return
        new = triage.Status(picked)
        clicked(body, _report_of_card(body), lambda s, r, a: triage.set_status(s, r, a, new))

    def open_dialog(body: dict[str, Any], purpose: str) -> None:
        report = load(clicked_id(body))
        if report is None:
            return
        user_id = body["user"]["id"]
        if purpose == "reply":
            allowed = user_id == report.reporter_id
        else:
            allowed = services.runner.actor(user_id).holds(Role.AGENT)
        if not allowed:
            tell(
                body,
                _("Only service-desk agents can do that.")
                if purpose != "reply"
                else _("Only the person who reported it can answer this question."),
            )
            return
        services.client.views_open(trigger_id=body["trigger_id"], view=dialog(purpose, report))

    @later(app.action(Action.TRIAGE_ASK))
    def ask(body: dict[str, Any]) -> None:
        open_dialog(body, "ask")

    @later(app.action(Action.TRIAGE_RESOLVE))
    def resolve(body: dict[str, Any]) -> None:
        open_dialog(body, "resolve")

    @later(app.action(Action.TRIAGE_REPLY))
    def reply(body: dict[str, Any]) -> None:
        open_dialog(body, "reply")

    def typed(view: dict[str, Any]) -> str | None:
        """The dialog's text, or None when it is too short to send."""
        text = str(view_values(view).get("reason") or "").strip()
        return text if len(text) >= 2 else None

    def text_ack(ack: Ack, view: dict[str, Any]) -> None:
        """Check the typed text before the dialog closes; the change follows after the ack."""
        if typed(view) is None:
            ack(response_action="errors", errors={"reason": _("Please write something.")})
            return
        ack()

    def text_submitted(body: dict[str, Any], view: dict[str, Any]) -> None:
        # Bolt runs this after every ack, also one that showed an error: check again.
        text = typed(view)
        if text is None:
            return
        meta = metadata(view)
        purpose, report_id = str(meta.get("a")), int(meta.get("r") or 0)
        user_id = body["user"]["id"]
        if purpose == "reply":
            report = act(services, user_id, report_id, triage.replied)
            if isinstance(report, str):
                return  # not the reporter: the button refused them before
            in_thread(
                services,
                report,
                lambda: _("{who} answered:", who=f"<@{user_id}>") + f"\n{shown(text)}",
            )
            refresh(services, report)
            return

        def change(session: Session, report: BugReport, actor: Actor) -> None:
            if purpose == "ask":
                triage.ask(session, report, actor)
            else:
                triage.resolve(session, report, actor, text)

        outcome = act(services, user_id, report_id, change)
        if isinstance(outcome, str):
            services.client.chat_postMessage(channel=user_id, text=outcome)
            return
        refresh(services, outcome)
        who = f"<@{user_id}>"
        if purpose == "ask":
            to_reporter(
                services,
                outcome,
                lambda: _(
                    "The service desk has a question about {reference}.",
                    reference=outcome.reference,
                ),
                blocks=lambda: views.triage_question(outcome, user_id, text),
            )
            in_thread(
                services,
                outcome,
                lambda: _("{who} asked the reporter:", who=who) + f"\n{shown(text)}",
            )
        else:
            to_reporter(
                services,
                outcome,
                lambda: _(
                    "{reference} is resolved; the service desk's answer is below.",
                    reference=outcome.reference,
                ),
                blocks=lambda: views.triage_resolved(outcome, text),
            )
            in_thread(
                services, outcome, lambda: _("{who} resolved it; the reporter is told.", who=who)
            )

    app.view(View.TRIAGE_TEXT)(ack=text_ack, lazy=[quiet(text_submitted)])

    @later(app.action(Action.TRIAGE_FORWARD))
    def forward(body: dict[str, Any]) -> None:
        forward_report(services, body, tell)


def forward_report(
    services: Services, body: dict[str, Any], tell: Callable[[dict[str, Any], str], None]
) -> None:
    """Post the vendor-ready copy (text and Markdown) in the card's thread; e-mail it too when
    SMTP is configured."""
    from deskbot import mailer, vendor

    user_id = body["user"]["id"]
    outcome = act(services, user_id, clicked_id(body), triage.forward)
    if isinstance(outcome, str):
        tell(body, outcome)
        return
    # The vendor's copy and its mail are written in the organisation's language, like the
    # triage channel, whoever forwards it.
    vendors_language = services.languages.organisation
    with i18n.speaking(vendors_language):
        copy = vendor.vendor_report(
            services.runner.flow("bug_report"),
            outcome,
            organisation=services.settings.organisation,
        )
    sent_by_mail = False
    if services.settings.smtp.configured:
        try:
            with i18n.speaking(vendors_language):
                mailer.send_vendor_report(services.settings, copy)
            sent_by_mail = True
        except mailer.MailNotSent as problem:
            tell(
                body,
                # Translators: {problem} is the mail server's answer, in English, for whoever
                # runs deskbot.
                _(
                    "The e-mail to the vendor could not be sent; the copy is in the card's "
                    "thread. For the person who runs deskbot: {problem}",
                    problem=problem,
                ),
            )
    if sent_by_mail:
        with services.db.transaction() as session:
            triage.mailed(session, outcome, user_id)
    if outcome.triage_channel and outcome.triage_ts:
        stem, who, reference = copy.filename_stem, f"<@{user_id}>", outcome.reference
        with services.languages.speaking_to(outcome.triage_channel):
            services.client.files_upload_v2(
                channel=outcome.triage_channel,
                thread_ts=outcome.triage_ts,
                file_uploads=[
                    {
                        "content": copy.text,
                        "filename": f"{stem}.txt",
                        "title": _("{reference} for the vendor", reference=stem),
                    },
                    {
                        "content": copy.markdown,
                        "filename": f"{stem}.md",
                        "title": _("{reference} (Markdown)", reference=stem),
                    },
                ],
                initial_comment=(
                    _(
                        "{who} forwarded {reference} to the vendor (also by e-mail).",
                        who=who,
                        reference=reference,
                    )
                    if sent_by_mail
                    else _(
                        "{who} forwarded {reference} to the vendor.", who=who, reference=reference
                    )
                ),
            )
    refresh(services, outcome)
    to_reporter(
        services,
        outcome,
        lambda: _(
            "The service desk has forwarded {reference} to the vendor. You hear from us when "
            "there is an answer.",
            reference=outcome.reference,
        ),
    )
