"""`deskbot audit export`: the audit trail ("contact history") as CSV or JSON lines."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from deskbot import audit
from deskbot.settings import get_settings

audit_app = typer.Typer(help="The audit trail: who did what, and when.", no_args_is_help=True)
err = Console(stderr=True, highlight=False)
COLUMNS = ("at", "actor", "action", "subject_type", "subject_id", "detail")


def _day(text: str | None, what: str, zone_name: str) -> datetime | None:
    """The start of a local date, as UTC."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        day = date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]{what} must be a date like 2026-11-01, not {text!r}.[/]")
        raise typer.Exit(2) from None
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (local).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (local).")] = None,
    subject: Annotated[str | None, typer.Option(help="One item only, e.g. BUG-12.")] = None,
    kind: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="A file.")] = None,
) -> None:
    """Every audit event of the organisation in the period, oldest first. The trail holds
    references, Slack user IDs and keyed hashes, never the personal data itself."""
    if kind not in ("csv", "jsonl"):
        err.print("[red]--format is csv or jsonl.[/]")
        raise typer.Exit(2)
    settings = get_settings()
    start = _day(since, "--since", settings.timezone)
    last = _day(until, "--until", settings.timezone)
    end = last + timedelta(days=1) if last else None
    from deskbot.runtime import open_database
    from deskbot.startup import check_output, open_output

    if output:
        check_output(output)  # before the work, not after it
    db = open_database(settings)
    target: TextIO = open_output(output) if output else sys.stdout
    count = 0
    try:
        writer = csv.writer(target, lineterminator="\n") if kind == "csv" else None
        if writer:
            writer.writerow(COLUMNS)
        with db.transaction() as session:
            for event in audit.events(
                session,
                organisation_id=settings.organisation_id,
                since=start,
                until=end,
                subject_id=subject,
            ):
                row = {
                    "at": event.at.isoformat(timespec="seconds"),
                    "actor": event.actor,
                    "action": event.action,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "detail": event.detail,
                }
                if writer:
                    writer.writerow([*list(row.values())[:5], json.dumps(event.detail)])
                else:
                    target.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    finally:
        if output:
            target.close()
        db.dispose()
    err.print(f"{count} event{'s' * (count != 1)} exported.")
