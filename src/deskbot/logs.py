"""Logging for deskbot: one line per event, and never the details the libraries would add.

deskbot's own log calls carry references, error codes and counts only. The libraries it
runs on (Slack's SDKs, waitress, APScheduler, SQLAlchemy) put request bodies, exception texts
and tracebacks into their messages, and those may hold what a user typed. Their records are
cut to the phrase before the first detail, so a library can still say *what* happened.
"""

from __future__ import annotations

import logging
import re

# Loggers whose messages may carry someone's data; deskbot's Bolt logger among them.
LIBRARIES = (
    "slack_bolt",
    "slack_sdk",
    "deskbot.bolt",
    "waitress",
    "apscheduler",
    "sqlalchemy",
    "urllib3",
    "websocket",
    "asyncio",
)
# Where a library message turns from what happened to the details of it.
_DETAIL = re.compile(r"\s*[(:{\[=]|\s+-\s|\s+for\s|\n")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def headline(message: str) -> str:
    """The part of a library's message before its first detail ("Unhandled request")."""
    cut = _DETAIL.search(message)
    text = (message[: cut.start()] if cut else message).strip()
    return text[:120] or "(details withheld)"


class WithoutDetails(logging.Filter):
    """Cuts a library's record to its headline: no arguments, no exception text, no
    traceback. deskbot's own records pass as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(LIBRARIES):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed format string: still say something
            message = str(record.msg)
        record.msg = headline(message)
        if record.exc_info and record.exc_info[0] is not None:
            record.msg += f" ({record.exc_info[0].__name__})"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def configure(level: str) -> None:
    """Log to stderr at `level`, with the libraries' details withheld on every handler."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    guard(logging.getLogger())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Slack's libraries log whole requests and responses at DEBUG; keep them at INFO or above
    # even when deskbot's own DEBUG logging is on.
    for noisy in ("slack_sdk", "slack_bolt", "deskbot.bolt", "urllib3"):
        logger = logging.getLogger(noisy)
        logger.setLevel(max(logging.INFO, logger.level))


def guard(logger: logging.Logger) -> None:
    """Put the filter on each of the logger's handlers (records of child loggers reach the
    handlers, not the parent's own filters)."""
    for handler in logger.handlers:
        if not any(isinstance(f, WithoutDetails) for f in handler.filters):
            handler.addFilter(WithoutDetails())
