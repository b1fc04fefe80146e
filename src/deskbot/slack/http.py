"""The HTTP endpoint: Slack's events, commands and interactivity at /slack/events, and /healthz.

Order matters here: the size first (413 before the body is read), then the signature (401,
nothing parsed, nothing logged), then the body's shape (400), and only then Bolt. Bolt gets
the payload re-encoded as JSON, so its own parser (which mistakes a command mentioning
"payload" for an interaction) never sees the form.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from deskbot.db import Database
from deskbot.slack import inbound

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SIGNATURE_WINDOW = 5 * 60  # Slack's rule: a request older than five minutes is a replay

StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)


class DeskbotWsgi:
    """Routes /healthz itself, checks Slack's requests, and hands them to Bolt."""

    def __init__(self, app: App, db: Database, signing_secret: str | None) -> None:
        self.app = app
        self.db = db
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._last_rejection = 0.0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = self.db.is_reachable()
            status = "200 OK" if healthy else "503 Service Unavailable"
            state = "ok" if healthy else "database unreachable"
            return _answer(start_response, status, {"status": state})
        if path != EVENTS_PATH:
            return _answer(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _answer(start_response, "405 Method Not Allowed", {"error": "POST only"})
        return self._slack(environ, start_response)

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", {"error": "bad content length"})
        if length > inbound.MAX_BODY:
            return _answer(start_response, "413 Content Too Large", {"error": "body too large"})
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        content_type = str(environ.get("CONTENT_TYPE") or "")
        if not self._signed(raw, headers):
            return _answer(start_response, "401 Unauthorized", {"error": "invalid signature"})
        try:
            payload = inbound.parse(raw, content_type)
        except inbound.Malformed as malformed:
            log.warning("refused a signed Slack request: %s", malformed)
            return _answer(start_response, "400 Bad Request", {"error": str(malformed)})
        forwarded: dict[str, str | Sequence[str]] = {**headers, "content-type": "application/json"}
        try:
            response = self.app.dispatch(
                BoltRequest(
                    body=json.dumps(payload),
                    query=str(environ.get("QUERY_STRING") or ""),
                    headers=forwarded,
                )
            )
        except Exception as error:  # Bolt answers its own errors; this is the last guard
            log.error("Slack request not handled: %s", type(error).__name__)
            response = BoltResponse(status=400, body="")
        return _bolt_answer(start_response, response)

    def _signed(self, raw: bytes, headers: dict[str, str]) -> bool:
        """Whether Slack signed this body within the last five minutes."""
        if self.verifier is None:
            return False
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        try:
            fresh = abs(time.time() - int(timestamp)) <= SIGNATURE_WINDOW
            valid = fresh and self.verifier.is_valid(raw, timestamp, signature)
        except (ValueError, TypeError):
            valid = False
        if not valid:
            self._rejected()
        return valid

    def _rejected(self) -> None:
        # One line a minute at most: a wrong signing secret shows up without flooding the log.
        now = time.monotonic()
        if now - self._last_rejection >= 60:
            self._last_rejection = now
            log.warning(
                "refused a request without a valid Slack signature; if Slack's requests are "
                "refused, check SLACK_SIGNING_SECRET"
            )


def _answer(start_response: StartResponse, status: str, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _bolt_answer(start_response: StartResponse, response: BoltResponse) -> list[bytes]:
    data = (response.body or "").encode("utf-8")
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{response.status} {_REASONS.get(response.status, 'OK')}", headers)
    return [data]


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 500: "Error"}


def serve(wsgi: DeskbotWsgi, *, host: str, port: int, threads: int = 16) -> None:
    """Serve on waitress, a production WSGI server (Bolt's own server is for development only)."""
    make_server(wsgi, host=host, port=port, threads=threads).run()


def make_server(wsgi: DeskbotWsgi, *, host: str, port: int, threads: int = 16) -> Any:
    """A waitress server object, for callers that run it on a thread (tests, benchmarks)."""
    from waitress.server import create_server

    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="deskbot",
        # waitress refuses a longer body itself, from its Content-Length, before reading it.
        max_request_body_size=inbound.MAX_BODY + 1,
    )
