"""Sending due reminders (deskbot.reminders) to their recipients in Slack: the deletion
requests' SLA reminders and the scheduled messages (deskbot.slack.scheduled).

Each recipient's delivery is recorded, in its own transaction, as soon as Slack accepted it: a
process that dies mid-batch leaves at most the one message it was sending to be sent again.
A recipient Slack could not name yet (a user group it could not list) is not given up: the
reminder stays pending until they have it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from deskbot import clock, deletions, i18n, reminders
from deskbot.deletions import Status
from deskbot.models import DeletionRequest, Reminder
from deskbot.roles import Role, RolesUnknown
from deskbot.sla.calendar import WorkCalendar
from deskbot.slack import scheduled
from deskbot.slack.app import Services
from deskbot.slack.delivery import GONE, outage, slack_error
from deskbot.templating import render_text

log = logging.getLogger(__name__)


def send_due(
    services: Services, *, about: reminders.Subject | None = None, limit: int = 100
) -> int:
    """Claim due reminders and send each once; the ticker's job, and right after a change.

    Claims `limit` at a time, so other processes share a large batch (a whole organisation's
    due-day morning), and goes on until nothing is left that is due. When Slack is down the
    batch stops; its other reminders are released for the next run.
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
        total += len(claimed)
        for index, reminder_id in enumerate(claimed):
            try:
                healthy = _send_one(services, reminder_id, token)
            except Exception as problem:
                # One reminder's trouble (the database, say) must not stop the others; it is
                # tried again once its lease has run out.
                log.error("reminder %d failed: %s", reminder_id, type(problem).__name__)
                healthy = True
            if not healthy:
                with services.db.transaction() as session:
                    reminders.release(session, claimed[index + 1 :], token)
                return total
        if len(claimed) < limit:
            return total


def _recipients(services: Services, request: DeletionRequest, kind: str) -> list[str]:
    """Who gets this reminder; RolesUnknown (with those known) when a role's user group could
    not be listed. Leads fall back to the desk only when there are truly none."""
    missing: list[Role] = []

    def holding(role: Role) -> list[str]:
        try:
            return services.roles.members(role)
        except RolesUnknown as unknown:
            missing.append(role)
            return list(unknown.known)

    desk = [request.assignee_id] if request.assignee_id else []
    if not desk and services.settings.triage_channel:
        desk = [services.settings.triage_channel]

    def leads() -> list[str]:
        found = holding(Role.LEAD)
        return found if found or Role.LEAD in missing else desk

    def confirmers() -> list[str]:
        if not (request.status == Status.REQUESTED or services.settings.sla.four_eyes):
            return []
        return [m for m in holding(Role.APPLICATION_MANAGER) if m != request.requester_id]

    requesters = [request.requester_id]
    if request.submitted_by and request.submitted_by != request.requester_id:
        requesters.append(request.submitted_by)
    chosen: dict[str, Callable[[], list[str]]] = {
        "working_day_3": lambda: desk,
        "due_day": lambda: desk,
        "escalation": leads,
        "confirmation_pending": lambda: [request.requester_id, *confirmers()],
        "statutory_near": lambda: requesters + desk + leads(),
        "outcome": lambda: requesters,
    }
    found = list(dict.fromkeys(chosen[kind]()))
    if missing:
        raise RolesUnknown(known=found)
    return found


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


def _send_one(services: Services, reminder_id: int, token: str) -> bool:
    """Send one claimed reminder to each recipient it has not reached, recording each as it
    goes; False when Slack is down (the reminder is released for the next run)."""
    recipients: Callable[[], list[str]]
    text: Callable[[], str]  # rendered in each recipient's language
    with services.db.transaction() as session:
        reminder = reminders.renew(session, reminder_id, token)
        if reminder is None:  # taken over after a lost lease, or cancelled meanwhile
            return True
        kind, delivered = reminder.kind, set(reminder.delivered or [])
        if reminder.subject_type == reminders.SUBJECT:
            request = session.get(DeletionRequest, int(reminder.subject_id))
            if request is None or not _still_relevant(
                request, kind, services.settings.work_calendar()
            ):
                reminders.finish(session, reminder, status=reminders.SKIPPED, delivered=[])
                return True
            about = request

            def text() -> str:
                return _reminder_text(services, about, kind)

            def recipients() -> list[str]:
                return _recipients(services, about, kind)

        else:
            prepared = scheduled.prepare(session, services, reminder)
            if prepared is None:
                reminders.finish(session, reminder, status=reminders.SKIPPED, delivered=[])
                return True
            text, recipients = prepared.text, prepared.recipients
    # Outside the transaction: role lookups may ask Slack for group members.
    complete = True
    try:
        everyone = recipients()
    except RolesUnknown as unknown:
        log.warning("reminder %d: not every recipient is known yet", reminder_id)
        everyone, complete = list(unknown.known), False
    failure: str | None = None if complete else "outage"
    texts: dict[str, str] = {}
    for target in everyone:
        if target in delivered or f"gone:{target}" in delivered:
            continue
        reached = target
        try:
            language = services.languages.reading(target)
            if language not in texts:
                with i18n.speaking(language):
                    texts[language] = text()
            services.client.chat_postMessage(
                channel=target, text=texts[language], unfurl_links=False
            )
        except Exception as problem:
            code = slack_error(problem)
            log.warning(
                "reminder %d not delivered to one recipient: %s %s",
                reminder_id,
                type(problem).__name__,
                code,
            )
            if code not in GONE:
                failure = "outage" if outage(problem) else "failed"
                break
            reached = f"gone:{target}"  # skipped for good; the others still get it
        with services.db.transaction() as session:
            if not reminders.record_delivery(session, reminder_id, token, reached):
                return True  # taken over meanwhile: the new claimer sends the rest
    with services.db.transaction() as session:
        if (current := reminders.claimed(session, reminder_id, token)) is None:
            return True
        if failure == "outage":  # not the reminder's fault: tried again at the next run
            reminders.release(session, [reminder_id], token)
            return False
        if failure == "failed" and not reminders.record_progress(
            session, current, list(current.delivered or [])
        ):
            return True  # tried again once the lease has run out
        if failure is None:
            reminders.finish(
                session, current, status=reminders.SENT, delivered=list(current.delivered or [])
            )
        _follow_up(session, services, current)
        scheduled.follow_up(session, services, current)
    return True


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
