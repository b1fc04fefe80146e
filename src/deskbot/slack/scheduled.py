"""Scheduled messages besides the SLA reminders: the daily digest in the triage channel, a nudge
for drafts left untouched, and the monthly release-note reminder to application managers.

Each is a reminder row like the SLA's (deskbot.reminders): planned by every instance's ticker
(the same moment planned twice is one row), claimed once when due, sent once.
"""

from __future__ import annotations

import calendar as months
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from deskbot import clock, deletions, drafts, i18n, reminders, triage
from deskbot.flows import presenting
from deskbot.i18n import N_, _
from deskbot.models import BugReport, Draft, Reminder
from deskbot.roles import Role
from deskbot.settings import Settings
from deskbot.sla.calendar import WorkCalendar
from deskbot.slack.app import Services
from deskbot.templating import render_text

log = logging.getLogger(__name__)
DIGEST, RELEASE_NOTES, NUDGE = "daily_digest", "release_notes", "draft_nudge"
LISTED = 10  # references listed per line of the digest


def organisation(settings: Settings) -> reminders.Subject:
    return reminders.Subject(settings.organisation_id, "organisation", settings.organisation_id)


def morning(calendar: WorkCalendar, day: date) -> datetime:
    return datetime.combine(day, calendar.workday_start, tzinfo=calendar.zone).astimezone(UTC)


def last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, months.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def plan(services: Services) -> None:
    """The ticker's job: make sure the next digest, release-note reminder and due nudges are
    planned. Cheap when nothing is new: a few indexed reads."""
    settings = services.settings
    calendar = settings.work_calendar()
    now = clock.now()
    with services.db.transaction() as session:
        if settings.jobs.daily_digest and settings.triage_channel:
            reminders.schedule(
                session, organisation(settings), DIGEST, calendar.next_working_morning(now)
            )
        if settings.jobs.release_notes:
            today = calendar.local_date(now)
            when = morning(
                calendar, last_weekday(today.year, today.month, settings.jobs.release_notes_weekday)
            )
            if when <= now:
                following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
                weekday = settings.jobs.release_notes_weekday
                when = morning(calendar, last_weekday(following.year, following.month, weekday))
            reminders.schedule(session, organisation(settings), RELEASE_NOTES, when)
        _plan_nudges(session, settings, calendar, now)


def nudge_due(calendar: WorkCalendar, touched: datetime, days: int) -> datetime:
    """The morning after `days` whole working days without a touch: a draft left on Tuesday
    with days=2 (Wednesday, Thursday) is nudged on Friday at the start of working hours."""
    return morning(calendar, calendar.add_working_days(calendar.local_date(touched), days + 1))


def _plan_nudges(
    session: Session, settings: Settings, calendar: WorkCalendar, now: datetime
) -> None:
    """A nudge for each draft untouched since; one per time it is left alone."""
    days = settings.jobs.draft_nudge_working_days
    planned_since_touch = exists().where(
        Reminder.subject_type == "draft",
        Reminder.subject_id == Draft.id,
        Reminder.kind == NUDGE,
        Reminder.status.in_((reminders.PENDING, reminders.SENT)),
        Reminder.due_at > Draft.updated_at,
    )
    stale = session.scalars(
        select(Draft)
        .where(
            Draft.organisation_id == settings.organisation_id,
            Draft.status == drafts.ACTIVE,
            Draft.updated_at < now - timedelta(days=days),
            Draft.expires_at > now,
            ~planned_since_touch,
        )
        .limit(200)
    )
    for draft in stale:
        about = reminders.Subject(settings.organisation_id, "draft", draft.id)
        when = nudge_due(calendar, draft.updated_at, days)
        # Noticed late (deskbot was down): the next working morning, not at once.
        reminders.schedule(session, about, NUDGE, max(when, calendar.next_working_morning(now)))


@dataclass(frozen=True)
class Prepared:
    """What a due scheduled message says, and to whom (both worked out outside the
    transaction: the text once for each recipient's language)."""

    text: Callable[[], str]
    recipients: Callable[[], list[str]]


def prepare(session: Session, services: Services, reminder: Reminder) -> Prepared | None:
    """The message a due reminder sends, or None when it no longer applies."""
    settings = services.settings
    calendar = settings.work_calendar()
    # A morning message missed (deskbot was down all day) is not sent a day late; the planner
    # has planned the next one already.
    missed = calendar.local_date(reminder.due_at) != calendar.local_date(clock.now())
    if reminder.kind in (DIGEST, RELEASE_NOTES) and missed:
        return None
    # Switched off since it was planned: it is not sent, and plans no next one.
    if (reminder.kind == DIGEST and not settings.jobs.daily_digest) or (
        reminder.kind == RELEASE_NOTES and not settings.jobs.release_notes
    ):
        return None
    if reminder.kind == DIGEST:
        channel = settings.triage_channel
        return Prepared(
            digest(session, services, reminder.due_at), lambda: [channel] if channel else []
        )
    if reminder.kind == RELEASE_NOTES:
        return Prepared(
            lambda: render_text(
                "text/release_notes.txt.j2",
                organisation=settings.organisation,
                weekday=i18n.weekday(settings.jobs.release_notes_weekday),
            ),
            lambda: services.roles.members(Role.APPLICATION_MANAGER),
        )
    draft = session.get(Draft, reminder.subject_id)
    days = settings.jobs.draft_nudge_working_days
    if (
        draft is None
        or draft.status != drafts.ACTIVE
        or draft.expires_at <= clock.now()
        or nudge_due(calendar, draft.updated_at, days) > reminder.due_at  # worked on since
    ):
        return None
    name, owner = draft.flow, draft.user_id
    answers, current = draft.state.get("answers", {}), draft.state.get("current")
    expires = draft.expires_at.astimezone(calendar.zone)

    def text() -> str:
        flow = services.runner.flow(name)
        where = presenting.position(flow, answers, current)
        return render_text(
            "text/draft_nudge.txt.j2",
            waiting=flow.wording.waiting.format(where=where),
            expires=i18n.day(expires, year=False),
        )

    return Prepared(text, lambda: [owner])


# The digest's lines, in the order shown.
DIGEST_LINES = (
    N_("New bug reports since the last digest"),
    N_("Unassigned"),
    N_("Waiting for the reporter"),
    N_("With the vendor"),
    N_("Deletion requests overdue"),
    N_("Deletion requests due today"),
    N_("Deletion requests awaiting confirmation"),
)


def digest(session: Session, services: Services, due_at: datetime) -> Callable[[], str]:
    """The triage queue at a glance: new since the last working morning, what waits on whom.
    Counted now; written later, in the channel's language."""
    settings = services.settings
    org = settings.organisation_id
    calendar = settings.work_calendar()
    previous = calendar.local_date(due_at) - timedelta(days=1)
    while not calendar.is_working_day(previous):
        previous -= timedelta(days=1)
    since = morning(calendar, previous)
    open_bugs = and_(BugReport.organisation_id == org, BugReport.status != triage.Status.RESOLVED)

    def refs(*where: ColumnElement[bool]) -> tuple[int, list[str]]:
        count = session.scalar(select(func.count()).select_from(BugReport).where(*where)) or 0
        rows = session.scalars(
            select(BugReport.number).where(*where).order_by(BugReport.number).limit(LISTED)
        )
        return int(count), [f"BUG-{n}" for n in rows]

    new = refs(
        BugReport.organisation_id == org,
        BugReport.created_at >= since,
        BugReport.created_at < due_at,
    )
    unassigned = refs(open_bugs, BugReport.assignee_id.is_(None))
    waiting = refs(open_bugs, BugReport.status == triage.Status.WAITING_FOR_REPORTER)
    vendor = refs(open_bugs, BugReport.status == triage.Status.WITH_VENDOR)
    rows, _total = deletions.open_requests(session, org, limit=100_000)
    overdue, today, unconfirmed = [], [], []
    for request in rows:
        standing = deletions.standing(request, calendar)
        if standing.overdue:
            overdue.append(request.reference)
        elif standing.working_days_left == 0:
            today.append(request.reference)
        elif request.status in deletions.UNCONFIRMED:
            unconfirmed.append(request.reference)
    counted = (
        new,
        unassigned,
        waiting,
        vendor,
        (len(overdue), overdue[:LISTED]),
        (len(today), today[:LISTED]),
        (len(unconfirmed), unconfirmed[:LISTED]),
    )
    day = calendar.local_date(due_at)
    return lambda: render_text(
        "text/digest.txt.j2",
        day=i18n.long_day(day),
        lines=[(_(label), found) for label, found in zip(DIGEST_LINES, counted, strict=True)],
    )


def follow_up(session: Session, services: Services, sent: Reminder) -> None:
    """The digest comes back the next working morning (the planner would plan it too)."""
    if sent.kind == DIGEST and services.settings.jobs.daily_digest:
        calendar = services.settings.work_calendar()
        following = calendar.next_working_morning(max(sent.due_at, clock.now()))
        reminders.schedule(session, organisation(services.settings), DIGEST, following)
