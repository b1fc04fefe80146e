"""Deletion requests in Slack: confirming, the service desk's actions, the tracker
(`/desk deletions`, the App Home) and the monthly report download. Their cards are posted and
kept up to date by deskbot.slack.deletion_cards; reminders are sent by deskbot.slack.reminding.

Every click is checked on the server for the user who clicked (deskbot.deletions decides);
every change then updates each copy of the request's card in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from deskbot import clock, deletions, i18n, privacy, reminders
from deskbot.flows.bug_report import KIND_NAMES
from deskbot.flows.engine import Invalid
from deskbot.i18n import N_, _
from deskbot.models import DeletionRequest
from deskbot.roles import SEES_DELETIONS, Actor, Refused, Role
from deskbot.slack import access
from deskbot.slack import deletion_views as views
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.deletion_cards import refresh
from deskbot.slack.ids import Action, View
from deskbot.slack.payloads import clicked_id, metadata, view_values
from deskbot.slack.reminding import send_due as send_due  # the ticker's job, by its old name
from deskbot.slack.views import modal_notice
from deskbot.templating import escape_mrkdwn

log = logging.getLogger(__name__)
COMMAND_ROWS = 15
# The report's outcomes as the summary names them (the CSV itself keeps the codes).
OUTCOMES = {
    "met": N_("met"),
    "breached": N_("breached"),
    "open": N_("open"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "not confirmed": N_("not confirmed"),
}


# ---- acting on a request ---------------------------------------------------------------------

Change = Callable[[Session, DeletionRequest, Actor], object]


def act(services: Services, user_id: str, request_id: int, change: Change) -> str | None:
    """Apply one change for this user; the refusal's text when they may not.

    Slack hears of it afterwards (after_change), so a view submission can be answered first.
    """
    outcome = access.change_as(
        services,
        user_id,
        lambda session: deletions.get(
            session, services.settings.organisation_id, request_id, for_update=True
        ),
        change,
        _("That deletion request does not exist (any more)."),
    )
    return outcome if isinstance(outcome, str) else None


def after_change(services: Services, request_id: int) -> None:
    """Every copy of the card shows the new state; what the change made due goes out now."""
    refresh(services, request_id)
    subject = reminders.Subject(
        services.settings.organisation_id, reminders.SUBJECT, str(request_id)
    )
    send_due(services, about=subject)


def register(app: App, services: Services) -> None:
    settings = services.settings

    def tell(body: dict[str, Any], text: str) -> None:
        access.tell(services, body, text)

    def clicked(body: dict[str, Any], change: Change) -> None:
        request_id = clicked_id(body)
        refusal = act(services, body["user"]["id"], request_id, change)
        if refusal:
            tell(body, refusal)
        else:
            after_change(services, request_id)

    def changed(view: dict[str, Any]) -> None:
        """After a dialog was acked: if it changed the request (a refusal changes nothing),
        update the cards and send what became due."""
        request = load(int(metadata(view).get("r") or 0))
        if request is not None and request.card_stale_at is not None:
            after_change(services, request.id)

    def load(request_id: int) -> DeletionRequest | None:
        with services.db.transaction() as session:
            return deletions.get(session, settings.organisation_id, request_id)

    @later(app.action(Action.DELETION_CONFIRM))
    def open_confirmation(body: dict[str, Any]) -> None:
        request = load(clicked_id(body))
        if request is None:
            return
        try:
            deletions.may_confirm(request, services.runner.actor(body["user"]["id"]), settings)
        except Refused as refused:
            tell(body, str(refused))
            return
        services.client.views_open(
            trigger_id=body["trigger_id"], view=views.confirm_modal(request, settings)
        )

    def confirmation_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        request_id = int(metadata(view).get("r") or 0)
        typed = str(view_values(view).get("typed") or "").strip()
        request = load(request_id)
        if request is None:
            ack(response_action="errors", errors={"typed": _("This request no longer exists.")})
            return
        try:  # the right to confirm first: a stranger learns nothing from the validation
            deletions.may_confirm(request, services.runner.actor(body["user"]["id"]), settings)
        except Refused as refused:
            ack(response_action="errors", errors={"typed": str(refused)})
            return
        if typed.casefold() != request.client_id.casefold():
            ack(
                response_action="errors",
                errors={
                    "typed": _("That is not this request's client ID; check it and type it again.")
                },
            )
            return
        refusal = act(
            services,
            body["user"]["id"],
            request_id,
            lambda session, req, actor: deletions.confirm(session, req, actor, settings),
        )
        if refusal:
            ack(response_action="errors", errors={"typed": refusal})
            return
        confirmed = load(request_id)
        assert confirmed is not None
        ack(
            response_action="update",
            view=modal_notice(
                _("Deletion confirmed"),
                _(
                    ":white_check_mark: *{reference}* is confirmed. The service desk deletes the "
                    "account by the end of {day}; you hear from me when it is done.",
                    reference=confirmed.reference,
                    day=i18n.day(confirmed.due_date),
                ),
            ),
        )

    app.view(View.DELETION_CONFIRM)(ack=confirmation_submitted, lazy=[quiet(changed)])

    def open_reason(body: dict[str, Any], action: str) -> None:
        request = load(clicked_id(body))
        if request is None:
            return
        actor = services.runner.actor(body["user"]["id"])
        if not actor.holds(Role.AGENT):
            tell(body, _(deletions.AGENTS_ONLY[action]))
            return
        services.client.views_open(
            trigger_id=body["trigger_id"], view=views.reason_modal(request, action)
        )

    @later(app.action(Action.DELETION_PAUSE))
    def pause_clicked(body: dict[str, Any]) -> None:
        open_reason(body, "pause")

    @later(app.action(Action.DELETION_REJECT))
    def reject_clicked(body: dict[str, Any]) -> None:
        open_reason(body, "reject")

    def reason_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = metadata(view)
        if not services.runner.actor(body["user"]["id"]).holds(Role.AGENT):
            # Refused before the reason is read (and whatever it holds is checked).
            denied = deletions.AGENTS_ONLY["pause" if meta.get("a") == "pause" else "reject"]
            ack(response_action="errors", errors={"reason": _(denied)})
            return
        reason = str(view_values(view).get("reason") or "").strip()
        try:
            reason = checked_reason(reason)
        except Invalid as problem:
            ack(response_action="errors", errors={"reason": str(problem)})
            return
        pausing = meta.get("a") == "pause"

        def change(session: Session, request: DeletionRequest, actor: Actor) -> None:
            if pausing:
                deletions.pause(session, request, actor, reason, settings)
            else:
                deletions.reject(session, request, actor, reason)

        refusal = act(services, body["user"]["id"], int(meta.get("r") or 0), change)
        if refusal:
            ack(response_action="errors", errors={"reason": refusal})
        else:
            ack()

    app.view(View.DELETION_REASON)(ack=reason_submitted, lazy=[quiet(changed)])

    @later(app.action(Action.DELETION_CLAIM))
    def claim(body: dict[str, Any]) -> None:
        clicked(body, deletions.claim)

    @later(app.action(Action.DELETION_START))
    def start(body: dict[str, Any]) -> None:
        clicked(body, deletions.start)

    @later(app.action(Action.DELETION_RESUME))
    def resume(body: dict[str, Any]) -> None:
        clicked(body, lambda session, req, actor: deletions.resume(session, req, actor, settings))

    @later(app.action(Action.DELETION_COMPLETE))
    def complete(body: dict[str, Any]) -> None:
        clicked(body, lambda session, req, actor: deletions.complete(session, req, actor, settings))

    @later(app.action(Action.DELETION_WITHDRAW))
    def withdraw(body: dict[str, Any]) -> None:
        clicked(body, deletions.withdraw)


def checked_reason(reason: str) -> str:
    """A pause or rejection reason: short, and without personal data."""
    if len(reason) < 3:
        raise Invalid(_("Please give a short reason."))
    if kinds := privacy.kinds_found(reason):
        names = ", ".join(_(KIND_NAMES[k]) for k in kinds)
        raise Invalid(
            _("This seems to contain {kinds}; please leave personal data out.", kinds=names)
        )
    return reason


# ---- the tracker ------------------------------------------------------------------------------


def command(services: Services, body: dict[str, Any], respond: Respond, words: list[str]) -> None:
    """`/desk deletions`: the open requests; `/desk deletions report YYYY-MM`: the CSV."""
    user_id = body["user_id"]
    settings = services.settings
    sees_all = services.roles.has_any(user_id, SEES_DELETIONS)
    if words[:1] and words[0].lower() == "report":
        if not sees_all:
            respond(text=_("Only application managers, agents and leads can download the report."))
            return
        upload_report(services, user_id, words[1] if len(words) > 1 else None, respond)
        return
    with services.db.transaction() as session:
        if sees_all:
            rows, total = deletions.open_requests(
                session, settings.organisation_id, limit=COMMAND_ROWS
            )
            title = _("Open deletion requests")
        else:
            rows = deletions.requested_by(session, settings.organisation_id, user_id)
            total, title = len(rows), _("Your deletion requests")
    blocks = views.tracker(
        rows,
        total,
        settings,
        title=title,
        per_page=COMMAND_ROWS,
        empty=(
            _("No open deletion requests.")
            if sees_all
            else _("You have not asked for any deletions. `/desk delete` starts a request.")
        ),
    )
    respond(text=title, blocks=blocks, response_type="ephemeral")


def upload_report(
    services: Services, user_id: str, month_text: str | None, respond: Respond
) -> None:
    from deskbot.sla.report import monthly_csv, parse_month

    try:
        zone = services.settings.work_calendar().zone
        this_month = clock.now().astimezone(zone).date().replace(day=1)
        month = parse_month(month_text) if month_text else this_month
    except ValueError:
        respond(
            text=_(
                "“{text}” is not a month; write it as YYYY-MM, for example {example}.",
                text=escape_mrkdwn(month_text or ""),
                example=f"{clock.now():%Y-%m}",
            )
        )
        return
    text, counts = monthly_csv(services.db, services.settings, month)
    summary = ", ".join(
        f"{n} {_(OUTCOMES.get(outcome, outcome))}" for outcome, n in sorted(counts.items())
    ) or _("none due")
    channel = services.client.conversations_open(users=user_id)["channel"]["id"]
    title = _("Deletion requests due in {month}", month=i18n.month(month))
    services.client.files_upload_v2(
        channel=channel,
        content=text,
        filename=f"deletion-sla-{month:%Y-%m}.csv",
        title=title,
        initial_comment=_("{title}: {summary}.", title=title, summary=summary),
    )
    respond(
        text=_(
            "I have sent you the report for {month} in a direct message.",
            month=i18n.month(month),
        )
    )
