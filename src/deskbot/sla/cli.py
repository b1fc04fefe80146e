"""`deskbot sla`: deadlines in the organisation's working days, for "when will it be done?"."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deskbot.settings import get_settings
from deskbot.sla.calendar import WorkCalendar

sla_app = typer.Typer(help="Working days and deadlines.", no_args_is_help=True)
out = Console(highlight=False)


@sla_app.command("due")
def due(
    confirmed: str = typer.Argument(
        ..., help="When the request was confirmed, ISO 8601 (e.g. 2026-04-03T16:00+02:00)."
    ),
    country: str | None = typer.Option(None, help="NL or DE (default: the configured country)."),
    region: str | None = typer.Option(None, help="German state, e.g. NW."),
    tz: str | None = typer.Option(None, help="Timezone (default: the configured one)."),
    days: int = typer.Option(5, min=1, help="Working days allowed."),
) -> None:
    """The deadline: the end of the Nth working day after the day of confirmation."""
    settings = get_settings()
    try:
        moment = datetime.fromisoformat(confirmed)
        if moment.tzinfo is None:
            raise ValueError("give the time with its UTC offset, e.g. 2026-04-03T16:00+02:00")
        calendar = WorkCalendar(
            timezone=tz or settings.timezone,
            country=country or settings.country,
            region=region if region is not None else settings.region,
        )
    except ValueError as problem:
        out.print(f"[red]{problem}[/]")
        raise typer.Exit(2) from None
    local_due = calendar.due(moment, days=days).astimezone(calendar.zone)
    day_zero = calendar.local_date(moment)
    out.print(f"Confirmed {day_zero:%a %d %b %Y} (day 0, never counted).")
    out.print(f"Due: end of {local_due:%a %d %b %Y} ({local_due:%H:%M} {calendar.timezone}).")
    skipped, day = [], day_zero
    while day < local_due.date():
        day += timedelta(days=1)
        if name := calendar.holiday_name(day):
            skipped.append(f"{day:%a %d %b}: {name}")
    if skipped:
        out.print("Not counted: " + "; ".join(skipped) + ".")


@sla_app.command("report")
def report(
    month: str = typer.Option(..., help="The month whose deadlines to report, YYYY-MM."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the CSV here, not to stdout.")
    ] = None,
) -> None:
    """CSV of the deletion requests due in a month: confirmed, due, completed, met or breached."""
    from deskbot.runtime import open_database
    from deskbot.sla.report import monthly_csv, parse_month
    from deskbot.startup import check_output, output_problem

    settings = get_settings()
    try:
        first = parse_month(month)
    except ValueError as problem:
        out.print(f"[red]{problem}[/]")
        raise typer.Exit(2) from None
    if output is not None:
        check_output(output)  # before the work, not after it
    db = open_database(settings)
    try:
        text, counts = monthly_csv(db, settings, first)
    finally:
        db.dispose()
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as problem:
            raise output_problem(output, problem) from None
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    Console(stderr=True, highlight=False).print(f"{first:%B %Y}: {summary}.")
