"""After a report is filed: the reporter's receipt and the card in the triage channel."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from deskbot.flows.runner import Filed
from deskbot.slack import views
from deskbot.slack.app import Services

log = logging.getLogger(__name__)


def announce(services: Services, filed: Filed, *, receipt_channel: str) -> None:
    """Tell the reporter and the service desk; a second delivery of the same filing does nothing."""
    if filed.already:
        return
    report = filed.report
    flow = services.runner.flow("bug_report")
    services.client.chat_postMessage(
        channel=receipt_channel,
        text=f"Filed as {report.reference}.",
        blocks=views.filed_receipt(flow, report),
    )
    channel = services.settings.triage_channel
    if not channel:
        return
    try:
        posted = services.client.chat_postMessage(
            channel=channel,
            text=f"New bug report {report.reference}",
            blocks=views.triage_card(flow, report),
            unfurl_links=False,
        )
    except SlackApiError as problem:
        # The report is filed either way; the card can be posted again from the report.
        log.error(
            "triage card for %s not posted: %s", report.reference, problem.response.get("error")
        )
        return
    services.runner.record_triage_post(report.id, posted["channel"], posted["ts"])
