"""The deskbot command line: run, serve, console, db, manifest."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from deskbot.accounts.cli import accounts_app
from deskbot.audit_cli import audit_app
from deskbot.settings import Settings, get_settings
from deskbot.sla.cli import sla_app

app = typer.Typer(
    help="deskbot: the platform's support procedures as guided conversations.", no_args_is_help=True
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
manifest_app = typer.Typer(help="The Slack app manifest.", no_args_is_help=True)
translations_app = typer.Typer(
    help="The Dutch and German texts (for maintainers).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(sla_app, name="sla")
app.add_typer(audit_app, name="audit")
app.add_typer(manifest_app, name="manifest")
app.add_typer(translations_app, name="translations")

err = Console(stderr=True)
CONNECT_HINT = (
    "No Slack credentials: starting the local console. To connect Slack, set SLACK_APP_TOKEN "
    "(Socket Mode) or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP); see the README."
)


def _settings() -> Settings:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Slack's libraries log whole requests and responses at DEBUG, which may hold what users
    # typed; deskbot's own DEBUG logging never does.
    for noisy in ("slack_sdk", "slack_bolt", "deskbot.bolt"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger(noisy).level))
    return settings


@app.command()
def run(
    host: str = typer.Option("0.0.0.0", help="Address for the HTTP server."),
    port: int = typer.Option(3000, help="Port for the HTTP server."),
) -> None:
    """Start deskbot the way the configuration says: Socket Mode, HTTP, or the local console."""
    settings = _settings()
    from deskbot import runtime

    if settings.slack_app_token and not settings.slack_bot_token:
        err.print("SLACK_APP_TOKEN is set: Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) as well.")
        raise typer.Exit(2)
    if settings.slack_app_token and settings.slack_bot_token:
        runtime.run_socket_mode(settings)
    elif settings.slack_bot_token and settings.slack_signing_secret:
        runtime.run_http(settings, host=host, port=port, threads=16)
    elif sys.stdin.isatty():
        err.print(CONNECT_HINT)
        console(language=None)
    else:
        err.print(
            "deskbot has no Slack credentials and no terminal to offer the console on. Set "
            "SLACK_APP_TOKEN and SLACK_BOT_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and "
            "SLACK_SIGNING_SECRET (HTTP), or run `deskbot console` in a terminal."
        )
        raise typer.Exit(2)


@app.command()
def serve(
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
    port: int = typer.Option(3000, help="Port to listen on."),
    threads: int = typer.Option(16, help="Worker threads of the HTTP server."),
) -> None:
    """Serve Slack's requests over HTTP (waitress) at /slack/events, with /healthz."""
    settings = _settings()
    if not (settings.slack_bot_token and settings.slack_signing_secret):
        err.print("serve needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
        raise typer.Exit(2)
    from deskbot import runtime

    runtime.run_http(settings, host=host, port=port, threads=threads)


@app.command()
def console(
    language: str | None = typer.Option(
        None, help="en, nl or de; the organisation's language (setting `language`) if not given."
    ),
) -> None:
    """Try every flow in this terminal, without Slack, on the configured database."""
    settings = _settings()
    from deskbot import i18n
    from deskbot.console import ConsoleSession
    from deskbot.flows.runner import FlowRunner
    from deskbot.runtime import open_database

    db = open_database(settings)
    out = Console(highlight=False)
    session = ConsoleSession(FlowRunner(settings, db), ask=out.input, out=out)
    try:
        with i18n.speaking(i18n.of_locale(language, settings.language)):
            session.main_menu()
    finally:
        db.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version."""
    settings = _settings()
    from deskbot.db import Database

    Database(settings.database_url).upgrade()
    err.print("Database is up to date.")


@manifest_app.command("check")
def manifest_check(path: str = typer.Argument("app-manifest.yml")) -> None:
    """Check the manifest against Slack's schema and against the code's listeners."""
    from deskbot import manifest

    problems = manifest.check_file(path)
    for problem in problems:
        err.print(f"[red]✗[/] {problem}")
    if problems:
        raise typer.Exit(1)
    err.print("[green]✓[/] The manifest validates and matches the code.")


@translations_app.command("update")
def translations_update() -> None:
    """Add new texts to the catalogs (untranslated) and drop the ones no longer used."""
    from deskbot import translations

    for language, missing in translations.update().items():
        err.print(f"{language}: {missing} text(s) to translate")


@translations_app.command("check")
def translations_check() -> None:
    """List every text without a current translation; exits 1 if there is one."""
    from deskbot import translations

    problems = translations.check()
    for problem in problems:
        err.print(f"[red]✗[/] {problem}")
    if problems:
        raise typer.Exit(1)
    err.print("[green]✓[/] Every text has its Dutch and German translation.")


def main() -> None:
    app()
