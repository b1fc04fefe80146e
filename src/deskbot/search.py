"""`/desk find`: bug reports and deletion requests by reference or by words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from deskbot import deletions, triage
from deskbot.i18n import _
from deskbot.models import BugReport, DeletionRequest

REFERENCE = re.compile(r"^(BUG|DEL)-?(\d{1,9})$", re.IGNORECASE)
SCAN = 500  # newest candidate reports a word search reads


def _matches(report: BugReport, words: list[str]) -> bool:
    """Every word occurs in the report's answers as the service desk sees them (redacted)."""
    from deskbot.privacy import redact

    shown = " ".join(redact(v) for v in report.answers.values() if isinstance(v, str))
    folded = shown.casefold()
    return all(word.casefold() in folded for word in words)


@dataclass(frozen=True)
class Found:
    reference: str
    kind: str  # "bug" or "deletion"
    status: str  # as people read it, in their language
    created: str  # ISO date
    owner: str  # the reporter or requester
    summary: str  # the headline; for a bug report, redacted


def find(
    session: Session,
    *,
    organisation_id: str,
    query: str,
    bugs: bool,
    all_deletions: bool,
    user_id: str,
    limit: int = 10,
) -> list[Found]:
    """Matches the user may see, newest first: bug reports when `bugs`; deletion requests,
    all of them when `all_deletions`, else only the user's own."""
    from deskbot.privacy import redact

    words = [w for w in query.split() if w][:8]
    if not words:
        return []
    found: list[Found] = []
    reference = REFERENCE.match(words[0]) if len(words) == 1 else None
    kind = reference.group(1).upper() if reference else None
    if bugs and kind in (None, "BUG"):
        where = [BugReport.organisation_id == organisation_id]
        if reference:
            where.append(BugReport.number == int(reference[2]))
        else:
            # A first, rough cut in the database (ASCII words: SQLite keeps JSON escaped);
            # the match itself is made on the redacted answers below, so a search can never
            # tell whose email address or phone number is in a report.
            text = func.lower(cast(BugReport.answers, Text))
            where += [text.contains(w.lower(), autoescape=True) for w in words if w.isascii()]
        candidates = session.scalars(
            select(BugReport).where(*where).order_by(BugReport.id.desc()).limit(SCAN)
        )
        for report in candidates:
            if reference is None and not _matches(report, words):
                continue
            if len(found) == limit:
                break
            actual = str(report.answers.get("actual") or "").splitlines()
            found.append(
                Found(
                    report.reference,
                    "bug",
                    triage.label(report),
                    report.created_at.date().isoformat(),
                    report.reporter_id,
                    redact(actual[0] if actual else ""),
                )
            )
    if kind == "BUG":
        return found
    where = [DeletionRequest.organisation_id == organisation_id]
    if not all_deletions:
        where.append(
            or_(DeletionRequest.requester_id == user_id, DeletionRequest.submitted_by == user_id)
        )
    if reference:
        where.append(DeletionRequest.number == int(reference[2]))
    else:
        for word in words:
            pattern = word.lower()
            where.append(
                or_(
                    func.lower(DeletionRequest.client_id).contains(pattern, autoescape=True),
                    func.lower(DeletionRequest.platform).contains(pattern, autoescape=True),
                    func.lower(func.coalesce(DeletionRequest.note, "")).contains(
                        pattern, autoescape=True
                    ),
                )
            )
    for request in session.scalars(
        select(DeletionRequest).where(*where).order_by(DeletionRequest.id.desc()).limit(limit)
    ):
        found.append(
            Found(
                request.reference,
                "deletion",
                deletions.label(request),
                request.created_at.date().isoformat(),
                request.requester_id,
                _(
                    "{platform}, client {client_id}",
                    platform=request.platform,
                    client_id=request.client_id,
                ),
            )
        )
    return sorted(found, key=lambda f: f.created, reverse=True)[:limit]
