"""Filing bug reports: numbering BUG-<n> per organisation, exactly once per draft."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskbot import audit, clock, drafts
from deskbot.flows.engine import Flow, Invalid
from deskbot.models import BugReport, Counter, Draft


class AlreadyFiled(Exception):
    def __init__(self, report: BugReport | None) -> None:
        super().__init__("this draft was filed already")
        self.report = report


def next_number(session: Session, *, organisation_id: str, name: str) -> int:
    """The next value of a per-organisation sequence; the row lock orders concurrent callers."""
    bump = (
        update(Counter)
        .where(Counter.organisation_id == organisation_id, Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    value = session.execute(bump).scalar()
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.execute(
                insert(Counter).values(organisation_id=organisation_id, name=name, value=1)
            )
        return 1
    except IntegrityError:
        # Someone else created the row first; take the next value after theirs.
        return int(session.execute(bump).scalar_one())


def file_report(session: Session, *, draft: Draft, flow: Flow) -> BugReport:
    """Turn a complete draft into BUG-<n>; AlreadyFiled when it was filed before."""
    if draft.status != drafts.ACTIVE:
        raise AlreadyFiled(report_for_draft(session, draft.id))
    answers = draft.state.get("answers", {})
    missing = flow.missing(answers)
    if missing:
        raise Invalid(f"Some answers are still missing: {', '.join(s.label for s in missing)}.")
    number = next_number(session, organisation_id=draft.organisation_id, name="bug")
    report = BugReport(
        organisation_id=draft.organisation_id,
        number=number,
        draft_id=draft.id,
        reporter_id=draft.user_id,
        answers=flow.final_answers(answers),
    )
    session.add(report)
    drafts.close(draft, "submitted")
    session.flush()
    audit.record(
        session,
        organisation_id=draft.organisation_id,
        actor=draft.user_id,
        action="bug.filed",
        subject_type="bug_report",
        subject_id=report.reference,
        detail={"surface": draft.surface},
    )
    return report


ANNOUNCE_LEASE = timedelta(minutes=5)


def claim_announcement(session: Session, report_id: int) -> BugReport | None:
    """The report, for the one caller that may announce it now; None for everyone else."""
    now = clock.now()
    claimed = session.execute(
        update(BugReport)
        .where(
            BugReport.id == report_id,
            BugReport.announced_at.is_(None),
            or_(
                BugReport.announce_claimed_at.is_(None),
                BugReport.announce_claimed_at < now - ANNOUNCE_LEASE,
            ),
        )
        .values(announce_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return session.get(BugReport, report_id, populate_existing=True)


def mark(session: Session, report_id: int, **values: object) -> None:
    """Record one finished part of an announcement (receipt sent, card posted, all done)."""
    session.execute(
        update(BugReport)
        .where(BugReport.id == report_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def unannounced(session: Session, *, limit: int = 50) -> list[BugReport]:
    """Reports whose announcement was never finished and whose claim has run out."""
    stale = clock.now() - ANNOUNCE_LEASE
    return list(
        session.scalars(
            select(BugReport)
            .where(
                BugReport.announced_at.is_(None),
                or_(BugReport.announce_claimed_at.is_(None), BugReport.announce_claimed_at < stale),
                BugReport.created_at < stale,
            )
            .order_by(BugReport.id)
            .limit(limit)
        )
    )


def report_for_draft(session: Session, draft_id: str) -> BugReport | None:
    return session.scalars(select(BugReport).where(BugReport.draft_id == draft_id)).first()


def get_report(session: Session, *, organisation_id: str, number: int) -> BugReport | None:
    return session.scalars(
        select(BugReport).where(
            BugReport.organisation_id == organisation_id, BugReport.number == number
        )
    ).first()
