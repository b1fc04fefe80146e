"""After a report is filed: the reporter's receipt and the card in the triage channel, once."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from deskbot import bugs
from deskbot.models import BugReport
from deskbot.slack import views
from deskbot.slack.app import Services

log = logging.getLogger(__name__)


def announce_draft(services: Services, draft_id: str) -> None:
    with services.db.transaction() as session:
        report = bugs.report_for_draft(session, draft_id)
    if report is not None:
        announce(services, report)


def announce(services: Services, report: BugReport) -> None:
    """Tell the reporter and the service desk. The claim makes a second delivery, a double
    click or a second deskbot instance do nothing; a claim that never finishes is picked up
    again by the ticker once its lease has run out."""
    with services.db.transaction() as session:
        if not bugs.claim_announcement(session, report.id):
            return
    flow = services.runner.flow("bug_report")
    try:
        services.client.chat_postMessage(
            channel=report.reporter_id,  # Slack delivers a post to a user ID in the app's DM
            text=f"Filed as {report.reference}.",
            blocks=views.filed_receipt(flow, report),
        )
        channel = services.settings.triage_channel
        posted = None
        if channel:
            posted = services.client.chat_postMessage(
                channel=channel,
                text=f"New bug report {report.reference}",
                blocks=views.triage_card(flow, report),
                unfurl_links=False,
            )
    except SlackApiError as problem:
        # The report is filed either way; the ticker tries again after the lease.
        log.error("%s not announced yet: %s", report.reference, problem.response.get("error"))
        return
    with services.db.transaction() as session:
        bugs.mark_announced(
            session,
            report.id,
            channel=posted["channel"] if posted else None,
            ts=posted["ts"] if posted else None,
        )


def announce_pending(services: Services) -> int:
    """The ticker's job: announce filed reports whose announcement never finished."""
    with services.db.transaction() as session:
        pending = bugs.unannounced(session)
    for report in pending:
        announce(services, report)
    return len(pending)
