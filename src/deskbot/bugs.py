"""Filing bug reports: numbering BUG-<n> per organisation, exactly once per draft."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskbot import audit, drafts
from deskbot.flows.engine import Flow, Invalid
from deskbot.models import BugReport, Counter, Draft


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
    """Turn a complete, open draft into BUG-<n>."""
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


def report_for_draft(session: Session, draft_id: str) -> BugReport | None:
    return session.scalars(select(BugReport).where(BugReport.draft_id == draft_id)).first()


def get_report(session: Session, *, organisation_id: str, number: int) -> BugReport | None:
    return session.scalars(
        select(BugReport).where(
            BugReport.organisation_id == organisation_id, BugReport.number == number
        )
    ).first()
