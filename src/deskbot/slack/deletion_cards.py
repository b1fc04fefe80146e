"""A deletion request's cards: the requester's, each confirming application manager's and the
service desk's in the triage channel. Each is posted once (deskbot.announcing claims the
request), and every copy is updated in place when the request changes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from deskbot import announcing, deletions
from deskbot.deletions import Status
from deskbot.i18n import _
from deskbot.models import DeletionRequest
from deskbot.roles import Role, RolesUnknown
from deskbot.slack import deletion_views as views
from deskbot.slack import delivery
from deskbot.slack.app import Services
from deskbot.slack.delivery import Attempt, Part, send_part

log = logging.getLogger(__name__)


def announce(services: Services, request_id: int) -> bool:
    """The requester's card, the confirmers' cards and the triage card, each sent once and
    each tried on its own; False when Slack is down (the ticker tries the rest later).

    A confirmer whom Slack could not name yet (a user group it could not list) is not given
    up: the announcement stays unfinished until they have their card.
    """
    with services.db.transaction() as session:
        claimed = announcing.claim(session, DeletionRequest, request_id)
    if claimed is None:
        return True
    request, held = claimed
    settings, client = services.settings, services.client
    sent = list(request.messages or [])
    posted_before = bool(sent) or request.card_ts is not None
    kinds = {entry.split("|")[0] for entry in sent}
    attempt = Attempt()

    def card(kind: str, reader: str, audience: str, text: Callable[[], str]) -> Part:
        def send() -> dict[str, object]:
            with services.languages.speaking_to(reader):
                posted = client.chat_postMessage(
                    channel=reader, text=text(), blocks=views.card(request, audience, settings)
                )
            sent.append(f"{kind}|{posted['channel']}|{posted['ts']}")
            return {"messages": list(sent)}

        def gone() -> dict[str, object]:
            # Recorded without a message, so nobody waits for a recipient who left.
            sent.append(f"{kind}||")
            return {"messages": list(sent)}

        return Part(f"{kind} card", send, if_gone=gone)

    def desk_card() -> dict[str, object]:
        channel = settings.triage_channel or ""
        with services.languages.speaking_to(channel):
            posted = client.chat_postMessage(
                channel=channel,
                text=_("New deletion request {reference}", reference=request.reference),
                blocks=views.card(request, views.DESK, settings),
            )
        return {"card_channel": posted["channel"], "card_ts": posted["ts"]}

    def parts() -> list[Part]:
        """Worked out one at a time: each card recorded changes `sent` for the next."""
        found: list[Part] = []
        if "requester" not in kinds:
            found.append(
                card(
                    "requester",
                    request.requester_id,
                    views.REQUESTER,
                    lambda: _("Deletion request {reference}", reference=request.reference),
                )
            )
        for manager in confirmers():
            if manager != request.requester_id and f"confirmer:{manager}" not in kinds:
                found.append(
                    card(
                        f"confirmer:{manager}",
                        manager,
                        views.CONFIRMER,
                        lambda: _(
                            "Please confirm deletion request {reference}",
                            reference=request.reference,
                        ),
                    )
                )
        if settings.triage_channel and request.card_ts is None:
            found.append(Part("triage card", desk_card, if_gone=None))
        return found

    def confirmers() -> list[str]:
        if not (request.status == Status.REQUESTED or settings.sla.four_eyes):
            return []
        try:
            return services.roles.members(Role.APPLICATION_MANAGER)
        except RolesUnknown as unknown:
            log.warning("%s: not every confirmer is known yet", request.reference)
            attempt.done, attempt.healthy = False, False
            return list(unknown.known)

    refresh_now = False
    with announcing.kept(services.db, held):
        for part in parts():
            if held.lost.is_set():
                return True  # taken over: the new claimer sends the rest
            recorded = send_part(part, request.reference, attempt)
            if recorded is not None:
                with services.db.transaction() as session:
                    held.record(session, **recorded)
        if attempt.done and not held.lost.is_set():
            with services.db.transaction() as session:
                refresh_now = announcing.finish(
                    session, held, request.card_stale_at, all_posted_now=not posted_before
                )
    if refresh_now:  # confirmed (say) while the cards were on their way: show the new state
        refresh(services, request.id)
    return attempt.healthy


def refresh(services: Services, request_id: int) -> bool:
    """Show the request's current state on every copy of its card; False when Slack is down.
    A copy that could not be updated leaves the request marked, so the ticker tries again."""
    with services.db.transaction() as session:
        request = session.get(DeletionRequest, request_id)
    if request is None:
        return True
    # (audience, reader, channel, ts): each copy in its reader's language
    copies: list[tuple[str, str | None, str | None, str | None]] = [
        (views.DESK, request.card_channel, request.card_channel, request.card_ts)
    ]
    for entry in request.messages or []:
        kind, posted_in, posted_ts = entry.split("|")
        if kind == "requester":
            copies.append((views.REQUESTER, request.requester_id, posted_in, posted_ts))
        else:
            confirmer = kind.removeprefix("confirmer:")
            copies.append((views.CONFIRMER, confirmer, posted_in, posted_ts))
    shown, healthy = True, True
    for audience, reader, channel, ts in copies:
        if not channel or not ts:
            continue
        try:
            with services.languages.speaking_to(reader):
                services.client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=_(
                        "Deletion request {reference}: {status}",
                        reference=request.reference,
                        status=deletions.label(request),
                    ),
                    blocks=views.card(request, audience, services.settings),
                )
        except Exception as problem:
            code = delivery.slack_error(problem)
            if code in delivery.MESSAGE_GONE:
                continue  # deleted, or its reader left: nothing left to update
            log.warning(
                "%s card not updated yet: %s %s",
                request.reference,
                type(problem).__name__,
                code,
            )
            shown = False
            if delivery.outage(problem):
                healthy = False
                break
    if shown:
        with services.db.transaction() as session:
            announcing.card_shown(session, DeletionRequest, request.id, request.card_stale_at)
    return healthy
