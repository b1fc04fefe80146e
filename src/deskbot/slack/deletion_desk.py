"""Deletion requests in Slack: announcing them, confirming, the service desk's actions,
reminders, the tracker (`/desk deletions`, the App Home) and the monthly report download.

Every click is checked on the server for the user who clicked (deskbot.deletions decides);
every change then updates each copy of the request's card in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from deskbot import announcing, clock, deletions, i18n, privacy, reminders
from deskbot.deletions import Status
from deskbot.flows.bug_report import KIND_NAMES
from deskbot.flows.engine import Invalid
from deskbot.i18n import N_, _
from deskbot.models import DeletionRequest, Reminder
from deskbot.roles import SEES_DELETIONS, Actor, Refused, Role
from deskbot.sla.calendar import WorkCalendar
from deskbot.slack import access
from deskbot.slack import deletion_views as views
from deskbot.slack.app import Services, later
from deskbot.slack.ids import Action, View
from deskbot.slack.payloads import clicked_id, metadata, view_values
from deskbot.slack.views import modal_notice
from deskbot.templating import escape_mrkdwn, render_text

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


def _slack_error(problem: Exception) -> str:
    return str(problem.response.get("error")) if isinstance(problem, SlackApiError) else ""


# ---- announcing and updating the cards -------------------------------------------------------


def announce(services: Services, request_id: int) -> None:
    """The requester's card, the confirmers' cards and the triage card, each sent once."""
    with services.db.transaction() as session:
        request = announcing.claim(session, DeletionRequest, request_id)
    if request is None:
        return
    settings, client = services.settings, services.client
    sent = list(request.messages or [])
    done: dict[str, object] = {}
    kinds = {entry.split("|")[0] for entry in sent}

    def post(reader: str, audience: str, text: Callable[[], str]) -> Any:
        with services.languages.speaking_to(reader):
            return client.chat_postMessage(
                channel=reader, text=text(), blocks=views.card(request, audience, settings)
            )

    try:
        if "requester" not in kinds:
            posted = post(
                request.requester_id,
                views.REQUESTER,
                lambda: _("Deletion request {reference}", reference=request.reference),
            )
            sent.append(f"requester|{posted['channel']}|{posted['ts']}")
        if request.status == Status.REQUESTED or settings.sla.four_eyes:
            for manager in services.roles.members(Role.APPLICATION_MANAGER):
                if manager == request.requester_id or f"confirmer:{manager}" in kinds:
                    continue
                posted = post(
                    manager,
                    views.CONFIRMER,
                    lambda: _(
                        "Please confirm deletion request {reference}", reference=request.reference
                    ),
                )
                sent.append(f"confirmer:{manager}|{posted['channel']}|{posted['ts']}")
        if settings.triage_channel and request.card_ts is None:
            posted = post(
                settings.triage_channel,
                views.DESK,
                lambda: _("New deletion request {reference}", reference=request.reference),
            )
            done.update(card_channel=posted["channel"], card_ts=posted["ts"])
        done["announced_at"] = clock.now()
    except Exception as problem:
        log.error(
            "%s not announced yet: %s %s",
            request.reference,
            type(problem).__name__,
            _slack_error(problem),
        )
    finally:
        with services.db.transaction() as session:
            announcing.mark(session, DeletionRequest, request.id, messages=sent, **done)
            current = session.get(DeletionRequest, request.id, populate_existing=True)
            changed = current is not None and current.version != request.version
    if changed:  # confirmed (say) while the cards were on their way: show the new state
        refresh(services, request.id)


def announce_pending(services: Services) -> int:
    with services.db.transaction() as session:
        pending = [
            r.id
            for r in announcing.unannounced(
                session, DeletionRequest, organisation_id=services.settings.organisation_id
            )
        ]
    for request_id in pending:
        announce(services, request_id)
    return len(pending)


def refresh(services: Services, request_id: int) -> None:
    """Show the request's current state on every copy of its card."""
    with services.db.transaction() as session:
        request = session.get(DeletionRequest, request_id)
    if request is None:
        return
    # (audience, reader, channel, ts): each copy in its reader's language
    copies: list[tuple[str, str | None, str | None, str | None]] = [
        (views.DESK, request.card_channel, request.card_channel, request.card_ts)
    ]
    for entry in request.messages or []:
        kind, posted_in, posted_ts = entry.split("|")
        if kind == "requester":
            copies.append((views.REQUESTER, request.requester_id, posted_in, posted_ts))
        else:
            confirmer = kind.removeprefix("confirmer:")
            copies.append((views.CONFIRMER, confirmer, posted_in, posted_ts))
    for audience, reader, channel, ts in copies:
        if not channel or not ts:
            continue
        try:
            with services.languages.speaking_to(reader):
                services.client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=_(
                        "Deletion request {reference}: {status}",
                        reference=request.reference,
                        status=deletions.label(request),
                    ),
                    blocks=views.card(request, audience, services.settings),
                )
        except SlackApiError as problem:
            # The next change tries again; the state itself is safe in the database.
            log.warning("%s card not updated: %s", request.reference, _slack_error(problem))


# ---- reminders -------------------------------------------------------------------------------

# Slack errors that no retry will cure: the recipient is skipped, the others still get it.
GONE = frozenset(
    {"channel_not_found", "account_inactive", "user_not_found", "is_archived", "not_in_channel"}
)


def send_due(
    services: Services, *, about: reminders.Subject | None = None, limit: int = 100
) -> int:
    """Claim due reminders and send each once; the ticker's job, and right after a change.

    Claims `limit` at a time, so other processes share a large batch (a whole organisation's
    due-day morning), and goes on until nothing is left that is due.
    """
    total = 0
    while True:
        with services.db.transaction() as session:
            token, claimed = reminders.claim_due(
                session,
                organisation_id=services.settings.organisation_id,
                limit=limit,
                about=about,
            )
        for reminder_id in claimed:
            try:
                _send_one(services, reminder_id, token)
            except Exception as problem:
                # One reminder's trouble (the database, say) must not stop the others; it is
                # tried again once its lease has run out.
                log.error("reminder %d failed: %s", reminder_id, type(problem).__name__)
        total += len(claimed)
        if len(claimed) < limit:
            return total


def _recipients(services: Services, request: DeletionRequest, kind: str) -> list[str]:
    desk = [request.assignee_id] if request.assignee_id else []
    if not desk and services.settings.triage_channel:
        desk = [services.settings.triage_channel]
    leads = services.roles.members(Role.LEAD) or desk
    requesters = [request.requester_id]
    if request.submitted_by and request.submitted_by != request.requester_id:
        requesters.append(request.submitted_by)
    confirmers = []
    if request.status == Status.REQUESTED or services.settings.sla.four_eyes:
        confirmers = [
            m for m in services.roles.members(Role.APPLICATION_MANAGER) if m != request.requester_id
        ]
    chosen = {
        "working_day_3": desk,
        "due_day": desk,
        "escalation": leads,
        "confirmation_pending": [request.requester_id, *confirmers],
        "statutory_near": requesters + desk + leads,
        "outcome": requesters,
    }[kind]
    return list(dict.fromkeys(chosen))


def _still_relevant(request: DeletionRequest, kind: str, calendar: WorkCalendar) -> bool:
    if kind == "outcome":
        return True
    if request.closed_at is not None:
        return False
    if kind == "confirmation_pending":
        return request.status in deletions.UNCONFIRMED
    if kind == "statutory_near":
        return True
    if request.status not in deletions.RUNNING or request.paused_at is not None:
        return False
    # Sent late (no instance ran that morning): a reminder the next one has overtaken would
    # say "third working day" of a request that is overdue; the escalation says it instead.
    standing = deletions.standing(request, calendar)
    if kind == "working_day_3":
        return not standing.overdue and (standing.working_days_left or 0) > 0
    if kind == "due_day":
        return not standing.overdue
    return True


def _send_one(services: Services, reminder_id: int, token: str) -> None:
    """Send one claimed reminder to each of its recipients, and record that it went."""
    from deskbot.slack import scheduled

    recipients: Callable[[], list[str]]
    text: Callable[[], str]  # rendered in each recipient's language
    with services.db.transaction() as session:
        reminder = reminders.renew(session, reminder_id, token)
        if reminder is None:  # taken over after a lost lease, or cancelled meanwhile
            return
        kind, delivered = reminder.kind, list(reminder.delivered or [])
        if reminder.subject_type == reminders.SUBJECT:
            request = session.get(DeletionRequest, int(reminder.subject_id))
            if request is None or not _still_relevant(
                request, kind, services.settings.work_calendar()
            ):
                reminders.finish(session, reminder, status=reminders.SKIPPED, delivered=[])
                return
            about = request

            def text() -> str:
                return _reminder_text(services, about, kind)

            def recipients() -> list[str]:
                return _recipients(services, about, kind)

        else:
            prepared = scheduled.prepare(session, services, reminder)
            if prepared is None:
                reminders.finish(session, reminder, status=reminders.SKIPPED, delivered=[])
                return
            text, recipients = prepared.text, prepared.recipients
    # Outside the transaction: role lookups may ask Slack for group members.
    targets = [t for t in recipients() if t not in delivered]
    retry = False
    texts: dict[str, str] = {}
    for target in targets:
        language = services.languages.reading(target)
        try:
            if language not in texts:
                with i18n.speaking(language):
                    texts[language] = text()
            services.client.chat_postMessage(
                channel=target, text=texts[language], unfurl_links=False
            )
            delivered.append(target)
        except SlackApiError as problem:
            code = _slack_error(problem)
            log.warning("reminder %d not delivered to one recipient: %s", reminder_id, code)
            if code in GONE:
                delivered.append(f"gone:{target}")
                continue
            retry = True
            break
        except Exception as problem:
            log.error("reminder %d not sent: %s", reminder_id, type(problem).__name__)
            retry = True
            break
    with services.db.transaction() as session:
        if (current := reminders.claimed(session, reminder_id, token)) is None:
            return
        if retry and not reminders.record_progress(session, current, delivered):
            return  # tried again once the lease has run out
        if not retry:
            reminders.finish(session, current, status=reminders.SENT, delivered=delivered)
        _follow_up(session, services, current)
        scheduled.follow_up(session, services, current)


def _follow_up(session: Session, services: Services, done: Reminder) -> None:
    """An escalation repeats each working morning until the request is done, even when one
    escalation could not be delivered."""
    if done.kind != "escalation":
        return
    if done.subject_type != reminders.SUBJECT:
        return
    request = session.get(DeletionRequest, int(done.subject_id))
    calendar = services.settings.work_calendar()
    if request is not None and _still_relevant(request, "escalation", calendar):
        following = calendar.next_working_morning(max(done.due_at, clock.now()))
        reminders.schedule(session, request, "escalation", following)


def _reminder_text(services: Services, request: DeletionRequest, kind: str) -> str:
    calendar = services.settings.work_calendar()
    return render_text(
        "text/deletion_reminder.txt.j2",
        kind=kind,
        reference=request.reference,
        platform=request.platform,
        status=deletions.label(request),
        due=i18n.day(request.due_date),
        standing=deletions.standing(request, calendar).text,
        statutory=i18n.day(request.statutory_date),
        reason=request.close_reason or "",
        outcome=request.status,
        command="/desk deletions",
    )


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
        """After a dialog's change was acked: update the cards, send what became due."""
        after_change(services, int(metadata(view).get("r") or 0))

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

    app.view(View.DELETION_CONFIRM)(ack=confirmation_submitted, lazy=[changed])

    def open_reason(body: dict[str, Any], action: str) -> None:
        request = load(clicked_id(body))
        if request is None:
            return
        actor = services.runner.actor(body["user"]["id"])
        if not actor.holds(Role.AGENT):
            refusal = {
                "pause": _("Only service-desk agents can pause a deletion request."),
                "reject": _("Only service-desk agents can reject a deletion request."),
            }[action]
            tell(body, refusal)
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

    app.view(View.DELETION_REASON)(ack=reason_submitted, lazy=[changed])

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
