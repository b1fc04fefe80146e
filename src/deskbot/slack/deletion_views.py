"""Block Kit for deletion requests: the card, the confirmation, the reason dialogs, the tracker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from deskbot import clock, deletions, i18n
from deskbot.deletions import Status
from deskbot.flows.deletion_request import ERASED
from deskbot.i18n import N_, _
from deskbot.models import DeletionRequest
from deskbot.settings import Settings
from deskbot.slack.ids import Action, View
from deskbot.slack.views import text_dialog
from deskbot.templating import escape_mrkdwn, render_blocks, render_view

REQUESTER, CONFIRMER, DESK = "requester", "confirmer", "desk"


@dataclass
class Card:
    id: int
    reference: str
    lead: str
    fields: list[tuple[str, str]]
    people: str
    texts: list[tuple[str, str]] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)


def _button(
    text: str,
    action: Action,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    return {"text": text, "action": action, "style": style, "confirm": confirm, "value": value}


def _lead(request: DeletionRequest, audience: str, settings: Settings) -> str:
    status = Status(request.status)
    if audience == CONFIRMER:
        if request.closed_at is None and status in deletions.UNCONFIRMED:
            return _(
                "{requester} asks to delete this client account. Please check it with the "
                "requester if needed, then confirm.",
                requester=f"<@{request.requester_id}>",
            )
        # Translators: {status} is a deletion request's status, e.g. "completed", "withdrawn".
        return _(
            "This request is {status}; nothing more to do for you.",
            status=deletions.label(request),
        )
    if audience == DESK:
        return ""
    if status == Status.REQUESTED:
        return _("An application manager has been asked to submit and confirm it.")
    if status == Status.AWAITING_CONFIRMATION:
        if settings.sla.four_eyes:
            return _("Another application manager has been asked to confirm it (four-eyes rule).")
        return _("*Confirm the deletion* to start the clock: nothing happens until you do.")
    if status == Status.COMPLETED:
        return _(":white_check_mark: *The account has been deleted.* You can let the client know.")
    if status == Status.REJECTED:
        return _(":x: *The service desk rejected this request.* The reason is below.")
    if status == Status.WITHDRAWN:
        return _("This request was withdrawn; nothing will be deleted.")
    if request.paused_at is not None:
        return _("The service desk is waiting for an answer from you; see the reason below.")
    return _(
        "Confirmed. The service desk deletes the account by the end of {day}.",
        day=i18n.day(request.due_date),
    )


def _buttons(request: DeletionRequest, audience: str, settings: Settings) -> list[dict[str, Any]]:
    history = _button(_("History"), Action.HISTORY, value=request.reference)
    if request.closed_at is not None:
        return [history] if audience == DESK else []
    status = Status(request.status)
    confirm = _button(_("Confirm deletion…"), Action.DELETION_CONFIRM, "danger")
    withdraw = _button(
        _("Withdraw"),
        Action.DELETION_WITHDRAW,
        confirm={
            "title": _("Withdraw the request?"),
            "text": _(
                "{reference} will be closed and nothing will be deleted.",
                reference=request.reference,
            ),
            "yes": _("Withdraw"),
            "danger": True,
        },
    )
    if audience == CONFIRMER:
        return [confirm] if status in deletions.UNCONFIRMED else []
    if audience == REQUESTER:
        shown = []
        if status == Status.AWAITING_CONFIRMATION and not settings.sla.four_eyes:
            shown.append(confirm)
        if status != Status.IN_PROGRESS:
            shown.append(withdraw)
        return shown
    if status in deletions.UNCONFIRMED:
        return [confirm, history]
    shown = []
    if request.assignee_id is None:
        shown.append(_button(_("Claim"), Action.DELETION_CLAIM, "primary"))
    if status == Status.CONFIRMED:
        shown.append(_button(_("Start processing"), Action.DELETION_START))
    if request.paused_at is None:
        shown.append(_button(_("Waiting for requester…"), Action.DELETION_PAUSE))
    else:
        shown.append(_button(_("Resume the clock"), Action.DELETION_RESUME))
    shown.append(
        _button(
            _("Account deleted"),
            Action.DELETION_COMPLETE,
            "primary",
            confirm={
                "title": _("Has the vendor deleted it?"),
                "text": _(
                    "Mark {reference} completed: the requester is told the account is gone.",
                    reference=request.reference,
                ),
                # Translators: a confirmation button, at most 30 characters.
                "yes": _("Yes, it is deleted"),
                "danger": False,
            },
        )
    )
    shown.append(_button(_("Reject…"), Action.DELETION_REJECT, "danger"))
    shown.append(history)
    return shown


def card(request: DeletionRequest, audience: str, settings: Settings) -> list[dict[str, Any]]:
    calendar = settings.work_calendar()
    standing = deletions.standing(request, calendar)
    current = deletions.effective_due(request, calendar, clock.now())
    due = i18n.day(current[0] if current else None)
    if current is not None and request.closed_at is None:
        # Translators: a deadline and where the request stands, e.g. "Tue 14 Apr 2026 (due today)".
        due = _("{day} ({standing})", day=due, standing=standing.text)
    # Translators: the parts of a card's byline, joined by " · ".
    people = [_("Requested by {user}", user=f"<@{request.requester_id}>")]
    if request.confirmed_by:
        people.append(_("confirmed by {user}", user=f"<@{request.confirmed_by}>"))
    people.append(
        _("assignee: {user}", user=f"<@{request.assignee_id}>")
        if request.assignee_id
        else _("unassigned")
    )
    texts = []
    if request.note:
        texts.append((_("Note"), request.note))
    if request.paused_at is not None and request.pause_reason:
        texts.append((_("Waiting for the requester"), request.pause_reason))
    if request.status == Status.REJECTED and request.close_reason:
        texts.append((_("Reason for rejection"), request.close_reason))
    if request.calendar and request.calendar != calendar.identity and request.closed_at is None:
        # Never recomputed: a changed holiday list or closing day applies to new requests only.
        texts.append(
            (
                _("Calendar"),
                _("The deadline was fixed under an earlier working-day calendar and is kept."),
            )
        )
    unconfirmed = request.closed_at is None and request.status in deletions.UNCONFIRMED
    built = Card(
        id=request.id,
        reference=request.reference,
        lead=_lead(request, audience, settings),
        fields=[
            (_("Platform"), request.platform),
            (_("Anonymised client ID"), request.client_id),
            (_("Client asked on"), i18n.day(request.asked_on)),
            (_("Legal limit"), i18n.day(request.statutory_date)),
            (_("Status"), deletions.label(request)),
            # Translators: a field label: the day a deletion is due.
            (_("Due"), due),
        ],
        people=" · ".join(people),
        texts=texts,
        erased=_erased() if unconfirmed and audience != DESK else [],
        buttons=_buttons(request, audience, settings),
    )
    return render_blocks("slack/deletion_card.json.j2", card=built)


def _erased() -> list[str]:
    """What the vendor erases, in the reader's language."""
    return [_(item) for item in ERASED]


def confirm_modal(request: DeletionRequest, settings: Settings) -> dict[str, Any]:
    calendar = settings.work_calendar()
    return render_view(
        "slack/deletion_confirm_modal.json.j2",
        callback_id=View.DELETION_CONFIRM,
        private_metadata=json.dumps({"r": request.id}),
        reference=request.reference,
        client_id=request.client_id,
        platform=request.platform,
        erased=_erased(),
        working_days=settings.sla.working_days,
        due=_(
            "{day} if confirmed today",
            day=i18n.day(calendar.due_date(clock.now(), settings.sla.working_days)),
        ),
        statutory=i18n.day(request.statutory_date),
    )


# The dialogs' words: title and submit label (each at most 24 characters), introduction, label.
REASONS = {
    "pause": (
        # Translators: a dialog's title, at most 24 characters.
        N_("Waiting for requester"),
        # Translators: a dialog's submit button, at most 24 characters.
        N_("Pause the clock"),
        N_(
            "The clock stops until you resume it; the deadline moves out by the working days it "
            "stood still. The legal limit does not move."
        ),
        N_("What do you need from the requester?"),
    ),
    "reject": (
        # Translators: a dialog's title, at most 24 characters.
        N_("Reject the request"),
        # Translators: a dialog's submit button, at most 24 characters.
        N_("Reject"),
        N_("The request is closed and nothing is deleted. The requester sees your reason."),
        N_("Why is it rejected?"),
    ),
}


def reason_modal(request: DeletionRequest, action: str) -> dict[str, Any]:
    title, submit, intro, label = (_(words) for words in REASONS[action])
    return text_dialog(
        View.DELETION_REASON, request.id, request.reference, action, (title, submit, intro, label)
    )


def tracker_line(request: DeletionRequest, settings: Settings) -> str:
    calendar = settings.work_calendar()
    standing = deletions.standing(request, calendar)
    current = deletions.effective_due(request, calendar, clock.now())
    parts = [
        f"*{request.reference}*",
        escape_mrkdwn(request.platform),
        # Translators: {id} is an anonymised client ID.
        _("client {id}", id=f"`{escape_mrkdwn(request.client_id)}`"),
        deletions.label(request),
        f"<@{request.assignee_id}>" if request.assignee_id else _("unassigned"),
    ]
    if current is not None:
        icon = ":red_circle: " if standing.overdue else ""
        # Translators: in the tracker, e.g. "due Tue 14 Apr 2026 (5 working days left)".
        due = _("due {day} ({standing})", day=i18n.day(current[0]), standing=standing.text)
        parts.append(icon + due)
    return " · ".join(parts)


def tracker(
    rows: list[DeletionRequest],
    total: int,
    settings: Settings,
    *,
    title: str,
    page: int = 0,
    per_page: int = 10,
    pager: str | None = None,
    empty: str | None = None,
) -> list[dict[str, Any]]:
    """A page of the tracker; with `pager`, Previous/Next buttons carrying the page number.
    `title` and `empty` are shown as given (translated by the caller); without `empty`, the
    tracker says there are no open requests."""
    pages = max(1, -(-total // per_page))
    buttons = []
    if pager and page > 0:
        buttons.append(
            {"text": _("Previous"), "action": Action.HOME_PREVIOUS, "value": f"{pager}:{page - 1}"}
        )
    if pager and page + 1 < pages:
        buttons.append(
            {"text": _("Next"), "action": Action.HOME_NEXT, "value": f"{pager}:{page + 1}"}
        )
    shown = len(rows)
    footer = (
        _("{total} open · page {page} of {pages}", total=total, page=page + 1, pages=pages)
        if total > shown
        else ""
    )
    return render_blocks(
        "slack/deletion_tracker.json.j2",
        title=title,
        rows=[tracker_line(r, settings) for r in rows],
        empty=_("No open deletion requests.") if empty is None else empty,
        footer=footer,
        pager={"name": pager, "buttons": buttons} if buttons else None,
    )
