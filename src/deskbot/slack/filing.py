"""After a report is filed: the reporter's receipt and the card in the triage channel, once."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from deskbot import bugs, clock
from deskbot.models import BugReport
from deskbot.slack import views
from deskbot.slack.app import Services

log = logging.getLogger(__name__)


def announce_draft(services: Services, draft_id: str, user_id: str) -> None:
    """Announce the report filed from this draft, if this user filed it."""
    with services.db.transaction() as session:
        report = bugs.report_for_draft(session, draft_id)
    if report is not None and report.reporter_id == user_id:
        announce(services, report)


def announce(services: Services, report: BugReport) -> None:
    """Tell the reporter and the service desk, each once.

    The claim makes a second delivery, a double click or a second deskbot instance do
    nothing. Each part is recorded as soon as it is sent, so when one fails the ticker later
    retries only what is missing, once the claim's lease has run out.
    """
    with services.db.transaction() as session:
        claimed = bugs.claim_announcement(session, report.id)
    if claimed is None:
        return
    flow = services.runner.flow("bug_report")
    channel = services.settings.triage_channel
    done: dict[str, object] = {}  # what went out, recorded in one go at the end
    try:
        if claimed.receipt_sent_at is None:
            services.client.chat_postMessage(
                channel=claimed.reporter_id,  # Slack delivers a post to a user ID in the app's DM
                text=f"Filed as {claimed.reference}.",
                blocks=views.filed_receipt(flow, claimed),
            )
            done["receipt_sent_at"] = clock.now()
        if channel and claimed.triage_ts is None:
            posted = services.client.chat_postMessage(
                channel=channel,
                text=f"New bug report {claimed.reference}",
                blocks=views.triage_card(flow, claimed),
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
                bugs.mark(session, claimed.id, **done)


def announce_pending(services: Services) -> int:
    """The ticker's job: announce filed reports whose announcement never finished."""
    with services.db.transaction() as session:
        pending = bugs.unannounced(session)
    for report in pending:
        announce(services, report)
    return len(pending)
