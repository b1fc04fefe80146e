"""Who may do what in Slack, and the polite refusal for those who may not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from deskbot.flows import bug_report, deletion_request
from deskbot.i18n import N_, _
from deskbot.roles import Actor, Refused
from deskbot.slack.app import Services
from deskbot.templating import render_text


def not_allowed(user_id: str, what: str) -> str:
    """The refusal for someone without the role; `what` is its first sentence, marked N_()."""
    return render_text("text/not_allowed.txt.j2", user_id=user_id, what=_(what))


WHAT = {
    bug_report.NAME: N_("Sorry, you cannot report bugs with deskbot."),
    deletion_request.NAME: N_(
        "Sorry, you cannot request the deletion of a client account with deskbot."
    ),
}


def may_start(services: Services, user_id: str, flow: str) -> bool:
    """Whether the user's roles allow this flow; if not, they are told why in a DM."""
    if services.runner.may_start(user_id, flow):
        return True
    services.client.chat_postMessage(channel=user_id, text=not_allowed(user_id, WHAT[flow]))
    return False


def tell(services: Services, body: dict[str, Any], text: str) -> None:
    """A short private answer where the user clicked: ephemeral in a channel, else a DM."""
    user_id = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    if channel and not channel.startswith("D"):
        services.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
    else:
        services.client.chat_postMessage(channel=user_id, text=text)


Item = TypeVar("Item")


def change_as(
    services: Services,
    user_id: str,
    load: Callable[[Session], Item | None],
    change: Callable[[Session, Item, Actor], object],
    missing: str,
) -> Item | str:
    """Apply one change to a row, locked, as this user: the item as it is now, or the text
    of the refusal. The user's roles are resolved first: that may ask Slack, and must not
    happen while the row is locked."""
    actor = services.runner.actor(user_id)
    with services.db.transaction() as session:
        item = load(session)
        if item is None:
            return missing
        try:
            change(session, item, actor)
        except Refused as refused:
            return str(refused)
        return item
