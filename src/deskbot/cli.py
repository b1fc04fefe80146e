"""The deskbot command line: run, serve, console, db, manifest."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from deskbot import logs
from deskbot.accounts.cli import accounts_app
from deskbot.audit_cli import audit_app
from deskbot.settings import Settings, get_settings
from deskbot.sla.cli import sla_app
from deskbot.startup import OperatorError, explain

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
    logs.configure(settings.log_level)
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
        raise OperatorError(
            "SLACK_APP_TOKEN is set: Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) as well."
        )
    if settings.slack_app_token and settings.slack_bot_token:
        runtime.run_socket_mode(settings)
    elif settings.slack_bot_token or settings.slack_signing_secret:
        _need_http_credentials(settings, "run")
        runtime.run_http(settings, host=host, port=port, threads=16)
    elif sys.stdin.isatty():
        err.print(CONNECT_HINT)
        console(language=None)
    else:
        raise OperatorError(
            "No Slack credentials, and no terminal to offer the console on. Set "
            "SLACK_APP_TOKEN and SLACK_BOT_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and "
            "SLACK_SIGNING_SECRET (HTTP), or run `deskbot console` in a terminal."
        )


def _need_http_credentials(settings: Settings, command: str) -> None:
    """HTTP needs the bot token and the signing secret; name the one that is missing."""
    if settings.slack_bot_token and settings.slack_signing_secret:
        return
    if settings.slack_bot_token:
        raise OperatorError(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: serving Slack over HTTP "
            "needs the signing secret (your Slack app's Basic Information page), or set "
            "SLACK_APP_TOKEN for Socket Mode."
        )
    if settings.slack_signing_secret:
        raise OperatorError(
            "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: set the bot token "
            "(xoxb-…, your Slack app's OAuth & Permissions page)."
        )
    raise OperatorError(
        f"{command} needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to serve Slack over HTTP; "
        "neither is set."
    )


@app.command()
def serve(
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
    port: int = typer.Option(3000, help="Port to listen on."),
    threads: int = typer.Option(16, help="Worker threads of the HTTP server."),
) -> None:
    """Serve Slack's requests over HTTP (waitress) at /slack/events, with /healthz."""
    settings = _settings()
    _need_http_credentials(settings, "serve")
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
    """The `deskbot` command. A mistake or outage the operator can fix ends it with one line
    per problem on stderr (no traceback): exit 2 for a setting or option to change, 1 for a
    service that did not answer (the database)."""
    try:
        app()
    except Exception as error:
        problem = explain(error)
        if problem is None:
            raise
        for line in problem.lines:
            print(f"deskbot: {line}", file=sys.stderr)
        sys.exit(problem.code)
