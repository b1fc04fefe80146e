"""GDPR deletion requests: filing, confirmation, the working-day clock and every later step.

Each function here is one transition. It checks that the acting user may make it (whatever the
buttons showed), changes the request, writes the audit trail and (re)schedules the request's
reminders, all in the caller's transaction. Nothing here talks to Slack.

A request stores the platform, the anonymised client ID, the date the client asked and an
optional note checked for personal data; never a client's name or email address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from deskbot import audit, clock, drafts, reminders
from deskbot.bugs import next_number
from deskbot.flows.engine import Flow, Invalid
from deskbot.i18n import N_, _, ngettext
from deskbot.models import DeletionRequest, Draft
from deskbot.roles import Actor, Refused, Role
from deskbot.settings import Settings
from deskbot.sla.calendar import WorkCalendar, statutory_deadline


class Status(StrEnum):
    REQUESTED = "requested"  # a therapist's request: an application manager takes it up
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"  # the clock runs
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN = frozenset(
    {Status.REQUESTED, Status.AWAITING_CONFIRMATION, Status.CONFIRMED, Status.IN_PROGRESS}
)
UNCONFIRMED = frozenset({Status.REQUESTED, Status.AWAITING_CONFIRMATION})
RUNNING = frozenset({Status.CONFIRMED, Status.IN_PROGRESS})
SUBJECT = "deletion_request"


def _audit(
    session: Session, request: DeletionRequest, actor: str, action: str, **detail: object
) -> None:
    audit.record(
        session,
        organisation_id=request.organisation_id,
        actor=actor,
        action=f"deletion.{action}",
        subject_type=SUBJECT,
        subject_id=request.reference,
        detail={"client_id": request.client_id, "platform": request.platform, **detail},
    )


def _touch(request: DeletionRequest) -> None:
    request.updated_at = clock.now()


# ---- filing and confirmation ------------------------------------------------------------------


def file_request(
    session: Session, *, draft: Draft, flow: Flow, settings: Settings, filer: Actor
) -> DeletionRequest:
    """Turn a complete, open draft into DEL-<n>, with its first reminders scheduled."""
    answers = draft.state.get("answers", {})
    missing = flow.missing(answers)
    if missing:
        raise Invalid(
            _(
                "Some answers are still missing: {answers}.",
                answers=", ".join(s.label for s in missing),
            )
        )
    final = flow.final_answers(answers)
    asked_on = date.fromisoformat(final["asked_on"])
    now = clock.now()
    by_manager = filer.holds(Role.APPLICATION_MANAGER)
    request = DeletionRequest(
        organisation_id=draft.organisation_id,
        number=next_number(session, organisation_id=draft.organisation_id, name="deletion"),
        draft_id=draft.id,
        requester_id=draft.user_id,
        platform=final["platform"],
        client_id=final["client_id"],
        asked_on=asked_on,
        statutory_date=statutory_deadline(asked_on),
        note=final.get("note") or None,
        status=Status.AWAITING_CONFIRMATION if by_manager else Status.REQUESTED,
        submitted_by=draft.user_id if by_manager else None,
        created_at=now,
        updated_at=now,
        messages=[],
    )
    session.add(request)
    drafts.close(draft, "submitted")
    session.flush()
    _audit(session, request, filer.user_id, "requested", surface=draft.surface)
    calendar = settings.work_calendar()
    created_on = calendar.local_date(now)
    pending_since = calendar.add_working_days(created_on, settings.sla.confirmation_reminder_days)
    reminders.schedule(session, request, "confirmation_pending", _morning(calendar, pending_since))
    warn_on = request.statutory_date - timedelta(days=settings.sla.statutory_warning_days)
    reminders.schedule(session, request, "statutory_near", _on_or_after(calendar, warn_on))
    return request


def may_confirm(request: DeletionRequest, actor: Actor, settings: Settings) -> None:
    """Refused unless this user may confirm this request now."""
    if request.status not in UNCONFIRMED:
        raise Refused(
            # Translators: {status} is a deletion request's status, e.g. "completed".
            _(
                "{reference} is {status} already; nothing to confirm.",
                reference=request.reference,
                status=label(request),
            )
        )
    if not actor.holds(Role.APPLICATION_MANAGER):
        raise Refused(_("Only an application manager can confirm a deletion request."))
    if settings.sla.four_eyes and actor.user_id == request.requester_id:
        raise Refused(
            _("Another application manager has to confirm this request: the four-eyes rule is on.")
        )


def confirm(session: Session, request: DeletionRequest, actor: Actor, settings: Settings) -> None:
    """Confirm the irreversible deletion: the clock starts, and its deadline is fixed."""
    may_confirm(request, actor, settings)
    calendar = settings.work_calendar()
    now = clock.now()
    if request.status == Status.REQUESTED:
        request.submitted_by = actor.user_id
    request.status = Status.CONFIRMED
    request.confirmed_by = actor.user_id
    request.confirmed_at = now
    request.calendar = calendar.identity
    request.first_due_date = request.due_date = calendar.due_date(now, settings.sla.working_days)
    request.due_at = calendar.end_of_day(request.due_date)
    _touch(request)
    reminders.cancel(session, request, kinds=("confirmation_pending",))
    _schedule_clock(session, request, calendar, settings)
    _audit(session, request, actor.user_id, "confirmed", due=request.due_date.isoformat())


def _schedule_clock(
    session: Session, request: DeletionRequest, calendar: WorkCalendar, settings: Settings
) -> None:
    """The reminders of a running clock: working day 3, the due day, then escalation.

    Each goes out at the start of working hours. Scheduled again after a pause, a reminder
    whose morning has passed is not sent late, and an overdue request's escalation resumes
    the next working morning; a morning already sent is never sent twice.
    """
    assert request.confirmed_at is not None and request.due_date is not None
    assert request.due_at is not None
    now = clock.now()
    day_zero = calendar.local_date(request.confirmed_at)
    third = calendar.add_working_days(day_zero, 3)
    if settings.sla.working_days > 3 and third < request.due_date:
        _unless_past(session, request, "working_day_3", _morning(calendar, third), now)
    _unless_past(session, request, "due_day", _morning(calendar, request.due_date), now)
    first_escalation = calendar.next_working_morning(max(request.due_at, now))
    reminders.schedule(session, request, "escalation", first_escalation)


def _unless_past(
    session: Session, request: DeletionRequest, kind: str, at: datetime, now: datetime
) -> None:
    if at > now:
        reminders.schedule(session, request, kind, at)


CLOCK_REMINDERS = ("working_day_3", "due_day", "escalation")


# ---- processing -------------------------------------------------------------------------------


# Each refusal of a non-agent, by what they tried.
AGENTS_ONLY = {
    "claim": N_("Only service-desk agents can claim a deletion request."),
    "process": N_("Only service-desk agents can process a deletion request."),
    "pause": N_("Only service-desk agents can pause a deletion request."),
    "resume": N_("Only service-desk agents can resume a deletion request."),
    "complete": N_("Only service-desk agents can complete a deletion request."),
    "reject": N_("Only service-desk agents can reject a deletion request."),
}


def _agent(request: DeletionRequest, actor: Actor, what: str) -> None:
    if not actor.holds(Role.AGENT):
        raise Refused(_(AGENTS_ONLY[what]))
    if request.status not in OPEN:
        raise Refused(
            _(
                "{reference} is {status}; it cannot change any more.",
                reference=request.reference,
                status=label(request),
            )
        )


def claim(session: Session, request: DeletionRequest, actor: Actor) -> None:
    _agent(request, actor, "claim")
    if request.assignee_id == actor.user_id:
        return
    if request.assignee_id is not None:
        raise Refused(
            _(
                "{user} has claimed {reference} already.",
                user=f"<@{request.assignee_id}>",
                reference=request.reference,
            )
        )
    request.assignee_id = actor.user_id
    _touch(request)
    _audit(session, request, actor.user_id, "assigned", assignee=actor.user_id)


def start(session: Session, request: DeletionRequest, actor: Actor) -> None:
    _agent(request, actor, "process")
    if request.status != Status.CONFIRMED:
        raise Refused(
            _(
                "{reference} is {status}: it must be confirmed first.",
                reference=request.reference,
                status=label(request),
            )
        )
    request.status = Status.IN_PROGRESS
    if request.assignee_id is None:
        request.assignee_id = actor.user_id
    _touch(request)
    _audit(session, request, actor.user_id, "in_progress")


def pause(
    session: Session, request: DeletionRequest, actor: Actor, reason: str, settings: Settings
) -> None:
    """Waiting for the requester: the clock stops until resume; the statutory date stays."""
    _agent(request, actor, "pause")
    if request.status not in RUNNING:
        raise Refused(
            _(
                "{reference} is {status}: only a running clock can pause.",
                reference=request.reference,
                status=label(request),
            )
        )
    if request.paused_at is not None:
        raise Refused(
            _("{reference} is already waiting for the requester.", reference=request.reference)
        )
    request.paused_at = clock.now()
    request.pause_reason = reason
    _touch(request)
    reminders.cancel(session, request, kinds=CLOCK_REMINDERS)
    _audit(session, request, actor.user_id, "paused")


def resume(session: Session, request: DeletionRequest, actor: Actor, settings: Settings) -> int:
    """The clock runs again; the deadline moves out by the working days it stood still."""
    _agent(request, actor, "resume")
    if request.paused_at is None:
        raise Refused(_("{reference} is not waiting for anything.", reference=request.reference))
    days = _end_pause(request, settings.work_calendar())
    _schedule_clock(session, request, settings.work_calendar(), settings)
    _audit(session, request, actor.user_id, "resumed", paused_working_days=days)
    return days


def _end_pause(request: DeletionRequest, calendar: WorkCalendar) -> int:
    assert request.paused_at is not None and request.due_date is not None
    days = calendar.paused_working_days(request.paused_at, clock.now())
    request.due_date = calendar.extend(request.due_date, days)
    request.due_at = calendar.end_of_day(request.due_date)
    request.paused_days += days
    request.paused_at = None
    request.pause_reason = None
    _touch(request)
    return days


def complete(session: Session, request: DeletionRequest, actor: Actor, settings: Settings) -> None:
    """The vendor has erased the account: the request is done, its reminders are cancelled."""
    _agent(request, actor, "complete")
    if request.status not in RUNNING:
        raise Refused(
            _(
                "{reference} is {status}: it must be confirmed first.",
                reference=request.reference,
                status=label(request),
            )
        )
    if request.paused_at is not None:
        _end_pause(request, settings.work_calendar())
    _close(session, request, actor, Status.COMPLETED, None)


def reject(session: Session, request: DeletionRequest, actor: Actor, reason: str) -> None:
    _agent(request, actor, "reject")
    _close(session, request, actor, Status.REJECTED, reason)


def withdraw(session: Session, request: DeletionRequest, actor: Actor) -> None:
    """Before processing starts, the requester (or an application manager) can withdraw it."""
    mine = actor.user_id in (request.requester_id, request.submitted_by)
    if not (mine or actor.holds(Role.APPLICATION_MANAGER)):
        raise Refused(_("Only the requester or an application manager can withdraw a request."))
    if request.status not in OPEN - {Status.IN_PROGRESS}:
        raise Refused(
            _(
                "{reference} is {status}: a request can only be withdrawn before processing "
                "starts.",
                reference=request.reference,
                status=label(request),
            )
        )
    _close(session, request, actor, Status.WITHDRAWN, None)


def _close(
    session: Session, request: DeletionRequest, actor: Actor, status: Status, reason: str | None
) -> None:
    request.status = status
    request.closed_at = clock.now()
    request.closed_by = actor.user_id
    request.close_reason = reason
    request.paused_at = None
    _touch(request)
    reminders.cancel(session, request)
    _audit(session, request, actor.user_id, status.value)
    # The requester (and the application manager who submitted it) hear how it ended.
    reminders.schedule(session, request, "outcome", clock.now())


# ---- reading ----------------------------------------------------------------------------------


def get(
    session: Session, organisation_id: str, request_id: int, *, for_update: bool = False
) -> DeletionRequest | None:
    query = select(DeletionRequest).where(
        DeletionRequest.id == request_id, DeletionRequest.organisation_id == organisation_id
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def for_draft(session: Session, draft_id: str) -> DeletionRequest | None:
    return session.scalars(
        select(DeletionRequest).where(DeletionRequest.draft_id == draft_id)
    ).first()


def open_requests(
    session: Session, organisation_id: str, *, offset: int = 0, limit: int = 20
) -> tuple[list[DeletionRequest], int]:
    """Open requests, most urgent first (unconfirmed ones last), and how many there are."""
    where = (
        DeletionRequest.organisation_id == organisation_id,
        DeletionRequest.closed_at.is_(None),
    )
    total = session.scalar(select(func.count()).select_from(DeletionRequest).where(*where)) or 0
    rows = session.scalars(
        select(DeletionRequest)
        .where(*where)
        .order_by(
            case((DeletionRequest.due_at.is_(None), 1), else_=0),
            DeletionRequest.due_at,
            DeletionRequest.number,
        )
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def requested_by(
    session: Session, organisation_id: str, user_id: str, *, limit: int = 10
) -> list[DeletionRequest]:
    return list(
        session.scalars(
            select(DeletionRequest)
            .where(
                DeletionRequest.organisation_id == organisation_id,
                DeletionRequest.requester_id == user_id,
            )
            .order_by(DeletionRequest.number.desc())
            .limit(limit)
        )
    )


# How a status reads to people, also within sentences ("DEL-3 is {status} already");
# label() translates it where it is shown. The database keeps the Status codes.
STATUS_LABELS = {
    # Translators: the status of a deletion request.
    Status.REQUESTED: N_("waiting for an application manager"),
    # Translators: the status of a deletion request.
    Status.AWAITING_CONFIRMATION: N_("awaiting confirmation"),
    # Translators: the status of a deletion request.
    Status.CONFIRMED: N_("confirmed"),
    # Translators: the status of a deletion request.
    Status.IN_PROGRESS: N_("in progress"),
    # Translators: the status of a deletion request.
    Status.COMPLETED: N_("completed"),
    # Translators: the status of a deletion request.
    Status.REJECTED: N_("rejected"),
    # Translators: the status of a deletion request.
    Status.WITHDRAWN: N_("withdrawn"),
}


def label(request: DeletionRequest) -> str:
    """The request's status in the reader's language."""
    if request.paused_at is not None and request.closed_at is None:
        # Translators: the status of a deletion request whose clock is paused.
        return _("waiting for the requester")
    return _(STATUS_LABELS[Status(request.status)])


@dataclass(frozen=True)
class Standing:
    """Where a request stands against its deadline, as of a local date."""

    working_days_left: int | None  # None before confirmation; negative when overdue
    overdue: bool

    @property
    def text(self) -> str:
        """In the reader's language: "3 working days left", "overdue by 1 working day"."""
        if self.working_days_left is None:
            return _("clock not started")
        if self.overdue:
            days = -self.working_days_left
            if days == 0:
                # Translators: a deletion request's standing against its deadline.
                return _("overdue")
            return ngettext("overdue by {n} working day", "overdue by {n} working days", days)
        if self.working_days_left == 0:
            return _("due today")
        return ngettext("{n} working day left", "{n} working days left", self.working_days_left)


def effective_due(
    request: DeletionRequest, calendar: WorkCalendar, now: datetime
) -> tuple[date, datetime] | None:
    """The deadline as it stands: while paused, moved out by the working days paused so far."""
    if request.due_date is None or request.due_at is None:
        return None
    if request.paused_at is None or request.closed_at is not None:
        return request.due_date, request.due_at
    moved = calendar.extend(request.due_date, calendar.paused_working_days(request.paused_at, now))
    return moved, calendar.end_of_day(moved)


def standing(
    request: DeletionRequest, calendar: WorkCalendar, now: datetime | None = None
) -> Standing:
    moment = now or clock.now()
    due = effective_due(request, calendar, moment)
    if due is None:
        return Standing(None, False)
    end = request.closed_at or moment
    left = calendar.working_days_between(calendar.local_date(end), due[0])
    return Standing(left, end > due[1])


def outcome(request: DeletionRequest, calendar: WorkCalendar, now: datetime | None = None) -> str:
    """For the monthly report: met, breached, open, or how it ended without an SLA."""
    if request.status in (Status.REJECTED, Status.WITHDRAWN):
        return str(request.status)
    moment = now or clock.now()
    due = effective_due(request, calendar, moment)
    if due is None:
        return "not confirmed"
    if request.status == Status.COMPLETED:
        assert request.closed_at is not None
        return "met" if request.closed_at <= due[1] else "breached"
    return "breached" if moment > due[1] else "open"


def due_in_month(session: Session, organisation_id: str, month: date) -> list[DeletionRequest]:
    """Requests whose deadline falls in the month (local due dates), for the SLA report."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return list(
        session.scalars(
            select(DeletionRequest)
            .where(
                DeletionRequest.organisation_id == organisation_id,
                DeletionRequest.due_date >= first,
                DeletionRequest.due_date < following,
            )
            .order_by(DeletionRequest.due_date, DeletionRequest.number)
        )
    )


# ---- calendar helpers --------------------------------------------------------------------------


def _morning(calendar: WorkCalendar, day: date) -> datetime:
    """The start of working hours on a local date, as UTC."""
    return datetime.combine(day, calendar.workday_start, tzinfo=calendar.zone).astimezone(UTC)


def _on_or_after(calendar: WorkCalendar, day: date) -> datetime:
    """The first working morning on or after a local date; when that has passed, the next."""
    midnight = datetime.combine(day, time.min, tzinfo=calendar.zone)
    start = max(midnight - timedelta(microseconds=1), clock.now())
    return calendar.next_working_morning(start)
