"""Delivering after the ack: what a failed Slack call means for the message and for the rest of
the ticker's round.

A recipient that is gone (left, deactivated, archived) is skipped for good; an outage (Slack
unreachable, rate limited, failing, or unable to say who holds a role) is tried again at the
ticker's next run, and the round stops, since every other message would fail the same way.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from deskbot.roles import RolesUnknown

log = logging.getLogger(__name__)

# Slack errors that no retry will cure for this recipient: the others still get theirs.
GONE = frozenset(
    {
        "channel_not_found",
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "is_archived",
        "not_in_channel",
        "cannot_dm_bot",
    }
)
# And for a message deskbot posted before: it was deleted, or may no longer be edited.
MESSAGE_GONE = GONE | {"message_not_found", "cant_update_message", "edit_window_closed"}
# Slack's answers that mean "not now" rather than "not this".
SLACK_DOWN = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


def slack_error(problem: BaseException) -> str:
    """Slack's error code, for the log (never the message text: it may carry user input)."""
    return str(problem.response.get("error") or "") if isinstance(problem, SlackApiError) else ""


def outage(problem: BaseException) -> bool:
    """Whether trying again later (and nothing else) can cure it."""
    if isinstance(problem, RolesUnknown):
        return True
    if isinstance(problem, OSError | http.client.HTTPException):
        return True  # no answer at all: connection refused, timed out, reset
    if not isinstance(problem, SlackApiError):
        return False  # our own mistake: other messages may well go out
    status = getattr(problem.response, "status_code", 200)
    return status == 429 or status >= 500 or slack_error(problem) in SLACK_DOWN


@dataclass(frozen=True)
class Part:
    """One message of an announcement: `send` posts it and returns the values that record it;
    `if_gone` gives the values recorded instead when the recipient is gone (None: never given
    up, e.g. the shared triage channel, whose trouble is the configuration's and is retried)."""

    name: str
    send: Callable[[], dict[str, object]]
    if_gone: Callable[[], dict[str, object]] | None


@dataclass
class Attempt:
    """How sending the parts went: `done` when nothing is missing, `healthy` unless Slack is
    down (then the ticker's round stops)."""

    done: bool = True
    healthy: bool = True


def send_part(part: Part, reference: str, attempt: Attempt) -> dict[str, object] | None:
    """Send one part on its own: the values to record, or None when it is still missing."""
    try:
        return part.send()
    except Exception as problem:
        code = slack_error(problem)
        if part.if_gone is not None and code in GONE:
            log.warning("%s: %s skipped, the recipient is gone (%s)", reference, part.name, code)
            return part.if_gone()
        log.error("%s: %s not sent yet: %s %s", reference, part.name, type(problem).__name__, code)
        attempt.done = False
        if outage(problem) or code in GONE:  # the shared channel itself is unusable
            attempt.healthy = False
        return None
