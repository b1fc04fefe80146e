"""The one place that decides what a user is told when their action fails, and where.

Before the ack, a failed form answers on the form itself (the first field, or a notice pushed
on top, so closing it brings the form back as it was); any other request is acknowledged and
the user is told privately. After the ack, the user is told where they acted: the slash
command's own reply, an ephemeral message in the channel of the click, or the app's DM.
Every failure is logged as one line naming its kind, never its text: a database error's
text carries what the user typed.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import exc as db_errors

from deskbot.i18n import _
from deskbot.roles import RolesUnknown
from deskbot.slack import views

log = logging.getLogger(__name__)

# Slack's answers to views.open when the trigger (valid for 3 s, used once) is gone.
TRIGGER_GONE = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})


def database_down(error: BaseException) -> bool:
    """The database could not be reached or could not take the change just now."""
    if isinstance(error, db_errors.DBAPIError):
        return isinstance(error, db_errors.OperationalError | db_errors.InterfaceError) or bool(
            error.connection_invalidated
        )
    return isinstance(error, db_errors.TimeoutError | db_errors.DisconnectionError)


def slack_code(error: BaseException) -> str:
    return str(error.response.get("error") or "") if isinstance(error, SlackApiError) else ""


def text_for(error: BaseException) -> str:
    """What went wrong, for the person who acted, in the language in force."""
    if isinstance(error, RolesUnknown):
        return str(error)
    if database_down(error):
        return _(
            ":warning: deskbot cannot reach its database just now, so nothing was saved or "
            "changed. Please try again in a few minutes."
        )
    if slack_code(error) in TRIGGER_GONE:
        return _(
            ":warning: The form could not be opened in time (Slack allows three seconds). "
            "Nothing is lost: please try once more."
        )
    if isinstance(error, SlackApiError):
        return _(
            ":warning: Slack did not accept what I tried to do for you, so it did not go "
            "through. Please try again in a minute."
        )
    return _(
        ":warning: Something went wrong on deskbot's side, so this did not go through. Please "
        "try again; if it happens again, tell whoever runs deskbot."
    )


def log_failure(where: str, error: BaseException) -> None:
    kind = type(error).__name__
    if database_down(error):
        kind = f"database unreachable ({kind})"
    log.error("%s failed: %s %s", where, kind, slack_code(error))


def before_ack(client: WebClient, body: dict[str, Any], error: Exception) -> BoltResponse:
    """The answer to a request whose ack could not be prepared."""
    log_failure(str(body.get("type") or body.get("command") or "request"), error)
    text = text_for(error)
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        field = next(
            (
                b.get("block_id")
                for b in view.get("blocks") or []
                if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")
            ),
            None,
        )
        if field:
            return BoltResponse(
                status=200, body={"response_action": "errors", "errors": {field: text}}
            )
        return BoltResponse(
            status=200,
            body={"response_action": "push", "view": views.modal_notice("deskbot", text)},
        )
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") in ("block_suggestion",):
        return BoltResponse(status=200, body={"options": []})
    # Acknowledged at once; the user hears why in a moment, without delaying the answer.
    context = contextvars.copy_context()
    threading.Thread(
        target=context.run, args=(tell, client, body, text), name="deskbot-tell", daemon=True
    ).start()
    return BoltResponse(status=200, body="")


def after_ack(client: WebClient, body: dict[str, Any], error: Exception, where: str) -> None:
    """Work after the ack failed: log it, and tell the user where they acted."""
    log_failure(where, error)
    tell(client, body, text_for(error))


def tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """A private message where the user acted; when Slack cannot take it, one log line."""
    try:
        _tell(client, body, text)
    except Exception as failed:
        log.warning("could not tell the user: %s %s", type(failed).__name__, slack_code(failed))


def _tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    event = body.get("event") if isinstance(body.get("event"), dict) else None
    user = (event or {}).get("user") or body.get("user_id") or (body.get("user") or {}).get("id")
    if not isinstance(user, str) or not user:
        return
    response_url = body.get("response_url")
    if body.get("command") and isinstance(response_url, str):
        # The command's own reply: where /desk answered before.
        WebhookClient(response_url, timeout=5).send(
            text=text, response_type="ephemeral", replace_original=False
        )
        return
    channel = (
        (event or {}).get("channel")
        or body.get("channel_id")
        or (body.get("channel") or {}).get("id")
    )
    if isinstance(channel, str) and channel[:1] in ("C", "G") and not body.get("view"):
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        client.chat_postMessage(channel=user, text=text)  # Slack delivers this in the app's DM
