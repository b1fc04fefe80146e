"""The HTTP endpoint: Slack's events, commands and interactivity at /slack/events, and /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from deskbot.db import Database

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


class DeskbotWsgi:
    """Routes /healthz itself and hands everything else to Bolt (which verifies signatures)."""

    def __init__(self, app: App, db: Database) -> None:
        self.slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self.db = db

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            healthy = self.db.is_reachable()
            body = b'{"status": "ok"}' if healthy else b'{"status": "database unreachable"}'
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.slack(environ, start_response)


def serve(wsgi: DeskbotWsgi, *, host: str, port: int, threads: int = 16) -> None:
    """Serve on waitress, a production WSGI server (Bolt's own server is for development only)."""
    make_server(wsgi, host=host, port=port, threads=threads).run()


def make_server(wsgi: DeskbotWsgi, *, host: str, port: int, threads: int = 16) -> Any:
    """A waitress server object, for callers that run it on a thread (tests, benchmarks)."""
    from waitress.server import create_server

    return create_server(wsgi, host=host, port=port, threads=threads, ident="deskbot")
