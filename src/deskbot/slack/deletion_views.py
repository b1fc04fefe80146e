"""Block Kit for deletion requests: the card, the confirmation, the reason dialogs, the tracker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deskbot import clock, deletions
from deskbot.deletions import Status
from deskbot.flows.deletion_request import ERASED
from deskbot.models import DeletionRequest
from deskbot.settings import Settings
from deskbot.slack.ids import Action, View
from deskbot.slack.views import text_dialog
from deskbot.templating import escape_mrkdwn, render_blocks, render_view

REQUESTER, CONFIRMER, DESK = "requester", "confirmer", "desk"


def day(d: date | None) -> str:
    return f"{d:%a %d %b %Y}" if d else "—"


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
            return (
                f"<@{request.requester_id}> asks to delete this client account. Please check "
                "it with the requester if needed, then confirm."
            )
        return f"This request is {deletions.label(request)}; nothing more to do for you."
    if audience == DESK:
        return ""
    if status == Status.REQUESTED:
        return "An application manager has been asked to submit and confirm it."
    if status == Status.AWAITING_CONFIRMATION:
        if settings.sla.four_eyes:
            return "Another application manager has been asked to confirm it (four-eyes rule)."
        return "*Confirm the deletion* to start the clock: nothing happens until you do."
    if status == Status.COMPLETED:
        return ":white_check_mark: *The account has been deleted.* You can let the client know."
    if status == Status.REJECTED:
        return ":x: *The service desk rejected this request.* The reason is below."
    if status == Status.WITHDRAWN:
        return "This request was withdrawn; nothing will be deleted."
    if request.paused_at is not None:
        return "The service desk is waiting for an answer from you; see the reason below."
    return f"Confirmed. The service desk deletes the account by the end of {day(request.due_date)}."


def _buttons(request: DeletionRequest, audience: str, settings: Settings) -> list[dict[str, Any]]:
    history = _button("History", Action.HISTORY, value=request.reference)
    if request.closed_at is not None:
        return [history] if audience == DESK else []
    status = Status(request.status)
    confirm = _button("Confirm deletion…", Action.DELETION_CONFIRM, "danger")
    withdraw = _button(
        "Withdraw",
        Action.DELETION_WITHDRAW,
        confirm={
            "title": "Withdraw the request?",
            "text": f"{request.reference} will be closed and nothing will be deleted.",
            "yes": "Withdraw",
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
        shown.append(_button("Claim", Action.DELETION_CLAIM, "primary"))
    if status == Status.CONFIRMED:
        shown.append(_button("Start processing", Action.DELETION_START))
    if request.paused_at is None:
        shown.append(_button("Waiting for requester…", Action.DELETION_PAUSE))
    else:
        shown.append(_button("Resume the clock", Action.DELETION_RESUME))
    shown.append(
        _button(
            "Account deleted",
            Action.DELETION_COMPLETE,
            "primary",
            confirm={
                "title": "Has the vendor deleted it?",
                "text": f"Mark {request.reference} completed: the requester is told the "
                "account is gone.",
                "yes": "Yes, it is deleted",
                "danger": False,
            },
        )
    )
    shown.append(_button("Reject…", Action.DELETION_REJECT, "danger"))
    shown.append(history)
    return shown


def card(request: DeletionRequest, audience: str, settings: Settings) -> list[dict[str, Any]]:
    calendar = settings.work_calendar()
    standing = deletions.standing(request, calendar)
    current = deletions.effective_due(request, calendar, clock.now())
    due = day(current[0] if current else None)
    if current is not None and request.closed_at is None:
        due += f" ({standing.text})"
    people = [f"Requested by <@{request.requester_id}>"]
    if request.confirmed_by:
        people.append(f"confirmed by <@{request.confirmed_by}>")
    people.append(f"assignee: <@{request.assignee_id}>" if request.assignee_id else "unassigned")
    texts = []
    if request.note:
        texts.append(("Note", request.note))
    if request.paused_at is not None and request.pause_reason:
        texts.append(("Waiting for the requester", request.pause_reason))
    if request.status == Status.REJECTED and request.close_reason:
        texts.append(("Reason for rejection", request.close_reason))
    if request.calendar and request.calendar != calendar.identity and request.closed_at is None:
        # Never recomputed: a changed holiday list or closing day applies to new requests only.
        texts.append(
            (
                "Calendar",
                "The deadline was fixed under an earlier working-day calendar and is kept.",
            )
        )
    unconfirmed = request.closed_at is None and request.status in deletions.UNCONFIRMED
    built = Card(
        id=request.id,
        reference=request.reference,
        lead=_lead(request, audience, settings),
        fields=[
            ("Platform", request.platform),
            ("Anonymised client ID", request.client_id),
            ("Client asked on", day(request.asked_on)),
            ("Legal limit", day(request.statutory_date)),
            ("Status", deletions.label(request)),
            ("Due", due),
        ],
        people=" · ".join(people),
        texts=texts,
        erased=list(ERASED) if unconfirmed and audience != DESK else [],
        buttons=_buttons(request, audience, settings),
    )
    return render_blocks("slack/deletion_card.json.j2", card=built)


def confirm_modal(request: DeletionRequest, settings: Settings) -> dict[str, Any]:
    calendar = settings.work_calendar()
    return render_view(
        "slack/deletion_confirm_modal.json.j2",
        callback_id=View.DELETION_CONFIRM,
        private_metadata=json.dumps({"r": request.id}),
        reference=request.reference,
        client_id=request.client_id,
        platform=request.platform,
        erased=list(ERASED),
        working_days=settings.sla.working_days,
        due=day(calendar.due_date(clock.now(), settings.sla.working_days)) + " if confirmed today",
        statutory=day(request.statutory_date),
    )


REASONS = {
    "pause": (
        "Waiting for requester",
        "Pause the clock",
        "The clock stops until you resume it; the deadline moves out by the working days it "
        "stood still. The legal limit does not move.",
        "What do you need from the requester?",
    ),
    "reject": (
        "Reject the request",
        "Reject",
        "The request is closed and nothing is deleted. The requester sees your reason.",
        "Why is it rejected?",
    ),
}


def reason_modal(request: DeletionRequest, action: str) -> dict[str, Any]:
    return text_dialog(View.DELETION_REASON, request.id, request.reference, action, REASONS[action])


def tracker_line(request: DeletionRequest, settings: Settings) -> str:
    calendar = settings.work_calendar()
    standing = deletions.standing(request, calendar)
    current = deletions.effective_due(request, calendar, clock.now())
    parts = [
        f"*{request.reference}*",
        escape_mrkdwn(request.platform),
        f"client `{escape_mrkdwn(request.client_id)}`",
        deletions.label(request),
        f"<@{request.assignee_id}>" if request.assignee_id else "unassigned",
    ]
    if current is not None:
        icon = ":red_circle: " if standing.overdue else ""
        parts.append(f"{icon}due {day(current[0])} ({standing.text})")
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
    empty: str = "No open deletion requests.",
) -> list[dict[str, Any]]:
    """A page of the tracker; with `pager`, Previous/Next buttons carrying the page number."""
    pages = max(1, -(-total // per_page))
    buttons = []
    if pager and page > 0:
        buttons.append(
            {"text": "Previous", "action": Action.HOME_PREVIOUS, "value": f"{pager}:{page - 1}"}
        )
    if pager and page + 1 < pages:
        buttons.append({"text": "Next", "action": Action.HOME_NEXT, "value": f"{pager}:{page + 1}"})
    shown = len(rows)
    footer = f"{total} open · page {page + 1} of {pages}" if total > shown else ""
    return render_blocks(
        "slack/deletion_tracker.json.j2",
        title=title,
        rows=[tracker_line(r, settings) for r in rows],
        empty=empty,
        footer=footer,
        pager={"name": pager, "buttons": buttons} if buttons else None,
    )
