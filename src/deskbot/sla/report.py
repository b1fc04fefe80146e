"""The monthly SLA report: each deletion request due in a month, and whether it was on time."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from deskbot import deletions
from deskbot.db import Database
from deskbot.settings import Settings

COLUMNS = (
    "request",
    "platform",
    "status",
    "client_asked_on",
    "statutory_date",
    "confirmed_at",
    "due_date",
    "completed_at",
    "paused_working_days",
    "outcome",
)


def parse_month(text: str) -> date:
    """ "2026-11" as the first of that month; ValueError with a readable message otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-11") from None


def monthly_csv(db: Database, settings: Settings, month: date) -> tuple[str, dict[str, int]]:
    """The CSV text (no client IDs: the report needs none) and a count per outcome."""
    calendar = settings.work_calendar()
    zone = calendar.zone

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).isoformat(timespec="minutes") if moment else ""

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    counts: dict[str, int] = {}
    with db.transaction() as session:
        for request in deletions.due_in_month(session, settings.organisation_id, month):
            outcome = deletions.outcome(request, calendar)
            counts[outcome] = counts.get(outcome, 0) + 1
            completed = request.closed_at if request.status == deletions.Status.COMPLETED else None
            writer.writerow(
                (
                    request.reference,
                    request.platform,
                    request.status,
                    request.asked_on.isoformat(),
                    request.statutory_date.isoformat(),
                    local(request.confirmed_at),
                    request.due_date.isoformat() if request.due_date else "",
                    local(completed),
                    request.paused_days,
                    outcome,
                )
            )
    return out.getvalue(), counts
