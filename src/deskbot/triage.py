"""The service desk's work on a bug report: claim, assign, status, ask, forward, resolve.

Each function is one change, made only by a service-desk agent, written to the audit trail in
the caller's transaction. What was asked or answered is never put in the audit trail: it may
hold personal data; the trail says who did what, and when.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskbot import audit, clock
from deskbot.i18n import N_, _
from deskbot.models import BugReport
from deskbot.roles import Actor, Refused, Role


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_REPORTER = "waiting"  # for the reporter's answer
    WITH_VENDOR = "with_vendor"
    RESOLVED = "resolved"


# How a status reads to people; label() translates it where it is shown.
LABELS = {
    # Translators: the status of a bug report.
    Status.NEW: N_("new"),
    # Translators: the status of a bug report.
    Status.IN_PROGRESS: N_("in progress"),
    Status.WAITING_FOR_REPORTER: N_("waiting for the reporter"),
    Status.WITH_VENDOR: N_("with the vendor"),
    # Translators: the status of a bug report.
    Status.RESOLVED: N_("resolved"),
}
# What an agent may set by hand; "resolved" needs an answer for the reporter.
SETTABLE = (Status.IN_PROGRESS, Status.WAITING_FOR_REPORTER, Status.WITH_VENDOR)


def label(report: BugReport) -> str:
    """The report's status in the reader's language."""
    return _(LABELS.get(Status(report.status), report.status))


def get(
    session: Session, organisation_id: str, report_id: int, *, for_update: bool = False
) -> BugReport | None:
    query = select(BugReport).where(
        BugReport.id == report_id, BugReport.organisation_id == organisation_id
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


# Each refusal of a non-agent, by what they tried.
AGENTS_ONLY = {
    "assign": N_("Only service-desk agents can assign a bug report."),
    "change": N_("Only service-desk agents can change a bug report."),
    "question": N_("Only service-desk agents can question a bug report."),
    "forward": N_("Only service-desk agents can forward a bug report."),
    "resolve": N_("Only service-desk agents can resolve a bug report."),
}


def _agent(report: BugReport, actor: Actor, what: str) -> None:
    if not actor.holds(Role.AGENT):
        raise Refused(_(AGENTS_ONLY[what]))
    if report.status == Status.RESOLVED:
        raise Refused(_("{reference} is resolved already.", reference=report.reference))


def _record(session: Session, report: BugReport, actor: str, action: str, **detail: str) -> None:
    report.updated_at = clock.now()
    audit.record(
        session,
        organisation_id=report.organisation_id,
        actor=actor,
        action=f"bug.{action}",
        subject_type="bug_report",
        subject_id=report.reference,
        detail=dict(detail),
    )


def assign(
    session: Session, report: BugReport, actor: Actor, assignee: Actor, *, claim: bool = False
) -> None:
    """Assign to an agent; a claim (the actor takes it) never takes it from someone else."""
    _agent(report, actor, "assign")
    if not assignee.holds(Role.AGENT):
        raise Refused(_("{user} is not a service-desk agent.", user=f"<@{assignee.user_id}>"))
    if report.assignee_id == assignee.user_id:
        return
    if claim and report.assignee_id is not None:
        raise Refused(
            _(
                "{user} has claimed {reference} already.",
                user=f"<@{report.assignee_id}>",
                reference=report.reference,
            )
        )
    report.assignee_id = assignee.user_id
    if report.status == Status.NEW:
        report.status = Status.IN_PROGRESS
    _record(session, report, actor.user_id, "assigned", assignee=assignee.user_id)


def set_status(session: Session, report: BugReport, actor: Actor, status: Status) -> None:
    _agent(report, actor, "change")
    if status not in SETTABLE:
        raise Refused(_("Resolve a report with an answer for the reporter instead."))
    if report.status == status:
        return
    report.status = status
    _record(session, report, actor.user_id, "status", status=status.value)


def ask(session: Session, report: BugReport, actor: Actor) -> None:
    """The agent asked the reporter something; the report waits for the answer."""
    _agent(report, actor, "question")
    report.status = Status.WAITING_FOR_REPORTER
    _record(session, report, actor.user_id, "asked")


def replied(session: Session, report: BugReport, actor: Actor) -> None:
    """The reporter answered; only the reporter may."""
    reporter_id = actor.user_id
    if reporter_id != report.reporter_id:
        raise Refused(_("Only the person who reported it can answer this question."))
    if report.status == Status.WAITING_FOR_REPORTER:
        report.status = Status.IN_PROGRESS
    _record(session, report, reporter_id, "replied")


def forward(session: Session, report: BugReport, actor: Actor) -> None:
    """Mark the report forwarded, once; the copy goes out after this is committed."""
    _agent(report, actor, "forward")
    if report.forwarded_at is not None:
        raise Refused(
            _("{reference} was forwarded to the vendor already.", reference=report.reference)
        )
    report.status = Status.WITH_VENDOR
    report.forwarded_at = clock.now()
    _record(session, report, actor.user_id, "forwarded")


def mailed(session: Session, report: BugReport, actor: str) -> None:
    """The vendor's copy also went out by e-mail."""
    _record(session, report, actor, "mailed")


def resolve(session: Session, report: BugReport, actor: Actor, answer: str) -> None:
    _agent(report, actor, "resolve")
    report.status = Status.RESOLVED
    report.resolution = answer
    report.resolved_at = clock.now()
    report.resolved_by = actor.user_id
    _record(session, report, actor.user_id, "resolved")
