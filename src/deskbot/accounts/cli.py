"""`deskbot accounts`: import the platform's exports into the account store, and look an
address up from the command line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from deskbot.accounts.importer import ImportFailed, ImportSummary, import_csv
from deskbot.accounts.lookup import Found, Lookup, find, hash_key, record_lookup
from deskbot.accounts.normalise import InvalidAddress
from deskbot.settings import Settings, get_settings

SHOWN_REJECTED = 20

accounts_app = typer.Typer(
    help="The account store: import the platform's exports, look up an email address.",
    no_args_is_help=True,
)


class Kind(StrEnum):
    client = "client"
    professional = "professional"


@accounts_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The platform's CSV export.", show_default=False)],
    kind: Annotated[Kind, typer.Option(help="Whose accounts the file holds.", show_default=False)],
    platform: Annotated[
        str | None,
        typer.Option(help="The platform the export is from (default: the first configured)."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="A full export: deactivate the accounts not in it.")
    ] = False,
) -> None:
    """Import a CSV export of client or professional accounts; running it twice changes nothing."""
    from deskbot.runtime import open_database

    settings = get_settings()
    out, err = Console(), Console(stderr=True)
    db = open_database(settings)
    try:
        with _progress_bar(err, file.name) as bar:
            task = bar.add_task("import", total=None)
            summary = import_csv(
                db,
                settings=settings,
                path=file,
                kind=kind.value,
                platform=platform,
                full=full,
                actor="cli",
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except ImportFailed as failed:
        err.print(f"[red]✗[/] {escape(str(failed))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("Import interrupted: the account store was left as it was.")
        raise typer.Exit(130) from None
    finally:
        db.dispose()
    _print_summary(out, summary)


def _progress_bar(console: Console, name: str) -> Progress:
    return Progress(
        TextColumn(f"Importing {escape(name)}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _print_summary(out: Console, summary: ImportSummary) -> None:
    table = Table(title="Account import", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, count in (
        ("Added", summary.added),
        ("Updated", summary.updated),
        ("Unchanged", summary.unchanged),
        ("Deactivated", summary.deactivated),
        ("Rejected", summary.rejected_count),
    ):
        table.add_row(label, f"{count:,}")
    table.add_row("Time", f"{summary.seconds:.1f} s")
    out.print(table)
    if summary.defaulted_columns:
        names = ", ".join(summary.defaulted_columns)
        out.print(
            f"Not in the file, so every account got the default: {escape(names)} "
            "(active: yes; externally managed: no; groups and name: empty)."
        )
    for line, reason in summary.rejected[:SHOWN_REJECTED]:
        out.print(f"  line {line}: {escape(reason)}")
    if summary.rejected_count > SHOWN_REJECTED:
        out.print(f"  … and {summary.rejected_count - SHOWN_REJECTED:,} more rejected lines.")


@accounts_app.command("find")
def find_(
    address: Annotated[str, typer.Argument(help="The email address the platform refused.")],
) -> None:
    """Show where an email address is used, for an administrator; the lookup is audited."""
    from deskbot.runtime import open_database

    settings = get_settings()
    out, err = Console(highlight=False), Console(stderr=True)
    db = open_database(settings)
    try:
        with db.transaction() as session:
            lookup = find(session, organisation_id=settings.organisation_id, raw_address=address)
            record_lookup(
                session,
                organisation_id=settings.organisation_id,
                actor="cli",
                lookup=lookup,
                key=hash_key(session, settings),
                via="cli",
            )
    except InvalidAddress as invalid:
        err.print(f"[red]✗[/] {escape(str(invalid))}")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    _print_lookup(out, lookup, settings)


def _print_lookup(out: Console, lookup: Lookup, settings: Settings) -> None:
    # One block per account rather than a table: it stays readable in a narrow terminal.
    address = escape(lookup.address)
    if lookup.matches:
        out.print(f"[bold]{len(lookup.matches)} account(s) use {address}:[/]")
        for found in lookup.matches:
            out.print(_account_block(found))
    else:
        out.print(f"No account in the store uses {address}.")
    if lookup.near_misses:
        out.print(
            "\n[bold]Similar addresses[/] (another +tag or dots): hints only, not the same address:"
        )
        for found in lookup.near_misses:
            out.print(_account_block(found, with_email=True))
    out.print("\n" + _last_import_text(lookup, settings))


def _account_block(found: Found, *, with_email: bool = False) -> str:
    lines = [
        f"{found.platform} · {found.kind} · account ID {found.account_id}",
        *([f"address: {found.email}"] if with_email else []),
        f"active: {_yes_no(found.active)} · externally managed: "
        f"{_yes_no(found.externally_managed)}",
        f"groups: {', '.join(found.groups) or '—'}",
        f"name: {found.display_name or '—'}",
    ]
    first, *rest = (escape(line) for line in lines)
    return "\n".join([f"  • {first}", *(f"    {line}" for line in rest)])


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _last_import_text(lookup: Lookup, settings: Settings) -> str:
    if lookup.last_import is None:
        return "The account store has never been imported, so nothing can be found in it yet."
    local = lookup.last_import.astimezone(ZoneInfo(settings.timezone))
    return (
        f"The account store was last imported on {local:%Y-%m-%d at %H:%M} ({settings.timezone}); "
        "accounts created since then are not in it."
    )
