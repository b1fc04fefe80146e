"""After a report is filed: the reporter's receipt and the card in the triage channel, once."""

from __future__ import annotations

from typing import Any

from deskbot import announcing, clock, deletions, drafts
from deskbot.flows.runner import Filed, Item, filed_from
from deskbot.i18n import _
from deskbot.models import BugReport, DeletionRequest
from deskbot.roles import Refused
from deskbot.slack import deletion_cards, deletion_views, triage_desk, views
from deskbot.slack.app import Services
from deskbot.slack.delivery import Attempt, Part, send_part


def announce_draft(services: Services, draft_id: str, user_id: str) -> None:
    """Announce what was filed from this draft, if this user filed it."""
    with services.db.transaction() as session:
        draft = drafts.get(session, draft_id)
        item = filed_from(session, draft) if draft is not None else None
    if draft is not None and item is not None and draft.user_id == user_id:
        announce_item(services, item)


def announce_item(services: Services, item: Item) -> None:
    if isinstance(item, DeletionRequest):
        deletion_cards.announce(services, item.id)
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


def announce(services: Services, report: BugReport) -> bool:
    """Tell the reporter and the service desk, each once; False when Slack is down.

    The claim makes a second delivery, a double click or a second deskbot instance do
    nothing. The receipt and the card are each tried on their own and recorded as soon as they
    are sent; what is missing is tried again at the ticker's next run.
    """
    with services.db.transaction() as session:
        claimed = announcing.claim(session, BugReport, report.id)
    if claimed is None:
        return True
    filed, held = claimed
    channel = services.settings.triage_channel or ""
    flow = services.runner.flow("bug_report")

    def receipt() -> dict[str, object]:
        with services.languages.speaking_to(filed.reporter_id):
            services.client.chat_postMessage(
                channel=filed.reporter_id,  # Slack delivers this in the app's DM
                text=_("Filed as {reference}.", reference=filed.reference),
                blocks=views.filed_receipt(services.runner.flow("bug_report"), filed),
            )
        return {"receipt_sent_at": clock.now()}

    def card() -> dict[str, object]:
        with services.languages.speaking_to(channel):
            posted = services.client.chat_postMessage(
                channel=channel,
                text=_("New bug report {reference}", reference=filed.reference),
                blocks=views.triage_card(flow, filed, mails=services.settings.smtp.configured),
                unfurl_links=False,
            )
        return {"triage_channel": posted["channel"], "triage_ts": posted["ts"]}

    parts = []
    if filed.receipt_sent_at is None:
        parts.append(Part("receipt", receipt, if_gone=lambda: {"receipt_sent_at": clock.now()}))
    if channel and filed.triage_ts is None:
        parts.append(Part("triage card", card, if_gone=None))
    attempt = Attempt()
    refresh = False
    with announcing.kept(services.db, held):
        for part in parts:
            if held.lost.is_set():
                return True  # taken over: the new claimer sends the rest
            recorded = send_part(part, filed.reference, attempt)
            if recorded is not None:
                with services.db.transaction() as session:
                    held.record(session, **recorded)
        if attempt.done and not held.lost.is_set():
            with services.db.transaction() as session:
                refresh = announcing.finish(
                    session,
                    held,
                    filed.card_stale_at,
                    all_posted_now=not channel or filed.triage_ts is None,
                )
    if refresh:  # changed (claimed, say) while the card was on its way
        triage_desk.refresh_card(services, filed.id)
    return attempt.healthy


def announce_pending(services: Services) -> int:
    """The ticker's job: finish the announcements that are missing a part, then bring cards
    whose update failed up to date. Stops at the first sign that Slack is down; the next run
    goes on. Returns how many items it worked on."""
    organisation = services.settings.organisation_id
    worked = 0
    with services.db.transaction() as session:
        reports = announcing.unannounced(session, BugReport, organisation_id=organisation)
    for report in reports:
        worked += 1
        if not announce(services, report):
            return worked
    with services.db.transaction() as session:
        requests = [
            r.id
            for r in announcing.unannounced(session, DeletionRequest, organisation_id=organisation)
        ]
    for request_id in requests:
        worked += 1
        if not deletion_cards.announce(services, request_id):
            return worked
    with services.db.transaction() as session:
        stale_reports = announcing.stale_cards(session, BugReport, organisation_id=organisation)
        stale_requests = announcing.stale_cards(
            session, DeletionRequest, organisation_id=organisation
        )
    for report_id in stale_reports:
        worked += 1
        if not triage_desk.refresh_card(services, report_id):
            return worked
    for request_id in stale_requests:
        worked += 1
        if not deletion_cards.refresh(services, request_id):
            return worked
    return worked
