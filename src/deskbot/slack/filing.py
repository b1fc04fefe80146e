"""After a report is filed: the reporter's receipt and the card in the triage channel, once."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from deskbot import announcing, clock, deletions, drafts
from deskbot.flows.runner import Filed, Item, filed_from
from deskbot.i18n import _
from deskbot.models import BugReport, DeletionRequest
from deskbot.roles import Refused
from deskbot.slack import deletion_desk, deletion_views, views
from deskbot.slack.app import Services

log = logging.getLogger(__name__)


def announce_draft(services: Services, draft_id: str, user_id: str) -> None:
    """Announce what was filed from this draft, if this user filed it."""
    with services.db.transaction() as session:
        draft = drafts.get(session, draft_id)
        item = filed_from(session, draft) if draft is not None else None
    if draft is not None and item is not None and draft.user_id == user_id:
        announce_item(services, item)


def announce_item(services: Services, item: Item) -> None:
    if isinstance(item, DeletionRequest):
        deletion_desk.announce(services, item.id)
    else:
        announce(services, item)


def filed_view(services: Services, filed: Filed, user_id: str) -> dict[str, Any]:
    """The modal's last view once a draft is filed."""
    item = filed.item
    if not isinstance(item, DeletionRequest):
        return views.modal_notice(
            _("Report filed"),
            _(
                ":white_check_mark: Filed as *{reference}*. I have sent you the details and what "
                "happens next in a direct message.",
                reference=item.reference,
            ),
        )
    try:
        deletions.may_confirm(item, services.runner.actor(user_id), services.settings)
    except Refused:
        return views.modal_notice(
            _("Deletion requested"),
            _(
                ":white_check_mark: Requested as *{reference}*. It needs a confirmation by an "
                "application manager; I have sent you the details in a direct message.",
                reference=item.reference,
            ),
        )
    return deletion_views.confirm_modal(item, services.settings)


def announce(services: Services, report: BugReport) -> None:
    """Tell the reporter and the service desk, each once.

    The claim makes a second delivery, a double click or a second deskbot instance do
    nothing. Each part is recorded as soon as it is sent, so when one fails the ticker later
    retries only what is missing, once the claim's lease has run out.
    """
    with services.db.transaction() as session:
        claimed = announcing.claim(session, BugReport, report.id)
    if claimed is None:
        return
    channel = services.settings.triage_channel
    done: dict[str, object] = {}  # what went out, recorded in one go at the end
    try:
        if claimed.receipt_sent_at is None:
            with services.languages.speaking_to(claimed.reporter_id):
                services.client.chat_postMessage(
                    channel=claimed.reporter_id,  # Slack delivers this in the app's DM
                    text=_("Filed as {reference}.", reference=claimed.reference),
                    blocks=views.filed_receipt(services.runner.flow("bug_report"), claimed),
                )
            done["receipt_sent_at"] = clock.now()
        if channel and claimed.triage_ts is None:
            with services.languages.speaking_to(channel):
                posted = services.client.chat_postMessage(
                    channel=channel,
                    text=_("New bug report {reference}", reference=claimed.reference),
                    blocks=views.triage_card(
                        services.runner.flow("bug_report"),
                        claimed,
                        mails=services.settings.smtp.configured,
                    ),
                    unfurl_links=False,
                )
            done.update(triage_channel=posted["channel"], triage_ts=posted["ts"])
        done["announced_at"] = clock.now()
    except Exception as problem:
        # Filed either way; the ticker retries what is missing once the lease has run out.
        code = problem.response.get("error") if isinstance(problem, SlackApiError) else ""
        log.error("%s not announced yet: %s %s", claimed.reference, type(problem).__name__, code)
    finally:
        if done:
            with services.db.transaction() as session:
                announcing.mark(session, BugReport, claimed.id, **done)


def announce_pending(services: Services) -> int:
    """The ticker's job: announce filed items whose announcement never finished."""
    with services.db.transaction() as session:
        pending = announcing.unannounced(
            session, BugReport, organisation_id=services.settings.organisation_id
        )
    for report in pending:
        announce(services, report)
    return len(pending) + deletion_desk.announce_pending(services)
